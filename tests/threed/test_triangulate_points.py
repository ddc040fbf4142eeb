"""N-view DLT triangulation, undistortion and camera models (posenb.threed.geometry)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.threed import cameras_from_stereo_params, project_points, triangulate_points, undistort_points


def _matrices(rig):
    return np.stack([c["K"] @ np.hstack([c["R"], c["t"][:, None]]) for c in rig])


def test_two_cameras_agree_with_opencv(synth):
    rig = synth.make_rig(2, distortion=False)
    Ps = _matrices(rig)
    X = synth.trajectory(30).reshape(-1, 3)
    rng = np.random.default_rng(0)
    pts = np.stack([project_points(X, P) for P in Ps]) + rng.normal(0, 0.5, (2, len(X), 2))
    ours = triangulate_points(Ps, pts)
    h = cv2.triangulatePoints(Ps[0], Ps[1], pts[0].T.copy(), pts[1].T.copy())
    ref = (h[:3] / h[3]).T
    assert np.allclose(ours, ref, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("n_cams", [2, 3, 4])
def test_known_points_come_back(synth, n_cams):
    rig = synth.make_rig(n_cams, distortion=False)
    Ps = _matrices(rig)
    X = synth.trajectory(50)  # (50, 4, 3)
    rng = np.random.default_rng(n_cams)
    pts = np.stack([project_points(X, P) for P in Ps]) + rng.normal(0, 0.5, (n_cams,) + X.shape[:-1] + (2,))
    got = triangulate_points(Ps, pts)
    assert got.shape == X.shape
    err = np.linalg.norm(got - X, axis=-1)
    # 0.5 px at f ~ 800 px, ~20 squares depth, ~7 squares baseline: depth error ~ Z^2 / (f B) * 0.5 px ~ 0.04
    assert err.mean() < 0.08 and err.max() < 0.3, (err.mean(), err.max())
    exact = triangulate_points(Ps, np.stack([project_points(X, P) for P in Ps]))
    assert np.allclose(exact, X, atol=1e-8)


def test_missing_views(synth):
    rig = synth.make_rig(3, distortion=False)
    Ps = _matrices(rig)
    X = synth.trajectory(5)
    pts = np.stack([project_points(X, P) for P in Ps])
    pts[1, 2, 0] = np.nan  # frame 2, body part 0 missing in camera 2
    pts[:, 3, 1] = np.nan  # frame 3, body part 1 missing everywhere
    pts[0, 4, 2] = pts[2, 4, 2] = np.nan  # seen by camera 2 only
    strict = triangulate_points(Ps, pts)
    assert np.isnan(strict[2, 0]).all() and np.isnan(strict[3, 1]).all() and np.isnan(strict[4, 2]).all()
    assert np.isfinite(strict).all(axis=-1).sum() == X.shape[0] * X.shape[1] - 3
    loose = triangulate_points(Ps, pts, min_cameras=2)
    assert np.allclose(loose[2, 0], X[2, 0], atol=1e-8)  # from cameras 1 and 3
    assert np.isnan(loose[3, 1]).all() and np.isnan(loose[4, 2]).all()


def test_undistortion_inverts_the_lens(synth):
    cam = synth.make_rig(2)[1]
    X = synth.trajectory(10)
    distorted = synth.project(cam, X)
    ideal = project_points(X, cam["K"] @ np.hstack([cam["R"], cam["t"][:, None]]))
    assert np.abs(distorted - ideal).max() > 1.0  # the lens matters
    und = undistort_points(distorted, cam["K"], cam["dist"])
    assert np.abs(und - ideal).max() < 1e-3
    distorted[0, 0] = np.nan
    assert np.isnan(undistort_points(distorted, cam["K"], cam["dist"])[0, 0]).all()


def test_cameras_from_stereo_params(synth, project_3d):
    from posenb.threed._pickle import read_pickle

    config = project_3d(3)
    rig = synth.make_rig(3)
    path = synth.write_stereo_params(config, rig)
    cams = cameras_from_stereo_params(read_pickle(path), ["camera-1", "camera-2", "camera-3"])
    assert list(cams) == ["camera-1", "camera-2", "camera-3"]
    assert np.allclose(cams["camera-1"]["R"], np.eye(3)) and np.allclose(cams["camera-1"]["t"], 0)
    for c, truth in zip(cams.values(), rig, strict=True):
        assert np.allclose(c["P"], truth["K"] @ np.hstack([truth["R"], truth["t"][:, None]]))
    with pytest.raises(ConfigError, match="camera-1-camera-4"):
        cameras_from_stereo_params(read_pickle(path), ["camera-1", "camera-2", "camera-4"])
