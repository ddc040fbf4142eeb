"""triangulate(): 2D prediction files of N cameras -> DLC's 3D table, meta and CSV."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError
from posenb.threed import read_config_3d, read_predictions_3d, triangulate, write_config_3d
from posenb.threed._pickle import read_pickle
from posenb.threed.triangulation import get_camerawise_videos, output_name_3d


@pytest.mark.parametrize("n_cams", [2, 3])
def test_triangulated_table_is_dlc_shaped_and_accurate(rig_session, synth, n_cams):
    s = rig_session(n_cams, noise_px=0.5)
    out = triangulate(s.config, str(s.folder), filterpredictions=False)
    assert out == [s.folder / "trial1_DLC_3D.h5"]

    df = pd.read_hdf(out[0], key="df_with_missing")
    with pd.HDFStore(out[0], mode="r") as store:
        assert store.get_storer("df_with_missing").is_table
    assert df.columns.names == ["scorer", "bodyparts", "coords"]
    assert list(df.columns) == [("DLC_3D", bp, c) for bp in synth.bodyparts for c in ("x", "y", "z")]
    assert list(df.index) == list(range(len(s.X))) and df.dtypes.unique().tolist() == [np.float64]
    xyz = df.to_numpy().reshape(len(s.X), -1, 3)
    err = np.linalg.norm(xyz - s.X, axis=-1)  # camera 1's frame, checkerboard squares
    assert err.mean() < 0.08 and err.max() < 0.3, (err.mean(), err.max())

    meta = read_pickle(out[0].with_name("trial1_DLC_3D_meta.pickle"))
    assert {"stereo_matrix", "stereo_matrix_file", "scorer_name"} <= set(meta)
    assert meta["scorer_name"] == {f"camera-{i}": synth.scorer_2d for i in range(1, n_cams + 1)}
    assert set(meta["projection_matrices"]) == {f"camera-{i}" for i in range(1, n_cams + 1)}
    for P, cam in zip(meta["projection_matrices"].values(), s.rig, strict=True):
        assert np.allclose(P, cam["K"] @ np.hstack([cam["R"], cam["t"][:, None]]))
    with open(out[0].with_name("trial1_DLC_3D_meta.pickle"), "rb") as fh:  # DLC reads it with plain pickle
        assert "F" in pickle.load(fh)["stereo_matrix"]


def test_pcutoff_missing_points_stay_missing_and_csv(rig_session, synth):
    s = rig_session(2, noise_px=0.0)
    cam1, cam2 = s.rig
    xy2 = synth.project(cam2, s.X)
    lik2 = np.full(s.X.shape[:-1], 0.9)
    lik2[2:5, 1] = 0.1  # below pcutoff (0.4) in camera 2 only
    lik2[6, 3] = 0.4  # exactly pcutoff: kept (DLC masks < pcutoff)
    synth.write_2d_predictions(s.folder, "trial1-camera-2", xy2, lik2)
    xy1 = synth.project(cam1, s.X)
    xy1[7, 0] = np.nan  # no detection at all in camera 1
    synth.write_2d_predictions(s.folder, "trial1-camera-1", xy1, np.full(s.X.shape[:-1], 0.9))

    videos = [[str(s.folder / "trial1-camera-1.mp4"), str(s.folder / "trial1-camera-2.mp4")]]
    (h5,) = triangulate(s.config, videos, filterpredictions=False, save_as_csv=True)
    xyz = read_predictions_3d(h5).to_numpy().reshape(len(s.X), -1, 3)
    missing = np.isnan(xyz).any(axis=-1)
    expected = np.zeros_like(missing)
    expected[2:5, 1] = expected[7, 0] = True
    assert np.array_equal(missing, expected)
    assert np.isnan(xyz[missing]).all()  # x, y and z are all missing
    assert np.allclose(xyz[~missing], s.X[~missing], atol=1e-6)  # noise-free input comes back exactly

    csv = pd.read_csv(h5.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    assert list(csv.columns) == [("DLC_3D", bp, c) for bp in synth.bodyparts for c in ("x", "y", "z")]
    assert np.allclose(csv.to_numpy(), read_predictions_3d(h5).to_numpy(), equal_nan=True)


def test_three_cameras_min_cameras(rig_session, synth):
    s = rig_session(3, noise_px=0.0)
    lik = np.full(s.X.shape[:-1], 0.9)
    lik[:, 2] = 0.0  # camera 3 never sees body part 2
    synth.write_2d_predictions(s.folder, "trial1-camera-3", synth.project(s.rig[2], s.X), lik)
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=False)
    xyz = read_predictions_3d(h5).to_numpy().reshape(len(s.X), -1, 3)
    assert np.isnan(xyz[:, 2]).all() and np.isfinite(np.delete(xyz, 2, axis=1)).all()
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=False, min_cameras=2)
    xyz = read_predictions_3d(h5).to_numpy().reshape(len(s.X), -1, 3)
    assert np.allclose(xyz, s.X, atol=1e-6)  # body part 2 from cameras 1 and 2


def test_rerun_skips_until_something_changes(rig_session, capsys):
    s = rig_session(2)
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=False)
    stamp = h5.stat().st_mtime_ns
    triangulate(s.config, str(s.folder), filterpredictions=False)
    assert "up to date" in capsys.readouterr().out and h5.stat().st_mtime_ns == stamp
    cfg = read_config_3d(s.config)
    cfg["pcutoff"] = 0.99  # now every point (likelihood 0.95) is below pcutoff
    write_config_3d(s.config, cfg)
    triangulate(s.config, str(s.folder), filterpredictions=False)
    assert read_predictions_3d(h5).isna().all().all()
    assert h5.with_name(h5.name + ".bak").is_file()  # previous version kept


def test_filtered_predictions_are_preferred_and_destfolder(rig_session, synth, tmp_path):
    s = rig_session(2, noise_px=30.0)  # unfiltered files: far off
    dest = tmp_path / "analysis"
    dest.mkdir()
    for i, cam in enumerate(s.rig, start=1):
        stem = f"trial1-camera-{i}"
        path = synth.write_2d_predictions(dest, stem, synth.project(cam, s.X), np.full(s.X.shape[:-1], 0.9))
        path.rename(path.with_name(f"{stem}{synth.scorer_2d}_filtered.h5"))
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=True, destfolder=str(dest))
    assert h5 == dest / "trial1_DLC_3D.h5"
    assert np.allclose(read_predictions_3d(h5).to_numpy().reshape(len(s.X), -1, 3), s.X, atol=1e-6)
    meta = read_pickle(dest / "trial1_DLC_3D_meta.pickle")
    assert all(p.endswith("_filtered.h5") for p in meta["data_files"].values())


def test_missing_2d_data_without_2d_project_is_a_clear_error(rig_session):
    s = rig_session(2)
    for f in s.folder.glob("trial1-camera-2*.h5"):
        f.unlink()
    with pytest.raises(ConfigError, match="config_file_camera-2"):
        triangulate(s.config, str(s.folder), filterpredictions=False)


def test_names_and_video_tuples(tmp_path):
    assert output_name_3d("video1-camera-1.avi", "camera-1") == "video1_DLC_3D"
    assert output_name_3d("/x/camera-1_trial2.mp4", "camera-1") == "trial2_DLC_3D"
    assert output_name_3d("a_camera-1_b.mp4", "camera-1", "3D") == "a_b_3D"
    for name in ("t1-camera-1.mp4", "t1-camera-2.mp4", "t1-camera-3.mp4", "t2-camera-1.mp4", "t2-camera-3.mp4",
                 "t1-camera-1_labeled.mp4", "notes.txt"):  # fmt: skip
        (tmp_path / name).write_bytes(b"")
    cams = ["camera-1", "camera-2", "camera-3"]
    assert get_camerawise_videos(tmp_path, cams) == [[tmp_path / f"t1-{c}.mp4" for c in cams]]
    assert get_camerawise_videos(tmp_path, ["camera-1", "camera-3"]) == [
        [tmp_path / "t1-camera-1.mp4", tmp_path / "t1-camera-3.mp4"],
        [tmp_path / "t2-camera-1.mp4", tmp_path / "t2-camera-3.mp4"],
    ]
    assert os.listdir(tmp_path)  # nothing moved or removed


def test_views_without_2d_data_are_analyzed_and_filtered(rig_session, synth, monkeypatch, tmp_path):
    """Missing 2D files are made with posenb.analyze_videos / filterpredictions of each camera's 2D project."""

    s = rig_session(2, noise_px=0.0)
    for f in s.folder.glob("*.h5"):
        f.unlink()
    cfg = read_config_3d(s.config)
    for i in (1, 2):
        project_2d = tmp_path / f"cam{i}" / "config.yaml"
        project_2d.parent.mkdir()
        project_2d.write_text("Task: cam\n")
        cfg[f"config_file_camera-{i}"] = str(project_2d)
        cfg[f"shuffle_camera-{i}"] = i + 1
    write_config_3d(s.config, cfg)
    calls = []

    def fake_analyze(
        config, videos, videotype="", shuffle=1, trainingsetindex=0, gputouse=None, destfolder=None
    ):
        calls.append(("analyze", config, videos, shuffle, trainingsetindex, gputouse, destfolder))
        stem = os.path.basename(videos[0]).rsplit(".", 1)[0]
        cam = s.rig[int(stem[-1]) - 1]
        synth.write_2d_predictions(destfolder, stem, synth.project(cam, s.X), np.full(s.X.shape[:-1], 0.9))
        return synth.scorer_2d

    def fake_filter(
        config, video, videotype="", shuffle=1, trainingsetindex=0, filtertype="median", destfolder=None
    ):
        calls.append(("filter", config, video, shuffle, filtertype, destfolder))
        stem = os.path.basename(video[0]).rsplit(".", 1)[0]
        src = os.path.join(destfolder, f"{stem}{synth.scorer_2d}.h5")
        pd.read_hdf(src).to_hdf(src[:-3] + "_filtered.h5", key="df_with_missing", format="table", mode="w")

    monkeypatch.setattr("posenb.infer.analyze.analyze_videos", fake_analyze)
    monkeypatch.setattr("posenb.post.filtering.filterpredictions", fake_filter)
    (h5,) = triangulate(s.config, str(s.folder), filtertype="arima", gputouse=0)
    assert [c[0] for c in calls] == ["analyze", "filter", "analyze", "filter"]
    video1 = str(s.folder / "trial1-camera-1.mp4")
    assert calls[0][1:] == (cfg["config_file_camera-1"], [video1], 2, 0, 0, str(s.folder))
    assert calls[3][3:] == (3, "arima", str(s.folder))
    assert np.allclose(read_predictions_3d(h5).to_numpy().reshape(len(s.X), -1, 3), s.X, atol=1e-6)
