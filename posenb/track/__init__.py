"""Multi-animal tracking: per-frame animals -> tracklets -> ``n_tracks`` tracks (DeepLabCut's ``_el.h5``).

A stage between analysis (``posenb.infer``, which writes the per-frame animals file and calls
:func:`track_video` for ``analyze_videos(auto_track=True)``) and post-processing. Layer: imports ``io``,
``project`` and ``post`` only.

- ``tracklets.py``: frame-to-frame association (alpha-beta motion prediction per part, Hungarian assignment with
  a gating distance);
- ``stitch.py``: tracklets -> tracks (a global minimum-cost flow over motion continuity and identities);
- ``files.py``: the ``_tracklets.h5`` (h5py) and the tracked ``_el.h5`` table, and their names;
- ``api.py``: :func:`track_video`, :func:`convert_detections2tracklets`, :func:`stitch_tracklets`;
- ``metrics.py``: tracking quality against ground truth (identity switches, misses, keypoint error);
- ``proofread.py``: :class:`~posenb.track.proofread.TrackEditor` (swap, cut, join, delete, fix points, undo, save)
  and ``load_track_editor``; ``suspicious.py``: the frames to check first; ``training_set.py``: proofread frames
  -> images and human labels in ``labeled-data``. (Imported from their modules: the panel's core.)
"""

from posenb.track.api import (
    TrackResult,
    convert_detections2tracklets,
    find_detections,
    stitch_tracklets,
    track_detections,
    track_video,
)
from posenb.track.metrics import tracking_metrics

__all__ = [
    "TrackResult",
    "convert_detections2tracklets",
    "find_detections",
    "stitch_tracklets",
    "track_detections",
    "track_video",
    "tracking_metrics",
]
