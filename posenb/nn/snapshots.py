"""Snapshot files: ``<model folder>/train/snapshot-<iteration>.pt``.

A snapshot is a ``torch.save`` of a dict holding only tensors and plain Python types, so it loads with
``torch.load(weights_only=True)`` (no code can run from a snapshot file)::

    {"format": "posenb-snapshot-1", "iteration": int, "net_type": str, "bodyparts": [str, ...],
     "model": state_dict, "optimizer": state_dict | None, "scheduler": {...} | None,
     "scaler": state_dict | None, "train_config": {plain dict}, "posenb_version": str}

Writes are atomic (temporary file in the same folder, fsync, ``os.replace``): a kill -9 mid-save leaves the
previous snapshots intact and at most a stray ``.snapshot-*.tmp`` that is ignored (and removed by the next
save).

Next to every ``snapshot-<iteration>.pt`` posenb keeps a small text file ``snapshot-<iteration>.index``
(:func:`sync_dlc_index_files`). posenb's shuffles are DeepLabCut "tensorflow"-engine shuffles (``dlc-models/``,
``pose_cfg.yaml``, ``engine: tensorflow`` in the training set's ``metadata.yaml``), and DeepLabCut (2.x and 3.x,
``deeplabcut.utils.auxiliaryfunctions.get_snapshots_from_folder``) lists such a train folder's snapshots as the
stems of the files whose name contains ``index``, sorted by the number after ``-``. With these files its
``get_scorer_name`` finds the snapshot that ``snapshotindex`` picks and derives the same scorer as posenb, so
DeepLabCut's filterpredictions / plot_trajectories / create_labeled_video find posenb's predictions. The files
are not TensorFlow checkpoints; posenb never touches an ``.index`` file it did not write.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from posenb.errors import ModelError
from posenb.project.paths import snapshot_number

__all__ = [
    "SNAPSHOT_FORMAT",
    "snapshot_path",
    "snapshot_iteration",
    "list_snapshots",
    "save_snapshot",
    "load_snapshot",
    "prune_snapshots",
    "select_snapshot",
    "check_bodyparts",
    "archive_snapshots",
    "dlc_index_path",
    "sync_dlc_index_files",
]

SNAPSHOT_FORMAT = "posenb-snapshot-1"


def snapshot_path(train_dir: str | os.PathLike, iteration: int) -> Path:
    """``<train_dir>/snapshot-<iteration>.pt``."""
    return Path(train_dir) / f"snapshot-{int(iteration)}.pt"


_INDEX_MARKER = "posenb snapshot marker"


def dlc_index_path(snapshot: str | os.PathLike) -> Path:
    """``snapshot-<iteration>.index`` next to ``snapshot-<iteration>.pt`` (what DeepLabCut lists, see module doc)."""
    return Path(snapshot).with_suffix(".index")


def _is_posenb_index(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(len(_INDEX_MARKER)) == _INDEX_MARKER
    except OSError:
        return False


def sync_dlc_index_files(train_dir: str | os.PathLike) -> None:
    """One ``snapshot-<N>.index`` per ``snapshot-<N>.pt`` of ``train_dir``, and none of posenb's without its ``.pt``.

    ``.index`` files posenb did not write (DeepLabCut's TensorFlow checkpoints) are left alone.
    """
    from posenb.io.atomic import atomic_write_text  # noqa: PLC0415

    train_dir = Path(train_dir)
    if not train_dir.is_dir():
        return
    snaps = list_snapshots(train_dir)
    for snap in snaps:
        index = dlc_index_path(snap)
        if not index.exists():
            text = (
                f"{_INDEX_MARKER} (not a TensorFlow checkpoint): the weights are in {snap.name}.\n"
                "DeepLabCut lists a train folder's snapshots by the files whose name contains 'index' "
                "(deeplabcut.utils.auxiliaryfunctions.get_snapshots_from_folder); this file lets its "
                "get_scorer_name name posenb's predictions.\n"
            )
            atomic_write_text(index, text, backup=False)
    keep = {dlc_index_path(s).name for s in snaps}
    for index in train_dir.glob("snapshot-*.index"):
        if index.name not in keep and _is_posenb_index(index):
            index.unlink(missing_ok=True)


def snapshot_iteration(path: str | os.PathLike) -> int:
    """The iteration number in a snapshot file name (``snapshot-1500.pt`` -> 1500)."""
    number = snapshot_number(Path(path).name)
    if number is None:
        raise ModelError(f"{path} is not a snapshot file name (expected snapshot-<iteration>.pt).")
    return number


def list_snapshots(train_dir: str | os.PathLike) -> list[Path]:
    """Snapshot files of a train folder, sorted by iteration (ascending); [] if none."""
    train_dir = Path(train_dir)
    if not train_dir.is_dir():
        return []
    snaps = [p for p in train_dir.iterdir() if snapshot_number(p.name) is not None and p.is_file()]
    return sorted(snaps, key=snapshot_iteration)


def save_snapshot(train_dir: str | os.PathLike, state: dict) -> Path:
    """Write ``state`` (must hold ``iteration``) as ``snapshot-<iteration>.pt`` atomically; returns the path."""
    import torch  # noqa: PLC0415

    train_dir = Path(train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    for stray in train_dir.glob(".snapshot-*.tmp"):
        stray.unlink(missing_ok=True)
    state = dict(state)
    state.setdefault("format", SNAPSHOT_FORMAT)
    path = snapshot_path(train_dir, state["iteration"])
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=train_dir)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_dlc_index_files(train_dir)
    return path


def load_snapshot(path: str | os.PathLike, map_location="cpu") -> dict:
    """Load a snapshot with ``torch.load(weights_only=True)``; :class:`ModelError` if unusable."""
    import torch  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"Snapshot {path} not found. Train the network first (posenb.train_network).")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle, zip and unpickling errors all mean "unusable"
        raise ModelError(
            f"Snapshot {path} cannot be loaded ({type(exc).__name__}: {exc}). It may be truncated, or not a posenb "
            "snapshot; delete it to use the previous one."
        ) from None
    if not isinstance(state, dict) or "model" not in state or "iteration" not in state:
        raise ModelError(f"{path} is not a posenb snapshot (no model weights / iteration inside).")
    return state


def prune_snapshots(train_dir: str | os.PathLike, max_keep: int | None) -> list[Path]:
    """Delete the oldest snapshots so at most ``max_keep`` remain (None or <= 0 keeps all); returns deleted."""
    if not max_keep or max_keep <= 0:
        return []
    snaps = list_snapshots(train_dir)
    removed = snaps[: max(0, len(snaps) - int(max_keep))]
    for p in removed:
        p.unlink(missing_ok=True)
    sync_dlc_index_files(train_dir)
    return removed


def select_snapshot(train_dir: str | os.PathLike, snapshotindex: int | str = -1) -> Path:
    """The snapshot picked by config ``snapshotindex`` (index into the ascending list; -1 = last).

    ``snapshotindex`` may also be a snapshot name (``snapshot-1500`` / ``snapshot-1500.pt``) or a path.
    Raises :class:`ModelError` when the train folder holds no snapshot or the index is out of range.
    """
    train_dir = Path(train_dir)
    if isinstance(snapshotindex, (str, os.PathLike)) and str(snapshotindex) != "all":
        name = str(snapshotindex)
        p = Path(name)
        if p.is_file():
            return p
        p = train_dir / (Path(name).name if name.endswith(".pt") else Path(name).name + ".pt")
        if p.is_file():
            return p
        raise ModelError(
            f"Snapshot {name} not found in {train_dir}. Available: {[s.name for s in list_snapshots(train_dir)]}."
        )
    snaps = list_snapshots(train_dir)
    if not snaps:
        raise ModelError(f"No snapshot in {train_dir}. Train the network first (posenb.train_network).")
    if snapshotindex == "all":
        return snaps[-1]
    try:
        return snaps[int(snapshotindex)]
    except IndexError:
        raise ModelError(
            f"snapshotindex={snapshotindex} is out of range: {train_dir} holds {len(snaps)} snapshot(s). "
            "Use -1 for the last one."
        ) from None


def check_bodyparts(state: dict, bodyparts: list[str], path: str | os.PathLike = "snapshot") -> None:
    """Raise :class:`ModelError` if a snapshot was trained on another body-part set than ``bodyparts``."""
    saved = list(state.get("bodyparts") or [])
    if saved != list(bodyparts):
        raise ModelError(
            f"{path} was trained on body parts {saved}, but this project has {list(bodyparts)}. Use a snapshot of "
            "this project, or re-create the training set (create_training_dataset) and train a new model."
        )


def archive_snapshots(train_dir: str | os.PathLike) -> Path | None:
    """Move the snapshots and ``learning_stats.csv`` of ``train_dir`` into ``train_dir/previous-<n>/`` (n = 1,
    2, ...), so the next ``train_network`` starts from scratch and nothing is lost; returns that folder (None
    when there was nothing to move). Each file is moved with ``os.replace`` (atomic, same file system)."""
    train_dir = Path(train_dir)
    files = list_snapshots(train_dir)
    stats = train_dir / "learning_stats.csv"
    if stats.is_file():
        files.append(stats)
    if not files:
        return None
    n = 1
    while (train_dir / f"previous-{n}").exists():
        n += 1
    dest = train_dir / f"previous-{n}"
    dest.mkdir()
    for f in files:
        os.replace(f, dest / f.name)
    return dest
