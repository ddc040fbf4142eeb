"""Fixtures for the 3D toolbox: the stereo checkerboard images, synthetic camera rigs, rendered boards,
2D prediction files of known 3D points."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
STEREO = SHARED_DATA / "stereo_example"
BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]
SCORER_2D = "DLC_resnet50_rigNov1shuffle1_1000"


@pytest.fixture(scope="session")
def stereo_dir() -> Path:
    """../shared/data/stereo_example (14 left/right pairs, 9x6 inner corners); skips if absent."""
    if not (STEREO / "left01.jpg").is_file():
        pytest.skip("../shared/data/stereo_example is not available")
    return STEREO


def copy_stereo_pairs(stereo: Path, config: str, indices) -> Path:
    """Copy leftNN/rightNN into the project's calibration_images/ as camera-1-NN.jpg / camera-2-NN.jpg."""
    dst = Path(config).parent / "calibration_images"
    for i in indices:
        shutil.copy(stereo / f"left{i:02d}.jpg", dst / f"camera-1-{i:02d}.jpg")
        shutil.copy(stereo / f"right{i:02d}.jpg", dst / f"camera-2-{i:02d}.jpg")
    return dst


@pytest.fixture
def project_3d(tmp_path):
    """Factory: a new 3D project with ``n`` cameras in tmp_path; returns config.yaml's path."""
    from posenb.threed import create_new_project_3d

    def make(n: int = 2) -> str:
        return create_new_project_3d("rig", "tester", num_cameras=n, working_directory=tmp_path)

    return make


# ----------------------------------------------------------------------------------------- synthetic rigs
def rotation(yaw_deg: float = 0.0, pitch_deg: float = 0.0, roll_deg: float = 0.0) -> np.ndarray:
    """Rotation matrix R = Rz(roll) Rx(pitch) Ry(yaw)."""
    a, b, c = np.deg2rad([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ rx @ ry


def look_at(center, target=(0.0, 0.0, 20.0), roll_deg: float = 0.0) -> np.ndarray:
    """World-to-camera rotation of a camera at ``center`` looking at ``target`` (x right, y down, z forward)."""
    z = np.asarray(target, float) - np.asarray(center, float)
    z /= np.linalg.norm(z)
    x = np.cross([0.0, 1.0, 0.0], z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return rotation(roll_deg=roll_deg) @ np.stack([x, y, z])


def make_rig(n_cams: int, distortion: bool = True) -> list[dict]:
    """n cameras looking at the region around (0, 0, 20) (camera 1's frame, squares); 640x480 px.

    Camera i: ``X_i = R_i X_1 + t_i`` (camera 1: identity).
    """
    centers = [np.zeros(3), np.array([7.0, 0.0, 1.0]), np.array([-7.0, -3.0, 1.5]), np.array([0.0, 7.0, 1.0])]
    rolls = [0.0, 3.0, -4.0, 2.0]
    rig = []
    for i in range(n_cams):
        R = np.eye(3) if i == 0 else look_at(centers[i], roll_deg=rolls[i])
        t = -R @ centers[i]  # X_i = R (X - C)
        f = 800 + 40 * i
        K = np.array([[f, 0, 320 + 5 * i], [0, f * 1.01, 240 - 4 * i], [0, 0, 1]], dtype=np.float64)
        dist = np.array([[-0.3 + 0.04 * i, 0.1, 0.001, -0.001, 0.0]]) if distortion else np.zeros((1, 5))
        rig.append({"K": K, "dist": dist, "R": R, "t": t})
    return rig


def project(cam: dict, X: np.ndarray) -> np.ndarray:
    """Distorted pixel coordinates ``(..., 2)`` of world points ``(..., 3)``."""
    import cv2

    rvec, _ = cv2.Rodrigues(cam["R"])
    pts, _ = cv2.projectPoints(X.reshape(-1, 1, 3).astype(np.float64), rvec, cam["t"], cam["K"], cam["dist"])
    return pts.reshape(*X.shape[:-1], 2)


def write_stereo_params(config: str, rig: list[dict], size=(640, 480)) -> Path:
    """DLC's stereo_params.pickle for the pairs (camera 1, camera i) of a known rig."""
    import cv2

    from posenb.threed import read_config_3d
    from posenb.threed._pickle import write_pickle

    cams = read_config_3d(config)["camera_names"]
    params = {}
    c1 = rig[0]
    for cam, c in zip(cams[1:], rig[1:], strict=True):
        R, T = c["R"], c["t"].reshape(3, 1)
        R1, R2, P1, P2, Q, roi1, roi2 = cv2.stereoRectify(
            c1["K"], c1["dist"], c["K"], c["dist"], size, R, T, alpha=0.4
        )
        tx = np.array([[0, -T[2, 0], T[1, 0]], [T[2, 0], 0, -T[0, 0]], [-T[1, 0], T[0, 0], 0]])
        E = tx @ R
        F = np.linalg.inv(c["K"]).T @ E @ np.linalg.inv(c1["K"])
        params[f"{cams[0]}-{cam}"] = {
            "cameraMatrix1": c1["K"], "cameraMatrix2": c["K"], "distCoeffs1": c1["dist"], "distCoeffs2": c["dist"],
            "R": R, "T": T, "E": E, "F": F, "R1": R1, "R2": R2, "P1": P1, "P2": P2, "roi1": roi1, "roi2": roi2,
            "Q": Q, "image_shape": [size, size],
        }  # fmt: skip
    return write_pickle(Path(config).parent / "camera_matrix" / "stereo_params.pickle", params)


def trajectory(n_frames: int = 12, n_bodyparts: int = len(BODYPARTS), seed: int = 0) -> np.ndarray:
    """``(n_frames, n_bodyparts, 3)`` smooth 3D points around (0, 0, 20), squares."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames)[:, None]
    base = rng.uniform(-3, 3, size=(1, n_bodyparts, 3))
    wobble = np.stack([np.sin(0.3 * t + k) for k in range(3)], axis=-1)  # (n_frames, 1, 3)
    return base + wobble + np.array([0.0, 0.0, 20.0])


def write_2d_predictions(folder: Path, stem: str, xy: np.ndarray, likelihood: np.ndarray) -> Path:
    """``<stem><scorer>.h5`` as DLC's analyze_videos writes it, written with pandas directly."""
    import pandas as pd

    n, k, _ = xy.shape
    cols = pd.MultiIndex.from_product(
        [[SCORER_2D], BODYPARTS[:k], ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    data = np.concatenate([xy, likelihood[..., None]], axis=-1).reshape(n, k * 3)
    path = Path(folder) / f"{stem}{SCORER_2D}.h5"
    pd.DataFrame(data, columns=cols, index=pd.RangeIndex(n)).to_hdf(
        path, key="df_with_missing", format="table", mode="w"
    )
    return path


def write_video(path: Path, n_frames: int, size=(640, 480)) -> Path:
    from posenb.io.video import write_video as _write

    frames = [np.full((size[1], size[0], 3), 20 * (i % 10), np.uint8) for i in range(n_frames)]
    return Path(_write(path, frames, fps=10))


@pytest.fixture
def rig_session(project_3d, tmp_path):
    """Factory: (config, rig, X, videos folder) with 2D predictions of X for every camera.

    ``make(n_cams, noise_px=0.5, videos=False)``; the camera-k video of trial ``trial1`` is named
    ``trial1-camera-k.mp4`` (placeholder empty files unless ``videos=True``).
    """

    def make(n_cams: int = 2, noise_px: float = 0.5, videos: bool = False, n_frames: int = 12, seed: int = 1):
        config = project_3d(n_cams)
        rig = make_rig(n_cams)
        write_stereo_params(config, rig)
        X = trajectory(n_frames)
        folder = tmp_path / "videos"
        folder.mkdir(exist_ok=True)
        rng = np.random.default_rng(seed)
        for i, cam in enumerate(rig, start=1):
            xy = project(cam, X) + rng.normal(0, noise_px, size=X.shape[:-1] + (2,))
            stem = f"trial1-camera-{i}"
            write_2d_predictions(folder, stem, xy, np.full(X.shape[:-1], 0.95))
            if videos:
                write_video(folder / f"{stem}.mp4", n_frames)
            else:
                (folder / f"{stem}.mp4").write_bytes(b"")
        return SimpleNamespace(config=config, rig=rig, X=X, folder=folder)

    return make


# ------------------------------------------------------------------------------------ rendered boards
def board_texture(cbrow: int = 6, cbcol: int = 9, square_px: int = 40, margin_px: int = 40) -> np.ndarray:
    """Grey image of a board with ``cbcol x cbrow`` inner corners and a white margin."""
    h, w = (cbrow + 1) * square_px + 2 * margin_px, (cbcol + 1) * square_px + 2 * margin_px
    img = np.full((h, w), 255, np.uint8)
    for r in range(cbrow + 1):
        for c in range(cbcol + 1):
            if (r + c) % 2 == 0:
                y, x = margin_px + r * square_px, margin_px + c * square_px
                img[y : y + square_px, x : x + square_px] = 0
    return img


def board_poses(n: int, seed: int = 3, cbrow: int = 6, cbcol: int = 9) -> list[tuple[np.ndarray, np.ndarray]]:
    """(R_board, t_board): board point (x, y, 0) in squares -> world ``R_board @ p + t_board``."""
    rng = np.random.default_rng(seed)
    poses = []
    for _ in range(n):
        Rb = rotation(
            yaw_deg=rng.uniform(-30, 30), pitch_deg=rng.uniform(-30, 30), roll_deg=rng.uniform(-15, 15)
        )
        center = np.array([rng.uniform(-1.5, 1.5), rng.uniform(-1, 1), rng.uniform(22, 27)])
        poses.append((Rb, center - Rb @ np.array([(cbcol - 1) / 2, (cbrow - 1) / 2, 0.0])))
    return poses


def render_board(
    cam: dict, pose, texture: np.ndarray, size=(640, 480), square_px=40, margin_px=40
) -> np.ndarray:
    """Pinhole (no distortion) view of the board by ``cam``, BGR uint8."""
    import cv2

    Rb, tb = pose
    A = np.array(
        [
            [1 / square_px, 0, -(margin_px / square_px + 1)],
            [0, 1 / square_px, -(margin_px / square_px + 1)],
            [0, 0, 1],
        ]
    )
    M = np.column_stack([cam["R"] @ Rb[:, 0], cam["R"] @ Rb[:, 1], cam["R"] @ tb + cam["t"]])
    H = cam["K"] @ M @ A
    gray = cv2.warpPerspective(texture, H, size, flags=cv2.INTER_LINEAR, borderValue=160)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


@pytest.fixture(scope="session")
def synth():
    """The helpers above (rigs, projections, rendered boards, 2D files), for tests to call."""
    return SimpleNamespace(
        copy_stereo_pairs=copy_stereo_pairs,
        rotation=rotation,
        make_rig=make_rig,
        project=project,
        write_stereo_params=write_stereo_params,
        trajectory=trajectory,
        write_2d_predictions=write_2d_predictions,
        write_video=write_video,
        board_texture=board_texture,
        board_poses=board_poses,
        render_board=render_board,
        bodyparts=BODYPARTS,
        scorer_2d=SCORER_2D,
    )
