"""Snapshot files: atomic writes, safe loading, listing, pruning, selection."""

from __future__ import annotations

import pytest
import torch

from posenb.errors import ModelError
from posenb.nn import snapshots as S


def _state(iteration, bodyparts=("a", "b")):
    return {"iteration": iteration, "model": {"w": torch.full((2, 2), float(iteration))}, "bodyparts": list(bodyparts)}


def test_roundtrip_list_prune_select(tmp_path):
    for it in (9, 10, 100, 2):
        S.save_snapshot(tmp_path, _state(it))
    names = [p.name for p in S.list_snapshots(tmp_path)]
    assert names == ["snapshot-2.pt", "snapshot-9.pt", "snapshot-10.pt", "snapshot-100.pt"]  # numeric order
    state = S.load_snapshot(tmp_path / "snapshot-10.pt")
    assert state["iteration"] == 10 and torch.equal(state["model"]["w"], torch.full((2, 2), 10.0))
    assert S.select_snapshot(tmp_path, -1).name == "snapshot-100.pt"
    assert S.select_snapshot(tmp_path, 0).name == "snapshot-2.pt"
    assert S.select_snapshot(tmp_path, "snapshot-9").name == "snapshot-9.pt"
    with pytest.raises(ModelError, match="out of range"):
        S.select_snapshot(tmp_path, 7)
    removed = S.prune_snapshots(tmp_path, 2)
    assert [p.name for p in removed] == ["snapshot-2.pt", "snapshot-9.pt"]
    assert [p.name for p in S.list_snapshots(tmp_path)] == ["snapshot-10.pt", "snapshot-100.pt"]
    with pytest.raises(ModelError, match="No snapshot"):
        S.select_snapshot(tmp_path / "empty", -1)


def test_crash_mid_save_keeps_the_last_good_snapshot(tmp_path, monkeypatch):
    S.save_snapshot(tmp_path, _state(5))

    def dying_save(obj, fh, *a, **k):
        fh.write(b"PK\x03\x04 half a snapshot")
        raise KeyboardInterrupt  # the process is interrupted mid-write

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        S.save_snapshot(tmp_path, _state(10))
    monkeypatch.undo()
    assert [p.name for p in S.list_snapshots(tmp_path)] == ["snapshot-5.pt"]
    assert S.load_snapshot(tmp_path / "snapshot-5.pt")["iteration"] == 5
    # a stray temp file (as a kill -9 would leave) is ignored by listing and removed by the next save
    (tmp_path / ".snapshot-10.abc.tmp").write_bytes(b"junk")
    assert [p.name for p in S.list_snapshots(tmp_path)] == ["snapshot-5.pt"]
    S.save_snapshot(tmp_path, _state(6))
    assert not list(tmp_path.glob(".snapshot-*.tmp"))


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_unsafe_or_corrupt_files_are_refused(tmp_path):
    (tmp_path / "snapshot-1.pt").write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="cannot be loaded"):
        S.load_snapshot(tmp_path / "snapshot-1.pt")
    torch.save({"iteration": 2, "model": {}, "payload": _Evil()}, tmp_path / "snapshot-2.pt")
    with pytest.raises(ModelError, match="cannot be loaded"):
        S.load_snapshot(tmp_path / "snapshot-2.pt")  # weights_only=True refuses arbitrary objects
    torch.save({"weights": torch.zeros(1)}, tmp_path / "snapshot-3.pt")
    with pytest.raises(ModelError, match="not a posenb snapshot"):
        S.load_snapshot(tmp_path / "snapshot-3.pt")


def test_bodypart_check():
    S.check_bodyparts(_state(1), ["a", "b"])
    with pytest.raises(ModelError, match=r"trained on body parts \['a', 'b'\].*\['snout'\]"):
        S.check_bodyparts(_state(1), ["snout"], "snapshot-1.pt")


def test_archive_snapshots_for_a_fresh_start_keeps_them(tmp_path):
    for it in (5, 10):
        S.save_snapshot(tmp_path, _state(it))
    (tmp_path / "learning_stats.csv").write_text("iteration,loss,lr,seconds\n5,1,0.001,1\n")
    (tmp_path / "pose_cfg.yaml").write_text("x: 1\n")
    dest = S.archive_snapshots(tmp_path)
    assert dest == tmp_path / "previous-1"
    assert S.list_snapshots(tmp_path) == [] and not (tmp_path / "learning_stats.csv").exists()
    assert (tmp_path / "pose_cfg.yaml").is_file()  # the recipe stays
    assert [p.name for p in S.list_snapshots(dest)] == ["snapshot-5.pt", "snapshot-10.pt"]
    assert S.load_snapshot(dest / "snapshot-10.pt")["iteration"] == 10
    assert (dest / "learning_stats.csv").read_text().endswith("5,1,0.001,1\n")
    assert S.archive_snapshots(tmp_path) is None  # nothing to move
    S.save_snapshot(tmp_path, _state(3))
    assert S.archive_snapshots(tmp_path) == tmp_path / "previous-2"


def test_dlc_index_files_follow_the_snapshots(tmp_path):
    """One snapshot-<N>.index per snapshot-<N>.pt (DeepLabCut lists snapshots by them); DLC's own are kept."""
    tf_index = tmp_path / "snapshot-7.index"
    tf_index.write_bytes(b"\x00\x01 a TensorFlow checkpoint index")  # DeepLabCut's, never touched
    for it in (2, 10, 100):
        S.save_snapshot(tmp_path, _state(it))
    indexes = sorted(p.name for p in tmp_path.glob("*.index"))
    assert indexes == ["snapshot-10.index", "snapshot-100.index", "snapshot-2.index", "snapshot-7.index"]
    assert "snapshot-10.pt" in (tmp_path / "snapshot-10.index").read_text()
    S.prune_snapshots(tmp_path, 1)
    assert sorted(p.name for p in tmp_path.glob("*.index")) == ["snapshot-100.index", "snapshot-7.index"]
    assert tf_index.read_bytes().startswith(b"\x00\x01")
    assert [p.name for p in S.list_snapshots(tmp_path)] == ["snapshot-100.pt"]  # .index files are not snapshots
    (tmp_path / "snapshot-100.index").unlink()
    S.sync_dlc_index_files(tmp_path)
    assert (tmp_path / "snapshot-100.index").is_file()
