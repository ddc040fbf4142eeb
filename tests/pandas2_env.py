"""A cached pandas-2 environment (DeepLabCut 3.0's pandas) to read posenb's files for real.

``pandas2_python()`` returns the Python of a virtual environment with ``pandas<3``, ``numpy<2.3`` and
``tables``, built once with pip from the package index into ``~/.cache/posenb-test/pandas2`` (or
``$POSENB_PANDAS2_VENV``) and reused afterwards; it returns None with the reason when pip cannot build it
(no package index). Building it (measured 2026-12-02 on the shared 2-core machine, pandas 2.3.3, numpy 2.2.6,
tables 3.11.1 from wheels): 70 s wall at load ~8, 351 s wall (50 s CPU) at load ~35; reusing it costs nothing.
CI builds it before the tests with ``python tests/pandas2_env.py``.

``READER`` is the script run with that Python: it reads every file exactly as DeepLabCut 3.0 does
(``pd.read_hdf(path)`` and ``pd.read_hdf(path, "df_with_missing")``; label CSVs with three header rows, four for
multi-animal ones) and
prints what it read as JSON, so a test compares it with what pandas 3 reads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REQUIREMENTS = ["pandas<3", "numpy<2.3", "tables"]


def venv_dir() -> Path:
    default = Path.home() / ".cache" / "posenb-test" / "pandas2"
    return Path(os.environ.get("POSENB_PANDAS2_VENV", default))


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _works(python: Path) -> bool:
    if not python.is_file():
        return False
    probe = "import pandas, tables, sys; sys.exit(0 if pandas.__version__.startswith('2.') else 1)"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def pandas2_python() -> tuple[Path | None, str]:
    """``(python, "")`` of the cached pandas-2 environment, building it if needed; ``(None, reason)`` if it cannot."""
    venv = venv_dir()
    python = _python(venv)
    if _works(python):
        return python, ""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / ".pandas2.lock", "w") as lock:
        try:
            import fcntl  # noqa: PLC0415 - POSIX only

            fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it
        except ImportError:
            pass
        if _works(python):
            return python, ""
        shutil.rmtree(venv, ignore_errors=True)  # a half-built environment of an interrupted run
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *REQUIREMENTS],
        ]
        for cmd in steps:
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
                return (
                    None,
                    f"cannot build a pandas-2 environment ({' '.join(cmd[:4])} ...): {' | '.join(tail)}",
                )
    if not _works(python):
        return None, f"the pandas-2 environment {venv} was built but cannot import pandas 2"
    return python, ""


READER = r"""
import json, math, sys
import pandas as pd

def plain(v):
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, float) and math.isnan(v):
            return None
    return v

def describe(df):
    return {
        "shape": list(df.shape),
        "column_names": [str(n) for n in df.columns.names],
        "columns": [[str(p) for p in (c if isinstance(c, tuple) else (c,))] for c in df.columns],
        "index_type": type(df.index).__name__,
        "index": [[str(p) for p in (i if isinstance(i, tuple) else (i,))] for i in df.index],
        "values": [[plain(v) for v in row] for row in df.to_numpy(dtype=object)],
    }

out = {"pandas": pd.__version__}
for path in sys.argv[1:]:
    if path.endswith(".csv"):
        with open(path) as fh:
            head = [fh.readline() for _ in range(5)]
        n = 4 if head[1].split(",")[0] == "individuals" else 3  # DLC's rule: a multi-animal file
        three = head[n].split(",")[0] == "labeled-data"
        df = pd.read_csv(path, header=list(range(n)), index_col=[0, 1, 2] if three else 0)
        out[path] = describe(df)
        continue
    df = pd.read_hdf(path)
    keyed = pd.read_hdf(path, "df_with_missing")
    assert df.equals(keyed), path
    out[path] = describe(df)
print(json.dumps(out))
"""


if __name__ == "__main__":
    t0 = time.perf_counter()
    py, why = pandas2_python()
    print(f"pandas-2 environment: {py or why} ({time.perf_counter() - t0:.0f} s)")
