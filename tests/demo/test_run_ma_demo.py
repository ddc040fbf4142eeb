"""``posenb demo --animals 2``: the multi-animal workflow runs end to end on the synthetic mice and writes every
stage's file (a few training iterations: the files and their layout are checked, not the accuracy)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from posenb.cli import main
from posenb.io.detections import read_detections


def test_multianimal_demo_runs_every_stage(tmp_path, capsys):
    assert main(["demo", "--animals", "2", "--maxiters", "5", "--no-serve", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "All stages done" in out
    videos = next(tmp_path.glob("demo_ma-*")) / "videos"
    det = read_detections(next(videos.glob("*_detections.h5")))
    assert det["poses"].shape[0] == 300 and det["poses"].shape[-1] == 3
    assert list(det["individuals"]) == ["mouse1", "mouse2"]
    tracks = pd.read_hdf(next(videos.glob("*_el.h5")))
    assert list(tracks.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert set(tracks.columns.get_level_values("individuals")) <= {"mouse1", "mouse2"}
    assert len(tracks) == 300
    for pattern in ("*_el_filtered.h5", "*_el.csv", "*_id_labeled.mp4", "*_skeleton.h5"):
        assert list(videos.glob(pattern)), pattern
    assert list((videos / "plot-poses").rglob("*.png"))
    assert list((videos.parent / "evaluation-results").rglob("*.csv"))
    assert Path(videos.parent / "labeled-data" / "demo_mice_labeled").is_dir()
