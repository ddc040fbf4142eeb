"""The README's first command, end to end: `posenb demo --no-serve` on the synthetic demo project.

It runs with every Jupyter package made unimportable: the core (project, io, data, nn, train, infer, post) must
work in a terminal or a cluster job without them (../shared/DESIGN.md).
"""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

JUPYTER = ("ipywidgets", "ipycanvas", "ipyevents", "bqplot", "IPython", "ipykernel", "voila", "jupyter_client")

# a meta-path finder that refuses the Jupyter packages, then the CLI
WITHOUT_JUPYTER = f"""
import importlib.abc, sys
class _NoJupyter(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {JUPYTER!r}:
            raise ImportError(f"{{name}} is blocked: the core must run without Jupyter")
sys.meta_path.insert(0, _NoJupyter())
from posenb.cli import main
code = main(sys.argv[1:])
leaked = sorted(m for m in sys.modules if m.split(".")[0] in {JUPYTER!r})
print("jupyter modules loaded:", leaked)
sys.exit(code)
"""


@pytest.mark.slow
def test_posenb_demo_command_runs_every_stage_without_jupyter(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", WITHOUT_JUPYTER, "demo", "--workdir", str(tmp_path), "--no-serve", "--maxiters", "20"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "All stages done" in out
    assert "edit bodyparts" not in out  # the demo sets them itself and carries on
    assert "jupyter modules loaded: []" in out
    project = next(tmp_path.glob("demo-posenb-*"))
    videos = project / "videos"
    h5 = [p for p in videos.glob("demo_mouseDLC_*.h5") if "filtered" not in p.name and "skeleton" not in p.name]
    assert len(h5) == 1 and h5[0].name in out
    pred = pd.read_hdf(h5[0], "df_with_missing")
    assert len(pred) == 300 and list(pred.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert np.isfinite(pred.to_numpy()).all()
    assert list(videos.glob("*_filtered.h5")) and list(videos.glob("*_filtered_labeled.mp4"))
    assert list(videos.glob("*_skeleton.h5"))
    assert len(list((videos / "plot-poses" / "demo_mouse").glob("*.png"))) >= 4
    assert list((project / "dlc-models" / "iteration-0").glob("*/train/snapshot-20.pt"))
    assert list((project / "evaluation-results" / "iteration-0").glob("*/*-results.csv"))
    assert list((project / "labeled-data" / "demo_mouse").glob("machinelabels-iter0.h5"))
    assert (project / "labeled-data" / "demo_mouse_labeled").is_dir()
