"""Multi-camera geometry: camera models from the calibration, undistortion, projection, N-view DLT.

World frame: camera 1's own (unrectified) camera frame, x right, y down, z forward, lengths in checkerboard
squares (the calibration's object points are ``(0..cbcol-1, 0..cbrow-1, 0)``). Camera ``i``'s pose comes from
the stereo calibration of the pair ``"<camera 1>-<camera i>"`` (``X_i = R X_1 + T``). A projection matrix
``P_i = K_i [R_i | t_i]`` maps world points to *undistorted* pixel coordinates of camera ``i``.

DeepLabCut (two cameras) triangulates in the rectified frame of camera 1 instead (rotated by ``R1`` of
``stereoRectify``); posenb's frame differs from it by that rotation only.
"""

from __future__ import annotations

import numpy as np

from posenb.errors import ConfigError

__all__ = [
    "cameras_from_stereo_params",
    "undistort_points",
    "project_points",
    "triangulate_points",
    "pair_key",
]

_CHUNK = 65536  # points per batched SVD


def pair_key(cam1: str, cam2: str) -> str:
    """DLC's key of a camera pair in ``stereo_params.pickle``: ``"<cam1>-<cam2>"``."""
    return f"{cam1}-{cam2}"


def cameras_from_stereo_params(stereo_params: dict, camera_names: list[str]) -> dict[str, dict]:
    """Per-camera model in camera 1's frame from DLC's ``stereo_params.pickle`` dict.

    Returns ``{cam: {"K": (3, 3), "dist": (1, k), "R": (3, 3), "t": (3,), "P": (3, 4)}}`` (float64), camera 1
    with ``R = I``, ``t = 0``. Needs the pairs ``"<camera 1>-<camera i>"`` for every camera ``i > 1``.
    """
    cam1 = camera_names[0]
    out: dict[str, dict] = {}
    for cam in camera_names[1:]:
        key = pair_key(cam1, cam)
        if key not in stereo_params:
            raise ConfigError(
                f"stereo_params.pickle has no calibration for the pair {key!r} (it has {sorted(stereo_params)}). "
                "Run calibrate_cameras(config, calibrate=True) with images of all cameras."
            )
        sp = stereo_params[key]
        if cam1 not in out:
            out[cam1] = _camera(sp["cameraMatrix1"], sp["distCoeffs1"], np.eye(3), np.zeros(3))
        out[cam] = _camera(sp["cameraMatrix2"], sp["distCoeffs2"], sp["R"], sp["T"])
    return {cam: out[cam] for cam in camera_names}


def _camera(K, dist, R, t) -> dict:
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    R = np.asarray(R, dtype=np.float64).reshape(3, 3)
    t = np.asarray(t, dtype=np.float64).reshape(3)
    return {
        "K": K,
        "dist": np.asarray(dist, dtype=np.float64).reshape(1, -1),
        "R": R,
        "t": t,
        "P": K @ np.hstack([R, t[:, None]]),
    }


def undistort_points(points_px: np.ndarray, K: np.ndarray, dist: np.ndarray, R=None, P=None) -> np.ndarray:
    """Remove lens distortion from pixel coordinates (``cv2.undistortPoints``).

    Parameters
    ----------
    points_px : ``(..., 2)`` pixel coordinates; NaN rows stay NaN.
    K, dist : camera matrix and distortion coefficients.
    R, P : optional rectification rotation and new projection (as OpenCV). ``P=None`` keeps the camera
        matrix ``K``, so the result is in undistorted pixels of the same camera.

    Returns ``(..., 2)`` float64.
    """
    import cv2

    pts = np.asarray(points_px, dtype=np.float64)
    shape = pts.shape
    flat = pts.reshape(-1, 2)
    ok = np.isfinite(flat).all(axis=1)
    out = np.full_like(flat, np.nan)
    if ok.any():
        P = K if P is None else P
        und = cv2.undistortPoints(
            flat[ok].reshape(-1, 1, 2),
            np.asarray(K, np.float64),
            np.asarray(dist, np.float64),
            R=R,
            P=np.asarray(P, np.float64),
        )
        out[ok] = und.reshape(-1, 2)
    return out.reshape(shape)


def project_points(points_3d: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Project ``(..., 3)`` world points with a ``(3, 4)`` matrix to ``(..., 2)`` (undistorted) pixels."""
    X = np.asarray(points_3d, dtype=np.float64)
    h = X @ P[:, :3].T + P[:, 3]
    return h[..., :2] / h[..., 2:3]


def triangulate_points(projection_matrices, points_2d, min_cameras: int | None = None) -> np.ndarray:
    """Linear (DLT) triangulation over N cameras, vectorised over all points.

    For each point, the rows ``x P[2] - P[0]`` and ``y P[2] - P[1]`` of every camera that sees it are stacked
    into ``A`` (``2N x 4``) and the 3D point is the right singular vector of the smallest singular value,
    de-homogenised: for two cameras this is exactly ``cv2.triangulatePoints`` followed by division by ``w``.

    Parameters
    ----------
    projection_matrices : ``(n_cameras, 3, 4)`` (or a list of ``(3, 4)``) matrices.
    points_2d : ``(n_cameras, ..., 2)`` image points in the coordinates the matrices project to; NaN marks
        a camera that does not see the point (its rows are dropped).
    min_cameras : a point seen by fewer cameras is NaN; default: all cameras (DeepLabCut's rule: a point
        missing in any view is missing in 3D). At least 2.

    Returns
    -------
    ``(..., 3)`` float64 world points, NaN where missing.
    """
    Ps = np.asarray(projection_matrices, dtype=np.float64)
    pts = np.asarray(points_2d, dtype=np.float64)
    n_cams = Ps.shape[0]
    if Ps.shape[1:] != (3, 4) or pts.shape[0] != n_cams or pts.shape[-1] != 2:
        raise ValueError(
            f"expected (n, 3, 4) matrices and (n, ..., 2) points, got {Ps.shape} and {pts.shape}"
        )
    min_cameras = n_cams if min_cameras is None else max(2, int(min_cameras))
    out_shape = pts.shape[1:-1]
    flat = pts.reshape(n_cams, -1, 2)  # (C, M, 2)
    n_pts = flat.shape[1]
    valid = np.isfinite(flat).all(axis=2)  # (C, M)
    enough = valid.sum(axis=0) >= min_cameras
    result = np.full((n_pts, 3), np.nan)
    idx_all = np.flatnonzero(enough)
    for start in range(0, idx_all.size, _CHUNK):
        idx = idx_all[start : start + _CHUNK]
        x = np.where(valid[:, idx, None], flat[:, idx], 0.0)  # (C, m, 2)
        w = valid[:, idx].astype(np.float64)  # zero rows for cameras that miss the point
        rows_x = x[..., 0:1] * Ps[:, None, 2, :] - Ps[:, None, 0, :]  # (C, m, 4)
        rows_y = x[..., 1:2] * Ps[:, None, 2, :] - Ps[:, None, 1, :]
        A = np.stack([rows_x * w[..., None], rows_y * w[..., None]], axis=1)  # (C, 2, m, 4)
        A = A.transpose(2, 0, 1, 3).reshape(idx.size, 2 * n_cams, 4)
        _, _, vh = np.linalg.svd(A)
        X = vh[:, -1, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            result[idx] = X[:, :3] / X[:, 3:4]
    return result.reshape(*out_shape, 3)
