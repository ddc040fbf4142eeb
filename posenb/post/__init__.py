"""After labeling and analysis: checking, filtering, plotting and refining.

- ``filtering.py``: ``filterpredictions`` (median, ARIMA, spline) writing ``<stem><scorer>_filtered.h5``.
- ``plotting.py``: ``plot_trajectories`` into ``plot-poses/<stem>/``.
- ``labeled_video.py``: ``create_labeled_video`` (``<stem><scorer>_labeled.mp4``).
- ``skeleton.py``: ``analyzeskeleton`` (bone lengths and orientations, ``_skeleton.h5``).
- ``refine.py``: ``merge_datasets`` and the refinement core behind the RefinementEditor panel.
- ``convert.py``: ``analyze_videos_converth5_to_csv`` (prediction ``.h5`` -> ``.csv`` next to them).
- ``check_labels.py``: ``check_labels`` (labels drawn into ``labeled-data/<stem>_labeled/``).
- ``_multi.py``: multi-animal tracked files (``<stem><DLCscorer>_el.h5``): reading, per-individual arrays, DLC's
  ``track_method`` rule; ``individuals_drawing.py``: colours by individual, skeleton per animal, identity labels.
"""
