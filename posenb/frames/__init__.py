"""Frame selection and extraction: which frames of a video get labeled.

- ``select.py``: the choosers, pure functions of frame counts or thumbnails: :func:`uniform_indices` (DLC's
  "uniform", a random sample), :func:`load_thumbnails` (small grayscale/colour thumbnails decoded at reduced
  size, sequentially) and :func:`select_kmeans` (one representative frame per k-means cluster).
- ``extract.py``: :func:`extract_frames` (DeepLabCut's function): picks frames per video of ``video_sets`` and
  writes them as ``labeled-data/<stem>/img<index>.png``, never touching frames that already exist.
- ``outliers.py``: ``extract_outlier_frames`` (frames where predictions jump, are uncertain or fit badly); reuses
  :func:`load_thumbnails` / :func:`select_kmeans` for its k-means step.

To add a selection algorithm: write a function ``(n_frames or thumbnails, n_pick, rng, ...) -> sorted indices``
in ``select.py`` and add a branch for its ``algo`` name in ``extract.py``'s ``_pick_frames``.
"""

from posenb.frames.select import frame_range, load_thumbnails, select_kmeans, uniform_indices

__all__ = ["frame_range", "uniform_indices", "load_thumbnails", "select_kmeans"]
