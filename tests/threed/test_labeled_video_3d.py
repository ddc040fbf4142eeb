"""create_labeled_video_3d: camera views + 3D axes rendered to mp4."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posenb.errors import PosenbError
from posenb.threed import create_labeled_video_3d, read_config_3d, triangulate, write_config_3d
from posenb.threed.labeled_video_3d import axis_limits_3d


def _count_frames(path) -> tuple[int, tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    n, shape = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n += 1
        shape = frame.shape[:2]
    cap.release()
    return n, shape


@pytest.mark.parametrize("n_cams", [2, 3])
def test_video_has_one_frame_per_triangulated_frame(rig_session, n_cams, tmp_path, monkeypatch):
    s = rig_session(n_cams, videos=True, n_frames=8)
    cfg = read_config_3d(s.config)
    cfg["skeleton"] = [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"]]
    write_config_3d(s.config, cfg)
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=False)
    monkeypatch.chdir(tmp_path)
    (video,) = create_labeled_video_3d(
        s.config, [str(h5)], trailpoints=2, figsize=(2.0 * (n_cams + 1), 2.0), dpi=40
    )
    assert video == h5.with_suffix(".mp4") and video.is_file()
    n, (height, width) = _count_frames(video)
    assert n == 8
    assert (width, height) == (80 * (n_cams + 1), 80)
    assert not list(s.folder.glob("temp_*"))  # no temporary frame folders left behind


def test_frame_range_folder_input_and_existing_video_kept(rig_session):
    s = rig_session(2, videos=True, n_frames=8)
    (h5,) = triangulate(s.config, str(s.folder), filterpredictions=False)
    meta = h5.with_name(h5.stem + "_meta.pickle")
    meta.unlink()  # as for a DLC file without posenb's keys: videos and 2D files are searched for
    (video,) = create_labeled_video_3d(s.config, str(s.folder), start=2, end=6, figsize=(3, 1.5), dpi=40)
    assert _count_frames(video)[0] == 4
    stamp = video.stat().st_mtime_ns
    create_labeled_video_3d(s.config, str(s.folder), start=0, end=3, figsize=(3, 1.5), dpi=40)
    assert video.stat().st_mtime_ns == stamp  # existing video kept, as DLC


def test_errors_and_axis_limits(rig_session, tmp_path):
    s = rig_session(2)
    with pytest.raises(PosenbError, match="triangulate"):
        create_labeled_video_3d(s.config, str(tmp_path))
    xyz = np.zeros((10, 2, 3))
    xyz[:, 0] = np.arange(10)[:, None]  # x, y, z from 0 to 9 for body part 0
    xyz[3, 1] = np.nan
    (xl, yl, zl) = axis_limits_3d(xyz, zlim=(-1, 1))
    assert zl == (-1, 1)
    assert np.isclose(xl[1] - xl[0], yl[1] - yl[0])  # a cube
    assert xl[0] < 1 and xl[1] > 4
