"""Other tools' label and prediction files: one module per format behind a small registry.

- ``api.py``: :func:`import_labels`, :func:`export_labels`, :func:`export_predictions` (project side: labeled-data,
  config.yaml); nothing outside ``posenb/io`` knows a foreign format.
- ``_model.py``: the in-memory form (``LabelSet`` of ``FrameGroup``\\ s, ``VideoPredictions``) every format reads
  into and writes from; ``_images.py`` writes frames as PNG.
- ``slp.py`` (SLEAP, via sleap-io), ``nwb.py`` (NWB + ndx-pose, via pynwb), ``coco.py`` (COCO keypoints JSON),
  ``lightning_pose.py`` (Lightning Pose CSV), ``dlc.py`` (another DeepLabCut project's label files).

Add a format: a module with ``NAME``, ``SUFFIXES``, ``DESCRIPTION``, ``sniff(path) -> bool``,
``read(path, predictions=False) -> LabelSet``, ``write(labelset, path, **options) -> list[Path]`` and optionally
``write_predictions(video_predictions, target) -> Path``, then one line in :data:`FORMATS`. Optional libraries are
imported inside the functions (``_model.require``), so posenb runs without them.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

from posenb.errors import LabelError

__all__ = ["FORMATS", "ALIASES", "get_format", "detect_format", "import_labels", "export_labels", "export_predictions"]

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
PREDICTION_SUFFIX = {"slp": ".slp", "nwb": ".nwb", "coco": "_coco.json", "lightning_pose": "_lightning_pose.csv"}


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


def __getattr__(name: str):
    if name in ("import_labels", "export_labels", "export_predictions", "ImportReport"):
        from posenb.formats import api

        return getattr(api, name)
    raise AttributeError(f"module 'posenb.formats' has no attribute {name!r}")
