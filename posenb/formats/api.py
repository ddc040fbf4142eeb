"""``import_labels``, ``export_labels``, ``export_predictions``: other tools' files in and out of a project.

Imported labels land where DeepLabCut keeps labels: ``labeled-data/<video stem>/CollectedData_<scorer>.h5/.csv``
(written by :func:`posenb.io.labels.write_labels`, with a backup of any previous file) and the frames as PNG next
to them. Everything is checked before anything is written.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import FrameGroup, LabelSet, VideoPredictions
from posenb.formats.registry import PREDICTION_SUFFIX, detect_format, get_format

__all__ = ["import_labels", "export_labels", "export_predictions", "ImportReport", "project_labelset"]


@dataclass
class ImportReport:
    """What :func:`import_labels` did: label files written, frames and PNGs, config.yaml keys changed, notes."""

    files: list[Path] = field(default_factory=list)
    n_frames: int = 0
    n_images: int = 0
    bodyparts: list[str] = field(default_factory=list)
    config_changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        folders = ", ".join(f"labeled-data/{p.parent.name}" for p in self.files) or "nothing"
        lines = [
            f"Imported {self.n_frames} labeled frame(s) into {folders} ({self.n_images} new PNG frame(s))."
        ]
        if self.config_changed:
            lines.append("config.yaml: set " + ", ".join(self.config_changed) + ".")
        return "\n".join(lines + self.notes)


def _template(key: str) -> list:
    """DeepLabCut's placeholder ``bodyparts`` / ``skeleton`` of a new project."""
    from posenb.project.config import DEFAULT_CONFIG

    return copy.deepcopy(DEFAULT_CONFIG[key])


def _label_file(project: Path, stem: str, scorer: str) -> Path | None:
    from posenb.io.labels import labels_path

    h5 = labels_path(project, stem, scorer)
    if h5.is_file():
        return h5
    return h5.with_suffix(".csv") if h5.with_suffix(".csv").is_file() else None


def _has_labels(project: Path) -> bool:
    folder = project / "labeled-data"
    return folder.is_dir() and (
        any(folder.glob("*/CollectedData_*.h5")) or any(folder.glob("*/CollectedData_*.csv"))
    )


def _plan_bodyparts(cfg: dict, labelset: LabelSet, path: Path, report: ImportReport) -> dict:
    """Decide config.yaml's body parts/skeleton; returns the new cfg (a copy). Raises when the parts disagree."""
    new = copy.deepcopy(cfg)
    project = Path(cfg["project_path"])
    file_parts = list(labelset.bodyparts)
    fresh = list(cfg["bodyparts"]) == _template("bodyparts") and not _has_labels(project)
    if fresh:
        new["bodyparts"] = file_parts
        new["skeleton"] = [list(b) for b in labelset.skeleton]
        report.config_changed += ["bodyparts", "skeleton"] if labelset.skeleton else ["bodyparts"]
        return new
    extra = [b for b in file_parts if b not in cfg["bodyparts"]]
    labelled_extra = [
        b for b in extra if any(np.isfinite(g.coords[:, file_parts.index(b)]).any() for g in labelset.groups)
    ]
    if labelled_extra:
        raise LabelError(
            f"{path}: body part(s) {labelled_extra} are not in this project's config.yaml (bodyparts: "
            f"{list(cfg['bodyparts'])}). Add them to 'bodyparts' first, or import into a project with the file's "
            f"body parts {file_parts}."
        )
    if extra:
        report.notes.append(f"Body part(s) {extra} of the file hold no label and were not imported.")
    missing = [b for b in cfg["bodyparts"] if b not in file_parts]
    if missing:
        report.notes.append(
            f"The file has no {missing}: left unlabeled (NaN); the others were mapped by name."
        )
    if labelset.skeleton and (not cfg.get("skeleton") or cfg.get("skeleton") == _template("skeleton")):
        bones = [list(b) for b in labelset.skeleton if b[0] in cfg["bodyparts"] and b[1] in cfg["bodyparts"]]
        if bones:
            new["skeleton"] = bones
            report.config_changed.append("skeleton")
    return new


def _table(group: FrameGroup, file_parts: list[str], bodyparts: list[str], scorer: str):
    from posenb.io.labels import array_to_labels

    coords = np.full((len(group.names), len(bodyparts), 2), np.nan)
    for j, bp in enumerate(bodyparts):
        if bp in file_parts:
            coords[:, j] = group.coords[:, file_parts.index(bp)]
    index = [("labeled-data", group.stem, n) for n in group.names]
    return array_to_labels(coords, scorer, bodyparts, index)


def _merge(existing, new, where: Path, overwrite: bool):
    """Existing rows kept, new rows added; a row labeled differently in both needs ``overwrite``."""
    import pandas as pd

    common = existing.index.intersection(new.index)
    if len(common) and not overwrite:
        a = existing.loc[common].to_numpy(dtype="float64")
        b = new.loc[common].to_numpy(dtype="float64")
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        differ = [common[i] for i in np.flatnonzero(~same.all(axis=1) & np.isfinite(a).any(axis=1))]
        if differ:
            raise LabelError(
                f"{where}: {len(differ)} frame(s) are already labeled differently (e.g. {differ[0][-1]}). Nothing "
                "was imported. Pass overwrite=True to replace those labels (the previous file is kept as .bak)."
            )
    keep = existing.drop(index=common)
    return pd.concat([keep, new]).sort_index()


def _rename_single(labelset: LabelSet, stem: str | None, path: Path) -> None:
    if stem is None:
        return
    if len(labelset.groups) != 1:
        raise LabelError(
            f"{path}: holds frames of {len(labelset.groups)} videos; stem= applies to files with one."
        )
    labelset.groups[0].stem = stem


def _register_videos(
    project: Path, labelset: LabelSet, cfg: dict, report: ImportReport, add_videos: bool
) -> None:
    """Add the source videos that exist to ``video_sets``; note label folders left without a video."""
    from posenb.project.paths import video_stem

    known = {video_stem(v) for v in cfg.get("video_sets") or {}}
    videos = [g.video for g in labelset.groups if g.video is not None and Path(g.video).is_file()]
    videos = [v for v in videos if video_stem(v) not in known]
    if add_videos and videos:
        from posenb.project.create import add_new_videos

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            added = add_new_videos(project / "config.yaml", [str(v) for v in videos])
        if added:
            report.config_changed.append(f"video_sets (+{len(added)} video)")
            known |= {video_stem(v) for v in added}
    orphans = [g.stem for g in labelset.groups if g.stem not in known]
    if orphans:
        report.notes.append(
            f"labeled-data/{orphans[0]}"
            + (f" (and {len(orphans) - 1} more folder(s))" if len(orphans) > 1 else "")
            + " has no video in config.yaml's video_sets: create_training_dataset uses such folders only while no "
            "listed video has labels. Add the video with add_new_videos when you have it."
        )


def import_labels(
    config: str | os.PathLike,
    path: str | os.PathLike,
    format: str | None = None,
    predictions: bool = False,
    stem: str | None = None,
    overwrite: bool = False,
    add_videos: bool = True,
) -> ImportReport:
    """Import labels of another tool into the project's ``labeled-data``.

    Parameters
    ----------
    config : the project's config.yaml.
    path : a SLEAP ``.slp``, an NWB ``.nwb`` (ndx-pose PoseTraining), a COCO keypoints ``.json``, a Lightning Pose
        ``CollectedData.csv``, or another DeepLabCut project's ``CollectedData_<scorer>.h5/.csv`` (or its
        ``labeled-data/<stem>`` folder or config.yaml).
    format : ``slp``, ``nwb``, ``coco``, ``lightning_pose`` or ``dlc``; guessed from ``path`` when None.
    predictions : also take SLEAP's predicted instances on frames without a user instance.
    stem : the labeled-data folder name, for a file with frames of one video (default: the video's or images'
        folder name).
    overwrite : replace labels of frames the project already labeled differently (else an error).
    add_videos : add the source video to config.yaml's ``video_sets`` when the file names one that exists.

    Frames are written as PNG (copied, converted, decoded from the video, or taken from the file) unless the folder
    has them. A project still holding DeepLabCut's template body parts takes the file's body parts and skeleton;
    otherwise the file's parts must be the project's or a subset (mapped by name). Files with several animals
    per frame raise :class:`LabelError` (multi-animal projects come in a later version).
    """
    from posenb.formats._images import missing_images, write_frame_images
    from posenb.io.labels import labels_path, read_labels, write_labels
    from posenb.project.config import read_config, write_config

    cfg = read_config(config)
    project = Path(cfg["project_path"])
    path = Path(path)
    fmt = get_format(format or detect_format(path))
    labelset = fmt.read(path, predictions=predictions)
    _rename_single(labelset, stem, path)
    report = ImportReport()
    new_cfg = _plan_bodyparts(cfg, labelset, path, report)
    scorer, bodyparts = new_cfg["scorer"], list(new_cfg["bodyparts"])
    plans = []
    for g in labelset.groups:  # check everything before writing anything
        folder = project / "labeled-data" / g.stem
        lost = missing_images(folder, g.names, g.images)
        if lost:
            raise LabelError(
                f"{path}: no image for {len(lost)} frame(s) of {g.stem} (e.g. {lost[:3]}); the file names neither "
                "images nor a video that exist. Put them where the file says (or next to it) and import again."
            )
        table = _table(g, labelset.bodyparts, bodyparts, scorer)
        existing = _label_file(project, g.stem, scorer)
        if existing is not None:
            from posenb.io.labels import conform_labels

            old = conform_labels(read_labels(existing), scorer, bodyparts, str(existing))
            table = _merge(old, table, existing, overwrite)
        plans.append((g, folder, table))
    if new_cfg != cfg:
        write_config(project / "config.yaml", new_cfg)
    for g, folder, table in plans:
        report.n_images += write_frame_images(folder, g.names, g.images)
        report.files.append(write_labels(table, labels_path(project, g.stem, scorer)))
        report.n_frames += len(g.names)
    report.bodyparts = bodyparts
    _register_videos(project, labelset, new_cfg, report, add_videos)
    return report


def project_labelset(config: str | os.PathLike) -> LabelSet:
    """The project's labels as a :class:`LabelSet` (frames without any label left out)."""
    from posenb.io.labels import labels_to_array, read_labels
    from posenb.project.config import read_config
    from posenb.project.paths import find_video_for_stem, video_stem

    cfg = read_config(config)
    project = Path(cfg["project_path"])
    scorer, bodyparts = cfg["scorer"], list(cfg["bodyparts"])
    folder = project / "labeled-data"
    order = [video_stem(v) for v in cfg.get("video_sets") or {}]
    others = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    groups = []
    for stem in dict.fromkeys(order + others):
        path = _label_file(project, stem, scorer)
        if path is None:
            continue
        df = read_labels(path)
        arr = labels_to_array(df, bodyparts)
        keep = np.isfinite(arr).any(axis=(1, 2))
        names = [str(i[-1]) for i in df.index[keep]]
        images = [project / "labeled-data" / stem / n for n in names]
        groups.append(FrameGroup(stem, names, arr[keep], images, find_video_for_stem(cfg, stem)))
    if not groups:
        raise LabelError(
            f"{project} has no labels to export (no labeled-data/<video>/CollectedData_{scorer}.h5)."
        )
    return LabelSet(bodyparts, [list(b) for b in cfg.get("skeleton") or []], groups, scorer)


def export_labels(
    config: str | os.PathLike, path: str | os.PathLike, format: str | None = None, **options
) -> list[Path]:
    """Write the project's labels in another tool's format; returns the files written.

    ``format``: ``slp`` (``embed=True`` stores the frames in the file), ``nwb``, ``coco`` (JSON + frames copied
    under its folder), ``lightning_pose`` (``CollectedData.csv`` + frames) or ``dlc``; guessed from ``path``'s
    suffix when None. Frames without any label are left out.
    """
    fmt = get_format(format or detect_format(path))
    return fmt.write(project_labelset(config), Path(path), **options)


def _video_predictions(cfg: dict, video: Path, folder: Path, filtered: bool) -> tuple[Path, VideoPredictions]:
    from posenb.io.predictions import find_analyzed_data, predictions_to_array, read_predictions
    from posenb.project.paths import video_stem
    from posenb.project.project_config import skeleton_indices

    stem = video_stem(video)
    h5 = find_analyzed_data(folder, stem, filtered=filtered)
    df = read_predictions(h5)
    bodyparts = list(dict.fromkeys(df.columns.get_level_values(1)))
    arr = predictions_to_array(df, bodyparts)
    fps, size = 0.0, None
    if video.is_file():
        from posenb.io.video import open_video

        with open_video(video) as reader:
            fps, size = float(reader.fps), (int(reader.full_width), int(reader.full_height))
    skeleton = [[bodyparts[i], bodyparts[j]] for i, j in skeleton_indices(bodyparts, cfg.get("skeleton"))]
    scorer = str(df.columns.get_level_values(0)[0])
    pred = VideoPredictions(
        stem,
        video if video.is_file() else None,
        bodyparts,
        skeleton,
        arr[..., :2],
        arr[..., 2],
        scorer,
        fps,
        size,
    )
    return h5, pred


def export_predictions(
    config: str | os.PathLike,
    videos: str | os.PathLike | Iterable,
    format: str = "nwb",
    destfolder: str | os.PathLike | None = None,
    videotype: str = "",
    filtered: bool = False,
    outfolder: str | os.PathLike | None = None,
) -> list[Path]:
    """Write the analysis results (``<stem>DLC...h5``) of ``videos`` in another tool's format.

    ``format``: ``nwb`` (ndx-pose PoseEstimation), ``slp`` (SLEAP predicted instances), ``coco`` (JSON, one image
    per frame, ``keypoint_scores``) or ``lightning_pose`` (CSV). Results are looked for in ``destfolder`` (default:
    each video's folder, as analyze_videos writes them) and written to ``outfolder`` (default: the same folder) as
    ``<analysis file stem><suffix>`` (``.nwb``, ``.slp``, ``_coco.json``, ``_lightning_pose.csv``). ``filtered``
    exports the ``_filtered`` results. Returns the files written.
    """
    from posenb.project.config import read_config
    from posenb.project.paths import list_videos

    module = get_format(format)
    if not hasattr(module, "write_predictions"):
        raise LabelError(
            f"Format {format!r} has no predictions export; choose one of {sorted(PREDICTION_SUFFIX)}."
        )
    cfg = read_config(config)
    out = []
    for video in list_videos(videos, videotype):
        folder = Path(destfolder) if destfolder else Path(video).parent
        h5, pred = _video_predictions(cfg, Path(video), folder, filtered)
        target = Path(outfolder) if outfolder else folder
        target.mkdir(parents=True, exist_ok=True)
        out.append(module.write_predictions(pred, target / (h5.stem + PREDICTION_SUFFIX[module.NAME])))
    return out
