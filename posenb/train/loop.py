"""The training loop: batches -> loss -> optimizer step, with events, log rows, snapshots and clean stops.

:func:`run_training` knows nothing about projects: ``posenb.train.api.train_network`` builds the model, the
dataset and the :class:`~posenb.train.config.TrainConfig` from a project and calls it.

Batch order is a pure function of ``(seed, iteration)`` (:class:`ResumableBatchSampler`): the image stream is
the concatenation of one seeded permutation per epoch, cut into batches, and item ``i`` of epoch ``e`` gets the
augmentation stream ``default_rng([seed, e, i])``. A run resumed from a snapshot at iteration ``t`` therefore
sees the same batches as an uninterrupted run would from ``t`` on.

Stopping: ``stop_event.set()`` (another thread, e.g. the training monitor), Ctrl-C / a Jupyter interrupt
(SIGINT is turned into a stop request while the loop runs in the main thread; a second Ctrl-C interrupts at
once) or a ``KeyboardInterrupt`` reaching the loop: the current state is saved as a snapshot, a "stopped"
event is sent, and the function returns normally.

Several processes (torchrun): with a ``dist`` context of :mod:`posenb.train.distributed`, the model is wrapped
in ``DistributedDataParallel``, each rank takes its slice of every global batch, losses are averaged over ranks,
a stop request seen by any rank stops all of them after the same step, and only rank 0 writes files and
reports events. With one process (the default) none of this runs.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np

from posenb.nn.device import pick_device
from posenb.nn.snapshots import prune_snapshots, save_snapshot, snapshot_path
from posenb.train.budget import RunBudget
from posenb.train.config import TrainConfig, learning_rate, resume_anchor
from posenb.train.events import EventBus, LearningStatsWriter, TrainingEvent

__all__ = ["run_training", "ResumableBatchSampler", "EpochStream", "pick_device", "make_optimizer"]


class EpochStream:
    """Dataset view where position ``epoch * n + i`` is item ``i`` augmented with the stream of ``epoch``."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.n = len(dataset)

    def __len__(self) -> int:  # not used by the batch sampler; kept for DataLoader introspection
        return self.n

    def __getitem__(self, position: int):
        epoch, i = divmod(int(position), self.n)
        self.dataset.set_epoch(epoch)
        return self.dataset[i]


class ResumableBatchSampler:
    """Yields batches of ``EpochStream`` positions for iterations ``start .. stop - 1``.

    Batch ``b`` covers stream positions ``[b * B, (b + 1) * B)``; position ``q`` is image
    ``perm_e[q mod n]`` of epoch ``e = q div n``, ``perm_e = default_rng([seed, e]).permutation(n)``.

    Several processes: ``batch_size`` is the global batch (``world_size`` x the per-process batch) and
    ``shard(batch) -> part`` (:func:`posenb.train.distributed.shard`) picks this rank's part of each.
    """

    def __init__(self, n: int, batch_size: int, seed: int, start: int, stop: int, shard=None):
        self.n, self.batch_size, self.seed = int(n), int(batch_size), int(seed)
        self.start, self.stop = int(start), int(stop)
        self.shard = shard
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n)}
        return self._perms[epoch]

    def batch(self, b: int) -> list[int]:
        out = []
        for q in range(b * self.batch_size, (b + 1) * self.batch_size):
            epoch, r = divmod(q, self.n)
            out.append(epoch * self.n + int(self._perm(epoch)[r]))
        return out

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self):
        for b in range(self.start, self.stop):
            yield self.batch(b) if self.shard is None else self.shard(self.batch(b))


def make_optimizer(model, cfg: TrainConfig):
    """AdamW (or SGD with momentum 0.9); no weight decay on biases and normalisation parameters."""
    import torch  # noqa: PLC0415

    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": float(cfg.weight_decay)},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=float(cfg.lr), momentum=0.9)
    return torch.optim.AdamW(groups, lr=float(cfg.lr))


class _SigintToStop:
    """While active in the main thread, the first SIGINT sets ``event`` instead of raising."""

    def __init__(self, event: threading.Event):
        self.event = event
        self.previous = None

    def _handler(self, signum, frame):
        self.event.set()
        signal.signal(signal.SIGINT, self.previous or signal.default_int_handler)  # a second Ctrl-C raises

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handler)
            except ValueError:
                self.previous = None
        return self

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


class _NoStats:
    """learning_stats.csv of ranks other than 0: nothing written."""

    def write(self, *args) -> None:
        pass

    def close(self) -> None:
        pass


def run_training(
    model,
    dataset,
    cfg: TrainConfig,
    train_dir: str | os.PathLike,
    *,
    device=None,
    start_state: dict | None = None,
    snapshot_extra: dict | None = None,
    callbacks=None,
    stop_event: threading.Event | None = None,
    max_snapshots_to_keep: int | None = 5,
    progress: bool = True,
    dist=None,
    log=None,
) -> dict:
    """Train ``model`` on ``dataset`` until ``cfg.max_iters`` (or a stop request); returns a summary dict.

    Parameters
    ----------
    model : a :class:`posenb.nn.PoseModel`.
    dataset : a :class:`posenb.data.dataset.PoseDataset` (augment=True); its items feed ``posenb.nn.pose_loss``.
    cfg : the recipe (batch size, optimizer, schedule, iterations, intervals).
    train_dir : where ``snapshot-<iter>.pt`` and ``learning_stats.csv`` go.
    start_state : a loaded snapshot to resume (model, optimizer, scaler and iteration are restored).
    snapshot_extra : plain values stored in every snapshot (``bodyparts``, ``net_type``, ...).
    callbacks, stop_event, max_snapshots_to_keep : see ``train_network``.
    dist : a :class:`posenb.train.distributed.DistContext` (None: that of an initialised process group, else
        one process). Several processes: ``device`` is this process's device, ``cfg.batch_size`` is per process.
    log : callable receiving one line of text per budget decision (``cfg.max_minutes``, ``cfg.plateau_stop``:
        :mod:`posenb.train.budget`); when the budget lowers ``max_iters``, ``cfg.max_iters`` is updated too, so the
        schedule and the snapshots follow it.

    Returns ``{"iteration", "stopped", "snapshot", "loss", "seconds"}``.
    """
    import torch  # noqa: PLC0415
    from torch.utils.data import DataLoader  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.nn import pose_loss  # noqa: PLC0415
    from posenb.train import distributed  # noqa: PLC0415

    dist = dist or distributed.current()
    main = dist.is_main
    train_dir = Path(train_dir)
    device = device or pick_device()
    bus = EventBus(callbacks if main else None)
    stop_event = stop_event or threading.Event()
    model.to(device)
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, cfg)
    use_amp = bool(cfg.amp) and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    start = 0
    if start_state is not None:
        model.load_state_dict(start_state["model"])
        if start_state.get("optimizer"):
            try:
                optimizer.load_state_dict(start_state["optimizer"])
            except (ValueError, KeyError):
                pass  # a different optimizer type: start its state afresh, keep the weights
        if use_amp and start_state.get("scaler"):
            scaler.load_state_dict(start_state["scaler"])
        start = int(start_state["iteration"])
    net = model  # the module itself: its state_dict goes into snapshots, with or without DDP
    if dist.enabled:
        model = distributed.wrap_model(net, device)
    max_iters = int(cfg.max_iters)
    anchor = resume_anchor(cfg, start_state)  # a resumed run continues its decay (no jump back up)
    # several processes: each measures its own speed, so the budget (which must end every rank at the same step)
    # is off under torchrun
    budget = RunBudget(
        max_iters, start, None if dist.enabled else cfg.max_minutes, bool(cfg.plateau_stop) and not dist.enabled
    )
    stats = LearningStatsWriter(train_dir / "learning_stats.csv", start_iteration=start) if main else _NoStats()
    t0 = time.time()
    state = {"iteration": start, "loss": float("nan"), "snapshot": None}

    def snapshot() -> Path:
        if not main:  # rank 0 writes it
            state["snapshot"] = snapshot_path(train_dir, state["iteration"])
            return state["snapshot"]
        payload = {
            "iteration": state["iteration"],
            "model": {k: v.detach().cpu() for k, v in net.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "scheduler": {
                "type": cfg.lr_schedule,
                "iteration": state["iteration"],
                "max_iters": max_iters,
                "anchor": list(anchor) if anchor else None,
            },
            "scaler": scaler.state_dict() if use_amp else None,
            "train_config": cfg.to_dict(),
            "model_config": dict(net.config),
            **(snapshot_extra or {}),
        }
        path = save_snapshot(train_dir, payload)
        prune_snapshots(train_dir, max_snapshots_to_keep)
        state["snapshot"] = path
        return path

    def event(kind: str, **kw) -> None:
        bus.emit(
            TrainingEvent(
                kind=kind,
                iteration=state["iteration"],
                max_iters=max_iters,
                lr=learning_rate(cfg, max(0, min(state["iteration"], max_iters - 1)), anchor),
                seconds=time.time() - t0,
                **kw,
            )
        )

    event("start")
    if start >= max_iters:
        stats.close()
        event("end", snapshot_path=None)
        return {"iteration": start, "stopped": False, "snapshot": None, "loss": state["loss"], "seconds": 0.0}

    shard = (lambda batch: distributed.shard(batch, dist)) if dist.enabled else None
    sampler = ResumableBatchSampler(len(dataset), cfg.batch_size * dist.world_size, cfg.seed, start, max_iters, shard)
    workers = int(cfg.num_workers)
    loader = DataLoader(
        EpochStream(dataset),
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        prefetch_factor=4 if workers > 0 else None,
    )
    keys = ("image", "heatmap", "locref", "locref_mask", "weight")
    model.train()
    bar = tqdm(
        total=max_iters, initial=start, desc="training", unit="it", disable=not (progress and main), smoothing=0.05
    )
    window_loss, window_n, window_t, window_images = 0.0, 0, time.time(), 0
    last_saved = start
    stopped = interrupted = False
    try:
        with _SigintToStop(stop_event):
            for batch in loader:
                it = state["iteration"]
                lr = learning_rate(cfg, it, anchor)
                for group in optimizer.param_groups:
                    group["lr"] = lr
                batch = {k: batch[k].to(device, non_blocking=True) for k in keys}
                if device.type == "cpu":
                    batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
                with torch.autocast(device.type, enabled=use_amp):
                    out = model(batch["image"])
                losses = pose_loss(
                    {k: v.float() for k, v in out.items()},
                    batch,
                    locref_loss_weight=float(cfg.locref_loss_weight) if cfg.location_refinement else 0.0,
                    heatmap_loss=cfg.heatmap_loss,
                    locref_huber_loss=bool(cfg.locref_huber_loss),
                    weigh_only_present_joints=bool(cfg.weigh_only_present_joints),
                )
                loss = losses["loss"]
                if dist.enabled:  # one all-reduce: the mean loss over ranks, and whether any rank must stop
                    loss_value, stop_all = distributed.reduce_step(loss, stop_event.is_set())
                else:
                    loss_value, stop_all = float(loss.detach()), False
                if not math.isfinite(loss_value):
                    raise FloatingPointError(
                        f"training diverged at iteration {it} (loss {loss_value}); lower 'lr' in train/pose_cfg.yaml"
                    )
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                state["iteration"] = it + 1
                window_loss += loss_value
                window_n += 1
                window_images += int(batch["image"].shape[0]) * dist.world_size
                bar.update(1)
                done = state["iteration"]
                budget.step(done, time.time() - t0)
                if done % cfg.display_iters == 0 or done == max_iters:
                    dt = max(time.time() - window_t, 1e-9)
                    mean = window_loss / max(window_n, 1)
                    state["loss"] = mean
                    stats.write(done, mean, lr, time.time() - t0)
                    ips = window_images / dt
                    bar.set_postfix(loss=f"{mean:.4f}", lr=f"{lr:.2g}", img_s=f"{ips:.1f}")
                    event("display", loss=mean, images_per_s=ips)
                    window_loss, window_n, window_t, window_images = 0.0, 0, time.time(), 0
                    if budget.update(done, time.time() - t0, mean) != max_iters:
                        max_iters = cfg.max_iters = budget.max_iters
                        bar.total = max_iters
                        for line in budget.messages[-1:]:
                            if log is not None and main:
                                log(line)
                if done % cfg.save_iters == 0 and done < max_iters:
                    path = snapshot()
                    last_saved = done
                    event("snapshot", loss=state["loss"], snapshot_path=str(path))
                if stop_all if dist.enabled else stop_event.is_set():
                    stopped = True
                    break
                if done >= max_iters:  # the budget ended the run early
                    break
    except KeyboardInterrupt:
        stopped = interrupted = True
    finally:
        bar.close()
        stats.close()
    if state["iteration"] != last_saved or state["snapshot"] is None:
        path = snapshot()
    else:
        path = state["snapshot"]
    if not interrupted:  # the ranks are in step: return once rank 0 has written the snapshot
        distributed.barrier(dist)
    if not stopped:
        event("snapshot", loss=state["loss"], snapshot_path=str(path))
    loss = state["loss"] if window_n == 0 else window_loss / window_n
    event("stopped" if stopped else "end", loss=None if math.isnan(loss) else loss, snapshot_path=str(path))
    return {
        "iteration": state["iteration"],
        "stopped": stopped,
        "snapshot": path,
        "loss": loss,
        "seconds": time.time() - t0,
    }
