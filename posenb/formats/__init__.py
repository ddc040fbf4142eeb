"""Other tools' label and prediction files: one module per format behind a small registry.

- ``registry.py``: :data:`FORMATS`, :func:`get_format`, :func:`detect_format` (re-exported here).
- ``api.py``: :func:`import_labels`, :func:`export_labels`, :func:`export_predictions` (project side: labeled-data,
  config.yaml); nothing outside ``posenb/io`` knows a foreign format. ``_predictions.py``: ``export_predictions``
  (single-animal analysis files and multi-animal tracked files -> ``VideoPredictions``), re-exported by ``api.py``.
- ``_model.py``: the in-memory form (``LabelSet`` of ``FrameGroup``\\ s, ``VideoPredictions``) every format reads
  into and writes from; ``_images.py`` writes frames as PNG.
- ``slp.py`` (SLEAP, via sleap-io), ``nwb.py`` (NWB + ndx-pose, via pynwb), ``coco.py`` (COCO keypoints JSON),
  ``lightning_pose.py`` (Lightning Pose CSV), ``dlc.py`` (another DeepLabCut project's label files).

Add a format: a module with ``NAME``, ``SUFFIXES``, ``DESCRIPTION``, ``sniff(path) -> bool``,
``read(path, predictions=False) -> LabelSet``, ``write(labelset, path, **options) -> list[Path]`` and optionally
``write_predictions(video_predictions, target) -> Path`` (one animal or several: ``VideoPredictions.animals()``;
a format that holds one animal raises LabelError for ``multianimal`` ones), then one line in :data:`FORMATS`
(``registry.py``). Optional libraries are imported inside the functions (``_model.require``), so posenb runs
without them.
"""

from __future__ import annotations

from posenb.formats.registry import ALIASES, FORMATS, PREDICTION_SUFFIX, detect_format, get_format

__all__ = [
    "FORMATS",
    "ALIASES",
    "PREDICTION_SUFFIX",
    "get_format",
    "detect_format",
    "import_labels",
    "export_labels",
    "export_predictions",
]


def __getattr__(name: str):
    if name in ("import_labels", "export_labels", "export_predictions", "ImportReport"):
        from posenb.formats import api

        return getattr(api, name)
    raise AttributeError(f"module 'posenb.formats' has no attribute {name!r}")
