"""Other tools' label and prediction files: one module per format behind a small registry.

- ``registry.py``: :data:`FORMATS`, :func:`get_format`, :func:`detect_format` (re-exported here).
- ``api.py``: :func:`import_labels`, :func:`export_labels`, :func:`export_predictions` (project side: labeled-data,
  config.yaml); nothing outside ``posenb/io`` knows a foreign format. ``_predictions.py``: ``export_predictions``
  (single-animal analysis files and multi-animal tracked files -> ``VideoPredictions``), re-exported by ``api.py``.
- ``_model.py``: the in-memory form (``LabelSet`` of ``FrameGroup``\\ s, ``VideoPredictions``) every format reads
  into and writes from; ``_images.py`` writes frames as PNG; ``_plan.py`` decides config.yaml's parts (and
  individuals) for an import; ``_animals.py`` puts a file's animals into a project's ``individuals``.
- Several animals per frame: a multi-animal ``LabelSet`` (``individuals``: the file's tracked animals by name,
  then ``n_untracked`` slots; coords ``(n_frames, n_slots, n_bodyparts, 2)``; DeepLabCut's unique body parts in
  ``unique_bodyparts``) is read from and written to ``slp`` (tracks), ``coco`` (``track_id`` / ``individual``),
  ``nwb`` (skeleton instance names) and ``dlc`` (``individuals`` columns); Lightning Pose holds one animal.
- ``slp.py`` (SLEAP, via sleap-io), ``nwb.py`` (NWB + ndx-pose, via pynwb), ``coco.py`` (COCO keypoints JSON),
  ``lightning_pose.py`` (Lightning Pose CSV), ``dlc.py`` (another DeepLabCut project's label files).

Add a format: a module with ``NAME``, ``SUFFIXES``, ``DESCRIPTION``, ``sniff(path) -> bool``,
``read(path, predictions=False) -> LabelSet``, ``write(labelset, path, **options) -> list[Path]`` and optionally
``write_predictions(video_predictions, target) -> Path`` (one animal or several: ``VideoPredictions.animals()``;
a format that holds one animal raises LabelError for ``multianimal`` ones), then one line in :data:`FORMATS`
(``registry.py``). A format that holds several animals per frame sets ``MULTI_ANIMAL = True`` (its ``read`` may
return a multi-animal ``LabelSet``, and ``export_labels`` gives its ``write`` one for a multi-animal project);
``UNIQUE_BODYPARTS = True`` if it also writes unique body parts. Optional libraries are imported inside the functions
(``_model.require``), so posenb runs without them.
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
