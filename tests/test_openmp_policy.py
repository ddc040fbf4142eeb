"""How torch's OpenMP threads wait (posenb/_openmp.py): chosen by ``import posenb`` before torch loads, the user's
choice kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from posenb._openmp import SPIN_COUNT, wait_policy


def test_idle_machine_spins_briefly_busy_machine_sleeps_at_once():
    assert wait_policy({}, load=0.2, cores=2) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": SPIN_COUNT}
    assert wait_policy({}, load=2.1, cores=2) == {"OMP_WAIT_POLICY": "PASSIVE"}  # another training beside it
    assert wait_policy({}, load=6.0, cores=16) == {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": SPIN_COUNT}
    assert wait_policy({}, load=None, cores=2) == {"OMP_WAIT_POLICY": "PASSIVE"}  # load unknown: the safe choice


def test_a_choice_the_user_made_is_kept():
    assert wait_policy({"OMP_WAIT_POLICY": "ACTIVE"}, load=0.0, cores=2) == {}
    assert wait_policy({"GOMP_SPINCOUNT": "0"}, load=0.0, cores=2) == {}


def _import_posenb(env: dict) -> dict:
    code = (
        "import os, sys, json; import posenb; "
        "print(json.dumps({'torch_loaded': 'torch' in sys.modules, 'load': os.getloadavg()[0], "
        "'cores': os.cpu_count(), "
        "'env': {k: os.environ.get(k) for k in ('OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')}}))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_posenb_sets_the_policy_before_torch_loads():
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    got = _import_posenb(clean)
    assert got["torch_loaded"] is False  # libgomp reads the variables when torch loads: they are in place by then
    assert got["env"]["OMP_WAIT_POLICY"] == "PASSIVE"
    assert got["env"]["GOMP_SPINCOUNT"] in (None, SPIN_COUNT)  # depends on the load at import
    user = _import_posenb({**clean, "OMP_WAIT_POLICY": "ACTIVE"})
    assert user["env"] == {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": None}
