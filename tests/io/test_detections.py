"""The per-frame animals file (``_detections.h5``): streamed writes, atomic commit, safe reader."""

import h5py
import numpy as np
import pytest

from posenb.errors import LabelError
from posenb.io.detections import DetectionsWriter, detections_status, read_detections, write_detections

PARTS = ["head", "thorax", "tail"]
INDS = ["female", "male"]


def _arrays(rng, n, a=2, p=3, n_ind=2, u=1):
    poses = rng.random((n, a, p, 3)).astype(np.float32) * 100
    scores = np.sort(rng.random((n, a)).astype(np.float32), axis=1)[:, ::-1]
    poses[n // 2, 1] = np.nan  # a frame with one animal only
    scores[n // 2, 1] = np.nan
    return (
        poses,
        scores,
        rng.random((n, a, n_ind)).astype(np.float32),
        rng.random((n, u, 3)).astype(np.float32),
    )


def test_streamed_round_trip_with_identity_and_unique_parts(tmp_path):
    rng = np.random.default_rng(0)
    poses, scores, ident, unique = _arrays(rng, 700)
    path = tmp_path / "vidDLC_x_detections.h5"
    kw = dict(bodyparts=PARTS, individuals=INDS, uniquebodyparts=["corner"], max_animals=2, identity=True)
    with DetectionsWriter(
        path, scorer="DLC_x", video="/v/vid.mp4", nframes=700, fps=25.0, crop=(10, 90, 0, 50), **kw
    ) as w:
        for i0 in range(0, 700, 64):  # batches, as analyze_videos appends them
            sl = slice(i0, i0 + 64)
            w.append(poses[sl], scores[sl], identity=ident[sl], unique=unique[sl])
            assert not path.exists()  # nothing at the final name before the commit
    out = read_detections(path)
    np.testing.assert_array_equal(out["poses"], poses)
    np.testing.assert_array_equal(out["scores"], scores)
    np.testing.assert_array_equal(out["identity"], ident)
    np.testing.assert_array_equal(out["unique"], unique)
    assert out["bodyparts"] == PARTS and out["individuals"] == INDS and out["uniquebodyparts"] == ["corner"]
    assert (out["scorer"], out["video"], out["nframes"], out["fps"], out["crop"]) == (
        "DLC_x",
        "/v/vid.mp4",
        700,
        25.0,
        (10, 90, 0, 50),
    )
    assert np.isnan(out["poses"][350, 1]).all()
    part = read_detections(path, start=100, stop=110)
    np.testing.assert_array_equal(part["poses"], poses[100:110])
    with h5py.File(path) as f:  # plain h5py, chunked and resizable, no pickles
        assert f["poses"].chunks is not None and f["poses"].maxshape[0] is None
        assert f.attrs["format"] == "posenb-detections" and f.attrs["version"] == 1
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed
    assert detections_status(path, 700, "DLC_x", PARTS) == ""
    assert "frames" in detections_status(path, 701, "DLC_x", PARTS)
    assert "scorer" in detections_status(path, 700, "DLC_y", PARTS)


def test_without_identity_or_unique_parts_and_padding(tmp_path):
    rng = np.random.default_rng(1)
    poses, scores, _, _ = _arrays(rng, 20)
    path = tmp_path / "a_detections.h5"
    with DetectionsWriter(path, bodyparts=PARTS, individuals=INDS, max_animals=2, nframes=25) as w:
        w.append(poses, scores)
        with pytest.raises(ValueError, match="identity"):
            w.append(poses, scores, identity=np.zeros((20, 2, 2)))
        with pytest.raises(ValueError, match="shape"):
            w.append(poses[:, :1], scores)
    out = read_detections(path)
    assert out["identity"] is None and out["unique"] is None and out["crop"] is None
    assert out["poses"].shape == (25, 2, 3, 3) and out["nframes"] == 25
    assert np.isnan(out["poses"][20:]).all() and np.isnan(out["scores"][20:]).all()  # undecoded tail: NaN


def test_failed_run_keeps_previous_file(tmp_path):
    rng = np.random.default_rng(2)
    poses, scores, _, _ = _arrays(rng, 10)
    path = write_detections(tmp_path / "b_detections.h5", poses, scores, bodyparts=PARTS, individuals=INDS)
    with pytest.raises(RuntimeError, match="killed"):
        with DetectionsWriter(path, bodyparts=PARTS, individuals=INDS, max_animals=2, nframes=10) as w:
            w.append(poses[:5] + 1, scores[:5])
            raise RuntimeError("killed")
    np.testing.assert_array_equal(read_detections(path)["poses"], poses)
    assert not list(tmp_path.glob(".*.tmp"))
    write_detections(path, poses + 1, scores, bodyparts=PARTS, individuals=INDS)  # overwrite keeps a .bak
    np.testing.assert_array_equal(read_detections(path.with_name(path.name + ".bak"))["poses"], poses)


def test_reader_refuses_wrong_and_damaged_files(tmp_path):
    with pytest.raises(LabelError, match="not found.*analyze_videos"):
        read_detections(tmp_path / "none_detections.h5")
    text = tmp_path / "text_detections.h5"
    text.write_text("not hdf5")
    with pytest.raises(LabelError, match="text_detections.h5"):
        read_detections(text)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["poses"] = np.zeros((3, 2, 3, 3))
    with pytest.raises(LabelError, match="other.h5 is not a posenb detections file"):
        read_detections(other)
    rng = np.random.default_rng(3)
    poses, scores, _, _ = _arrays(rng, 10)
    bad = write_detections(tmp_path / "bad_detections.h5", poses, scores, bodyparts=PARTS, individuals=INDS)
    with h5py.File(bad, "a") as f:
        f.attrs["bodyparts"] = ["head"]  # 1 name for 3 parts
    with pytest.raises(LabelError, match="bad_detections.h5.*'poses' has shape"):
        read_detections(bad)
    linked = tmp_path / "linked_detections.h5"
    with h5py.File(linked, "w") as f:
        f.attrs.update(format="posenb-detections", version=1)
        f["poses"] = h5py.ExternalLink(str(bad), "poses")
    with pytest.raises(LabelError, match="linked_detections.h5"):
        read_detections(linked)
    truncated = tmp_path / "trunc_detections.h5"
    truncated.write_bytes(bad.read_bytes()[:2000])
    with pytest.raises(LabelError, match="trunc_detections.h5"):
        read_detections(truncated)
    assert detections_status(truncated, 10, "", PARTS).startswith("unreadable")
