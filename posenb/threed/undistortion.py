"""``check_undistortion``: rectified calibration images, corner plots and a triangulated board.

Camera 1 is rectified with the pair ``"<camera 1>-<camera 2>"``, camera ``i > 1`` with ``"<camera 1>-<camera
i>"`` (for two cameras exactly DeepLabCut's images). The corners of every tuple are also triangulated with
all cameras (:func:`posenb.threed.geometry.triangulate_points`): adjacent corners of a good calibration lie
1 square apart. Unlike DeepLabCut, nothing is written into the current working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["check_undistortion"]


def _rectification(stereo_params: dict, cams: list[str]) -> dict[str, tuple]:
    """Camera -> (K, dist, R_rect, P_rect, (w, h)) from the pairs with camera 1."""
    from posenb.threed.geometry import pair_key

    out = {}
    for cam in cams[1:]:
        sp = stereo_params[pair_key(cams[0], cam)]
        if cams[0] not in out:
            out[cams[0]] = (
                sp["cameraMatrix1"],
                sp["distCoeffs1"],
                sp["R1"],
                sp["P1"],
                tuple(sp["image_shape"][0]),
            )
        out[cam] = (sp["cameraMatrix2"], sp["distCoeffs2"], sp["R2"], sp["P2"], tuple(sp["image_shape"][1]))
    return out


def _board_in_3d(tuples, cams, cameras, cbrow: int, cbcol: int):
    """Every board triangulated with all cameras, in camera 1's frame (undistorted pixels, P = K [R | t]).

    Returns ``corners_3d (n_tuples, cbrow * cbcol, 3)``, the distances of adjacent corners (squares) and the
    re-projection RMS (px) per camera.
    """
    from posenb.threed.geometry import project_points, triangulate_points, undistort_points

    und = np.stack(
        [
            [undistort_points(t.corners[cam], cameras[cam]["K"], cameras[cam]["dist"]) for t in tuples]
            for cam in cams
        ]
    )
    Ps = np.stack([cameras[cam]["P"] for cam in cams])
    corners_3d = triangulate_points(Ps, und)  # (n_tuples, n_corners, 3)
    grid = corners_3d.reshape(len(tuples), cbrow, cbcol, 3)
    steps = np.concatenate(
        [
            np.linalg.norm(np.diff(grid, axis=1), axis=-1).ravel(),
            np.linalg.norm(np.diff(grid, axis=2), axis=-1).ravel(),
        ]
    )
    rms = {
        cam: float(np.sqrt(np.nanmean(np.sum((project_points(corners_3d, Ps[i]) - und[i]) ** 2, axis=-1))))
        for i, cam in enumerate(cams)
    }
    return corners_3d, steps, rms


def check_undistortion(config: str | os.PathLike, cbrow: int = 8, cbcol: int = 6, plot: bool = True) -> dict:
    """Rectify the calibration images and plot the board corners before and after.

    Parameters
    ----------
    config : the 3D project's config.yaml (calibrated with ``calibrate_cameras(..., calibrate=True)``).
    cbrow, cbcol : inner corners per board column and row (as for :func:`calibrate_cameras`).
    plot : also save ``Original_Image.png``, ``undistorted_points.png`` and ``checkerboard_3d.png``.

    Writes ``undistortion/<stem>_undistort.jpg`` for every image of every usable tuple.

    Returns
    -------
    dict with ``images`` (written paths), ``plots`` (written plot paths), ``corners_3d`` (``(n_tuples,
    cbrow * cbcol, 3)`` float64 board corners in camera 1's frame, checkerboard squares), ``square_size``
    (mean distance of adjacent triangulated corners, squares; 1.0 ideally) and ``reprojection_rms_px``
    (camera -> RMS px of the triangulated corners re-projected into that camera).
    """
    import cv2
    from tqdm.auto import tqdm

    from posenb.errors import ConfigError
    from posenb.threed._pickle import read_pickle
    from posenb.threed.calibration import find_calibration_corners
    from posenb.threed.config import project_folders, read_config_3d
    from posenb.threed.geometry import (
        cameras_from_stereo_params,
        undistort_points,
    )

    cfg = read_config_3d(config)
    cams = cfg["camera_names"]
    folders = project_folders(cfg)
    stereo_params = read_pickle(folders["camera_matrix"] / "stereo_params.pickle")
    cameras = cameras_from_stereo_params(stereo_params, cams)
    rect = _rectification(stereo_params, cams)
    maps = {
        cam: cv2.initUndistortRectifyMap(K, D, R, P, tuple(int(v) for v in size), cv2.CV_16SC2)
        for cam, (K, D, R, P, size) in rect.items()
    }
    tuples = [t for t in find_calibration_corners(config, cbrow, cbcol, draw=False) if t.found]
    if not tuples:
        raise ConfigError(
            f"No calibration tuple in {folders['calibration_images']} shows the {cbcol}x{cbrow} board."
        )

    images, last = [], {}
    rect_corners = {cam: [] for cam in cams}
    for t in tqdm(tuples, desc="Undistorting", leave=False):
        for cam in cams:
            K, D, R, P, _ = rect[cam]
            img = cv2.imread(str(t.images[cam]))
            remapped = cv2.remap(img, maps[cam][0], maps[cam][1], cv2.INTER_LANCZOS4)
            out = folders["undistortion"] / f"{t.images[cam].stem}_undistort.jpg"
            cv2.imwrite(str(out), remapped)
            images.append(out)
            rect_corners[cam].append(undistort_points(t.corners[cam], K, D, R=R, P=P))
            last[cam] = (img, remapped)

    corners_3d, steps, rms = _board_in_3d(tuples, cams, cameras, cbrow, cbcol)
    square = float(np.nanmean(steps))
    print(
        f"Undistorted {len(images)} images into {folders['undistortion']}. Triangulated board: adjacent corners "
        f"{square:.3f} +- {np.nanstd(steps):.3f} squares apart (1 ideally); re-projection RMS "
        + ", ".join(f"{c} {v:.2f} px" for c, v in rms.items())
    )
    plots = _plots(cfg, folders["undistortion"], tuples[-1], last, rect_corners, corners_3d) if plot else []
    return {
        "images": images,
        "plots": plots,
        "corners_3d": corners_3d,
        "square_size": square,
        "reprojection_rms_px": rms,
    }


def _plots(
    cfg: dict, folder: Path, last_tuple, last: dict, rect_corners: dict, corners_3d: np.ndarray
) -> list[Path]:
    """Original_Image.png (detected corners), undistorted_points.png (rectified corners), checkerboard_3d.png."""
    import cv2
    from matplotlib.figure import Figure

    from posenb.post._common import bodypart_colors

    cams = cfg["camera_names"]
    n = len(cams)
    style = dict(
        marker=cfg.get("markerType", "*"), s=cfg.get("dotsize", 15), alpha=cfg.get("alphaValue", 0.8)
    )
    color = cfg.get("markerColor", "r")
    written = []
    for name, title, which in (
        ("Original_Image.png", "Original images and detected corners", 0),
        ("undistorted_points.png", "Undistorted (rectified) images and corners", 1),
    ):
        fig = Figure(figsize=(8 * n, 6.5))
        fig.suptitle(f"{title}: {', '.join(cams)}", fontsize=18)
        for i, cam in enumerate(cams):
            ax = fig.add_subplot(1, n, i + 1)
            ax.imshow(cv2.cvtColor(last[cam][which], cv2.COLOR_BGR2RGB))
            pts = last_tuple.corners[cam] if which == 0 else rect_corners[cam][-1]
            ax.scatter(pts[:, 0], pts[:, 1], color=color, **style)
            ax.set_title(cam)
            ax.set_axis_off()
        fig.savefig(folder / name, dpi=80)
        written.append(folder / name)

    board_colors = bodypart_colors(
        cfg.get("colormap", "jet"), len(corners_3d), "the 3D project's config.yaml"
    )
    fig = Figure(figsize=(8, 7))
    ax = fig.add_subplot(projection="3d")
    for i, board in enumerate(corners_3d):
        ax.scatter(*board.T, color=board_colors[i], marker=style["marker"], s=style["s"])
    ax.set_xlabel("X")
    ax.set_ylabel("Y")
    ax.set_zlabel("Z")
    ax.set_title(f"Triangulated boards ({cams[0]} frame, squares)")
    fig.savefig(folder / "checkerboard_3d.png", dpi=80)
    written.append(folder / "checkerboard_3d.png")
    return written
