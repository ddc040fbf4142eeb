"""``import_labels``, ``export_labels``, ``export_predictions``: other tools' files in and out of a project.

Imported labels land where DeepLabCut keeps labels: ``labeled-data/<video stem>/CollectedData_<scorer>.h5/.csv``
(written by :func:`posenb.io.labels.write_labels`, with a backup of any previous file) and the frames as PNG next
to them. Everything is checked before anything is written.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import FrameGroup, LabelSet
from posenb.formats._plan import ImportReport
from posenb.formats._predictions import export_predictions
from posenb.formats.registry import detect_format, get_format

__all__ = ["import_labels", "export_labels", "export_predictions", "ImportReport", "project_labelset"]


def _label_file(project: Path, stem: str, scorer: str) -> Path | None:
    from posenb.io.labels import labels_path

    h5 = labels_path(project, stem, scorer)
    if h5.is_file():
        return h5
    return h5.with_suffix(".csv") if h5.with_suffix(".csv").is_file() else None


def _table(group: FrameGroup, coords: np.ndarray, file_parts: list[str], parts, scorer: str, file_unique=()):
    """The label table of ``group``: ``coords`` ``(n, K_file, 2)`` (single-animal) or ``(n, A, K_file, 2)`` (in
    the project's individuals) mapped by name onto the project's ``parts`` (:class:`ProjectParts`); the group's
    ``unique`` ``(n, U_file, 2)`` (names ``file_unique``) onto the project's unique body parts."""
    from posenb.io.label_arrays import arrays_to_table

    points = coords if parts.multianimal else coords[:, None]
    out = np.full((len(group.names), points.shape[1], len(parts.bodyparts), 2), np.nan)
    for j, bp in enumerate(parts.bodyparts):
        if bp in file_parts:
            out[:, :, j] = points[:, :, file_parts.index(bp)]
    index = [("labeled-data", group.stem, n) for n in group.names]
    if not parts.multianimal:
        return arrays_to_table(out[:, 0], scorer, parts.bodyparts, index, multianimal=False)
    unique = np.full((len(group.names), len(parts.unique_bodyparts), 2), np.nan)
    for j, u in enumerate(parts.unique_bodyparts):
        if u in file_unique and group.unique is not None:
            unique[:, j] = group.unique[:, list(file_unique).index(u)]
    return arrays_to_table(
        out,
        scorer,
        parts.bodyparts,
        index,
        parts.individuals,
        unique,
        parts.unique_bodyparts,
        multianimal=True,
    )


def _merge(existing, new, where: Path, overwrite: bool, file_parts: list[str]):
    """Existing rows kept, new rows added; a row labeled differently in both needs ``overwrite``.

    Only the columns of the file's body parts (``file_parts``, its unique parts included) are the file's: on a
    frame both have, the project's other columns (parts the file does not hold, a multi-animal project's unique
    parts the file lacks) keep their labels, even with ``overwrite``, and a difference there is no conflict."""
    import pandas as pd

    new = new.reindex(columns=existing.columns)
    # columns (scorer[, individuals], bodyparts, coords): the file's are those of its parts
    owned = np.asarray(existing.columns.get_level_values(-2).isin(file_parts))
    common = existing.index.intersection(new.index)
    if len(common) and not overwrite:
        a = existing.loc[common].to_numpy(dtype="float64")[:, owned]
        b = new.loc[common].to_numpy(dtype="float64")[:, owned]
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        differ = [common[i] for i in np.flatnonzero(~same.all(axis=1) & np.isfinite(a).any(axis=1))]
        if differ:
            raise LabelError(
                f"{where}: {len(differ)} frame(s) are already labeled differently (e.g. {differ[0][-1]}). Nothing "
                "was imported. Pass overwrite=True to replace those labels (the previous file is kept as .bak)."
            )
    both = existing.loc[common].copy()
    both.loc[:, owned] = new.loc[common].to_numpy(dtype="float64")[:, owned]
    return pd.concat([existing.drop(index=common), new.drop(index=common), both]).sort_index()


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
        ``CollectedData.csv``, or another (single- or multi-animal) DeepLabCut project's
        ``CollectedData_<scorer>.h5/.csv`` (or its ``labeled-data/<stem>`` folder or config.yaml).
    format : ``slp``, ``nwb``, ``coco``, ``lightning_pose`` or ``dlc``; guessed from ``path`` when None.
    predictions : also take SLEAP's predicted instances on frames without a user instance.
    stem : the labeled-data folder name, for a file with frames of one video (default: the video's or images'
        folder name).
    overwrite : replace labels of frames the project already labeled differently (else an error).
    add_videos : add the source video to config.yaml's ``video_sets`` when the file names one that exists.

    Frames are written as PNG (copied, converted, decoded from the video, or taken from the file) unless the folder
    has them. A project still holding DeepLabCut's template body parts takes the file's body parts and skeleton;
    otherwise the file's parts must be the project's or a subset (mapped by name).

    Several animals per frame go into a multi-animal project (``multianimalproject: true``), from every format
    but Lightning Pose: SLEAP tracks, DeepLabCut ``individuals``, COCO annotations' ``track_id`` / ``individual``
    and NWB skeleton instances' names become the ``individuals`` of their name; untracked animals (SLEAP instances
    without a track, COCO annotations without identity, NWB instances named ``instance``/``instance_<i>``) fill
    the individuals a frame's tracked animals left free, in order. A project still holding DeepLabCut's template
    names takes the file's parts as ``multianimalbodyparts``, its skeleton and its track names as ``individuals``
    (and a DeepLabCut file's unique body parts as ``uniquebodyparts``); otherwise labeled tracks must be
    individuals of the project, labeled unique parts its ``uniquebodyparts``, and no frame may hold more animals
    than it has individuals (:class:`LabelError` naming the file; nothing is written). A single-animal project
    refuses files with several animals on a frame (one animal per frame imports, a DeepLabCut file's unique parts
    as body parts).
    """
    from posenb.formats._images import write_frame_images
    from posenb.formats._plan import plan_bodyparts
    from posenb.io.labels import labels_path, write_labels
    from posenb.project.config import project_parts, read_config, write_config

    cfg = read_config(config)
    project = Path(cfg["project_path"])
    path = Path(path)
    fmt = get_format(format or detect_format(path))
    labelset = _fit_animals(fmt.read(path, predictions=predictions), project_parts(cfg).multianimal, path)
    _rename_single(labelset, stem, path)
    report = ImportReport()
    new_cfg = plan_bodyparts(cfg, labelset, path, report)
    parts = project_parts(new_cfg)
    scorer = new_cfg["scorer"]
    plans = _plan_tables(labelset, parts, project, path, scorer, overwrite)  # check all, then write
    if new_cfg != cfg:
        write_config(project / "config.yaml", new_cfg)
    for g, folder, table in plans:
        report.n_images += write_frame_images(folder, g.names, g.images)
        report.files.append(write_labels(table, labels_path(project, g.stem, scorer)))
        report.n_frames += len(g.names)
    report.bodyparts = list(parts.bodyparts)
    if parts.multianimal and labelset.n_untracked:
        report.notes.append(
            "Untracked instances went to the individuals their frame's tracked animals left free, in order "
            f"({list(parts.individuals)}): check their identities before training with identity."
        )
    _register_videos(project, labelset, new_cfg, report, add_videos)
    return report


def _plan_tables(labelset: LabelSet, parts, project: Path, path: Path, scorer: str, overwrite: bool) -> list:
    """(group, label folder, table to write) per group of ``labelset``, merged with the project's labels; raises
    (before anything is written) when a frame has no image or labels conflict."""
    from posenb.formats._images import missing_images
    from posenb.io.labels import conform_labels, read_labels

    ma = (parts.individuals, parts.unique_bodyparts) if parts.multianimal else ()
    plans = []
    for g, coords in zip(labelset.groups, _group_coords(labelset, parts, path)):
        folder = project / "labeled-data" / g.stem
        lost = missing_images(folder, g.names, g.images)
        if lost:
            raise LabelError(
                f"{path}: no image for {len(lost)} frame(s) of {g.stem} (e.g. {lost[:3]}); the file names neither "
                "images nor a video that exist. Put them where the file says (or next to it) and import again."
            )
        table = _table(g, coords, labelset.bodyparts, parts, scorer, labelset.unique_bodyparts)
        existing = _label_file(project, g.stem, scorer)
        if existing is not None:
            old = conform_labels(read_labels(existing), scorer, parts.bodyparts, str(existing), *ma)
            owned = list(labelset.bodyparts) + list(labelset.unique_bodyparts)
            table = _merge(old, table, existing, overwrite, owned)
        plans.append((g, folder, table))
    return plans


def _fit_animals(labelset: LabelSet, multianimal: bool, path: Path) -> LabelSet:
    """The file's labels shaped for the project: one animal per frame for a single-animal project (several ->
    :class:`LabelError`), animal slots for a multi-animal one (a one-animal file's animal is untracked)."""
    from posenb.formats._animals import to_single_animal

    if not multianimal:
        return to_single_animal(labelset, path) if labelset.individuals else labelset
    if not labelset.individuals:
        for g in labelset.groups:
            g.coords = g.coords[:, None]
        labelset.individuals, labelset.n_untracked = ["individual1"], 1
    return labelset


def _group_coords(labelset: LabelSet, parts, path: Path) -> list[np.ndarray]:
    """Per group, the coords to write: as read (single-animal), or in the project's individuals."""
    from posenb.formats._animals import assign_individuals

    if not parts.multianimal:
        return [g.coords for g in labelset.groups]
    return assign_individuals(labelset, list(parts.individuals), path)


def project_labelset(config: str | os.PathLike) -> LabelSet:
    """The project's labels as a :class:`LabelSet` (frames without any label left out).

    A multi-animal project gives a multi-animal set (``individuals`` = config.yaml's, coords
    ``(n, n_individuals, n_bodyparts, 2)``; its unique body parts in ``unique_bodyparts`` and each group's
    ``unique`` ``(n, n_unique, 2)``).
    """
    from posenb.io.label_arrays import table_to_arrays
    from posenb.io.labels import read_labels
    from posenb.project.config import project_parts, read_config
    from posenb.project.paths import find_video_for_stem, video_stem

    cfg = read_config(config)
    project = Path(cfg["project_path"])
    parts = project_parts(cfg)
    scorer, bodyparts = cfg["scorer"], list(parts.bodyparts)
    individuals = list(parts.individuals) if parts.multianimal else []
    unique_parts = list(parts.unique_bodyparts) if parts.multianimal else []
    folder = project / "labeled-data"
    order = [video_stem(v) for v in cfg.get("video_sets") or {}]
    others = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    groups = []
    for stem in dict.fromkeys(order + others):
        path = _label_file(project, stem, scorer)
        if path is None:
            continue
        df = read_labels(path)
        arrays = table_to_arrays(df, bodyparts, individuals, unique_parts)
        arr = arrays.points if individuals else arrays.points[:, 0]  # (n, A, K, 2) / (n, K, 2)
        keep = np.isfinite(arr.reshape(len(arr), -1)).any(axis=1)
        keep |= np.isfinite(arrays.unique.reshape(len(arr), -1)).any(axis=1)
        names = [str(i[-1]) for i in df.index[keep]]
        images = [project / "labeled-data" / stem / n for n in names]
        unique = arrays.unique[keep] if unique_parts else None
        groups.append(FrameGroup(stem, names, arr[keep], images, find_video_for_stem(cfg, stem), unique))
    if not groups:
        raise LabelError(
            f"{project} has no labels to export (no labeled-data/<video>/CollectedData_{scorer}.h5)."
        )
    skeleton = [list(b) for b in cfg.get("skeleton") or []]
    if individuals:  # bones to parts that are neither per-animal nor unique are left out
        known = bodyparts + unique_parts
        skeleton = [b for b in skeleton if len(b) == 2 and b[0] in known and b[1] in known]
    return LabelSet(bodyparts, skeleton, groups, scorer, individuals, 0, unique_parts)


def _animal_parts_only(labelset: LabelSet, fmt, target: Path) -> LabelSet:
    """``labelset`` without its unique body parts (and the frames only they label), for a format that has none;
    a warning names the unique parts whose labels are left out."""
    if not labelset.unique_bodyparts:
        return labelset
    labelled = [
        u
        for j, u in enumerate(labelset.unique_bodyparts)
        if any(np.isfinite(g.unique[:, j]).any() for g in labelset.groups)
    ]
    if labelled:
        warnings.warn(
            f"{target}: the unique body parts {labelled} are not exported ({fmt.NAME!r} holds the animals' parts "
            "only); export with format='dlc' to keep them.",
            stacklevel=3,
        )
    groups = []
    for g in labelset.groups:
        keep = np.isfinite(g.coords.reshape(len(g.names), -1)).any(axis=1)
        if keep.any():
            rows = np.flatnonzero(keep)
            groups.append(
                FrameGroup(
                    g.stem, [g.names[i] for i in rows], g.coords[rows], [g.images[i] for i in rows], g.video
                )
            )
    if not groups:
        raise LabelError(f"{target}: the project labels unique body parts only; export with format='dlc'.")
    bones = [b for b in labelset.skeleton if b[0] in labelset.bodyparts and b[1] in labelset.bodyparts]
    return LabelSet(
        labelset.bodyparts, bones, groups, labelset.scorer, labelset.individuals, labelset.n_untracked
    )


def multi_animal_formats() -> list[str]:
    """The formats whose files hold several animals per frame (their module's ``MULTI_ANIMAL``)."""
    from posenb.formats.registry import FORMATS

    return [name for name in FORMATS if getattr(get_format(name), "MULTI_ANIMAL", False)]


def export_labels(
    config: str | os.PathLike, path: str | os.PathLike, format: str | None = None, **options
) -> list[Path]:
    """Write the project's labels in another tool's format; returns the files written.

    ``format``: ``slp`` (``embed=True`` stores the frames in the file), ``nwb``, ``coco`` (JSON + frames copied
    under its folder), ``lightning_pose`` (``CollectedData.csv`` + frames) or ``dlc``; guessed from ``path``'s
    suffix when None. Frames without any label are left out.

    A multi-animal project exports to every format that holds several animals per frame (``slp``, ``coco``,
    ``nwb``, ``dlc``; Lightning Pose holds one and raises :class:`LabelError`): one animal per labeled individual,
    named after it (a SLEAP track, a COCO annotation's ``track_id`` and ``individual``, an NWB skeleton instance's
    name, a DeepLabCut ``individuals`` column), so that :func:`import_labels` gives the same individuals back.
    Unique body parts are written by ``dlc`` (its ``"single"`` individual) and ``slp`` (the track ``"single"``); the
    other formats leave them out with a warning when they hold labels.
    """
    fmt = get_format(format or detect_format(path))
    labelset = project_labelset(config)
    if labelset.individuals and not getattr(fmt, "MULTI_ANIMAL", False):
        raise LabelError(
            f"{config}: a multi-animal project cannot be exported to {path} (format {fmt.NAME!r} holds one animal per "
            f"frame). Export to one of the formats that hold several animals: {multi_animal_formats()}."
        )
    if not getattr(fmt, "UNIQUE_BODYPARTS", False):
        labelset = _animal_parts_only(labelset, fmt, Path(path))
    return fmt.write(labelset, Path(path), **options)
