"""The per-frame animals file (``<stem><DLCscorer>_detections.h5``) as tracking reads it.

Layout (docs: the multi-animal conventions; h5py, no pandas, no pickle):

- ``poses`` float32 ``(T, A, P, 3)``: x, y (video pixels), likelihood; NaN where no animal;
- ``scores`` float32 ``(T, A)``: animal score, NaN where none; animals sorted by score in each frame;
- ``identity`` float32 ``(T, A, n_individuals)``: only when the model predicts identity (softmax);
- ``unique`` float32 ``(T, U, 3)``: only with unique body parts;
- attrs ``format="posenb-detections"``, ``version=1``, ``bodyparts``, ``uniquebodyparts``, ``individuals``,
  ``scorer``, ``video``, ``nframes``, ``fps``, ``crop``.

:func:`read_detections` uses ``posenb.io.detections.read_detections`` when the analysis layer provides it,
else the small reader here (same layout). :func:`write_detections` (tests, benchmarks, tools that make such
files) writes the layout in one go, atomically.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

import h5py
import numpy as np

from posenb.errors import LabelError
from posenb.io.atomic import atomic_write

__all__ = ["read_detections", "write_detections", "FORMAT", "VERSION"]

FORMAT = "posenb-detections"
VERSION = 1
_LIST_ATTRS = ("bodyparts", "uniquebodyparts", "individuals")


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _own_reader(path: Path) -> dict:
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise LabelError(f"{path}: not a readable HDF5 file ({exc}). Run analyze_videos again.") from None
    with handle:
        attrs = handle.attrs
        if _text(attrs.get("format", "")) != FORMAT or "poses" not in handle:
            raise LabelError(f"{path}: not a posenb per-frame animals file (format {FORMAT!r} with 'poses').")
        out: dict = {"poses": np.asarray(handle["poses"][()], dtype="float32")}
        if out["poses"].ndim != 4 or out["poses"].shape[-1] != 3:
            raise LabelError(
                f"{path}: 'poses' has shape {out['poses'].shape}, expected (frames, animals, parts, 3)."
            )
        for name in ("scores", "identity", "unique"):
            out[name] = np.asarray(handle[name][()], dtype="float32") if name in handle else None
        for key in _LIST_ATTRS:
            out[key] = [_text(v) for v in np.atleast_1d(attrs.get(key, []))]
        for key in ("scorer", "video"):
            out[key] = _text(attrs.get(key, ""))
        out["nframes"] = int(attrs.get("nframes", out["poses"].shape[0]))
        out["fps"] = float(attrs.get("fps", 0.0) or 0.0)
        out["crop"] = [int(v) for v in np.atleast_1d(attrs.get("crop", []))]
        out["version"] = int(attrs.get("version", VERSION))
    return out


def read_detections(path: str | os.PathLike) -> dict:
    """The per-frame animals file as a dict of arrays and attributes (see the module docstring).

    Keys: ``poses`` (T, A, P, 3), ``scores`` (T, A) or None, ``identity`` (T, A, n_individuals) or None,
    ``unique`` (T, U, 3) or None, and the attributes (``bodyparts``, ``uniquebodyparts``, ``individuals`` as
    lists of str, ``scorer``, ``video``, ``nframes``, ``fps``, ``crop``). Raises :class:`LabelError` naming the
    file when it is missing or is not such a file.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(
            f"Per-frame animals file not found: {path}. Run analyze_videos on a multi-animal project first."
        )
    try:
        shared = importlib.import_module("posenb.io.detections")
    except ImportError:
        shared = None
    if shared is not None and hasattr(shared, "read_detections"):
        data = dict(shared.read_detections(path))
        for key in ("scores", "identity", "unique"):
            data.setdefault(key, None)
        return data
    return _own_reader(path)


def write_detections(
    path: str | os.PathLike,
    poses: np.ndarray,
    bodyparts,
    individuals,
    scores: np.ndarray | None = None,
    identity: np.ndarray | None = None,
    unique: np.ndarray | None = None,
    uniquebodyparts=(),
    scorer: str = "",
    video: str = "",
    fps: float = 0.0,
    crop=(),
    backup: bool = True,
) -> Path:
    """Write a per-frame animals file in one go (atomically; the previous file kept as ``.bak``).

    ``poses`` (T, A, P, 3); ``scores`` (T, A) (default: the mean likelihood of each animal); ``identity``
    (T, A, n_individuals) and ``unique`` (T, U, 3) are written only when given.
    """
    poses = np.asarray(poses, dtype="float32")
    if poses.ndim != 4 or poses.shape[-1] != 3 or poses.shape[2] != len(bodyparts):
        raise ValueError(
            f"poses of shape {poses.shape} do not match (frames, animals, {len(bodyparts)} parts, 3)"
        )
    if scores is None:
        with warnings.catch_warnings():  # an animal with no part gets a NaN score, as the layout says
            warnings.simplefilter("ignore", RuntimeWarning)
            scores = np.nanmean(poses[..., 2], axis=2)

    def _write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as handle:
            handle.create_dataset("poses", data=poses, chunks=True, maxshape=(None,) + poses.shape[1:])
            handle.create_dataset("scores", data=np.asarray(scores, dtype="float32"))
            if identity is not None:
                handle.create_dataset("identity", data=np.asarray(identity, dtype="float32"))
            if unique is not None:
                handle.create_dataset("unique", data=np.asarray(unique, dtype="float32"))
            attrs = handle.attrs
            attrs["format"], attrs["version"] = FORMAT, VERSION
            attrs["bodyparts"] = [str(b) for b in bodyparts]
            attrs["uniquebodyparts"] = [str(b) for b in uniquebodyparts]
            attrs["individuals"] = [str(i) for i in individuals]
            attrs["scorer"], attrs["video"] = str(scorer), str(video)
            attrs["nframes"], attrs["fps"] = int(poses.shape[0]), float(fps)
            attrs["crop"] = np.asarray(list(crop), dtype="int64")

    return atomic_write(Path(path), _write, backup=backup)
