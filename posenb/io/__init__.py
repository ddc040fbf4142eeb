"""Files in and out.

- ``atomic.py``: temp-file + rename writes that keep a ``.bak`` of the previous version.
- ``video.py``: ``open_video`` (decord, OpenCV fallback; add a backend to ``READERS``), ``VideoWriter`` (H.264).
- ``labels.py``: ``read_labels`` / ``write_labels`` for ``CollectedData_<scorer>.h5/.csv``.
- ``predictions.py``: ``read_predictions`` / ``write_predictions`` and ``_meta.pickle`` for analysis output.
- ``hdf.py``: ``write_hdf``, the one writer of DeepLabCut's ``.h5`` tables (readable by pandas 2, DLC 3.0's).
- ``label_tools.py``: DeepLabCut's label-file helpers (``convertcsv2h5``, ``dropduplicatesinannotatinfiles``, ...).
"""
