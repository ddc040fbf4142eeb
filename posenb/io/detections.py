"""The per-frame animals file of a multi-animal analysis: ``<video stem><DLCscorer>_detections.h5``.

Written by ``analyze_videos`` on a multi-animal project before tracking (``../notes/MA_SPEC.md``), with h5py
only (no pandas, no pickle). Layout (``T`` frames, ``A`` animal slots, ``P`` body parts, ``U`` unique parts):

- ``poses`` float32 ``(T, A, P, 3)``: x, y in original video pixels (crop offset added), likelihood; NaN in
  slots without an animal;
- ``scores`` float32 ``(T, A)``: the animal's score, NaN where none; in each frame the animals are sorted by
  score, best first;
- ``identity`` float32 ``(T, A, n_individuals)``: softmax over the config's individuals, only when the model
  predicts identity;
- ``unique`` float32 ``(T, U, 3)``: the unique (scene) body parts, only when the project has some;
- attributes ``format="posenb-detections"``, ``version=1``, ``bodyparts``, ``uniquebodyparts``,
  ``individuals``, ``scorer``, ``video`` (path), ``nframes``, ``fps``, ``crop`` (``x1, x2, y1, y2`` or empty).

:class:`DetectionsWriter` streams: the datasets are chunked and resizable, batches are appended as they come,
so memory stays flat whatever the video length. The file is written under a temporary name and renamed into
place only by :meth:`DetectionsWriter.close` (:mod:`posenb.io.atomic`; the previous file is kept as ``.bak``):
a run killed midway leaves the previous file, never a partial one. :func:`read_detections` is the reader
(h5py, never unpickles; links to other files are refused; a wrong or damaged file raises
:class:`~posenb.errors.LabelError` naming it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import LabelError

__all__ = [
    "DetectionsWriter",
    "write_detections",
    "read_detections",
    "detections_status",
    "FORMAT",
    "VERSION",
]

FORMAT = "posenb-detections"
VERSION = 1
#: frames per HDF5 chunk (a chunk of 2 animals x 13 parts x 3 floats x 256 frames is 80 kB)
CHUNK_FRAMES = 256
_LIST_ATTRS = ("bodyparts", "uniquebodyparts", "individuals")


def _str_list(values) -> list[str]:
    return [str(v) for v in (values or ())]


class DetectionsWriter:
    """Stream the per-frame animals of one video into ``path`` (see the module docstring for the layout).

    Parameters
    ----------
    path : the final ``..._detections.h5``; nothing appears there before :meth:`close`.
    bodyparts : the ``P`` multi-animal body parts; ``uniquebodyparts``: the ``U`` unique ones (may be empty).
    individuals : config individuals (``n_individuals`` for ``identity``).
    max_animals : ``A``, animal slots per frame.
    identity : whether an ``identity`` dataset is written (then every :meth:`append` passes one).
    scorer, video, fps, crop : stored as attributes; ``nframes``: the video's frame count: :meth:`close` pads
        the datasets with NaN up to it when fewer frames were appended (undecodable tail).

    Use as a context manager: leaving the block normally commits the file, an exception discards it.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        bodyparts: Sequence[str],
        individuals: Sequence[str],
        max_animals: int,
        uniquebodyparts: Sequence[str] = (),
        identity: bool = False,
        scorer: str = "",
        video: str | os.PathLike = "",
        nframes: int = 0,
        fps: float = 0.0,
        crop: Sequence[int] | None = None,
    ):
        import h5py  # noqa: PLC0415

        from posenb.io.atomic import temp_path  # noqa: PLC0415

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.n_parts, self.n_unique = len(bodyparts), len(uniquebodyparts)
        self.n_animals, self.n_individuals = int(max_animals), len(individuals)
        self.identity = bool(identity)
        self.nframes = int(nframes)
        self.n_written = 0
        self._tmp = temp_path(self.path)
        self._file = h5py.File(self._tmp, "w")
        f = self._file
        f.attrs.update(
            format=FORMAT, version=VERSION, scorer=str(scorer), video=str(video), nframes=self.nframes,
            fps=float(fps), crop=np.asarray(list(crop) if crop is not None else [], dtype=np.int64),
        )  # fmt: skip
        for key, values in zip(_LIST_ATTRS, (bodyparts, uniquebodyparts, individuals)):
            f.attrs[key] = np.asarray(_str_list(values), dtype=h5py.string_dtype())
        self._sets = {"poses": (self.n_animals, self.n_parts, 3), "scores": (self.n_animals,)}
        if self.identity:
            self._sets["identity"] = (self.n_animals, self.n_individuals)
        if self.n_unique:
            self._sets["unique"] = (self.n_unique, 3)
        for name, shape in self._sets.items():
            f.create_dataset(
                name, shape=(0, *shape), maxshape=(None, *shape), chunks=(CHUNK_FRAMES, *shape), dtype="float32",
                fillvalue=np.nan, compression="gzip", compression_opts=1, shuffle=True,
            )  # fmt: skip

    def append(self, poses, scores, identity=None, unique=None) -> None:
        """Append ``n`` frames: ``poses (n, A, P, 3)``, ``scores (n, A)``, ``identity (n, A, n_individuals)``
        (when the writer has identity), ``unique (n, U, 3)`` (when the project has unique parts)."""
        given = {"poses": poses, "scores": scores, "identity": identity, "unique": unique}
        arrays = {}
        n = None
        for name, shape in self._sets.items():
            if given[name] is None:
                raise ValueError(f"{self.path.name}: append() needs {name} {('n', *shape)}.")
            arr = np.asarray(given[name], dtype=np.float32)
            if arr.shape[1:] != shape or (n is not None and len(arr) != n):
                raise ValueError(f"{self.path.name}: {name} has shape {arr.shape}, expected {('n', *shape)}.")
            n = len(arr)
            arrays[name] = arr
        extra = [k for k, v in given.items() if v is not None and k not in self._sets]
        if extra:
            raise ValueError(f"{self.path.name}: {extra} given but this file has no such dataset.")
        self._write(arrays, n)

    def _write(self, arrays: dict, n: int) -> None:
        if not n:
            return
        i0 = self.n_written
        for name, arr in arrays.items():
            ds = self._file[name]
            ds.resize(i0 + n, axis=0)
            ds[i0 : i0 + n] = arr
        self.n_written += n

    def close(self) -> Path:
        """Pad to ``nframes`` with NaN, write, and rename the file into place atomically; returns the path."""
        from posenb.io.atomic import _release, atomic_write  # noqa: PLC0415

        if self._file is None:
            return self.path
        try:
            missing = self.nframes - self.n_written
            if missing > 0:
                for name in self._sets:
                    self._file[name].resize(self.nframes, axis=0)  # fill value: NaN
                self.n_written = self.nframes
            self._file.attrs["nframes"] = self.n_written
            self._file.close()
            self._file = None
            atomic_write(self.path, lambda tmp: os.replace(self._tmp, tmp))
        except BaseException:
            self.abort()
            raise
        finally:
            _release(self._tmp)
        return self.path

    def abort(self) -> None:
        """Discard what was written; ``path`` is left as it was."""
        from posenb.io.atomic import _release  # noqa: PLC0415

        if self._file is not None:
            try:
                self._file.close()
            except Exception:  # noqa: BLE001 - the file is discarded anyway
                pass
            self._file = None
        self._tmp.unlink(missing_ok=True)
        _release(self._tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_detections(path: str | os.PathLike, poses, scores, identity=None, unique=None, **attrs) -> Path:
    """Write a whole detections file at once (arrays as in :meth:`DetectionsWriter.append`); ``attrs``: the
    writer's keyword arguments (``bodyparts``, ``individuals`` required; ``max_animals`` and ``nframes`` taken
    from ``poses`` when not given)."""
    poses = np.asarray(poses)
    attrs.setdefault("max_animals", poses.shape[1])
    attrs.setdefault("nframes", len(poses))
    attrs.setdefault("identity", identity is not None)
    with DetectionsWriter(path, **attrs) as writer:
        writer.append(poses, scores, identity=identity, unique=unique)
    return Path(path)


def _attr_list(path: Path, f, key: str) -> list[str]:
    value = f.attrs.get(key, [])
    try:
        return [
            v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(value).ravel().tolist()
        ]
    except (TypeError, ValueError, UnicodeDecodeError):
        raise LabelError(
            f"{path}: attribute {key!r} is not a list of names (damaged detections file)."
        ) from None


def _read_checked(path: Path, f, start: int, stop: int | None) -> dict:
    if f.attrs.get("format") not in (FORMAT, FORMAT.encode()):
        raise LabelError(
            f"{path} is not a posenb detections file (no format={FORMAT!r} attribute). Detections files are "
            "written by analyze_videos on a multi-animal project; analyse the video again to make one."
        )
    version = int(f.attrs.get("version", 0))
    if version > VERSION:
        raise LabelError(
            f"{path} is a detections file of version {version}; this posenb reads up to {VERSION}. Update posenb."
        )
    out = {key: _attr_list(path, f, key) for key in _LIST_ATTRS}
    for name in ("poses", "scores"):
        if name not in f:
            raise LabelError(
                f"{path}: dataset {name!r} is missing (damaged detections file); analyse the video again."
            )
    P, U, n_ind = len(out["bodyparts"]), len(out["uniquebodyparts"]), len(out["individuals"])
    T, A = f["poses"].shape[:2] if f["poses"].ndim == 4 else (None, None)
    want = {"poses": (T, A, P, 3), "scores": (T, A), "identity": (T, A, n_ind), "unique": (T, U, 3)}
    for name, shape in want.items():
        if name in f and (T is None or f[name].shape != shape):
            raise LabelError(
                f"{path}: dataset {name!r} has shape {f[name].shape}, expected {shape} from the file's body parts "
                "and individuals (damaged detections file); analyse the video again."
            )
    sl = slice(int(start), stop)
    for name in want:
        out[name] = np.asarray(f[name][sl], dtype=np.float32) if name in f else None
    crop = np.asarray(f.attrs.get("crop", []), dtype=np.int64).ravel()
    out.update(
        scorer=str(f.attrs.get("scorer", "")), video=str(f.attrs.get("video", "")),
        nframes=int(f.attrs.get("nframes", T)), fps=float(f.attrs.get("fps", 0.0)),
        crop=tuple(int(c) for c in crop) if crop.size == 4 else None, version=version,
    )  # fmt: skip
    return out


def read_detections(path: str | os.PathLike, start: int = 0, stop: int | None = None) -> dict:
    """Read a ``_detections.h5`` file (frames ``start:stop``, default all).

    Returns a dict: ``poses`` float32 ``(T, A, P, 3)``, ``scores`` ``(T, A)``, ``identity``
    ``(T, A, n_individuals)`` or None, ``unique`` ``(T, U, 3)`` or None, ``bodyparts``, ``uniquebodyparts``,
    ``individuals`` (lists of str), ``scorer``, ``video``, ``nframes``, ``fps``, ``crop`` (``(x1, x2, y1, y2)``
    or None), ``version``. Raises :class:`LabelError` naming the file when it is missing, not HDF5, damaged,
    not a detections file or links to data elsewhere.
    """
    import h5py  # noqa: PLC0415

    from posenb.io.safe_hdf5 import check_hdf5  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Detections file not found: {path}. Run analyze_videos on the video first.")
    check_hdf5(path)
    try:
        with h5py.File(path, "r") as f:
            return _read_checked(path, f, start, stop)
    except LabelError:
        raise
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise LabelError(
            f"Cannot read {path}: damaged detections file ({exc}); analyse the video again."
        ) from None


def detections_status(path: str | os.PathLike, n_frames: int, scorer: str, bodyparts: Sequence[str]) -> str:
    """Why ``path`` is not a complete analysis of a video of ``n_frames`` frames by ``scorer``; ``""`` when it is."""
    import h5py  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        return f"no {path.name}"
    try:
        from posenb.io.safe_hdf5 import check_hdf5  # noqa: PLC0415

        check_hdf5(path)
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                return f"{path.name} is not a detections file"
            if f.attrs.get("scorer") != scorer:
                return f"{path.name} is another scorer's"
            if _attr_list(path, f, "bodyparts") != list(bodyparts):
                return f"{path.name} has other body parts"
            if "poses" not in f or f["poses"].shape[0] != n_frames:
                return f"{path.name} does not have the video's {n_frames} frames"
    except (LabelError, OSError, KeyError, ValueError) as exc:
        return f"unreadable {path.name} ({exc})"
    return ""
