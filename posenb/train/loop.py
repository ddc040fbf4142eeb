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

__all__ = [
    "run_training",
    "ResumableBatchSampler",
    "EpochStream",
    "pick_device",
    "make_optimizer",
    "loader_workers",
]

#: most DataLoader workers chosen on CUDA: 8 augmenting processes feed ~1,000 images/s of 160x160 crops
MAX_AUTO_WORKERS = 8


def loader_workers(
    num_workers: int | None, device, cpu_count: int | None = None, processes: int = 1
) -> tuple[int, str]:
    """``(workers, reason)``: ``num_workers`` when set, else chosen for ``device``.

    On a CPU the cores run the network, so augmentation stays in the training process (0 workers: a worker
    would take a core from the convolutions). On CUDA the network waits for the data, so augmentation runs in
    ``min(8, cores / processes - 1)`` worker processes per training process (``processes``: the training processes
    on this machine, one per GPU under torchrun; one core each is left to them); measured on an H200 with 16
    cores: 235 images/s with 0 workers, 450 with 8 (benchmarks/RESULTS.md, "GPU check").
    """
    if num_workers is not None:
        return int(num_workers), "num_workers set in pose_cfg.yaml"
    if getattr(device, "type", str(device)) != "cuda":
        return 0, "CPU: augmentation in the training process, the cores run the network"
    cores = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    share = cores // max(1, int(processes))
    workers = max(0, min(MAX_AUTO_WORKERS, share - 1))
    per = f"{cores} cores" if processes <= 1 else f"{cores} cores / {processes} training processes"
    return workers, f"CUDA: augmentation in {workers} processes feeds the GPU ({per})"


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
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.train import distributed  # noqa: PLC0415

    dist = dist or distributed.current()
    stop_event = stop_event or threading.Event()
    run = _Run(model, cfg, Path(train_dir), device or pick_device(), start_state, dist)
    run.listen(callbacks, snapshot_extra, max_snapshots_to_keep, log)
    run.event("start")
    if run.start >= run.max_iters:
        run.stats.close()
        run.event("end", snapshot_path=None)
        return {
            "iteration": run.start,
            "stopped": False,
            "snapshot": None,
            "loss": run.state["loss"],
            "seconds": 0.0,
        }
    loader = run.loader(dataset)
    run.model.train()
    bar = tqdm(
        total=run.max_iters, initial=run.start, desc="training", unit="it", disable=not (progress and run.main),
        smoothing=0.05,
    )  # fmt: skip
    run.window_t = time.time()  # the first window's images/s count from here
    stopped = interrupted = False
    try:
        with _SigintToStop(stop_event):
            for batch in loader:
                lr, stop_all = run.step(batch, stop_event)
                bar.update(1)
                run.after_step(lr, bar)
                if stop_all if dist.enabled else stop_event.is_set():
                    stopped = True
                    break
                if run.state["iteration"] >= run.max_iters:  # the budget ended the run early
                    break
    except KeyboardInterrupt:
        stopped = interrupted = True
    finally:
        bar.close()
        run.stats.close()
    return run.finish(stopped, interrupted)


_BATCH_KEYS = ("image", "heatmap", "locref", "locref_mask", "weight")


class _Run:
    """The moving parts of one :func:`run_training` call: the model (and its DDP wrapper), optimizer, AMP scaler,
    schedule anchor, budget, ``learning_stats.csv`` and events, with one method per step of the loop."""

    def __init__(self, model, cfg: TrainConfig, train_dir: Path, device, start_state: dict | None, dist):
        import torch  # noqa: PLC0415

        from posenb.train import distributed  # noqa: PLC0415

        self.cfg, self.train_dir, self.device, self.dist = cfg, train_dir, device, dist
        self.main = dist.is_main
        self.bus, self.snapshot_extra, self.max_keep, self.log = EventBus(None), {}, 5, None
        model.to(device)
        if device.type == "cpu":
            model.to(memory_format=torch.channels_last)
        self.optimizer = make_optimizer(model, cfg)
        self.use_amp = bool(cfg.amp) and device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.start = self._restore(model, start_state)
        self.net = model  # the module itself: its state_dict goes into snapshots, with or without DDP
        self.model = distributed.wrap_model(model, device) if dist.enabled else model
        self.max_iters = int(cfg.max_iters)
        self.anchor = resume_anchor(cfg, start_state)  # a resumed run continues its decay (no jump back up)
        self.cycle = ((start_state or {}).get("scheduler") or {}).get("cycle")  # "refine": posenb.train.refine_cycle
        # several processes: each measures its own speed, so the budget (which must end every rank at the same
        # step) is off under torchrun
        self.budget = RunBudget(
            self.max_iters, self.start, None if dist.enabled else cfg.max_minutes,
            bool(cfg.plateau_stop) and not dist.enabled,
        )  # fmt: skip
        stats_path = train_dir / "learning_stats.csv"
        self.stats = LearningStatsWriter(stats_path, start_iteration=self.start) if self.main else _NoStats()
        self.t0 = time.time()
        self.state = {"iteration": self.start, "loss": float("nan"), "snapshot": None}
        self.window_loss, self.window_n, self.window_t, self.window_images = 0.0, 0, time.time(), 0
        self.last_saved = self.start

    def listen(self, callbacks, snapshot_extra: dict | None, max_keep: int | None, log) -> None:
        """Who hears of the run: ``callbacks`` (rank 0) and ``log``; what every snapshot carries and how many stay."""
        self.bus = EventBus(callbacks if self.main else None)
        self.snapshot_extra, self.max_keep, self.log = snapshot_extra or {}, max_keep, log

    def _restore(self, model, start_state: dict | None) -> int:
        """Load a snapshot to resume (model, optimizer, AMP scaler); returns its iteration (0 without one)."""
        if start_state is None:
            return 0
        model.load_state_dict(start_state["model"])
        if start_state.get("optimizer"):
            try:
                self.optimizer.load_state_dict(start_state["optimizer"])
            except (ValueError, KeyError):
                pass  # a different optimizer type: start its state afresh, keep the weights
        if self.use_amp and start_state.get("scaler"):
            self.scaler.load_state_dict(start_state["scaler"])
        return int(start_state["iteration"])

    def snapshot(self) -> Path:
        """Save ``snapshot-<iteration>.pt`` (rank 0 only) and prune the old ones; returns its path."""
        if not self.main:  # rank 0 writes it
            self.state["snapshot"] = snapshot_path(self.train_dir, self.state["iteration"])
            return self.state["snapshot"]
        cfg, it = self.cfg, self.state["iteration"]
        payload = {
            "iteration": it,
            "model": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {
                "type": cfg.lr_schedule,
                "iteration": it,
                "max_iters": self.max_iters,
                "anchor": list(self.anchor) if self.anchor else None,
                "cycle": self.cycle,
            },  # fmt: skip
            "scaler": self.scaler.state_dict() if self.use_amp else None,
            "train_config": cfg.to_dict(),
            "model_config": dict(self.net.config),
            **self.snapshot_extra,
        }
        path = save_snapshot(self.train_dir, payload)
        prune_snapshots(self.train_dir, self.max_keep)
        self.state["snapshot"] = path
        return path

    def event(self, kind: str, **kw) -> None:
        """Send a :class:`TrainingEvent` of the current iteration to the callbacks."""
        it = self.state["iteration"]
        lr = learning_rate(self.cfg, max(0, min(it, self.max_iters - 1)), self.anchor)
        self.bus.emit(
            TrainingEvent(
                kind=kind, iteration=it, max_iters=self.max_iters, lr=lr, seconds=time.time() - self.t0, **kw
            )
        )

    def loader(self, dataset):
        """The DataLoader over ``dataset``: resumable batch order, sharded over processes under torchrun."""
        from torch.utils.data import DataLoader  # noqa: PLC0415

        from posenb.train import distributed  # noqa: PLC0415

        cfg, dist = self.cfg, self.dist
        shard = (lambda batch: distributed.shard(batch, dist)) if dist.enabled else None
        sampler = ResumableBatchSampler(
            len(dataset), cfg.batch_size * dist.world_size, cfg.seed, self.start, self.max_iters, shard
        )
        local = int(os.environ.get("LOCAL_WORLD_SIZE", dist.world_size)) if dist.enabled else 1
        workers, reason = loader_workers(cfg.num_workers, self.device, processes=local)
        if self.log is not None and self.main and cfg.num_workers is None:
            self.log(f"data loader: {workers} worker processes ({reason})")
        return DataLoader(
            EpochStream(dataset),
            batch_sampler=sampler,
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if workers > 0 else None,
        )

    def step(self, batch: dict, stop_event: threading.Event) -> tuple[float, bool]:
        """One optimisation step; returns ``(learning rate, whether any process must stop)``."""
        import torch  # noqa: PLC0415

        from posenb.nn import pose_loss  # noqa: PLC0415
        from posenb.train import distributed  # noqa: PLC0415

        cfg, device = self.cfg, self.device
        it = self.state["iteration"]
        lr = learning_rate(cfg, it, self.anchor)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = {k: batch[k].to(device, non_blocking=True) for k in _BATCH_KEYS}
        if device.type == "cpu":
            batch["image"] = batch["image"].contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, enabled=self.use_amp):
            out = self.model(batch["image"])
        losses = pose_loss(
            {k: v.float() for k, v in out.items()},
            batch,
            locref_loss_weight=float(cfg.locref_loss_weight) if cfg.location_refinement else 0.0,
            heatmap_loss=cfg.heatmap_loss,
            locref_huber_loss=bool(cfg.locref_huber_loss),
            weigh_only_present_joints=bool(cfg.weigh_only_present_joints),
        )
        loss = losses["loss"]
        if self.dist.enabled:  # one all-reduce: the mean loss over ranks, and whether any rank must stop
            loss_value, stop_all = distributed.reduce_step(loss, stop_event.is_set())
        else:
            loss_value, stop_all = float(loss.detach()), False
        if not math.isfinite(loss_value):
            raise FloatingPointError(
                f"training diverged at iteration {it} (loss {loss_value}); lower 'lr' in train/pose_cfg.yaml"
            )
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.state["iteration"] = it + 1
        self.window_loss += loss_value
        self.window_n += 1
        self.window_images += int(batch["image"].shape[0]) * self.dist.world_size
        return lr, stop_all

    def after_step(self, lr: float, bar) -> None:
        """The budget's clock; every ``display_iters`` the mean loss (csv, bar, event, budget); every
        ``save_iters`` a snapshot."""
        done = self.state["iteration"]
        self.budget.step(done, time.time() - self.t0)
        if done % self.cfg.display_iters == 0 or done == self.max_iters:
            self._display(done, lr, bar)
        if done % self.cfg.save_iters == 0 and done < self.max_iters:
            path = self.snapshot()
            self.last_saved = done
            self.event("snapshot", loss=self.state["loss"], snapshot_path=str(path))

    def _display(self, done: int, lr: float, bar) -> None:
        """Write the window's mean loss, show it, tell the callbacks, and let the budget move ``max_iters``."""
        dt = max(time.time() - self.window_t, 1e-9)
        mean = self.window_loss / max(self.window_n, 1)
        self.state["loss"] = mean
        self.stats.write(done, mean, lr, time.time() - self.t0)
        ips = self.window_images / dt
        bar.set_postfix(loss=f"{mean:.4f}", lr=f"{lr:.2g}", img_s=f"{ips:.1f}")
        self.event("display", loss=mean, images_per_s=ips)
        self.window_loss, self.window_n, self.window_t, self.window_images = 0.0, 0, time.time(), 0
        if self.budget.update(done, time.time() - self.t0, mean) != self.max_iters:
            if self.budget.plateau_at == done and self.cfg.lr_schedule == "cosine":
                # anneal from the rate the run has now to the floor at the new end (no cliff in the rate)
                self.anchor = (done, learning_rate(self.cfg, done, self.anchor))
            self.max_iters = self.cfg.max_iters = self.budget.max_iters
            bar.total = self.max_iters
            for line in self.budget.messages[-1:]:
                if self.log is not None and self.main:
                    self.log(line)

    def finish(self, stopped: bool, interrupted: bool) -> dict:
        """The last snapshot (unless the newest is current), the final events; returns run_training's summary."""
        from posenb.train import distributed  # noqa: PLC0415

        if self.state["iteration"] != self.last_saved or self.state["snapshot"] is None:
            path = self.snapshot()
        else:
            path = self.state["snapshot"]
        if not interrupted:  # the ranks are in step: return once rank 0 has written the snapshot
            distributed.barrier(self.dist)
        if not stopped:
            self.event("snapshot", loss=self.state["loss"], snapshot_path=str(path))
        loss = self.state["loss"] if self.window_n == 0 else self.window_loss / self.window_n
        self.event(
            "stopped" if stopped else "end", loss=None if math.isnan(loss) else loss, snapshot_path=str(path)
        )
        return {
            "iteration": self.state["iteration"],
            "stopped": stopped,
            "snapshot": path,
            "loss": loss,
            "seconds": time.time() - self.t0,
        }
