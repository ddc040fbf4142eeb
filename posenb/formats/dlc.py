"""DeepLabCut label files of another project: ``labeled-data/<stem>/CollectedData_<scorer>.h5`` (or ``.csv``).

``path`` may be one label file, a ``labeled-data/<stem>`` folder, or the other project's ``config.yaml`` (or its
folder: every labeled folder is read). Images are the PNGs next to the label file; the skeleton comes from the
other project's config.yaml when there is one. Export writes the same layout under the destination folder
(``labeled-data/<stem>/CollectedData_<scorer>.h5/.csv`` + images), so another DeepLabCut project can take it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

from posenb.errors import LabelError
from posenb.formats._model import FrameGroup, LabelSet, multi_animal_error

__all__ = ["NAME", "SUFFIXES", "read", "write", "sniff"]

NAME = "dlc"
SUFFIXES = (".h5", ".yaml")
DESCRIPTION = "DeepLabCut labels (CollectedData_<scorer>.h5/.csv, a labeled-data folder or a config.yaml)"


def sniff(path: Path) -> bool:
    if path.is_dir():
        return (
            (path / "config.yaml").is_file()
            or any(path.glob("CollectedData_*.h5"))
            or any(path.glob("CollectedData_*.csv"))
        )
    return path.name.startswith("CollectedData_") or path.name == "config.yaml"


def _other_config(start: Path) -> dict:
    for folder in (start, *start.parents[:3]):
        cfg = folder / "config.yaml"
        if cfg.is_file():
            try:
                data = yaml.safe_load(cfg.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError, OSError):
                return {}
            return data if isinstance(data, dict) else {}
    return {}


def _label_files(path: Path) -> list[Path]:
    if path.is_file() and path.name == "config.yaml":
        path = path.parent
    if path.is_dir():
        if (path / "labeled-data").is_dir():
            from posenb.io.label_folder import list_label_folders  # noqa: PLC0415

            folders = [path / "labeled-data" / name for name in list_label_folders(path)]
        else:
            folders = [path]
        files = []
        for folder in folders:
            hits = sorted(folder.glob("CollectedData_*.h5")) or sorted(folder.glob("CollectedData_*.csv"))
            files += hits[:1]
        if not files:
            raise LabelError(f"{path}: no CollectedData_<scorer>.h5 or .csv found.")
        return files
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    return [path]


def _read_one(path: Path) -> tuple[list[str], FrameGroup]:
    from posenb.io.labels import labels_to_array, read_labels

    try:
        df = read_labels(path)
    except LabelError as exc:
        if "multi-animal" in str(exc).lower():
            raise multi_animal_error(
                path, "this DeepLabCut file has an 'individuals' level (several animals)"
            ) from None
        raise
    # read_labels reads multi-animal tables; importing them is not done yet
    if "individuals" in df.columns.names:
        raise multi_animal_error(path, "this DeepLabCut file has an 'individuals' level (several animals)")
    bodyparts = list(dict.fromkeys(df.columns.get_level_values("bodyparts")))
    stems = {str(s) for s in df.index.get_level_values(1)} if df.index.nlevels == 3 else {path.parent.name}
    stem = path.parent.name if len(stems) != 1 else stems.pop()
    names = [str(i[-1]) if isinstance(i, tuple) else str(i) for i in df.index]
    images = [path.parent / n if (path.parent / n).is_file() else None for n in names]
    return bodyparts, FrameGroup(stem, names, labels_to_array(df, bodyparts), images)


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read DeepLabCut label file(s) (``predictions`` does not apply: label files hold human labels)."""
    path = Path(path)
    files = _label_files(path)
    bodyparts: list[str] = []
    groups = []
    for f in files:
        parts, group = _read_one(f)
        if bodyparts and parts != bodyparts:
            if set(parts) - set(bodyparts):
                bodyparts += [p for p in parts if p not in bodyparts]
        elif not bodyparts:
            bodyparts = parts
        groups.append((parts, group))
    out = []
    for parts, group in groups:  # all groups in one body-part order
        coords = np.full((len(group.names), len(bodyparts), 2), np.nan)
        for j, p in enumerate(parts):
            coords[:, bodyparts.index(p)] = group.coords[:, j]
        group.coords = coords
        out.append(group)
    cfg = _other_config(files[0].parent)
    skeleton = [list(b) for b in cfg.get("skeleton") or [] if isinstance(b, (list, tuple)) and len(b) == 2]
    skeleton = [b for b in skeleton if b[0] in bodyparts and b[1] in bodyparts]
    scorer = str(cfg.get("scorer") or "posenb")
    return LabelSet(bodyparts, skeleton, out, scorer)


def _write_config(root: Path, labelset: LabelSet) -> Path | None:
    """A DeepLabCut config.yaml naming the body parts and skeleton, unless ``root`` already has one."""
    import copy

    from posenb.project.config import DEFAULT_CONFIG, write_config
    from posenb.project.paths import project_date

    target = root / "config.yaml"
    if target.exists():
        return None
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(
        Task=root.name.split("-")[0] or "exported",
        scorer=labelset.scorer,
        date=project_date(),
        project_path=str(root.resolve()),
        video_sets={},
        bodyparts=list(labelset.bodyparts),
        skeleton=[list(b) for b in labelset.skeleton],
    )
    return write_config(target, cfg)


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write ``<path>/labeled-data/<stem>/CollectedData_<scorer>.h5/.csv``, copy the frames (PNG), and write a
    ``<path>/config.yaml`` with the body parts and skeleton when ``path`` has none (label files carry no skeleton)."""
    from posenb.formats._images import write_frame_images
    from posenb.io.labels import array_to_labels, write_labels

    root = Path(path)
    scorer = labelset.scorer
    written = []
    for g in labelset.groups:
        folder = root / "labeled-data" / g.stem
        write_frame_images(folder, g.names, g.images)
        index = [("labeled-data", g.stem, n) for n in g.names]
        df = array_to_labels(g.coords, scorer, labelset.bodyparts, index)
        written.append(write_labels(df, folder / f"CollectedData_{scorer}.h5"))
    _write_config(root, labelset)
    return written
