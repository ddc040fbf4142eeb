"""Checkerboard calibration of N cameras (DeepLabCut's ``calibrate_cameras``, generalised beyond two).

Images ``calibration_images/*.jpg`` carry a camera name in their file name (``camera-1-01.jpg``,
``01_camera-2.jpg``); the rest of the name groups them into tuples of simultaneous views (one image per
camera). A tuple is usable only if the board is found in every view; otherwise all of its images are moved
to ``removed_calibration_images/`` (and can be moved back with :func:`keep_calibration_pair`).

Core functions for a calibration panel: :func:`find_calibration_corners` (corners per tuple, no side effects
besides the ``corners/`` previews), :func:`drop_calibration_pair` / :func:`keep_calibration_pair`.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError

__all__ = [
    "CalibrationTuple",
    "CalibrationResult",
    "group_calibration_images",
    "find_calibration_corners",
    "drop_calibration_pair",
    "keep_calibration_pair",
    "calibrate_cameras",
    "board_object_points",
]

_PLACEHOLDER = "{cam}"


@dataclass
class CalibrationTuple:
    """Simultaneous views of the board, one image per camera.

    Attributes
    ----------
    key : the image file name with the camera name replaced by ``{cam}`` (``"{cam}-01.jpg"``); identifies
        the tuple for :func:`drop_calibration_pair` / :func:`keep_calibration_pair`.
    images : camera name -> image path.
    corners : camera name -> ``(cbrow * cbcol, 2)`` float32 sub-pixel corner positions (px, OpenCV order:
        rows of ``cbcol`` corners), or None where the board was not found.
    image_size : camera name -> ``(width, height)`` px.
    removed : True if the images are in ``removed_calibration_images/``.
    """

    key: str
    images: dict[str, Path]
    corners: dict[str, np.ndarray | None] = field(default_factory=dict)
    image_size: dict[str, tuple[int, int]] = field(default_factory=dict)
    removed: bool = False

    @property
    def found(self) -> bool:
        """The board was found in every view."""
        return bool(self.images) and all(self.corners.get(cam) is not None for cam in self.images)

    @property
    def name(self) -> str:
        """Short display name: the key without camera placeholder, separators and extension (``"01"``)."""
        stem = Path(self.key).stem
        parts = [p.strip("-_ .") for p in stem.split(_PLACEHOLDER)]
        return "_".join(p for p in parts if p) or stem


@dataclass
class CalibrationResult:
    """What :func:`calibrate_cameras` did.

    ``camera_rms_px`` / ``pair_rms_px``: RMS reprojection error in pixels of ``cv2.calibrateCamera`` per
    camera and of ``cv2.stereoCalibrate`` per pair ``"<cam1>-<cam2>"`` (empty when ``calibrate=False``).
    ``per_image_rms_px``: tuple key -> camera -> RMS of that image after the intrinsic calibration.
    """

    camera_names: list[str]
    tuples: list[CalibrationTuple]
    removed: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    camera_rms_px: dict[str, float] = field(default_factory=dict)
    pair_rms_px: dict[str, float] = field(default_factory=dict)
    per_image_rms_px: dict[str, dict[str, float]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def n_tuples(self) -> int:
        """Number of tuples with the board found in every view (used for calibration)."""
        return sum(t.found for t in self.tuples)

    @property
    def reprojection_error(self) -> dict[str, dict[str, float]]:
        """``{"cameras": {cam: rms_px}, "pairs": {"<cam1>-<cam2>": rms_px}}``."""
        return {"cameras": dict(self.camera_rms_px), "pairs": dict(self.pair_rms_px)}


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def _camera_of(name: str, camera_names: list[str]) -> str | None:
    """The camera whose name occurs in ``name`` (the longest one, so camera-10 wins over camera-1)."""
    hits = [cam for cam in camera_names if cam in name]
    return max(hits, key=len) if hits else None


def group_calibration_images(folder: str | os.PathLike, camera_names: list[str]):
    """Group ``folder/*.jpg`` into tuples by the name with the camera name removed.

    Returns ``(complete, incomplete)``: ``{key: {cam: path}}`` for tuples with one image per camera (in
    natural order of the keys, cameras in config order), and the sorted keys lacking some camera.
    """
    groups: dict[str, dict[str, Path]] = {}
    for path in Path(folder).glob("*.jpg"):
        cam = _camera_of(path.name, camera_names)
        if cam is None:
            continue
        key = path.name.replace(cam, _PLACEHOLDER, 1)
        groups.setdefault(key, {})[cam] = path
    complete, incomplete = {}, []
    for key in sorted(groups, key=_natural_key):
        if len(groups[key]) == len(camera_names):
            complete[key] = {cam: groups[key][cam] for cam in camera_names}
        else:
            incomplete.append(key)
    return complete, incomplete


def board_object_points(cbrow: int, cbcol: int) -> np.ndarray:
    """``(cbrow * cbcol, 3)`` float32 board corners ``(0..cbcol-1, 0..cbrow-1, 0)`` in square units."""
    objp = np.zeros((cbrow * cbcol, 3), np.float32)
    objp[:, :2] = np.mgrid[0:cbcol, 0:cbrow].T.reshape(-1, 2)
    return objp


def _detect(path: Path, cbrow: int, cbcol: int, search_window_size, corners_dir: Path | None):
    """Sub-pixel corners ``(n, 2)`` float32 (or None) and ``(w, h)`` of one image."""
    import cv2

    img = cv2.imread(str(path))
    if img is None:
        print(f"Cannot read the image {path}; it is treated as a failed view.")
        return None, (0, 0)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    size = (gray.shape[1], gray.shape[0])
    ok, corners = cv2.findChessboardCorners(gray, (cbcol, cbrow), None)
    if not ok:
        return None, size
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.001)
    corners = cv2.cornerSubPix(gray, corners, tuple(int(s) for s in search_window_size), (-1, -1), criteria)
    if corners_dir is not None:
        drawn = cv2.drawChessboardCorners(img, (cbcol, cbrow), corners, ok)
        cv2.imwrite(str(corners_dir / f"{path.stem}_corner.jpg"), drawn)
    return corners.reshape(-1, 2).astype(np.float32), size


def find_calibration_corners(
    config: str | os.PathLike,
    cbrow: int = 8,
    cbcol: int = 6,
    search_window_size=(11, 11),
    draw: bool = True,
    include_removed: bool = False,
) -> list[CalibrationTuple]:
    """Detect the board's inner corners in every calibration tuple; moves nothing.

    Parameters
    ----------
    config : the 3D project's config.yaml.
    cbrow, cbcol : inner corners per board column and row (OpenCV pattern size ``(cbcol, cbrow)``).
    search_window_size : half side of ``cv2.cornerSubPix``'s search window, px.
    draw : write ``corners/<stem>_corner.jpg`` previews for the views where the board was found.
    include_removed : also scan ``removed_calibration_images/`` (those tuples have ``removed=True``).

    Returns the tuples (natural order of keys, kept ones first).
    """
    from tqdm.auto import tqdm

    from posenb.threed.config import project_folders, read_config_3d

    cfg = read_config_3d(config)
    cams = cfg["camera_names"]
    folders = project_folders(cfg)
    sources = [(folders["calibration_images"], False)]
    if include_removed:
        sources.append((folders["removed_calibration_images"], True))
    tuples = []
    for folder, removed in sources:
        complete, _ = group_calibration_images(folder, cams)
        for key, images in complete.items():
            tuples.append(CalibrationTuple(key=key, images=images, removed=removed))
    jobs = [(t, cam) for t in tuples for cam in cams]
    for t, cam in tqdm(jobs, desc="Detecting corners", disable=not jobs, leave=False):
        corners, size = _detect(
            t.images[cam], cbrow, cbcol, search_window_size, folders["corners"] if draw else None
        )
        t.corners[cam] = corners
        t.image_size[cam] = size
    return tuples


def _move_tuple(config, key: str, src_name: str, dst_name: str) -> list[Path]:
    from posenb.threed.config import project_folders, read_config_3d

    cfg = read_config_3d(config)
    cams = cfg["camera_names"]
    folders = project_folders(cfg)
    src, dst = folders[src_name], folders[dst_name]
    names = [key.replace(_PLACEHOLDER, cam, 1) for cam in cams]
    present = [n for n in names if (src / n).is_file()]
    if not present:
        if all((dst / n).is_file() for n in names):
            return [dst / n for n in names]  # already there
        raise ConfigError(f"No calibration images {names} in {src}.")
    clash = [n for n in present if (dst / n).exists()]
    if clash:
        raise ConfigError(f"{dst} already holds {clash}; remove or rename them, then retry.")
    out = []
    for n in present:
        shutil.move(str(src / n), str(dst / n))
        out.append(dst / n)
    return out


def drop_calibration_pair(config: str | os.PathLike, key: str) -> list[Path]:
    """Move the images of tuple ``key`` to ``removed_calibration_images/``; returns their new paths."""
    return _move_tuple(config, key, "calibration_images", "removed_calibration_images")


def keep_calibration_pair(config: str | os.PathLike, key: str) -> list[Path]:
    """Move the images of tuple ``key`` back from ``removed_calibration_images/`` to ``calibration_images/``."""
    return _move_tuple(config, key, "removed_calibration_images", "calibration_images")


def _image_size(tuples: list[CalibrationTuple], cam: str) -> tuple[int, int]:
    sizes = {t.image_size[cam] for t in tuples}
    if len(sizes) != 1:
        raise ConfigError(
            f"The calibration images of {cam} differ in size {sorted(sizes)}; use one size per camera."
        )
    return sizes.pop()


def _calibrate_intrinsics(good, cams, objp, imgpoints, sizes, result, folder: Path) -> dict[str, dict]:
    """Each camera's matrix and distortion (``cv2.calibrateCamera``); writes DLC's cumulative
    ``<cam>_intrinsic_params.pickle`` files and fills ``result``'s RMS errors (px)."""
    import cv2

    from posenb.threed._pickle import write_pickle

    objpoints = [objp] * len(good)
    intrinsics: dict[str, dict] = {}
    for cam in cams:
        rms, mtx, dist, rvecs, tvecs = cv2.calibrateCamera(objpoints, imgpoints[cam], sizes[cam], None, None)
        intrinsics[cam] = {
            "mtx": mtx,
            "dist": dist,
            "objpoints": list(objpoints),
            "imgpoints": imgpoints[cam],
        }
        result.camera_rms_px[cam] = float(rms)
        for t, img, rv, tv in zip(good, imgpoints[cam], rvecs, tvecs, strict=True):
            proj, _ = cv2.projectPoints(objp, rv, tv, mtx, dist)
            err = float(np.sqrt(np.mean(np.sum((proj.reshape(-1, 2) - img.reshape(-1, 2)) ** 2, axis=1))))
            result.per_image_rms_px.setdefault(t.key, {})[cam] = err
        path = folder / f"{cam}_intrinsic_params.pickle"
        result.files.append(write_pickle(path, dict(intrinsics)))  # cumulative, as DLC
        print(f"{cam}: intrinsic RMS re-projection error {rms:.3f} px over {len(good)} images -> {path.name}")

    return intrinsics


def _stereo_calibrate(
    pairs, objpoints, imgpoints, intrinsics, sizes, alpha: float, result
) -> dict[str, dict]:
    """``stereo_params.pickle``'s content for the camera ``pairs`` (``cv2.stereoCalibrate`` with the intrinsics
    fixed, then ``cv2.stereoRectify``); fills ``result.pair_rms_px``."""
    import cv2

    from posenb.threed.geometry import pair_key

    stereo_params = {}
    for cam1, cam2 in pairs:
        rms, K1, D1, K2, D2, R, T, E, F = cv2.stereoCalibrate(
            objpoints,
            imgpoints[cam1],
            imgpoints[cam2],
            intrinsics[cam1]["mtx"],
            intrinsics[cam1]["dist"],
            intrinsics[cam2]["mtx"],
            intrinsics[cam2]["dist"],
            sizes[cam1],
            flags=cv2.CALIB_FIX_INTRINSIC,
        )
        R1, R2, P1, P2, Q, roi1, roi2 = cv2.stereoRectify(K1, D1, K2, D2, sizes[cam1], R, T, alpha=alpha)
        key = pair_key(cam1, cam2)
        stereo_params[key] = {
            "cameraMatrix1": K1,
            "cameraMatrix2": K2,
            "distCoeffs1": D1,
            "distCoeffs2": D2,
            "R": R,
            "T": T,
            "E": E,
            "F": F,
            "R1": R1,
            "R2": R2,
            "P1": P1,
            "P2": P2,
            "roi1": tuple(int(v) for v in roi1),
            "roi2": tuple(int(v) for v in roi2),
            "Q": Q,
            "image_shape": [sizes[cam1], sizes[cam2]],
        }
        result.pair_rms_px[key] = float(rms)
        print(f"{key}: stereo RMS re-projection error {rms:.3f} px")
    return stereo_params


def _keep_found(config, tuples, cams, result) -> None:
    """Tuples whose every view shows the board go to ``result.tuples``; the others are moved to
    ``removed_calibration_images/`` (:func:`drop_calibration_pair`) and listed in ``result.removed``."""
    for t in tuples:
        if t.found:
            result.tuples.append(t)
            continue
        failed = [t.images[c].name for c in cams if t.corners.get(c) is None]
        print(f"Corners not found in {failed}; moving tuple {t.key!r} to removed_calibration_images/.")
        drop_calibration_pair(config, t.key)
        result.removed.append(t.key)


def calibrate_cameras(
    config: str | os.PathLike,
    cbrow: int = 8,
    cbcol: int = 6,
    calibrate: bool = False,
    alpha: float = 0.4,
    search_window_size=(11, 11),
    *,
    camera_pairs: str = "first",
) -> CalibrationResult:
    """Find the board in the calibration images and, with ``calibrate=True``, calibrate the cameras.

    Parameters
    ----------
    config : the 3D project's config.yaml.
    cbrow, cbcol : inner corners per board column and row (9x6 inner corners: ``cbrow=6, cbcol=9``).
    calibrate : compute and save the calibration; first run without it, check ``corners/`` and remove bad
        tuples (:func:`drop_calibration_pair`), then run with ``calibrate=True``.
    alpha : free scaling of ``cv2.stereoRectify`` (0: only valid pixels, 1: all pixels kept).
    search_window_size : half side of ``cv2.cornerSubPix``'s search window, px.
    camera_pairs : ``"first"`` (camera 1 with every other camera, what triangulation needs) or ``"all"``.

    Writes ``corners/<stem>_corner.jpg``; moves tuples with a failed view to ``removed_calibration_images/``;
    with ``calibrate=True`` writes ``camera_matrix/<cam>_intrinsic_params.pickle`` (DLC's cumulative dict
    ``{cam: {mtx, dist, objpoints, imgpoints}}``) and ``camera_matrix/stereo_params.pickle``
    (``{"<cam1>-<cam2>": {cameraMatrix1, cameraMatrix2, distCoeffs1, distCoeffs2, R, T, E, F, R1, R2, P1, P2,
    roi1, roi2, Q, image_shape}}``, ``X_cam2 = R X_cam1 + T`` in checkerboard squares). The config's
    ``*_camera-<i>`` keys are renamed to the camera names (as DLC does).

    Returns a :class:`CalibrationResult` (reprojection errors in px, RMS).
    """

    from posenb.threed._pickle import write_pickle
    from posenb.threed.config import project_folders, read_config_3d, rename_camera_keys, write_config_3d

    if camera_pairs not in ("first", "all"):
        raise ValueError(f"camera_pairs must be 'first' or 'all', not {camera_pairs!r}")
    cfg = read_config_3d(config)
    renamed = rename_camera_keys(cfg)
    if list(renamed) != list(cfg):
        write_config_3d(Path(cfg["project_path"]) / "config.yaml", renamed)
    cams = cfg["camera_names"]
    folders = project_folders(cfg)

    complete, incomplete = group_calibration_images(folders["calibration_images"], cams)
    if not complete:
        raise ConfigError(
            f"No calibration images in {folders['calibration_images']} with all of {cams} in their names "
            "(*.jpg, e.g. camera-1-01.jpg and camera-2-01.jpg)."
        )
    for key in incomplete:
        print(f"Calibration images {key!r} lack a view of some camera; they are ignored.")
    tuples = find_calibration_corners(config, cbrow, cbcol, search_window_size, draw=True)
    result = CalibrationResult(camera_names=list(cams), tuples=[], incomplete=incomplete)
    _keep_found(config, tuples, cams, result)
    good = result.tuples
    if not calibrate:
        print(
            f"Corners found in {len(good)} tuples; check them in {folders['corners']}, remove bad tuples, then run "
            "calibrate_cameras(config, ..., calibrate=True)."
        )
        return result
    if not good:
        raise ConfigError(
            "The board was not found in any complete tuple of calibration images; nothing to calibrate."
        )

    objp = board_object_points(cbrow, cbcol)
    objpoints = [objp] * len(good)
    imgpoints = {cam: [t.corners[cam].reshape(-1, 1, 2) for t in good] for cam in cams}
    sizes = {cam: _image_size(good, cam) for cam in cams}
    intrinsics = _calibrate_intrinsics(good, cams, objp, imgpoints, sizes, result, folders["camera_matrix"])
    pairs = combinations(cams, 2) if camera_pairs == "all" else [(cams[0], c) for c in cams[1:]]
    stereo_params = _stereo_calibrate(pairs, objpoints, imgpoints, intrinsics, sizes, alpha, result)
    path = folders["camera_matrix"] / "stereo_params.pickle"
    result.files.append(write_pickle(path, stereo_params))
    print(f"Saved the calibration in {folders['camera_matrix']}. Check it with check_undistortion(config).")
    return result
