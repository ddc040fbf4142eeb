"""``export_predictions``: a project's analysis results (single-animal ``<stem>DLC...h5``, multi-animal tracked
``<stem>DLC..._el.h5``) in another tool's format, through each format module's ``write_predictions``.

Re-exported by :mod:`posenb.formats.api` (``posenb.export_predictions``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from posenb.errors import LabelError
from posenb.formats._model import VideoPredictions
from posenb.formats.registry import PREDICTION_SUFFIX, get_format

__all__ = ["export_predictions"]


def _analysis_file(cfg: dict, video: Path, folder: Path, filtered: bool, shuffle, track_method: str) -> Path:
    """The analysis file to export. Single-animal: the newest ``<stem>DLC*.h5`` in ``folder`` (any network;
    ``shuffle`` given: that shuffle's). Multi-animal: the final tracked file, DeepLabCut's rule
    (:func:`posenb.project.analysis_files.find_analysis_file`, as create_labeled_video and filterpredictions);
    :class:`LabelError` telling to run tracking when only untracked detections exist."""
    from posenb.io.predictions import find_analyzed_data
    from posenb.project.analysis_files import find_analysis_file
    from posenb.project.config import project_parts
    from posenb.project.paths import video_stem

    if not project_parts(cfg).multianimal:
        if shuffle is None:
            return find_analyzed_data(folder, video_stem(video), filtered=filtered)
        return find_analysis_file(cfg, video, int(shuffle), filtered=filtered, destfolder=folder)
    try:
        return find_analysis_file(
            cfg,
            video,
            int(shuffle or 1),
            filtered=filtered,
            destfolder=folder,
            scorer=None if shuffle is not None else "DLC",
            track_method=track_method,
        )
    except LabelError as exc:
        stem = video_stem(video)
        untracked = [] if filtered else _untracked_files(cfg, folder, stem, shuffle)
        if not untracked:
            raise
        raise LabelError(
            f"{video.name}: {folder} holds only untracked detections ({', '.join(untracked[:2])}), no tracked "
            "file. A multi-animal project exports its tracked animals: run posenb.stitch_tracklets(config, "
            "videos) (or analyze_videos(..., auto_track=True)) first, then export again. Nothing was written."
        ) from exc


def _untracked_files(cfg: dict, folder: Path, stem: str, shuffle) -> list[str]:
    """Per-frame animals / tracklets files of ``stem`` (posenb's and DeepLabCut's; of ``shuffle`` when given) in
    ``folder`` when no tracked file of any network or tracker is there; else [] (the lookup's error says more)."""
    from posenb.project.analysis_files import TRACKERS
    from posenb.project.paths import scorer_pattern

    if not folder.is_dir():
        return []
    names = [f.name for f in folder.iterdir() if f.name.startswith(stem + "DLC")]
    if any(n.endswith((t + ".h5", t + "_filtered.h5")) for n in names for t in TRACKERS.values()):
        return []
    tails = ("_detections.h5", "_tracklets.h5", "_full.pickle", "_assemblies.pickle", "_el.pickle")
    found = sorted(n for n in names if n.endswith(tails))
    return [n for n in found if scorer_pattern(cfg, int(shuffle)) in n] if shuffle is not None else found


def _video_info(video: Path) -> tuple[float, tuple[int, int] | None]:
    """(fps, (width, height)) of ``video``; (0, None) when it is not there."""
    if not video.is_file():
        return 0.0, None
    from posenb.io.video import open_video

    with open_video(video) as reader:
        return float(reader.fps), (int(reader.full_width), int(reader.full_height))


def _video_predictions(cfg: dict, video: Path, h5: Path) -> VideoPredictions:
    """The analysis file ``h5`` of ``video`` as :class:`VideoPredictions` (several animals for a tracked file)."""
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.project.config import project_parts
    from posenb.project.paths import video_stem
    from posenb.project.project_config import skeleton_indices

    if project_parts(cfg).multianimal:
        return _tracked_predictions(cfg, video, h5)
    df = read_predictions(h5)
    bodyparts = list(dict.fromkeys(df.columns.get_level_values(1)))
    arr = predictions_to_array(df, bodyparts)
    fps, size = _video_info(video)
    skeleton = [[bodyparts[i], bodyparts[j]] for i, j in skeleton_indices(bodyparts, cfg.get("skeleton"))]
    scorer = str(df.columns.get_level_values(0)[0])
    return VideoPredictions(
        video_stem(video),
        video if video.is_file() else None,
        bodyparts,
        skeleton,
        arr[..., :2],
        arr[..., 2],
        scorer,
        fps,
        size,
        source=h5,
    )


def _tracked_predictions(cfg: dict, video: Path, h5: Path) -> VideoPredictions:
    """A multi-animal tracked file (columns scorer/individuals/bodyparts/coords; unique parts under
    ``"single"``) as :class:`VideoPredictions` with the file's individuals and parts, in its column order."""
    from posenb.io.label_arrays import UNIQUE_INDIVIDUAL, is_multianimal_table, table_to_arrays
    from posenb.io.labels import read_hdf_any
    from posenb.project.paths import video_stem
    from posenb.project.project_config import skeleton_indices

    df = read_hdf_any(h5)
    if not is_multianimal_table(df) or "likelihood" not in set(df.columns.get_level_values(-1)):
        raise LabelError(
            f"{h5}: not a tracked file (columns scorer, individuals, bodyparts, coords x/y/likelihood). Run "
            "stitch_tracklets (or analyze_videos(..., auto_track=True)) again."
        )
    try:
        df = df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{h5}: prediction values must be numbers ({exc}).") from None
    columns = [(str(ind), str(bp)) for _, ind, bp, _ in df.columns]
    individuals = list(dict.fromkeys(ind for ind, _ in columns if ind != UNIQUE_INDIVIDUAL))
    bodyparts = list(dict.fromkeys(bp for ind, bp in columns if ind != UNIQUE_INDIVIDUAL))
    unique = list(dict.fromkeys(bp for ind, bp in columns if ind == UNIQUE_INDIVIDUAL))
    arrays = table_to_arrays(df, bodyparts, individuals, unique)
    every = bodyparts + [u for u in unique if u not in bodyparts]
    skeleton = [[every[i], every[j]] for i, j in skeleton_indices(every, cfg.get("skeleton"))]
    fps, size = _video_info(video)
    return VideoPredictions(
        video_stem(video),
        video if video.is_file() else None,
        bodyparts,
        skeleton,
        arrays.points,
        arrays.likelihood,
        str(df.columns.get_level_values(0)[0]),
        fps,
        size,
        individuals=individuals,
        unique_bodyparts=unique,
        unique_xy=arrays.unique if unique else None,
        unique_likelihood=arrays.unique_likelihood if unique else None,
        source=h5,
    )


def export_predictions(
    config: str | os.PathLike,
    videos: str | os.PathLike | Iterable,
    format: str = "nwb",
    destfolder: str | os.PathLike | None = None,
    videotype: str = "",
    filtered: bool = False,
    outfolder: str | os.PathLike | None = None,
    shuffle: int | None = None,
    track_method: str = "",
) -> list[Path]:
    """Write the analysis results (``<stem>DLC...h5``) of ``videos`` in another tool's format.

    ``format``: ``nwb`` (ndx-pose PoseEstimation), ``slp`` (SLEAP predicted instances), ``coco`` (JSON, one image
    per frame, ``keypoint_scores``) or ``lightning_pose`` (CSV). Results are looked for in ``destfolder`` (default:
    each video's folder, as analyze_videos writes them) and written to ``outfolder`` (default: the same folder) as
    ``<analysis file stem><suffix>`` (``.nwb``, ``.slp``, ``_coco.json``, ``_lightning_pose.csv``). ``filtered``
    exports the ``_filtered`` results. ``shuffle``: only that shuffle's results (default: the newest of any
    network). Returns the files written.

    A multi-animal project exports each video's final tracked file, ``<stem><DLCscorer>_el[_filtered].h5``
    (DeepLabCut's ``track_method`` rule, as create_labeled_video and filterpredictions): ``slp`` one predicted
    instance per individual and frame on a SLEAP track named after it; ``nwb`` one ``PoseEstimation_<individual>``
    per individual; ``coco`` one annotation per individual and frame with ``track_id`` and ``individual``. The
    unique body parts go with them as the individual ``"single"`` (see each format's module). Lightning Pose is
    single-animal (:class:`LabelError`). Every video's file is found before anything is written: a video with
    only untracked detections is a :class:`LabelError` (run ``stitch_tracklets`` first) and nothing is written.
    """
    from posenb.project.config import read_config
    from posenb.project.paths import list_videos

    module = get_format(format)
    if not hasattr(module, "write_predictions"):
        raise LabelError(
            f"Format {format!r} has no predictions export; choose one of {sorted(PREDICTION_SUFFIX)}."
        )
    cfg = read_config(config)
    plans = []
    for video in map(Path, list_videos(videos, videotype)):
        folder = Path(destfolder) if destfolder else video.parent
        plans.append((video, folder, _analysis_file(cfg, video, folder, filtered, shuffle, track_method)))
    out = []
    for video, folder, h5 in plans:
        pred = _video_predictions(cfg, video, h5)
        target = Path(outfolder) if outfolder else folder
        target.mkdir(parents=True, exist_ok=True)
        out.append(module.write_predictions(pred, target / (h5.stem + PREDICTION_SUFFIX[module.NAME])))
    return out
