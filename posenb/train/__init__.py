"""Training: the loop, its events, snapshot files and resume.

Files
-----
- ``api.py``: :func:`train_network` (DeepLabCut's API): reads the shuffle's ``train/pose_cfg.yaml`` and
  images, resumes from the newest snapshot, runs the loop.
- ``config.py``: :class:`TrainConfig`, the recipe (one documented field per ``pose_cfg.yaml`` key) and the
  learning-rate schedule.
- ``loop.py``: :func:`run_training` (device, optimizer, AMP on CUDA, resumable batch order, stop handling).
- ``events.py``: :class:`TrainingEvent` sent to callbacks; ``learning_stats.csv`` writer.
- ``snapshots.py``: ``snapshot-<iter>.pt`` files: atomic save, ``torch.load(weights_only=True)`` load,
  :func:`list_snapshots`, pruning, ``snapshotindex`` selection, the ``snapshot-<iter>.index`` markers through which
  DeepLabCut finds posenb's snapshots and predictions.
- ``follow.py``: read a ``learning_stats.csv`` as it grows (training monitors).
- ``distributed.py``: several processes under torchrun (DistributedDataParallel): process group, one device per
  process, batch sharding, loss / stop-flag all-reduce; rank 0 writes.

Listening to a training: pass ``callbacks=[fn]`` (``fn(event)``), or follow ``learning_stats.csv`` from any
process. Stopping one: ``stop_event.set()`` or Ctrl-C; both save a snapshot first.

Nothing heavy is imported here; ``from posenb.train.api import train_network`` loads torch.
"""

from posenb.train.events import TrainingEvent

__all__ = ["TrainingEvent", "train_network"]


def __getattr__(name):
    if name == "train_network":
        from posenb.train.api import train_network

        return train_network
    raise AttributeError(f"module 'posenb.train' has no attribute {name!r}")
