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
  :func:`list_snapshots`, pruning, ``snapshotindex`` selection.
- ``follow.py``: read a ``learning_stats.csv`` as it grows (training monitors).

Listening to a training: pass ``callbacks=[fn]`` (``fn(event)``), or follow ``learning_stats.csv`` from any
process. Stopping one: ``stop_event.set()`` or Ctrl-C; both save a snapshot first.

Nothing heavy is imported here; ``from posenb.train.api import train_network`` loads torch.
"""

import os as _os

# OpenMP threads that spin while waiting are ~10x slower when other processes share the cores (measured on a
# 2-core machine under load: 1.5 vs 18 training images/s). Passive waiting costs little when the machine is
# idle. It must be set before torch is first imported; an explicit OMP_WAIT_POLICY is kept.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from posenb.train.events import TrainingEvent

__all__ = ["TrainingEvent", "train_network"]


def __getattr__(name):
    if name == "train_network":
        from posenb.train.api import train_network

        return train_network
    raise AttributeError(f"module 'posenb.train' has no attribute {name!r}")
