"""Outlier frames: ``extract_outlier_frames`` (DeepLabCut's name, arguments and files) and the outlier searches.

The searches are pure, vectorised functions of a prediction array ``arr`` ``(n_frames, n_bodyparts, 3)``
(x, y in pixels, likelihood in [0, 1]) returning sorted frame indices (``int64``):

- :func:`find_outliers_jump`: frames where some body part moved more than ``epsilon`` px since the previous
  frame. Convention (DLC's): the frame *after* the move is reported. A one-frame glitch at frame ``t`` is
  therefore reported at ``t`` (the jump away) and at ``t + 1`` (the jump back, the "return frame").
  Likelihood is ignored; frame 0 is never reported (it has no predecessor).
- :func:`find_outliers_uncertain`: frames where some body part has likelihood < ``p_bound``.
- :func:`find_outliers_fitting`: frames whose distance to an ARIMA one-step prediction (averaged over body
  parts) exceeds ``epsilon`` (DLC's ``fitting``; see :func:`posenb.post.filtering.fit_sarimax`).
- ``swap`` (multi-animal): frames where two individuals' tracks exchange their animals
  (:func:`posenb.frames.swaps.find_identity_swaps`).

Multi-animal projects search the tracked file (``<stem><DLCscorer>_el.h5``, ``track_method`` as DLC) one
individual at a time (unique parts, ``single``, as one more): a frame is a candidate when it is one for some
individual. The machinelabels then have DLC's four column levels (scorer, individuals, bodyparts, coords).

``extract_outlier_frames`` finds candidates in ``[floor(n * start), ceil(n * stop))`` (config ``start``/``stop``),
asks for confirmation (never blocking when nobody can answer), picks ``numframes2pick`` of them (``kmeans`` on
thumbnails via :mod:`posenb.frames.select`, or ``uniform``), and writes ``labeled-data/<stem>/img<f>.png`` and
``machinelabels-iter<N>.h5`` + ``machinelabels.csv`` (DLC §2.5). Frames already taken in the folder (a PNG, or a
row of a label file: :func:`posenb.frames.extract.taken_frames`, extract_frames' rule) are not candidates (their
labels, human or machine, are never touched). The analysis-file lookup and the ARIMA
fit are post-processing helpers, imported from :mod:`posenb.post` when needed.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, PosenbError
from posenb.io.machinelabels import machinelabels_path, write_machinelabels
from posenb.io.predictions import check_pose_array

__all__ = [
    "OUTLIER_ALGORITHMS",
    "find_outliers_jump",
    "find_outliers_uncertain",
    "fitting_distances",
    "find_outliers_fitting",
    "extract_outlier_frames",
    "machinelabels_path",
    "write_machinelabels",
]

OUTLIER_ALGORITHMS = ("jump", "uncertain", "fitting", "list", "manual", "swap")


def find_outliers_jump(arr: np.ndarray, epsilon: float = 20.0) -> np.ndarray:
    """Frames ``t >= 1`` where any body part moved more than ``epsilon`` px from frame ``t - 1`` (sorted int64).

    ``dx**2 + dy**2 > epsilon**2``; NaN positions never count as a jump.
    """
    arr = check_pose_array(arr)
    if len(arr) < 2:
        return np.zeros(0, np.int64)
    d = np.diff(arr[:, :, :2], axis=0)
    moved = (d[..., 0] ** 2 + d[..., 1] ** 2) > float(epsilon) ** 2  # NaN compares False
    return (np.flatnonzero(moved.any(axis=1)) + 1).astype(np.int64)


def find_outliers_uncertain(arr: np.ndarray, p_bound: float = 0.01) -> np.ndarray:
    """Frames where any body part has likelihood < ``p_bound`` (sorted int64)."""
    arr = check_pose_array(arr)
    return np.flatnonzero((arr[:, :, 2] < p_bound).any(axis=1)).astype(np.int64)


def fitting_distances(
    arr: np.ndarray,
    p_bound: float = 0.01,
    ARdegree: int = 3,
    MAdegree: int = 1,
    fit_frames: int | None = 3000,
    n_jobs: int | None = None,
) -> np.ndarray:
    """``(n_frames,)`` mean over body parts of the distance (px) between each point and its ARIMA prediction.

    The prediction is :func:`posenb.post.filtering.arima_filter` (likelihood < ``p_bound`` = missing data);
    frame 0 is compared with itself (DLC compares it with the model's prior mean, 0, and so always flags it).
    Body parts without a prediction (NaN) are left out of the mean.
    """
    from posenb.post.filtering import arima_filter  # noqa: PLC0415

    arr = check_pose_array(arr)
    pred = arima_filter(
        arr, p_bound=p_bound, ARdegree=ARdegree, MAdegree=MAdegree, fit_frames=fit_frames, n_jobs=n_jobs
    )
    dist = np.hypot(arr[:, :, 0] - pred[:, :, 0], arr[:, :, 1] - pred[:, :, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(dist, axis=1) if arr.shape[1] else np.zeros(len(arr))


def find_outliers_fitting(
    arr: np.ndarray,
    epsilon: float = 20.0,
    p_bound: float = 0.01,
    ARdegree: int = 3,
    MAdegree: int = 1,
    numframes2pick: int | None = None,
    fit_frames: int | None = 3000,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Frames whose mean distance to the ARIMA fit exceeds ``epsilon`` px (DLC's ``fitting``; sorted int64).

    As in DLC, when fewer than ``2 * numframes2pick`` frames qualify (and the series is longer than that),
    the ``2 * numframes2pick`` most distant frames are returned instead.
    """
    d = fitting_distances(arr, p_bound, ARdegree, MAdegree, fit_frames, n_jobs)
    idx = np.flatnonzero(d > epsilon)
    if numframes2pick:
        want = 2 * int(numframes2pick)
        if len(idx) < want < len(d):
            order = np.argsort(np.nan_to_num(d, nan=-np.inf))[::-1]
            idx = np.sort(order[:want])
    return idx.astype(np.int64)


def _frames_for_video(frames2use, i_video: int, n_videos: int):
    """``frames2use`` is one list for every video, or one list per video (DLC accepts both)."""
    if frames2use is None:
        return None
    items = list(frames2use)
    if items and all(isinstance(x, (list, tuple, np.ndarray)) for x in items):
        if len(items) != n_videos:
            raise ConfigError(
                f"frames2use holds {len(items)} lists for {n_videos} videos; give one list per video."
            )
        return items[i_video]
    return items


def _compared(groups, comparisonbodyparts) -> list:
    """The groups restricted to ``comparisonbodyparts`` (names checked against all the table's parts)."""
    from posenb.post._common import select_bodyparts  # noqa: PLC0415

    names = list(dict.fromkeys(bp for _, bps, _ in groups for bp in bps))
    used = set(select_bodyparts(names, comparisonbodyparts))
    out = []
    for ind, bps, a in groups:
        keep = [bp for bp in bps if bp in used]
        if keep:
            out.append((ind, keep, a[:, [bps.index(bp) for bp in keep]]))
    return out


def _group_candidates(groups, algorithm, lo, hi, epsilon, p_bound, ARdegree, MAdegree, frames2use, n_pick):
    """Candidates of every individual's ``(individual, bodyparts, arr)`` group, united (sorted int64)."""
    from posenb.post._multi import UNIQUE  # noqa: PLC0415

    if algorithm == "swap":
        from posenb.frames.swaps import find_identity_swaps  # noqa: PLC0415

        animals = [(bps, a) for ind, bps, a in groups if ind not in ("", UNIQUE)]
        if not animals:
            raise ConfigError("outlieralgorithm='swap' needs a multi-animal tracked file with individuals.")
        common = [bp for bp in animals[0][0] if all(bp in bps for bps, _ in animals)]
        poses = np.stack([a[lo:hi, [bps.index(bp) for bp in common]] for bps, a in animals], axis=1)
        return find_identity_swaps(poses, epsilon) + lo
    if algorithm == "list" or len(groups) == 1:
        arr = groups[0][2] if len(groups) == 1 else np.zeros((len(groups[0][2]), 0, 3))
        return _candidates(arr, algorithm, lo, hi, epsilon, p_bound, ARdegree, MAdegree, frames2use, n_pick)
    found = [
        _candidates(a, algorithm, lo, hi, epsilon, p_bound, ARdegree, MAdegree, frames2use, n_pick)
        for _, _, a in groups
    ]
    return np.unique(np.concatenate(found)).astype(np.int64)


def _candidates(arr, algorithm, lo, hi, epsilon, p_bound, ARdegree, MAdegree, frames2use, numframes2pick):
    part = arr[lo:hi]
    if algorithm == "jump":
        found = find_outliers_jump(part, epsilon)
    elif algorithm == "uncertain":
        found = find_outliers_uncertain(part, p_bound)
    elif algorithm == "fitting":
        found = find_outliers_fitting(part, epsilon, p_bound, ARdegree, MAdegree, numframes2pick)
    else:  # list
        if frames2use is None:
            raise ConfigError(
                "outlieralgorithm='list' needs frames2use=[frame indices] (one list per video, or one list)."
            )
        found = np.asarray(sorted({int(i) for i in frames2use}), dtype=np.int64)
        bad = found[(found < 0) | (found >= len(arr))]
        if bad.size:
            raise ConfigError(
                f"frames2use holds frame(s) {bad[:5].tolist()} outside the video's {len(arr)} frames."
            )
        return found
    return found + lo


def add_videos_for_review(config, videos, videotype: str = "", copy_videos: bool = False):
    """``outlieralgorithm="manual"``: add the analysed ``videos`` that config.yaml lacks to the project; returns
    the first video (the one the review panel opens), or None when none is found."""
    from posenb.project.config import read_config
    from posenb.project.create import add_new_videos
    from posenb.project.paths import list_videos, video_stem

    known_stems = {video_stem(v) for v in (read_config(config).get("video_sets") or {})}
    vids = list_videos(videos, videotype)
    for v in vids:
        if video_stem(v) not in known_stems and Path(v).is_file():
            add_new_videos(config, [str(v)], copy_videos=copy_videos)
    return vids[0] if vids else None


def _manual():
    """``outlieralgorithm="manual"`` outside Jupyter: frames are picked in a panel (the core never imports it)."""
    raise PosenbError(
        "outlieralgorithm='manual' opens the Jupyter panel posenb.widgets.trajectory_viewer.TrajectoryViewer "
        "(video + predictions, frame picking): in a notebook, call posenb.extract_outlier_frames(config, videos, "
        "outlieralgorithm='manual') with the packages of pip install 'posenb[jupyter]'. Without Jupyter, use "
        "outlieralgorithm='list' with frames2use=[...]."
    )


def _pick(
    video, candidates, n_pick, extractionalgorithm, rng, cluster_resizewidth, cluster_color
) -> np.ndarray:
    from posenb.frames.select import load_thumbnails, select_kmeans

    if len(candidates) <= n_pick:
        return np.asarray(candidates, np.int64)
    if extractionalgorithm == "uniform":
        return np.sort(rng.choice(candidates, size=n_pick, replace=False)).astype(np.int64)
    idx, thumbs = load_thumbnails(video, indices=candidates, width=cluster_resizewidth, color=cluster_color)
    rows = select_kmeans(thumbs, n_pick, rng)
    return np.sort(idx[rows]).astype(np.int64)


def _save_frames(video, frames_idx, folder, n_analysed, poses, colors, params, savelabeled) -> list[str]:
    """Write ``img<f>.png`` (never overwriting) and optionally ``img<f>labeled.png``; returns the image names.

    Frames are read frame-exactly (:func:`posenb.frames.extract.read_exact_frames`, as ``extract_frames`` does), so
    each PNG is the frame its machine labels were predicted on.
    """
    import cv2  # noqa: PLC0415

    from posenb.frames.extract import read_exact_frames
    from posenb.io.video import probe_video
    from posenb.project.paths import frame_name

    folder.mkdir(parents=True, exist_ok=True)
    n_video = probe_video(video)[2]
    if len(frames_idx) and frames_idx[-1] >= n_video:
        raise PosenbError(
            f"{video}: the predictions have {n_analysed} frames but the video only {n_video}; "
            "is this the video that was analysed?"
        )
    names = []
    for i, frame in read_exact_frames(video, [int(i) for i in frames_idx]):
        name = frame_name(int(i), n_analysed)
        path = folder / name
        names.append(name)
        if not path.exists():
            cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if savelabeled:
            from posenb.post.labeled_video import draw_poses  # noqa: PLC0415

            drawn = draw_poses(
                frame[None].copy(),
                poses[int(i)][None],
                colors,
                params["pcutoff"],
                params["dotsize"],
                params["alphavalue"],
            )[0]
            labeled = folder / name.replace(".png", "labeled.png")
            if not labeled.exists():
                cv2.imwrite(str(labeled), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    return names


def extract_outlier_frames(
    config, videos, videotype: str = "", shuffle: int = 1, trainingsetindex: int = 0,
    outlieralgorithm: str = "jump", frames2use=None, comparisonbodyparts="all", epsilon: float = 20,
    p_bound: float = 0.01, ARdegree: int = 3, MAdegree: int = 1, alpha: float = 0.01,
    extractionalgorithm: str = "kmeans", automatic: bool = False, cluster_resizewidth: int = 30,
    cluster_color: bool = False, opencv: bool = True, savelabeled: bool = False, copy_videos: bool = False,
    destfolder=None, modelprefix: str = "", track_method: str = "", seed=None,
):  # fmt: skip
    """Extract frames where the predictions look wrong, for refinement (DeepLabCut's ``extract_outlier_frames``).

    Parameters
    ----------
    config : config.yaml path. videos, videotype : analysed videos and/or folders.
    shuffle, trainingsetindex : which model's analysis (``<stem>DLC_..._<Task><date>shuffle<k>_...h5``).
    outlieralgorithm : ``"jump"`` (moves > ``epsilon`` px between frames), ``"swap"`` (multi-animal: two
        individuals' tracks exchange positions, moves > ``epsilon`` px), ``"uncertain"`` (likelihood <
        ``p_bound``), ``"fitting"`` (distance to an ARIMA fit > ``epsilon``; ``ARdegree``, ``MAdegree``),
        ``"list"`` (the frames in ``frames2use``) or ``"manual"`` (returns the Jupyter TrajectoryViewer panel:
        the video with its predictions, to pick frames by eye; done by ``posenb.extract_outlier_frames``,
        :mod:`posenb.widgets.modes`).
    comparisonbodyparts : ``"all"`` or the body parts to examine.
    extractionalgorithm : ``"kmeans"`` (diverse frames, from thumbnails of ``cluster_resizewidth`` px,
        ``cluster_color``) or ``"uniform"`` (random) choice of config ``numframes2pick`` among the candidates.
    automatic : extract without asking. Otherwise the question is asked with ``input()``; when no one can
        answer (no terminal, batch job) the answer is "no" and a message says to pass ``automatic=True``.
    savelabeled : also write ``img<f>labeled.png`` with the predictions drawn.
    copy_videos : when the video is added to the project, copy it instead of linking it.
    destfolder : folder of the analysis files (default: the video's folder).
    seed : random seed for the frame choice (reproducible runs).
    track_method : multi-animal projects: which tracked file (DLC's rule, default ``_el``). Each individual
        is searched on its own; machinelabels get the tracked file's four column levels.

    For each video writes ``labeled-data/<stem>/img<f>.png`` (existing PNGs are never overwritten, and frames
    already taken, a PNG or a label-file row, are not candidates), ``machinelabels-iter<N>.h5`` + ``machinelabels.csv`` with the
    predictions of those frames in full-frame coordinates (crop offset of a cropped analysis added back), and
    adds the video to config.yaml if it is not there. Frames are saved uncropped, so that images and
    coordinates always agree (DLC crops the images with config ``cropping`` yet adds the offset back). Returns ``{video: [extracted frame indices]}`` (with
    ``"manual"``: the panel).
    """
    from posenb.frames.select import make_rng  # noqa: PLC0415
    from posenb.post._common import iter_analyses  # noqa: PLC0415
    from posenb.post._multi import warn_ignored  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415
    from posenb.project.paths import list_videos, video_stem  # noqa: PLC0415

    if outlieralgorithm not in OUTLIER_ALGORITHMS:
        raise ConfigError(
            f"Unknown outlieralgorithm {outlieralgorithm!r}; choose one of {list(OUTLIER_ALGORITHMS)}."
        )
    if extractionalgorithm not in ("kmeans", "uniform"):
        raise ConfigError(f"extractionalgorithm must be 'kmeans' or 'uniform', got {extractionalgorithm!r}.")
    del alpha, opencv  # DLC arguments without effect here (alpha only sets an unused confidence interval)
    cfg = read_config(config)
    warn_ignored(cfg, modelprefix=modelprefix, track_method=track_method)
    if outlieralgorithm == "manual":
        _manual()
    search = {"algorithm": outlieralgorithm, "comparisonbodyparts": comparisonbodyparts, "epsilon": epsilon,
              "p_bound": p_bound, "ARdegree": ARdegree, "MAdegree": MAdegree}  # fmt: skip
    extract = {"algorithm": extractionalgorithm, "rng": make_rng(seed), "resizewidth": cluster_resizewidth,
               "color": cluster_color, "automatic": automatic, "savelabeled": savelabeled, "copy_videos": copy_videos,
               "known_stems": {video_stem(v) for v in (cfg.get("video_sets") or {})}}  # fmt: skip
    all_videos = [str(v) for v in list_videos(videos, videotype)]
    result: dict[str, list[int]] = {}
    for video, h5 in iter_analyses(
        cfg, videos, videotype, shuffle, trainingsetindex, False, destfolder, track_method
    ):
        wanted = _frames_for_video(frames2use, all_videos.index(str(video)), len(all_videos))
        result[str(video)] = _outliers_of_video(config, cfg, video, h5, wanted, search, extract)
    return result


def _video_poses(cfg: dict, h5: Path):
    """``(scorer, [(individual, bodyparts, (n, K, 3) full-frame poses)], n_frames)`` of an analysis file (the crop
    offset of a cropped single-animal analysis added back; tracked files hold full-frame pixels already)."""
    from posenb.io.predictions import read_meta  # noqa: PLC0415
    from posenb.post._common import crop_offset  # noqa: PLC0415
    from posenb.post._multi import read_pose_table, table_arrays  # noqa: PLC0415

    df = read_pose_table(h5)
    scorer = df.columns.get_level_values("scorer")[0]
    groups = table_arrays(df)  # [(individual, bodyparts, (n, K, 3))]; one ("", ...) for a single animal
    multi = bool(cfg.get("multianimalproject"))
    ox, oy = (0.0, 0.0) if multi else crop_offset(read_meta(h5), h5, cfg)
    for _, _, a in groups:
        a[..., 0] += ox
        a[..., 1] += oy
    return scorer, groups, len(df)


def _outliers_of_video(
    config, cfg: dict, video: Path, h5: Path, wanted, search: dict, extract: dict
) -> list[int]:
    """Find one video's outlier frames, ask, pick and write them; returns the extracted frame indices."""
    from posenb.frames.extract import taken_frames  # noqa: PLC0415
    from posenb.frames.select import frame_range  # noqa: PLC0415
    from posenb.io.prompt import ask_yes_no  # noqa: PLC0415
    from posenb.project.paths import video_stem  # noqa: PLC0415

    stem = video_stem(video)
    n_pick = int(cfg.get("numframes2pick") or 20)
    scorer, groups, n = _video_poses(cfg, h5)
    lo, hi = frame_range(n, cfg.get("start", 0), cfg.get("stop", 1), where=str(config))
    found = _group_candidates(
        _compared(groups, search["comparisonbodyparts"]), search["algorithm"], lo, hi, search["epsilon"],
        search["p_bound"], search["ARdegree"], search["MAdegree"], wanted, n_pick,
    )  # fmt: skip
    folder = Path(cfg["project_path"]) / "labeled-data" / stem
    existing = taken_frames(folder)  # extract_frames' rule: a PNG, or a row of a label file
    candidates = np.array([i for i in found if i not in existing], dtype=np.int64)
    skipped = len(found) - len(candidates)
    print(
        f"{video.name}: method {search['algorithm']!r} found {len(found)} putative outlier frame(s)"
        + (f", {skipped} of them already in labeled-data/{stem}" if skipped else "")
        + "."
    )
    if len(candidates) == 0:
        print(
            "Nothing to extract; change the parameters (start, stop, epsilon, p_bound, comparisonbodyparts)."
        )
        return []
    if not ask_yes_no(
        f"Extract {min(n_pick, len(candidates))} of those {len(candidates)} frames?", extract["automatic"]
    ):
        print("Nothing extracted; change the parameters and start again, or pass automatic=True.")
        return []
    picked = _pick(
        video,
        candidates,
        n_pick,
        extract["algorithm"],
        extract["rng"],
        extract["resizewidth"],
        extract["color"],
    )
    _write_outliers(config, cfg, video, (scorer, groups, n), picked, folder, extract)
    print(
        f"Extracted {len(picked)} frame(s) into {folder}; correct them with the refinement panel, then merge_datasets."
    )
    return picked.tolist()


def _write_outliers(
    config, cfg: dict, video: Path, poses, picked: np.ndarray, folder: Path, extract: dict
) -> None:
    """Write the picked frames (and labeled copies), their machinelabels, and add the video to the project."""
    from posenb.post._common import drawing_params  # noqa: PLC0415
    from posenb.post._multi import arrays_to_table  # noqa: PLC0415
    from posenb.post.individuals_drawing import point_colors  # noqa: PLC0415
    from posenb.project.create import add_new_videos  # noqa: PLC0415

    scorer, groups, n = poses
    picked = np.unique(
        np.asarray(picked, np.int64)
    )  # sorted: the PNGs are read, and the rows written, in order
    stem = folder.name
    params = drawing_params(cfg)
    points = [(ind, bp) for ind, bps, _ in groups for bp in bps]
    colors = point_colors(points, params["colormap"], "individual" if len(groups) > 1 else "bodypart")
    arr = np.concatenate([a for _, _, a in groups], axis=1)
    names = _save_frames(video, picked, folder, n, arr, colors, params, extract["savelabeled"])
    rows = pd.MultiIndex.from_tuples([("labeled-data", stem, name) for name in names])
    # same columns as the analysis file: 3 levels, or DLC's 4 (scorer, individuals, bodyparts, coords)
    table = arrays_to_table(scorer, [(ind, bps, a[picked]) for ind, bps, a in groups], index=rows)
    write_machinelabels(folder, int(cfg.get("iteration") or 0), table)
    if stem not in extract["known_stems"]:
        add_new_videos(config, [str(video)], copy_videos=extract["copy_videos"])
        extract["known_stems"].add(stem)
