"""Training data: training-set files, targets, augmentation and the torch Dataset.

Files
-----
- ``targets.py``: :func:`make_targets` (score maps, locref maps, masks, joint weights) and :func:`map_size`; numpy.
- ``augment.py``: :func:`build_augmentation` (keypoint-aware scale / rotation / mirror / crop + photometric, one
  ``cv2.warpAffine``), :data:`DEFAULT_AUGMENTATION`, :func:`rescale` / :func:`to_original` (the ``global_scale``
  resize and its inverse, for analysis), :func:`find_symmetric_pairs`.
- ``dataset.py``: :class:`PoseDataset` (dict of tensors per item), :data:`DEFAULT_DATA_PARAMS`,
  :func:`normalize_images` (uint8 RGB -> ImageNet-normalised float tensor), :func:`read_image`.
- ``trainingset.py``: training-set creation (DLC ``create_training_dataset``, ``mergeandsplit``); multi-animal
  projects: ``ma_trainingset.py``. Below both: ``pose_cfg.py`` (the recipe's defaults, ``pose_cfg.yaml``),
  ``splits.py`` (seeded train/test splits), ``trainingset_files.py`` (image sizes, .mat / pickle / metadata.yaml).
- ``label_checks.py``: what ``create_training_dataset`` refuses or warns about (net_type, duplicate rows, missing
  body-part columns, labels outside their image).

Nothing is imported here, so ``import posenb.data`` stays cheap; import the submodule you need, e.g.
``from posenb.data.dataset import PoseDataset``.

Conventions shared with :mod:`posenb.nn`: keypoints are ``(K, 2)`` float x / y in pixels (pixel centres at
integers, NaN = missing); score-map cell ``(i, j)`` is centred at ``(j * stride + stride / 2, i * stride +
stride / 2)``; locref channels are interleaved (``2k`` = dx, ``2k + 1`` = dy) in units of ``locref_stdev``.

Adding an augmentation: add its parameter (with a default) to ``DEFAULT_AUGMENTATION`` and its step to
``Augmentation._geometric`` (it must go through the affine matrix) or ``Augmentation._photometric``.
"""
