"""``triangulate``: 2D predictions of N synchronised cameras -> DeepLabCut's 3D prediction table.

For each tuple of videos (one per camera), each view's 2D analysis is reused when it exists
(``<stem>DLC...h5``, ``_filtered`` when ``filterpredictions``) or produced with ``posenb.analyze_videos`` /
``posenb.filterpredictions`` and that camera's 2D project (``config_file_<cam>``, ``shuffle_<cam>``,
``trainingsetindex_<cam>``). Points below the 3D config's ``pcutoff`` are missing (NaN), the rest is
undistorted (``cv2.undistortPoints``) and triangulated with a linear DLT over all cameras in camera 1's frame
(:mod:`posenb.threed.geometry`), in checkerboard squares.

Output, as DeepLabCut names it: ``<destfolder>/<prefix>_<suffix>_<scorername_3d>.h5`` (prefix/suffix = the
camera-1 video stem around the camera name), key ``df_with_missing``, table format, columns
``(scorer, bodyparts, coords x/y/z)``, index = frame number; ``<same>_meta.pickle``; ``.csv`` on request.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError, PosenbError

__all__ = ["triangulate", "get_camerawise_videos", "output_name_3d", "read_predictions_3d"]


def output_name_3d(video: str | os.PathLike, camera: str, scorer_3d: str = "DLC_3D") -> str:
    """DLC's 3D file stem: ``video1-camera-1.avi`` -> ``video1_DLC_3D``; ``camera-1_trial2`` -> ``trial2_DLC_3D``."""
    stem = Path(video).stem
    prefix, _, suffix = stem.partition(camera)
    if prefix and prefix[-1] in "-_":
        prefix = prefix[:-1]
    if suffix and suffix[0] in "-_":
        suffix = suffix[1:]
    return "_".join(p for p in (prefix, suffix) if p) + "_" + scorer_3d


def _camera_of(name: str, cams: Sequence[str]) -> str | None:
    hits = [c for c in cams if c in name]
    return max(hits, key=len) if hits else None


def get_camerawise_videos(
    path: str | os.PathLike, camera_names: Sequence[str], videotype: str = ""
) -> list[list[Path]]:
    """Tuples of videos in folder ``path``: ``<pre><camera 1><suf>.ext`` with ``<pre><camera i><suf>.ext``.

    Returns ``[[video_cam1, video_cam2, ...], ...]`` (camera order of ``camera_names``); videos lacking a
    partner of some camera are left out.
    """
    from posenb.project.paths import list_videos

    cams = list(camera_names)
    out = []
    for video in list_videos(Path(path), videotype):
        if _camera_of(video.stem, cams) != cams[0]:
            continue
        pre, _, suf = video.stem.partition(cams[0])
        group = [video.with_name(f"{pre}{cam}{suf}{video.suffix}") for cam in cams]
        if all(v.is_file() for v in group):
            out.append(group)
    return out


def _video_tuples(video_path, cams: list[str], videotype: str) -> list[list[Path]]:
    if isinstance(video_path, (str, os.PathLike)):
        p = Path(video_path)
        if not p.is_dir():
            raise PosenbError(
                f"{p} is not a folder. Pass a folder of videos or a list of video tuples, "
                f"e.g. [['trial1-{cams[0]}.mp4', 'trial1-{cams[1]}.mp4']]."
            )
        return get_camerawise_videos(p, cams, videotype)
    items = list(video_path)
    if items and all(isinstance(v, (str, os.PathLike)) for v in items):
        items = [items]  # one tuple given flat
    tuples = []
    for group in items:
        group = [Path(v) for v in group]
        if len(group) != len(cams):
            raise PosenbError(f"Video tuple {[str(v) for v in group]} must hold one video per camera {cams}.")
        by_cam = {_camera_of(v.stem, cams): v for v in group}
        if set(by_cam) == set(cams):
            group = [by_cam[c] for c in cams]
        tuples.append(group)
    return tuples


def _config_2d(cfg: dict, cam: str, video: Path) -> tuple[str, int, int]:
    from posenb.threed.config import camera_setting

    config_2d = camera_setting(cfg, cam, "config_file")
    if not config_2d or not Path(str(config_2d)).is_file():
        raise ConfigError(
            f"{video}: no 2D predictions found, and config_file_{cam} in the 3D config ({config_2d!r}) is not a "
            "file. Set it to the config.yaml of the 2D project of this camera, or analyze the video first."
        )
    shuffle = int(camera_setting(cfg, cam, "shuffle", 1))
    trainingsetindex = int(camera_setting(cfg, cam, "trainingsetindex", 0))
    return str(config_2d), shuffle, trainingsetindex


def _view_data(
    cfg, cam, video: Path, folder: Path, filterpredictions, filtertype, gputouse, videotype
) -> Path:
    """The 2D prediction file of one view (analysing and filtering when needed)."""
    from posenb.io.predictions import find_analyzed_data

    stem = video.stem
    if filterpredictions:
        try:
            return find_analyzed_data(folder, stem, filtered=True)
        except LabelError:
            pass
    try:
        unfiltered = find_analyzed_data(folder, stem)
    except LabelError:
        unfiltered = None
    if unfiltered is None:
        config_2d, shuffle, tsi = _config_2d(cfg, cam, video)
        from posenb.infer.analyze import analyze_videos  # noqa: PLC0415 - torch only when a view needs analysing

        analyze_videos(
            config_2d, [str(video)], videotype=videotype, shuffle=shuffle, trainingsetindex=tsi,
            gputouse=gputouse, destfolder=str(folder),
        )  # fmt: skip
        unfiltered = find_analyzed_data(folder, stem)
    if not filterpredictions:
        return unfiltered
    config_2d, shuffle, tsi = _config_2d(cfg, cam, video)
    from posenb.post.filtering import filterpredictions as filterpredictions_fn  # noqa: PLC0415

    filterpredictions_fn(
        config_2d, [str(video)], videotype=videotype, shuffle=shuffle, trainingsetindex=tsi,
        filtertype=filtertype, destfolder=str(folder),
    )  # fmt: skip
    return find_analyzed_data(folder, stem, filtered=True)


def _up_to_date(
    h5: Path, meta: dict, data_files: dict, scorers: dict, cameras: dict, pcutoff, min_cameras
) -> bool:
    """The existing 3D file was made from the same 2D files, scorers, calibration and settings."""
    sources = {c: str(p) for c, p in data_files.items()}
    if not meta or meta.get("scorer_name") != scorers or meta.get("data_files") != sources:
        return False
    if meta.get("pcutoff") != pcutoff or meta.get("min_cameras") != min_cameras:
        return False
    stored = meta.get("projection_matrices", {})
    if set(stored) != set(cameras) or not all(np.allclose(stored[c], cameras[c]["P"]) for c in cameras):
        return False
    return all(Path(p).stat().st_mtime <= h5.stat().st_mtime for p in data_files.values())


def _triangulate_views(dfs, data_files, cams, cameras, pcutoff, min_cameras, video_name):
    """``(bodyparts, xyz (n_frames, K, 3))`` from the 2D predictions of each camera (``dfs``); a view's point
    below ``pcutoff`` counts as missing; frames beyond the shortest view are dropped (with a warning)."""
    from posenb.io.predictions import predictions_to_array
    from posenb.threed.geometry import triangulate_points, undistort_points

    bodyparts = list(dict.fromkeys(dfs[cams[0]].columns.get_level_values("bodyparts")))
    try:
        arrays = [predictions_to_array(dfs[cam], bodyparts) for cam in cams]  # (n_frames, K, 3) each
    except LabelError as exc:
        raise LabelError(
            f"The 2D predictions {[str(p) for p in data_files.values()]} differ in body parts: {exc}"
        ) from None
    n_frames = min(len(a) for a in arrays)
    if any(len(a) != n_frames for a in arrays):
        warnings.warn(
            f"The views of {video_name} have {[len(a) for a in arrays]} frames; only the first {n_frames} "
            "are triangulated.",
            stacklevel=3,
        )
    pts = []
    for cam, a in zip(cams, arrays, strict=True):
        a = a[:n_frames].copy()
        a[~(a[..., 2] >= pcutoff), :2] = np.nan  # below pcutoff (or no likelihood): missing
        pts.append(undistort_points(a[..., :2], cameras[cam]["K"], cameras[cam]["dist"]))
    Ps = np.stack([cameras[c]["P"] for c in cams])
    return bodyparts, triangulate_points(Ps, np.stack(pts), min_cameras=min_cameras)  # (n_frames, K, 3)


def _meta_3d(
    stereo_params, stereo_file, scorers, cams, cameras, pcutoff, min_cameras, data_files, videos
) -> dict:
    """The ``_meta.pickle`` of a 3D file (DeepLabCut's keys, and what re-projecting or redoing it needs)."""
    from posenb.threed.geometry import pair_key

    return {
        # DeepLabCut's keys
        "stereo_matrix": stereo_params[pair_key(cams[0], cams[1])],
        "stereo_matrix_file": str(stereo_file),
        "scorer_name": scorers,
        # posenb's: everything needed to re-project or redo the triangulation
        "camera_names": list(cams),
        "world_frame": f"{cams[0]} camera frame (unrectified), checkerboard squares",
        "projection_matrices": {c: cameras[c]["P"] for c in cams},
        "camera_matrices": {c: cameras[c]["K"] for c in cams},
        "dist_coeffs": {c: cameras[c]["dist"] for c in cams},
        "rotations": {c: cameras[c]["R"] for c in cams},
        "translations": {c: cameras[c]["t"] for c in cams},
        "pcutoff": pcutoff,
        "min_cameras": min_cameras,
        "data_files": {c: str(p) for c, p in data_files.items()},
        "videos": {c: str(v) for c, v in zip(cams, videos, strict=True)},
    }


def _kept_up_to_date(h5, meta_file, data_files, scorers, cameras, pcutoff, min_cameras, save_as_csv) -> bool:
    """True (and the .csv written if asked for and missing) when ``h5`` is the triangulation of these inputs."""
    from posenb.io.atomic import atomic_write
    from posenb.threed._pickle import read_pickle

    if not (h5.is_file() and meta_file.is_file()):
        return False
    if not _up_to_date(h5, read_pickle(meta_file), data_files, scorers, cameras, pcutoff, min_cameras):
        return False
    print(f"{h5.name} is up to date (same calibration, scorers and 2D data).")
    if save_as_csv and not h5.with_suffix(".csv").is_file():
        df3d = read_predictions_3d(h5)
        atomic_write(h5.with_suffix(".csv"), lambda tmp, df=df3d: df.to_csv(tmp))
    return True


def _table_3d(xyz: np.ndarray, scorer_3d: str, bodyparts: list[str]):
    """``xyz (n_frames, K, 3)`` as DeepLabCut's 3D table: columns ``(scorer, bodyparts, x/y/z)``."""
    import pandas as pd

    columns = pd.MultiIndex.from_product(
        [[scorer_3d], bodyparts, ["x", "y", "z"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(xyz.reshape(len(xyz), -1), columns=columns, index=pd.RangeIndex(len(xyz)))


def _calibration(config):
    """``(3D config, stereo_params.pickle path, its content, cameras)`` of a calibrated 3D project."""
    from posenb.threed._pickle import read_pickle
    from posenb.threed.config import project_folders, read_config_3d
    from posenb.threed.geometry import cameras_from_stereo_params

    cfg = read_config_3d(config)
    stereo_file = project_folders(cfg)["camera_matrix"] / "stereo_params.pickle"
    stereo_params = read_pickle(stereo_file)
    return cfg, stereo_file, stereo_params, cameras_from_stereo_params(stereo_params, cfg["camera_names"])


def triangulate(
    config: str | os.PathLike,
    video_path,
    videotype: str = "",
    filterpredictions: bool = True,
    filtertype: str = "median",
    gputouse=None,
    destfolder: str | os.PathLike | None = None,
    save_as_csv: bool = False,
    track_method: str = "",
    *,
    min_cameras: int | None = None,
) -> list[Path]:
    """Triangulate the 2D predictions of synchronised videos into 3D.

    Parameters
    ----------
    config : the calibrated 3D project's config.yaml.
    video_path : a folder (videos are grouped by camera name, see :func:`get_camerawise_videos`) or a list
        of tuples ``[[trial1-camera-1.mp4, trial1-camera-2.mp4], ...]`` (one video per camera).
    videotype : extension of the videos when ``video_path`` is a folder ("" = any video).
    filterpredictions, filtertype : use (and if missing, make) ``_filtered`` 2D predictions.
    gputouse : passed to ``analyze_videos`` when a view has no 2D predictions yet.
    destfolder : where 2D predictions are looked for / written and the 3D files go (default: the folder of
        camera 1's video).
    save_as_csv : also write the 3D table as ``.csv``.
    track_method : DLC's multi-animal tracker; posenb is single-animal, only "" is accepted.
    min_cameras : a point is triangulated when at least this many cameras see it with likelihood >=
        ``pcutoff`` (default: all cameras, DeepLabCut's rule); otherwise it is NaN.

    Returns the paths of the 3D ``.h5`` files (written, or already up to date). Coordinates ``x, y, z`` are
    in camera 1's frame, checkerboard squares; frames beyond the shortest view are dropped.
    """
    from posenb.io.atomic import atomic_write
    from posenb.io.hdf import write_hdf
    from posenb.io.predictions import read_predictions
    from posenb.project.paths import ensure_folder
    from posenb.threed._pickle import write_pickle

    if track_method:
        raise PosenbError(f"track_method={track_method!r}: posenb triangulates single-animal projects only.")
    cfg, stereo_file, stereo_params, cameras = _calibration(config)
    cams, pcutoff, scorer_3d = cfg["camera_names"], float(cfg["pcutoff"]), str(cfg["scorername_3d"])

    tuples = _video_tuples(video_path, cams, videotype)
    if not tuples:
        print(f"No video tuples found in {video_path} (names must contain {cams}; videotype={videotype!r}).")
        return []
    written = []
    for videos in tuples:
        folder = ensure_folder(destfolder) if destfolder is not None else videos[0].parent
        h5 = folder / (output_name_3d(videos[0], cams[0], scorer_3d) + ".h5")
        meta_file = h5.with_name(h5.stem + "_meta.pickle")
        views = (filterpredictions, filtertype, gputouse, videotype)
        data_files = {
            cam: _view_data(cfg, cam, v, folder, *views) for cam, v in zip(cams, videos, strict=True)
        }
        dfs = {cam: read_predictions(p) for cam, p in data_files.items()}
        scorers = {cam: str(df.columns.get_level_values(0)[0]) for cam, df in dfs.items()}
        if _kept_up_to_date(h5, meta_file, data_files, scorers, cameras, pcutoff, min_cameras, save_as_csv):
            written.append(h5)
            continue

        bodyparts, xyz = _triangulate_views(
            dfs, data_files, cams, cameras, pcutoff, min_cameras, videos[0].name
        )
        df3d = _table_3d(xyz, scorer_3d, bodyparts)
        write_hdf(df3d, h5, format="table")
        meta = _meta_3d(
            stereo_params, stereo_file, scorers, cams, cameras, pcutoff, min_cameras, data_files, videos
        )
        write_pickle(meta_file, {**meta, "n_frames": len(xyz)})
        if save_as_csv:
            atomic_write(h5.with_suffix(".csv"), lambda tmp, df=df3d: df.to_csv(tmp))
        n_ok = int(np.isfinite(xyz).all(axis=-1).sum())
        print(f"Triangulated {videos[0].name} & co: {n_ok}/{xyz.shape[0] * xyz.shape[1]} points -> {h5}")
        written.append(h5)
    print("Create 3D videos with create_labeled_video_3d(config, [...]).")
    return written


def read_predictions_3d(h5: str | os.PathLike):
    """Read a triangulated table (columns ``(scorer, bodyparts, coords x/y/z)``, frame index)."""
    import pandas as pd

    from posenb.io.safe_hdf5 import read_hdf_table

    df = read_hdf_table(h5, ("df_with_missing",))  # checked first: a pickled object in the file is refused
    if not isinstance(df.columns, pd.MultiIndex) or list(df.columns.get_level_values(-1).unique()) != [
        "x",
        "y",
        "z",
    ]:
        raise LabelError(f"{h5}: expected columns (scorer, bodyparts, coords x/y/z).")
    return df
