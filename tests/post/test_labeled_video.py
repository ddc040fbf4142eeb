"""create_labeled_video: the drawing (exact, on arrays) and the videos (decoded and checked pixel by pixel)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posenb.io.predictions import array_to_predictions, write_meta, write_predictions
from posenb.io.video import open_video
from posenb.post._common import bodypart_colors
from posenb.post.labeled_video import (
    create_labeled_video,
    disk_offsets,
    draw_points,
    draw_poses,
    draw_segments,
)
from posenb.project.config import read_config, write_config
from posenb.project.paths import get_scorer_name

# demo video: 60 frames, 128x96; four body parts at fixed, well separated places
POINTS = np.array([[30.0, 30.0], [90.0, 30.0], [30.0, 70.0], [90.0, 70.0]])


def write_analysis(config: str, arr: np.ndarray, meta: dict | None = None) -> tuple[Path, Path]:
    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    h5 = video.with_name(video.stem + scorer + ".h5")
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), h5)
    if meta:
        write_meta(h5, meta)
    return video, h5


def fixed_poses(n: int = 60, likelihood: float = 0.9) -> np.ndarray:
    arr = np.zeros((n, 4, 3))
    arr[:, :, :2] = POINTS
    arr[:, :, 2] = likelihood
    return arr


def patch_mean(frame: np.ndarray, x: float, y: float, r: int = 1) -> np.ndarray:
    x, y = int(round(x)), int(round(y))
    return frame[y - r : y + r + 1, x - r : x + r + 1].reshape(-1, 3).mean(axis=0)


# ------------------------------------------------------------------------------------------ pure drawing
def test_disk_offsets_are_a_filled_disk():
    dy, dx = disk_offsets(3)
    assert (dy**2 + dx**2 <= 9).all() and len(dy) == 29  # pixels of a radius-3 disk
    assert (0, 0) in set(zip(dy.tolist(), dx.tolist()))


def test_draw_points_colours_blends_and_clips():
    frames = np.full((2, 20, 30, 3), 100, np.uint8)
    xy = np.array([[[5.0, 5.0], [29.4, 19.6]], [[15.0, 10.0], [np.nan, 3.0]]])
    visible = np.array([[True, True], [False, True]])
    colors = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    draw_points(frames, xy, visible, colors, radius=2, alpha=0.5)
    np.testing.assert_array_equal(frames[0, 5, 5], [178, 50, 50])  # 0.5 * 100 + 0.5 * colour, rounded
    np.testing.assert_array_equal(frames[0, 5, 8], [100, 100, 100])  # outside the disk
    np.testing.assert_array_equal(frames[0, 19, 29], [50, 50, 178])  # at the corner, clipped, no error
    assert (frames[1] == 100).all()  # invisible point and NaN point: nothing drawn


def test_draw_segments_and_poses():
    frames = np.zeros((1, 20, 20, 3), np.uint8)
    draw_segments(
        frames,
        np.array([[[2.0, 2.0]]]),
        np.array([[[17.0, 17.0]]]),
        np.array([[True]]),
        np.array([9, 8, 7], np.uint8),
    )
    for i in range(2, 18):
        np.testing.assert_array_equal(frames[0, i, i], [9, 8, 7])
    assert frames[0, 2, 17].sum() == 0
    frames[:] = 0
    poses = np.array([[[5.0, 5.0, 0.9], [15.0, 5.0, 0.2]]])
    draw_poses(
        frames,
        poses,
        np.array([[255, 255, 255], [255, 0, 0]], np.uint8),
        pcutoff=0.5,
        radius=1,
        alpha=1.0,
        bones=[(0, 1)],
        bone_color=(0, 255, 0),
    )
    np.testing.assert_array_equal(frames[0, 5, 5], [255, 255, 255])
    assert frames[0, 5, 15].sum() == 0 and frames[0, 5, 10].sum() == 0  # below pcutoff: no point, no bone


# ----------------------------------------------------------------------------------------------- videos
def test_labeled_video_has_all_frames_and_colours_at_the_points(demo_project):
    arr = fixed_poses()
    arr[:, 3, 2] = 0.1  # tailbase below pcutoff (0.5 in the demo config): never drawn
    video, h5 = write_analysis(demo_project, arr)
    out = create_labeled_video(demo_project, [str(video)], alphavalue=1.0, dotsize=5)
    assert out == [h5.with_name(h5.stem + "_labeled.mp4")]
    labeled, source = open_video(out[0]), open_video(video)
    assert labeled.n_frames == source.n_frames == 60 and (labeled.width, labeled.height) == (128, 96)
    colors = bodypart_colors(read_config(demo_project)["colormap"], 4) * 255
    for i in (0, 31, 59):
        frame, original = labeled.read(i).astype(float), source.read(i).astype(float)
        for j in range(3):
            np.testing.assert_allclose(patch_mean(frame, *POINTS[j]), colors[j], atol=30)  # H.264 is lossy
        assert np.abs(patch_mean(frame, *POINTS[3]) - patch_mean(original, *POINTS[3])).max() < 20
    # an existing video is skipped unless overwrite=True
    mtime = out[0].stat().st_mtime_ns
    create_labeled_video(demo_project, [str(video)])
    assert out[0].stat().st_mtime_ns == mtime
    create_labeled_video(demo_project, [str(video)], overwrite=True, draw_skeleton=True, trailpoints=2)
    assert out[0].stat().st_mtime_ns != mtime and open_video(out[0]).n_frames == 60


def test_skeleton_colour_from_config(demo_project):
    cfg = read_config(demo_project)
    cfg.update(skeleton=[["snout", "leftear"]], skeleton_color="blue")
    write_config(demo_project, cfg)
    video, _ = write_analysis(demo_project, fixed_poses())
    out = create_labeled_video(demo_project, [str(video)], draw_skeleton=True, dotsize=3)[0]
    frame = open_video(out).read(10).astype(float)
    # snout (30, 30) -> leftear (90, 30): the midpoint of the bone is blue
    mid = frame[29:32, 58:63].reshape(-1, 3).mean(axis=0)
    assert mid[2] > 120 and mid[2] > mid[0] + 60 and mid[2] > mid[1] + 60


def test_cropped_analysis_adds_offset_unless_displaycropped(demo_project):
    arr = fixed_poses()
    arr[:, :, :2] -= [20, 10]  # coordinates in a crop starting at x1=20, y1=10
    meta = {"cropping": True, "cropping_parameters": [20, 120, 10, 90], "frame_dimensions": (96, 128)}
    video, h5 = write_analysis(demo_project, arr, meta)
    colors = bodypart_colors(read_config(demo_project)["colormap"], 4) * 255
    out = create_labeled_video(demo_project, [str(video)], alphavalue=1.0, dotsize=4)[0]
    frame = open_video(out).read(5).astype(float)
    np.testing.assert_allclose(patch_mean(frame, *POINTS[0]), colors[0], atol=30)
    out = create_labeled_video(
        demo_project, [str(video)], alphavalue=1.0, dotsize=4, displaycropped=True, overwrite=True
    )[0]
    reader = open_video(out)
    assert (reader.width, reader.height) == (100, 80)
    np.testing.assert_allclose(
        patch_mean(reader.read(5).astype(float), *(POINTS[0] - [20, 10])), colors[0], atol=30
    )


def test_high_quality_mode_saves_frames(demo_project):
    video, h5 = write_analysis(demo_project, fixed_poses())
    out = create_labeled_video(
        demo_project, [str(video)], save_frames=True, Frames2plot=[0, 7, 12], alphavalue=1.0
    )[0]
    folder = video.parent / "temp-demo_mouse"
    assert sorted(p.name for p in folder.iterdir()) == ["file00.png", "file07.png", "file12.png"]
    reader = open_video(out)
    assert reader.n_frames == 3
    colors = bodypart_colors(read_config(demo_project)["colormap"], 4) * 255
    np.testing.assert_allclose(patch_mean(reader.read(1).astype(float), *POINTS[1]), colors[1], atol=35)


def test_unknown_bodypart_is_reported(demo_project):
    video, _ = write_analysis(demo_project, fixed_poses())
    with pytest.raises(Exception, match="nose"):
        create_labeled_video(demo_project, [str(video)], displayedbodyparts=["nose"])
