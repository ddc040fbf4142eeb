"""The core runs with no Jupyter package at all (a terminal, a cluster job): every module outside posenb/widgets
imports, and the main functions work, in a process where ipywidgets & co cannot be imported.

tests/test_demo_run.py runs the whole demo that way (slow); this one is quick and covers every core module. Below,
the core's own tests run the same way: a quick slice of every layer, and (slow, as in CI) all of them.
"""

import subprocess
import sys

import pytest

JUPYTER = (
    "ipywidgets",
    "ipycanvas",
    "ipyevents",
    "bqplot",
    "IPython",
    "ipykernel",
    "voila",
    "jupyter_client",
)

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
    assert (
        int(lines["imported"]) > 60
    )  # every module of project, io, frames, data, nn, train, infer, post, ...
    assert lines["manual:"] == "True"  # the frame grabber needs Jupyter: a clear error naming the extra
    assert lines["bodyparts"].startswith("[")
    assert int(lines["picked"]) > 0
    n_train, n_test = map(int, lines["train/test"].split())
    assert n_train > 0 and n_train + n_test == 6
    assert lines["jupyter_loaded"] == "[]"


# ------------------------------------------------------------------------------------ the core's own tests
#: one or two quick test files per core layer: they pass with every Jupyter package unimportable
CORE_TESTS = [
    "tests/io/test_label_folder.py",
    "tests/io/test_prompt.py",
    "tests/project/test_project_config.py",
    "tests/project/test_paths.py",
    "tests/project/test_status.py",
    "tests/post/test_skeleton.py",
    "tests/post/test_check_labels.py",
    "tests/frames/test_extract.py",
    "tests/track/test_proofread.py",
    "tests/track/test_suspicious.py",
    "tests/data/test_label_qc.py",
]
#: every test folder of the core (not widgets/, browser/, notebooks/)
CORE_TEST_DIRS = [
    "io",
    "project",
    "post",
    "formats",
    "frames",
    "track",
    "nn",
    "data",
    "train",
    "infer",
    "threed",
]

RUN_PYTEST = f"""
import importlib.abc, sys
class _NoJupyter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {JUPYTER!r}:
            raise ImportError(f"{{name}} is blocked: the core must run without Jupyter")
sys.meta_path.insert(0, _NoJupyter())
import pytest
code = pytest.main(sys.argv[1:])
print("jupyter_loaded", sorted(m for m in sys.modules if m.split(".")[0] in {JUPYTER!r}))
sys.exit(code)
"""


def _run_core_tests(args: list[str], timeout: int) -> subprocess.CompletedProcess:
    """pytest ``args`` in a process where importing a Jupyter package raises ImportError (tests that need one
    skip, through ``pytest.importorskip``)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-c", RUN_PYTEST, "-q", "-p", "no:cacheprovider", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )


def test_core_tests_pass_without_jupyter():
    """A quick slice of the core's tests (every layer) in a process without Jupyter: they pass, and nothing they
    ran imported a Jupyter package."""
    proc = _run_core_tests(["-m", "not slow", *CORE_TESTS], timeout=900)
    out = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, out
    assert " passed" in proc.stdout and " failed" not in proc.stdout, out
    assert "jupyter_loaded []" in proc.stdout, out


@pytest.mark.slow
def test_all_core_tests_pass_without_jupyter():
    """Every quick test of the core's folders (``-m "not slow"``), without Jupyter: CI runs them this way too."""
    proc = _run_core_tests(
        [
            "-m",
            "not slow and not gpu and not browser and not notebook",
            *(f"tests/{d}" for d in CORE_TEST_DIRS),
        ],
        timeout=3600,
    )
    out = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, out
    assert " passed" in proc.stdout and " failed" not in proc.stdout, out
    assert "jupyter_loaded []" in proc.stdout, out
