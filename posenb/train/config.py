"""The training recipe as a declarative dataclass, read from ``train/pose_cfg.yaml``.

:class:`TrainConfig` has one documented field per setting. Its defaults come from
``posenb.data.trainingset.pose_cfg_template`` (the recipe written into every new ``pose_cfg.yaml``), so the
recipe lives in one place. Precedence, lowest first: recipe defaults < ``train/pose_cfg.yaml`` < keyword
arguments of ``train_network`` (``maxiters``, ``displayiters``, ``saveiters`` and ``**overrides``).

DLC keys keep DeepLabCut's meaning (``global_scale``, ``pos_dist_thresh``, ``locref_stdev``, ``multi_step``,
``batch_size`` ...). Keys of ``pose_cfg.yaml`` that posenb does not use are kept in ``extra`` and ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from posenb.data.trainingset import pose_cfg_template
from posenb.errors import ConfigError

__all__ = ["TrainConfig", "learning_rate"]

_T = pose_cfg_template()


def _d(key: str):
    value = _T[key]
    if isinstance(value, (list, dict)):
        return field(default_factory=lambda v=value: __import__("copy").deepcopy(v))
    return field(default=value)


@dataclass
class TrainConfig:
    """Everything the training loop needs (units in brackets)."""

    net_type: str = _d("net_type")
    """backbone name (``posenb.nn`` registry), e.g. ``efficientnet-lite0``, ``resnet_50``."""
    all_joints_names: list = field(default_factory=list)
    """body parts, in config order (the model's output channels)."""
    batch_size: int = _d("batch_size")
    """training images per step."""
    global_scale: float = _d("global_scale")
    """frames are resized by this factor before the network, in training AND inference (posenb; DLC applies
    it in training only) [ratio]. Errors and predictions are always reported in original frame pixels."""
    scale_jitter_lo: float = _d("scale_jitter_lo")
    """lower bound of the random per-image scale factor [ratio]."""
    scale_jitter_up: float = _d("scale_jitter_up")
    """upper bound of the random per-image scale factor [ratio]."""
    crop_size: list | None = _d("crop_size")
    """``[width, height]`` of the training canvas in network-input pixels (random crop / pad of the scaled
    image); None = the whole scaled image."""
    crop_sampling: str = _d("crop_sampling")
    """where the training crop is taken: ``uniform``, ``keypoints`` (around a random labeled joint), ``hybrid``."""
    max_shift: float = _d("max_shift")
    """``keypoints`` crops: random shift of the joint from the crop centre, fraction of the crop size."""
    rotation: float = _d("rotation")
    """maximal random rotation [degrees]."""
    rotratio: float = _d("rotratio")
    """probability of applying a rotation."""
    mirror: bool = _d("mirror")
    """random horizontal flips (left/right pairs from posenb.yaml ``mirror_pairs`` are swapped)."""
    apply_prob: float = _d("apply_prob")
    """probability of each photometric augmentation (brightness/contrast, blur, noise)."""
    brightness: float = _d("brightness")
    """maximal brightness shift, fraction of 255."""
    contrast: float = _d("contrast")
    """contrast factor range ``1 +- contrast``."""
    blur: float = _d("blur")
    """maximal Gaussian blur sigma [px] (0 disables)."""
    motion_blur: bool = _d("motion_blur")
    """7-pixel motion blur at a random angle (DLC's ``motion_blur``)."""
    gaussian_noise: float = _d("gaussian_noise")
    """standard deviation of additive pixel noise (0-255 units; 0 disables)."""
    scmap_type: str = _d("scmap_type")
    """score-map targets: ``gaussian`` (DLC 3) or ``plateau`` (DLC 2 disk)."""
    heatmap_loss: str = _d("heatmap_loss")
    """score-map loss: ``bce`` (sigmoid cross-entropy, DLC 2) or ``mse``."""
    freeze_bn_stats: bool = _d("freeze_bn_stats")
    """keep BatchNorm running statistics fixed (useful for batch sizes of 1-2)."""
    pos_dist_thresh: float = _d("pos_dist_thresh")
    """radius of the positive target region, in pixels of the original image [px]."""
    location_refinement: bool = _d("location_refinement")
    """predict sub-cell offsets (locref maps)."""
    locref_stdev: float = _d("locref_stdev")
    """locref targets are offsets divided by this [px]."""
    locref_loss_weight: float = _d("locref_loss_weight")
    """weight of the locref loss relative to the heatmap loss."""
    locref_huber_loss: bool = _d("locref_huber_loss")
    """Huber (else squared) loss on locref."""
    weigh_only_present_joints: bool = _d("weigh_only_present_joints")
    """if False, unlabeled joints count as all-negative heatmaps (DLC's default)."""
    optimizer: str = _d("optimizer")
    """``adamw`` or ``sgd`` (momentum 0.9)."""
    lr: float = _d("lr")
    """peak learning rate (cosine schedule)."""
    weight_decay: float = _d("weight_decay")
    """decoupled weight decay (AdamW) / L2 (SGD)."""
    lr_schedule: str = _d("lr_schedule")
    """``cosine`` (linear warm-up then cosine decay to 1 % of lr over max_iters) or ``multi_step``."""
    warmup_iters: int = _d("warmup_iters")
    """linear warm-up length (cosine schedule) [iterations]."""
    multi_step: list | None = _d("multi_step")
    """DLC's ``[[lr, until_iteration], ...]`` (multi_step schedule)."""
    max_iters: int = _d("max_iters")
    """training stops at this iteration (``maxiters`` of train_network overrides it)."""
    max_minutes: float | None = _d("max_minutes")
    """time budget of one run [min]: after the warm-up the loop measures its speed and, if ``max_iters`` would not
    end in time, lowers ``max_iters`` (the cosine schedule is rescaled to end there); None: no limit. The
    refinement cycle (``refine_iters``) comes on top, and only when it takes at most 0.4 x these minutes."""
    plateau_stop: bool = _d("plateau_stop")
    """end a run early (with a snapshot) once the training loss stopped falling (``posenb.train.budget``)."""
    refine_iters: int = _d("refine_iters")
    """iterations of a second, short cycle after the first ends (fresh optimizer, warm-up, cosine from
    ``refine_lr x lr``: :mod:`posenb.train.refine_cycle`); 0: none. Counted on from the first cycle's last iteration."""
    refine_lr: float = _d("refine_lr")
    """peak learning rate of the refinement cycle as a share of ``lr``."""
    display_iters: int = _d("display_iters")
    """loss averaging / logging / progress-event interval [iterations]."""
    save_iters: int = _d("save_iters")
    """snapshot interval [iterations] (a snapshot is also written at the end and on stop)."""
    pretrained: bool = _d("pretrained")
    """start from ImageNet weights when the backbone has offline weights."""
    init_weights: str | None = _d("init_weights")
    """DLC's key: ``imagenet``, or a path of a posenb snapshot to start from (fine-tuning)."""
    seed: int = _d("seed")
    """seed of weight init, augmentation and batch order."""
    num_workers: int | None = _d("num_workers")
    """DataLoader worker processes (0: augment in the training process; images are cached in memory); None: chosen
    for the device (:func:`posenb.train.loop.loader_workers`)."""
    cache_images: bool = _d("cache_images")
    """decode every training image once and keep it in memory (uint8, at input_scale)."""
    amp: bool = _d("amp")
    """mixed precision on CUDA (ignored on CPU)."""
    extra: dict = field(default_factory=dict)
    """pose_cfg keys posenb does not use (kept for the record)."""

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls) if f.name != "extra"]

    @classmethod
    def from_pose_cfg(cls, pose_cfg: dict, overrides: dict | None = None, where: str = "pose_cfg.yaml") -> TrainConfig:
        """Build from a ``pose_cfg.yaml`` dict plus ``overrides`` (unknown override keys are an error)."""
        names = set(cls.field_names())
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in (pose_cfg or {}).items():
            if key in names:
                kwargs[key] = value
            else:
                extra[key] = value
        for key, value in (overrides or {}).items():
            if key not in names:
                raise ConfigError(
                    f"Unknown training setting {key!r}. Known settings: {', '.join(sorted(names))}."
                )
            kwargs[key] = value
        kwargs = {
            k: v
            for k, v in kwargs.items()
            if v is not None or k in ("crop_size", "multi_step", "init_weights", "max_minutes")
        }
        cfg = cls(**kwargs, extra=extra)
        cfg.validate(where)
        return cfg

    def validate(self, where: str = "pose_cfg.yaml") -> None:
        """Raise :class:`ConfigError` naming the key when a value cannot work."""

        def bad(key, why):
            raise ConfigError(f"{where}: {key}={getattr(self, key)!r} {why}.")

        if not self.all_joints_names:
            bad("all_joints_names", "must list the body parts")
        for key in ("batch_size", "max_iters", "display_iters", "save_iters", "refine_iters"):
            try:
                setattr(self, key, int(getattr(self, key)))
            except (TypeError, ValueError):
                bad(key, "must be an integer")
        if self.batch_size < 1:
            bad("batch_size", "must be >= 1")
        if self.max_iters < 0:
            bad("max_iters", "must be >= 0")
        if self.refine_iters < 0:
            bad("refine_iters", "must be >= 0 (0: no refinement cycle)")
        if not 0 < float(self.refine_lr) <= 1:
            bad("refine_lr", "must be in (0, 1] (a share of lr)")
        if self.display_iters < 1:
            bad("display_iters", "must be >= 1")
        if self.save_iters < 1:
            bad("save_iters", "must be >= 1")
        if self.max_minutes is not None:
            try:
                self.max_minutes = float(self.max_minutes)
            except (TypeError, ValueError):
                bad("max_minutes", "must be a number of minutes or null")
            if not self.max_minutes > 0:
                bad("max_minutes", "must be > 0 (or null for no time limit)")
        if not 0 < float(self.global_scale) <= 4:
            bad("global_scale", "must be in (0, 4]")
        if self.optimizer not in ("adamw", "sgd", "adam"):
            bad("optimizer", "must be 'adamw' or 'sgd'")
        if self.lr_schedule not in ("cosine", "multi_step"):
            bad("lr_schedule", "must be 'cosine' or 'multi_step'")
        if self.lr_schedule == "multi_step":
            steps = self.multi_step
            if not steps or not all(isinstance(s, (list, tuple)) and len(s) == 2 for s in steps):
                bad("multi_step", "must be a list of [learning_rate, until_iteration] pairs")
        if self.crop_size is not None:
            if not isinstance(self.crop_size, (list, tuple)) or len(self.crop_size) != 2:
                bad("crop_size", "must be [width, height] or null")
            self.crop_size = [int(v) for v in self.crop_size]
            if min(self.crop_size) < 32:
                bad("crop_size", "must be at least 32 x 32")

    def data_params(self) -> dict:
        """Parameters of :class:`posenb.data.dataset.PoseDataset` / ``build_augmentation``."""
        crop = self.crop_size if self.crop_size is not None else (100000, 100000)
        return {
            "global_scale": float(self.global_scale),
            "scale_jitter_lo": float(self.scale_jitter_lo),
            "scale_jitter_up": float(self.scale_jitter_up),
            "rotation": float(self.rotation),
            "rotratio": float(self.rotratio),
            "mirror": bool(self.mirror),
            "bodyparts": list(self.all_joints_names),
            "crop_size": tuple(int(v) for v in crop),
            "crop_sampling": self.crop_sampling,
            "max_shift": float(self.max_shift),
            "apply_prob": float(self.apply_prob),
            "brightness": float(self.brightness),
            "contrast": float(self.contrast),
            "blur": float(self.blur),
            "motion_blur": bool(self.motion_blur),
            "gaussian_noise": float(self.gaussian_noise),
            "pos_dist_thresh": float(self.pos_dist_thresh),
            "locref_stdev": float(self.locref_stdev),
            "scmap_type": self.scmap_type,
        }

    def to_dict(self) -> dict:
        """Plain dict (YAML / snapshot friendly)."""
        out = dataclasses.asdict(self)
        return out


def learning_rate(cfg: TrainConfig, iteration: int, anchor: tuple[int, float] | None = None) -> float:
    """Learning rate at ``iteration`` (0-based step about to be taken).

    cosine: linear warm-up from lr/100 over ``min(warmup_iters, max_iters // 5)``, then cosine decay from lr
    to lr/100 at ``max_iters``. multi_step: DLC's piecewise constant ``[[lr, until], ...]``; past the last bound the
    last value.

    ``anchor``: ``(iteration a, learning rate at a)`` of a resumed run whose ``max_iters`` changed
    (:func:`resume_anchor`): from ``a`` on, the cosine decays from that rate to lr/100 at ``max_iters`` (and stays
    at lr/100 when ``max_iters <= a``), so resuming past the old end never jumps the rate back up.
    ``(a, rate, w)``: a new cycle (:mod:`posenb.train.refine_cycle`): a linear warm-up from lr/100 to ``rate`` over
    ``w`` iterations from ``a``, then the cosine down to lr/100 at ``max_iters``.
    """
    import math  # noqa: PLC0415

    if cfg.lr_schedule == "multi_step":
        for value, until in cfg.multi_step:
            if iteration < int(until):
                return float(value)
        return float(cfg.multi_step[-1][0])
    lr, floor = float(cfg.lr), float(cfg.lr) / 100
    if anchor is not None and iteration >= int(anchor[0]):
        start, lr_start = int(anchor[0]), min(float(anchor[1]), lr)
        warm = int(anchor[2]) if len(anchor) > 2 else 0
        if cfg.max_iters <= start or lr_start <= floor:
            return floor
        if iteration < start + warm:
            return floor + (lr_start - floor) * (iteration - start + 1) / warm
        t = min(1.0, (iteration - start - warm) / max(1, cfg.max_iters - start - warm))
        return floor + 0.5 * (lr_start - floor) * (1 + math.cos(math.pi * t))
    warm = max(0, min(int(cfg.warmup_iters), cfg.max_iters // 5))
    if iteration < warm:
        return floor + (lr - floor) * (iteration + 1) / warm
    span = max(1, cfg.max_iters - warm)
    t = min(1.0, (iteration - warm) / span)
    return floor + 0.5 * (lr - floor) * (1 + math.cos(math.pi * t))


def new_cycle_schedule(start: int, stop: int, rate: float, warm: int = 0, cycle: str | None = None) -> dict:
    """A snapshot's ``scheduler`` entry that starts a new cosine at iteration ``start``: ``warm`` iterations of
    linear warm-up from lr/100 to ``rate``, then down to lr/100 at ``stop`` (the anchor of :func:`learning_rate`).
    The labeling model's warm start (no warm-up) and the refinement cycle (``cycle="refine"``) both begin so."""
    anchor = [int(start), float(rate)] + ([int(warm)] if warm else [])
    out = {"type": "cosine", "iteration": int(start), "max_iters": int(stop), "anchor": anchor}
    return {**out, "cycle": cycle} if cycle else out


def resume_anchor(cfg: TrainConfig, start_state: dict | None) -> tuple[int, float] | None:
    """The schedule anchor of a run resumed from snapshot ``start_state`` (None: the plain schedule).

    The snapshot's ``scheduler`` entry holds the anchor its run used and its ``max_iters``. Same schedule
    (same ``max_iters``, lr and schedule type): its anchor is kept. Otherwise the new anchor is ``(iteration of
    the snapshot, learning rate the old schedule had there)``: the decay continues from where it was, over the
    new length (an old run that had reached its end stays at lr/100).
    """
    if start_state is None or cfg.lr_schedule != "cosine":
        return None
    start = int(start_state.get("iteration") or 0)
    sched = start_state.get("scheduler") or {}
    old_anchor = sched.get("anchor")
    old_anchor = (int(old_anchor[0]), float(old_anchor[1]), *map(int, old_anchor[2:3])) if old_anchor else None
    old_cfg = start_state.get("train_config") or {}
    old_max = int(sched.get("max_iters") or old_cfg.get("max_iters") or cfg.max_iters)
    old_lr = float(old_cfg.get("lr") or cfg.lr)
    if start <= 0 or (old_max == cfg.max_iters and old_lr == float(cfg.lr)):
        return old_anchor
    old = dataclasses.replace(cfg, max_iters=old_max, lr=old_lr)
    return (start, learning_rate(old, start, old_anchor))
