"""The core runs with no Jupyter package at all (a terminal, a cluster job): every module outside posenb/widgets
imports, and the main functions work, in a process where ipywidgets & co cannot be imported.

tests/test_demo_run.py runs the whole demo that way (slow); this one is quick and covers every core module.
"""

import subprocess
import sys

JUPYTER = ("ipywidgets", "ipycanvas", "ipyevents", "bqplot", "IPython", "ipykernel", "voila", "jupyter_client")

SCRIPT = f"""
import importlib, importlib.abc, pkgutil, sys
class _NoJupyter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {JUPYTER!r}:
            raise ImportError(f"{{name}} is blocked: the core must run without Jupyter")
sys.meta_path.insert(0, _NoJupyter())

import posenb
core = [m.name for m in pkgutil.walk_packages(posenb.__path__, "posenb.") if not m.name.startswith("posenb.widgets")]
for name in core:
    importlib.import_module(name)
print("imported", len(core))

import contextlib, io, os
from pathlib import Path
import numpy as np
from posenb.errors import PosenbError
work = Path(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()):
    config = posenb.make_demo_project(work, n_frames=40, n_labeled=6)
    cfg = posenb.read_config(config)
    posenb.check_labels(config)
    picked = posenb.extract_frames(config, "automatic", "uniform", userfeedback=False, seed=0)
    splits = posenb.create_training_dataset(config, num_shuffles=1)
try:
    posenb.extract_frames(config, mode="manual")
    print("manual: no error")
except PosenbError as exc:
    print("manual:", "posenb[jupyter]" in str(exc))
print("bodyparts", cfg["bodyparts"])
print("picked", sum(len(v) for v in picked.values()))
print("train/test", len(splits[0][2]), len(splits[0][3]))
print("jupyter_loaded", sorted(m for m in sys.modules if m.split(".")[0] in {JUPYTER!r}))
"""


def test_every_core_module_imports_and_runs_without_jupyter(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    assert int(lines["imported"]) > 60  # every module of project, io, frames, data, nn, train, infer, post, ...
    assert lines["manual:"] == "True"  # the frame grabber needs Jupyter: a clear error naming the extra
    assert lines["bodyparts"].startswith("[")
    assert int(lines["picked"]) > 0
    n_train, n_test = map(int, lines["train/test"].split())
    assert n_train > 0 and n_train + n_test == 6
    assert lines["jupyter_loaded"] == "[]"
