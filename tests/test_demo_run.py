"""The README's first command, end to end: `posenb demo --no-serve` on the synthetic demo project."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.mark.slow
def test_posenb_demo_command_runs_every_stage(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "posenb.cli", "demo", "--workdir", str(tmp_path), "--no-serve", "--maxiters", "20"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "All stages done" in out
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
