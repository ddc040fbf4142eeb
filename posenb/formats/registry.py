"""The format registry: :data:`FORMATS` (name -> module), :data:`ALIASES`, :func:`get_format`, :func:`detect_format`
and the file suffix of exported predictions. ``posenb.formats`` re-exports these names; ``api.py`` imports them
from here (a package's modules import its registry, never the package itself: imports run one way)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from posenb.errors import LabelError

__all__ = ["FORMATS", "ALIASES", "PREDICTION_SUFFIX", "get_format", "detect_format"]

#: format name -> module
FORMATS = {
    "slp": "posenb.formats.slp",
    "nwb": "posenb.formats.nwb",
    "coco": "posenb.formats.coco",
    "lightning_pose": "posenb.formats.lightning_pose",
    "dlc": "posenb.formats.dlc",
}

ALIASES = {
    "sleap": "slp",
    "ndx-pose": "nwb",
    "json": "coco",
    "lp": "lightning_pose",
    "lightning-pose": "lightning_pose",
    "lightningpose": "lightning_pose",
    "deeplabcut": "dlc",
}

#: file suffix of exported predictions, per format (appended to the analysis file's stem)
PREDICTION_SUFFIX = {
    "slp": ".slp",
    "nwb": ".nwb",
    "coco": "_coco.json",
    "lightning_pose": "_lightning_pose.csv",
}


def get_format(name: str) -> ModuleType:
    """The module of format ``name`` (or an alias such as ``sleap``, ``lp``); :class:`LabelError` if unknown."""
    key = ALIASES.get(str(name).lower().lstrip("."), str(name).lower().lstrip("."))
    if key not in FORMATS:
        raise LabelError(f"Unknown label format {name!r}; choose one of {sorted(FORMATS)}.")
    return importlib.import_module(FORMATS[key])


def detect_format(path: str | os.PathLike) -> str:
    """Guess the format of ``path`` from its name (and, for CSV, its header); :class:`LabelError` if unsure."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".slp",):
        return "slp"
    if suffix == ".nwb":
        return "nwb"
    if suffix == ".json":
        return "coco"
    if p.name.startswith("CollectedData_") or suffix in (".h5", ".yaml") or p.is_dir():
        return "dlc"
    if suffix == ".csv":
        return "lightning_pose"
    raise LabelError(
        f"Cannot tell the format of {p} from its name; pass format= one of {sorted(FORMATS)} "
        "(.slp, .nwb, COCO .json, Lightning Pose .csv, DeepLabCut CollectedData_*.h5)."
    )
