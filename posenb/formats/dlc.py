"""DeepLabCut label files of another project: ``labeled-data/<stem>/CollectedData_<scorer>.h5`` (or ``.csv``).

``path`` may be one label file, a ``labeled-data/<stem>`` folder, or the other project's ``config.yaml`` (or its
folder: every labeled folder is read). Images are the PNGs next to the label file; the skeleton comes from the
other project's config.yaml when there is one. Export writes the same layout under the destination folder
(``labeled-data/<stem>/CollectedData_<scorer>.h5/.csv`` + images), so another DeepLabCut project can take it.

Multi-animal files (DeepLabCut's 4 column levels scorer/individuals/bodyparts/coords) read as a multi-animal
:class:`LabelSet`: the file's individuals are tracked animals (by name), the parts of its individual ``"single"``
are its ``unique_bodyparts``. A multi-animal export writes the same layout and a config.yaml with
``multianimalproject: true``, ``individuals``, ``multianimalbodyparts`` and ``uniquebodyparts``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

from posenb.errors import LabelError
from posenb.formats._model import FrameGroup, LabelSet

__all__ = ["NAME", "SUFFIXES", "read", "write", "sniff"]

NAME = "dlc"
SUFFIXES = (".h5", ".yaml")
MULTI_ANIMAL = True  # several animals per frame, in and out
UNIQUE_BODYPARTS = True  # a multi-animal file's unique body parts (individual "single")
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


def _read_one(path: Path) -> tuple[list[str], list[str], list[str], FrameGroup]:
    """(body parts, individuals, unique parts, group) of one label file; a multi-animal table (4 column levels)
    gives individuals (its ``individuals`` minus ``"single"``), the group's coords ``(n, A, K, 2)`` and ``unique``
    ``(n, U, 2)``; a single-animal one ``[]``, ``(n, K, 2)``."""
    from posenb.io.label_arrays import (
        UNIQUE_INDIVIDUAL,
        is_multianimal_table,
        table_individuals,
        table_to_arrays,
    )
    from posenb.io.labels import labels_to_array, read_labels

    df = read_labels(path)
    stems = {str(s) for s in df.index.get_level_values(1)} if df.index.nlevels == 3 else {path.parent.name}
    stem = path.parent.name if len(stems) != 1 else stems.pop()
    names = [str(i[-1]) if isinstance(i, tuple) else str(i) for i in df.index]
    images = [path.parent / n if (path.parent / n).is_file() else None for n in names]
    if not is_multianimal_table(df):
        bodyparts = list(dict.fromkeys(df.columns.get_level_values("bodyparts")))
        return bodyparts, [], [], FrameGroup(stem, names, labels_to_array(df, bodyparts), images)
    single = df.columns.get_level_values("individuals") == UNIQUE_INDIVIDUAL
    parts = df.columns.get_level_values("bodyparts")
    bodyparts = list(dict.fromkeys(parts[~single]))
    unique = list(dict.fromkeys(parts[single]))
    individuals = [i for i in table_individuals(df) if i != UNIQUE_INDIVIDUAL]
    if not individuals:  # unique parts only: no animal (DeepLabCut writes its individuals' columns anyway)
        individuals = ["individual1"]
    arrays = table_to_arrays(df, bodyparts, individuals, unique)
    return (
        bodyparts,
        individuals,
        unique,
        FrameGroup(stem, names, arrays.points, images, unique=arrays.unique),
    )


def _union(lists) -> list[str]:
    return list(dict.fromkeys(x for names in lists for x in names))


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read DeepLabCut label file(s) (``predictions`` does not apply: label files hold human labels).

    Multi-animal files (4 column levels) give a multi-animal :class:`LabelSet`: ``individuals`` are the files'
    individuals (tracked, by name), ``unique_bodyparts`` the parts of the individual ``"single"``.
    """
    path = Path(path)
    files = _label_files(path)
    read_ = [_read_one(f) for f in files]
    multi = [bool(ind) for _p, ind, _u, _g in read_]
    if any(multi) and not all(multi):
        single = files[multi.index(False)]
        raise LabelError(
            f"{path}: mixes single-animal ({single}) and multi-animal ({files[multi.index(True)]}) label files; "
            "import them one by one into projects of their kind."
        )
    bodyparts = _union(p for p, _i, _u, _g in read_)
    individuals = _union(i for _p, i, _u, _g in read_)
    unique = _union(u for _p, _i, u, _g in read_)
    out = []
    for parts, inds, uparts, group in read_:  # all groups in one individual and body-part order
        n = len(group.names)
        if any(multi):
            coords = np.full((n, len(individuals), len(bodyparts), 2), np.nan)
            for a, ind in enumerate(inds):
                for j, p in enumerate(parts):
                    coords[:, individuals.index(ind), bodyparts.index(p)] = group.coords[:, a, j]
            group.unique = _reorder(group.unique, uparts, unique)
        else:
            coords = _reorder(group.coords, parts, bodyparts)
        group.coords = coords
        out.append(group)
    cfg = _other_config(files[0].parent)
    known = bodyparts + unique
    skeleton = [list(b) for b in cfg.get("skeleton") or [] if isinstance(b, (list, tuple)) and len(b) == 2]
    skeleton = [b for b in skeleton if b[0] in known and b[1] in known]
    scorer = str(cfg.get("scorer") or "posenb")
    return LabelSet(bodyparts, skeleton, out, scorer, individuals, 0, unique)


def _reorder(arr: np.ndarray, names: list[str], order: list[str]) -> np.ndarray:
    """``arr`` ``(n, len(names), 2)`` in the part order ``order`` (NaN for parts it lacks)."""
    out = np.full((len(arr), len(order), 2), np.nan)
    for j, name in enumerate(names):
        out[:, order.index(name)] = arr[:, j]
    return out


def _write_config(root: Path, labelset: LabelSet) -> Path | None:
    """A DeepLabCut config.yaml naming the body parts and skeleton (and for a multi-animal ``labelset`` the
    individuals, ``multianimalbodyparts`` and ``uniquebodyparts``), unless ``root`` already has one."""
    import copy

    from posenb.project.config import DEFAULT_CONFIG, MULTIANIMAL_TEMPLATE, write_config
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
    if labelset.individuals:
        cfg.update(copy.deepcopy(MULTIANIMAL_TEMPLATE))
        cfg.update(
            individuals=list(labelset.individuals),
            multianimalbodyparts=list(labelset.bodyparts),
            uniquebodyparts=list(labelset.unique_bodyparts),
            skeleton=[list(b) for b in labelset.skeleton],
        )
    return write_config(target, cfg)


def _table(labelset: LabelSet, g: FrameGroup):
    from posenb.io.label_arrays import arrays_to_table
    from posenb.io.labels import array_to_labels

    index = [("labeled-data", g.stem, n) for n in g.names]
    if not labelset.individuals:
        return array_to_labels(g.coords, labelset.scorer, labelset.bodyparts, index)
    return arrays_to_table(
        g.coords,
        labelset.scorer,
        labelset.bodyparts,
        index,
        labelset.individuals,
        g.unique,
        labelset.unique_bodyparts,
        multianimal=True,
    )


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write ``<path>/labeled-data/<stem>/CollectedData_<scorer>.h5/.csv``, copy the frames (PNG), and write a
    ``<path>/config.yaml`` with the body parts and skeleton when ``path`` has none (label files carry no skeleton).

    A multi-animal ``labelset`` gives DeepLabCut's multi-animal layout: 4 column levels (scorer, individuals,
    bodyparts, coords; the unique body parts under the individual ``"single"``) and a config.yaml with
    ``multianimalproject: true``, ``individuals``, ``multianimalbodyparts`` and ``uniquebodyparts``.
    """
    from posenb.formats._images import write_frame_images
    from posenb.io.labels import write_labels

    root = Path(path)
    written = []
    for g in labelset.groups:
        folder = root / "labeled-data" / g.stem
        write_frame_images(folder, g.names, g.images)
        written.append(write_labels(_table(labelset, g), folder / f"CollectedData_{labelset.scorer}.h5"))
    _write_config(root, labelset)
    return written
