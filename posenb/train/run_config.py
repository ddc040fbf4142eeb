"""What a training run starts from, shared by the single- and multi-animal ``train_network``.

- :func:`load_train_config`: the shuffle's ``train/pose_cfg.yaml`` as a :class:`~posenb.train.config.TrainConfig`,
  plus the caller's overrides;
- :func:`arguments_to_overrides`: ``train_network``'s iteration arguments (``maxiters``, ``displayiters``,
  ``saveiters``) as such overrides;
- :func:`run_log`: the run's entry in ``train/train.log`` (values in effect, the recipe's reasons, overrides).
"""

from __future__ import annotations

from pathlib import Path

from posenb.errors import ConfigError

__all__ = ["load_train_config", "arguments_to_overrides", "run_log", "LOGGED_KEYS"]


def load_train_config(train_dir: Path, overrides: dict | None = None):
    """:class:`~posenb.train.config.TrainConfig` from ``train/pose_cfg.yaml`` plus ``overrides``."""
    from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415
    from posenb.train.config import TrainConfig  # noqa: PLC0415

    path = train_dir / "pose_cfg.yaml"
    if not path.is_file():
        raise ConfigError(
            f"{path} not found: this shuffle has no training set. Run posenb.create_training_dataset(config) first."
        )
    return TrainConfig.from_pose_cfg(read_pose_cfg(path), overrides, where=str(path))


def arguments_to_overrides(overrides: dict, maxiters, displayiters, saveiters) -> None:
    """train_network's iteration arguments as TrainConfig overrides (an explicit maxiters: no budget, no plateau, no
    refinement cycle)."""
    if maxiters is not None:
        overrides["max_iters"] = int(maxiters)
        # an explicit iteration count is what the caller wants: no time budget or plateau stop unless asked too
        overrides.setdefault("max_minutes", None)
        overrides.setdefault("plateau_stop", False)
        overrides.setdefault("refine_iters", 0)
    if displayiters is not None:
        overrides["display_iters"] = int(displayiters)
    if saveiters is not None:
        overrides["save_iters"] = int(saveiters)


#: TrainConfig fields written at the start of each run's train.log entry
LOGGED_KEYS = (
    "net_type",
    "global_scale",
    "crop_size",
    "batch_size",
    "scale_jitter_lo",
    "scale_jitter_up",
    "rotation",
    "weigh_only_present_joints",
    "max_iters",
    "max_minutes",
    "plateau_stop",
    "refine_iters",
)


def run_log(train_dir: Path, tcfg, overrides: dict, device, notes: dict | None = None):
    """Start ``train/train.log``'s entry for this run; returns the function that appends one line to it.

    ``notes``: the recipe's reasons to log (default: ``pose_cfg.yaml``'s ``recipe``, ``tcfg.extra["recipe"]``)."""
    import time  # noqa: PLC0415

    path = train_dir / "train.log"

    def log(line: str) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {line}\n")

    log(f"start on {device}: " + ", ".join(f"{k}={getattr(tcfg, k)!r}" for k in LOGGED_KEYS))
    for key, note in ((tcfg.extra.get("recipe") if notes is None else notes) or {}).items():
        log(f"recipe {key} = {note}")
    for key in sorted(overrides):
        log(f"override {key} = {overrides[key]!r} (argument of train_network)")
    return log
