"""Where a project stands: videos, extracted and labeled frames, training sets, snapshots, analyzed videos.

:func:`project_status` only looks at files (nothing is decoded or loaded into a network), so it is quick enough
for a dashboard to call on every refresh; :func:`format_status` renders it as plain text for scripts and the CLI.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "VideoStatus",
    "FolderStatus",
    "TrainingSetStatus",
    "ModelStatus",
    "ProjectStatus",
    "project_status",
    "format_status",
]


@dataclass
class VideoStatus:
    """One ``video_sets`` entry: ``path`` as in config.yaml, ``found`` the file on disk (None if missing),
    ``crop`` its crop string, ``analyzed`` / ``filtered`` the prediction files next to it or in ``videos/``."""

    path: str
    stem: str
    found: str | None
    crop: str | None
    analyzed: list[str] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)


@dataclass
class FolderStatus:
    """One ``labeled-data/<stem>`` folder: ``n_images`` image files, ``n_labeled`` images with at least one
    label in ``CollectedData_<scorer>``, ``label_file`` its name (None if absent), ``other_scorers`` label
    files of other scorers, ``has_check`` whether ``<stem>_labeled`` exists."""

    stem: str
    n_images: int
    n_labeled: int
    label_file: str | None
    other_scorers: list[str] = field(default_factory=list)
    has_check: bool = False
    error: str | None = None


@dataclass
class TrainingSetStatus:
    """A split file of ``training-datasets/iteration-N/UnaugmentedDataSet_*``: iteration, fraction percent, shuffle."""

    iteration: int
    train_pct: int
    shuffle: int
    folder: str


@dataclass
class ModelStatus:
    """A model folder (``dlc-models*/iteration-N/<Task><date>-trainset<pct>shuffle<k>``) and its snapshots."""

    iteration: int
    train_pct: int
    shuffle: int
    folder: str
    snapshots: list[int] = field(default_factory=list)
    evaluated: bool = False


@dataclass
class ProjectStatus:
    """Everything :func:`project_status` found; ``next_step`` is a one-line suggestion."""

    project_path: str
    task: str
    scorer: str
    iteration: int
    bodyparts: list[str]
    videos: list[VideoStatus]
    folders: list[FolderStatus]
    training_sets: list[TrainingSetStatus]
    models: list[ModelStatus]
    next_step: str = ""
    #: multi-animal projects: the individuals (empty for single-animal ones); ``bodyparts`` then lists the
    #: parts of every individual followed by the unique ones
    individuals: list[str] = field(default_factory=list)

    @property
    def n_images(self) -> int:
        return sum(f.n_images for f in self.folders)

    @property
    def n_labeled(self) -> int:
        return sum(f.n_labeled for f in self.folders)


def _count_labeled(path: Path) -> tuple[int, str | None]:
    from posenb.errors import LabelError
    from posenb.io.labels import read_labels

    try:
        df = read_labels(path)
    except LabelError as exc:
        return 0, str(exc)
    values = df.to_numpy(dtype=float)
    return int(np.sum(np.any(~np.isnan(values), axis=1))) if values.size else 0, None


def _folder_status(folder: Path, scorer: str) -> FolderStatus:
    from posenb.io.label_folder import list_images  # noqa: PLC0415

    images = list_images(folder)
    h5 = folder / f"CollectedData_{scorer}.h5"
    csv = h5.with_suffix(".csv")
    label_file = h5 if h5.is_file() else (csv if csv.is_file() else None)
    n_labeled, error = _count_labeled(label_file) if label_file else (0, None)
    others = sorted(
        {
            p.stem[len("CollectedData_") :]
            for p in folder.glob("CollectedData_*")
            if p.suffix in (".h5", ".csv")
        }
        - {scorer}
    )
    has_check = (folder.parent / f"{folder.name}_labeled").is_dir()
    return FolderStatus(
        folder.name, len(images), n_labeled, label_file.name if label_file else None, others, has_check, error
    )


def _prediction_files(cfg: dict, video: Path | None, stem: str) -> tuple[list[str], list[str]]:
    dirs = {Path(cfg["project_path"]) / "videos"}
    if video is not None:
        dirs.add(video.parent)
        try:
            dirs.add(video.resolve().parent)
        except OSError:
            pass
    analyzed, filtered = set(), set()
    for d in dirs:
        if not d.is_dir():
            continue
        for f in d.glob(f"{glob_escape(stem)}DLC*.h5"):
            name = f.name
            if "_meta" in name or "skeleton" in name:
                continue
            (filtered if "_filtered" in name else analyzed).add(name)
    return sorted(analyzed), sorted(filtered)


def glob_escape(text: str) -> str:
    """Escape glob special characters in a file-name fragment."""
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def _iteration_of(path: Path) -> int:
    for part in path.parts:
        if part.startswith("iteration-") and part[10:].isdigit():
            return int(part[10:])
    return -1


def project_status(config: str | os.PathLike | dict) -> ProjectStatus:
    """Scan a project's files (config path or an already read config dict) and summarise them."""
    from posenb.io.label_folder import list_label_folders
    from posenb.project.config import project_parts, read_config
    from posenb.project.paths import (
        parse_model_folder,
        parse_training_set_file,
        resolve_video,
        snapshot_number,
        video_stem,
    )

    cfg = config if isinstance(config, dict) else read_config(config)
    project = Path(cfg["project_path"])
    scorer = str(cfg["scorer"])

    videos = []
    for video, entry in (cfg.get("video_sets") or {}).items():
        stem = video_stem(video)
        found = resolve_video(cfg, video)
        analyzed, filtered = _prediction_files(cfg, found, stem)
        crop = entry.get("crop") if isinstance(entry, dict) else None
        videos.append(VideoStatus(str(video), stem, str(found) if found else None, crop, analyzed, filtered))

    folders = [
        _folder_status(project / "labeled-data" / name, scorer) for name in list_label_folders(project)
    ]

    training_sets = []
    for f in sorted(
        (project / "training-datasets").glob("iteration-*/UnaugmentedDataSet_*/Documentation_data-*.pickle")
    ):
        m = parse_training_set_file(f.name)
        if m:
            training_sets.append(
                TrainingSetStatus(_iteration_of(f), m[1], m[2], str(f.parent.relative_to(project)))
            )

    models = []
    for root in sorted(project.glob("dlc-models*")):
        for folder in sorted(root.glob("iteration-*/*")):
            m = parse_model_folder(folder.name)
            if not (folder.is_dir() and m):
                continue
            snaps = set()
            train = folder / "train"
            if train.is_dir():
                numbers = (snapshot_number(s.name, any_file=True) for s in train.iterdir())
                snaps = {n for n in numbers if n is not None}
            it = _iteration_of(folder)
            eval_root = "evaluation-results" + root.name[len("dlc-models") :]
            evaluated = any((project / eval_root / f"iteration-{it}" / folder.name).glob("*.csv"))
            models.append(
                ModelStatus(
                    it,
                    m[0],
                    m[1],
                    str(folder.relative_to(project)),
                    sorted(snaps),
                    evaluated,
                )
            )

    parts = project_parts(cfg)
    status = ProjectStatus(
        str(project),
        str(cfg.get("Task")),
        scorer,
        int(cfg.get("iteration") or 0),
        parts.all_bodyparts,
        videos,
        folders,
        training_sets,
        models,
        individuals=list(parts.individuals),
    )
    status.next_step = _next_step(status)
    return status


#: the video_sets key of DeepLabCut's bundled demo projects (posenb.demo.demo_data.PLACEHOLDER)
DEMO_PLACEHOLDER = "WILL BE AUTOMATICALLY UPDATED BY DEMO CODE"


def _next_step(s: ProjectStatus) -> str:
    if not s.videos:
        return "Add videos (add_new_videos)."
    if any(v.path == DEMO_PLACEHOLDER for v in s.videos):
        return "This is one of DeepLabCut's demo projects: run load_demo_data(config) to point video_sets at its video."
    if any(v.found is None for v in s.videos):
        return "Some videos listed in config.yaml are missing on disk: restore them or remove them from video_sets."
    if s.n_images == 0:
        return "Extract frames to label (extract_frames)."
    if s.n_labeled == 0:
        return "Label the extracted frames (label_frames)."
    if not s.training_sets:
        return "Check the labels (check_labels), then create a training set (create_training_dataset)."
    if not any(m.snapshots for m in s.models):
        return "Train the network (train_network)."
    if not any(v.analyzed for v in s.videos):
        return "Evaluate the network (evaluate_network) and analyze videos (analyze_videos)."
    return "Review the trajectories; extract outlier frames to refine the labels if needed."


def format_status(s: ProjectStatus) -> str:
    """Plain-text summary of a :class:`ProjectStatus`."""
    lines = [f"Project {s.task} (scorer {s.scorer}, iteration {s.iteration}) at {s.project_path}"]
    lines.append(f"Body parts: {', '.join(s.bodyparts)}")
    if s.individuals:
        lines.append(f"Individuals: {', '.join(s.individuals)}")
    lines.append(f"Videos ({len(s.videos)}):")
    for v in s.videos:
        state = "ok" if v.found else "MISSING"
        extra = f", {len(v.analyzed)} analysis file(s)" if v.analyzed else ""
        extra += f", {len(v.filtered)} filtered" if v.filtered else ""
        lines.append(f"  {v.stem}: {state}, crop {v.crop}{extra}")
    lines.append(f"Labeled data: {s.n_labeled} of {s.n_images} frames labeled")
    for f in s.folders:
        other = f" (other scorers: {', '.join(f.other_scorers)})" if f.other_scorers else ""
        err = f" [error: {f.error}]" if f.error else ""
        lines.append(f"  {f.stem}: {f.n_labeled}/{f.n_images}{other}{err}")
    lines.append(f"Training sets: {len(s.training_sets)}")
    for t in s.training_sets:
        lines.append(f"  iteration {t.iteration}: trainset {t.train_pct}% shuffle {t.shuffle}")
    lines.append(f"Models: {len(s.models)}")
    for m in s.models:
        last = f"last snapshot {m.snapshots[-1]}" if m.snapshots else "no snapshot"
        lines.append(
            f"  {m.folder}: {len(m.snapshots)} snapshot(s), {last}{', evaluated' if m.evaluated else ''}"
        )
    lines.append(f"Next: {s.next_step}")
    return "\n".join(lines)
