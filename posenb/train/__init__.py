"""Training: the loop, its events, snapshot files and resume.

Files
-----
- ``api.py``: :func:`train_network` (DeepLabCut's API): reads the shuffle's ``train/pose_cfg.yaml`` and
  images, resumes from the newest snapshot, runs the loop.
- ``config.py``: :class:`TrainConfig`, the recipe (one documented field per ``pose_cfg.yaml`` key) and the
  learning-rate schedule.
- ``loop.py``: :func:`run_training` (device, optimizer, AMP on CUDA, resumable batch order, stop handling).
- ``budget.py``: when a run ends (time budget, plateau stop); ``refine_cycle.py``: the refinement cycle that follows the
  first (a second, short cosine from a fresh optimizer; ``refine_iters``, off by default).
- ``events.py``: :class:`TrainingEvent` sent to callbacks; ``learning_stats.csv`` writer.
- snapshot files (``snapshot-<iter>.pt``) are :mod:`posenb.nn.snapshots`: training writes them, analysis reads them.
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
