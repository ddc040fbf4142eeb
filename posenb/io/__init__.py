"""Files in and out: the ground floor (imports nothing of posenb but ``posenb.errors``; docs/ARCHITECTURE.md).

- ``atomic.py``: temp-file + rename writes that keep a ``.bak`` of the previous version.
- ``video.py``: ``open_video`` (decord, OpenCV fallback; add a backend to ``READERS``), ``VideoWriter`` (H.264).
- ``labels.py``: ``read_labels`` / ``write_labels`` for ``CollectedData_<scorer>.h5/.csv`` (3 or 4 column levels).
- ``label_arrays.py``: label tables <-> arrays ``(n, n_individuals, n_bodyparts, 2)`` + unique ``(n, n_unique, 2)``.
- ``label_folder.py``: ``LabelFolder``, the one model of a ``labeled-data/<stem>`` folder's labels (labeler, refiner,
  outliers, check_labels); given the parts by its caller (``project_parts(cfg)``), as io imports nothing above it.
- ``machinelabels.py``: ``machinelabels-iter<N>.h5`` (+ ``machinelabels.csv``): find, read, append.
- ``predictions.py``: ``read_predictions`` / ``write_predictions`` and ``_meta.pickle`` for analysis output.
- ``hdf.py``: ``write_hdf``, the one writer of DeepLabCut's ``.h5`` tables (readable by pandas 2, DLC 3.0's).
- ``safe_hdf5.py``: ``read_hdf_table``: every HDF5 table is checked with h5py before pandas reads it (no pickle runs).
- ``safe_pickle.py``: the restricted unpickler (builtins and numpy arrays; DeepLabCut 3's paths and enums as plain data).
- ``new_files.py``: ``NewFiles``, removes what a failed multi-file write created.
- ``prompt.py``: ``ask_yes_no``, the one yes/no question of the core (never hangs without a terminal).

DeepLabCut's label-file helpers that work on a project (``convertcsv2h5``, ...) are ``posenb.project.label_tools``;
other tools' files (SLEAP, NWB, COCO, Lightning Pose), which fill a project, are ``posenb.formats``.
"""
