"""Training on several GPUs (or CPU processes) with PyTorch's own DistributedDataParallel, launched by torchrun.

    torchrun --nproc_per_node=4 -m posenb.cli train config.yaml [--maxiters N ...]

or any script calling ``posenb.train_network(...)`` under ``torchrun``. ``train_network`` sees torchrun's
environment (``WORLD_SIZE`` > 1 with ``RANK``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``), joins the
process group (NCCL with CUDA, else gloo), uses one device per process (``cuda:<LOCAL_RANK>``; ``gputouse`` is
ignored: pick GPUs with ``CUDA_VISIBLE_DEVICES``), wraps the model in
:class:`torch.nn.parallel.DistributedDataParallel` and leaves the group at the end (also on errors and stops).
A process group the caller initialised already is used as it is and left open. Without torchrun (or with
``WORLD_SIZE`` 1) none of this runs: training is the single-process loop, unchanged.

Batches: ``batch_size`` is per process (torchrun / Lightning convention: the number a ``pose_cfg.yaml`` tuned
for one GPU's memory keeps meaning on each GPU). N processes step on one global batch of ``N * batch_size``:
global batch ``b`` is the batch ``b`` of the single-process order (:class:`posenb.train.loop.ResumableBatchSampler`
with ``N * batch_size``, a pure function of ``(seed, iteration)``), and rank ``r`` takes its ``r``-th slice. So
resume stays exact, and N processes with ``batch_size`` b see the images (and augmentations) of one process with
``N * b``. Gradients are averaged over processes by DDP; the learning rate is not rescaled. The loss is then the
same as one process with ``N * b`` when it is a mean over images: exactly so with ``freeze_bn_stats: true``
(BatchNorm statistics are otherwise per process, as usual with DDP) and without location refinement (the locref
loss is normalised by the labeled cells of each process's share).

Only rank 0 writes: snapshots (the unwrapped model's ``state_dict``: the same files as a single-process run, so
they load anywhere), ``learning_stats.csv``, the run marker, events / callbacks and the progress bar. The
logged loss is the mean over processes. Every step, one small all-reduce carries the loss and a stop flag, so
a stop request (stop file, ``stop_event``, Ctrl-C) seen by any process stops all of them after the same step
(a request made during step ``t`` is seen by the all-reduce of step ``t + 1``), and rank 0 saves one snapshot.
Ctrl-C in torchrun's terminal reaches every process and torchrun itself, which forwards a second SIGINT: the
snapshot is still written once by rank 0, and torchrun then reports the signal and exits non-zero.
On the CPU (gloo) each process gets ``cpu_count // LOCAL_WORLD_SIZE`` threads.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

from posenb.errors import ConfigError

__all__ = [
    "DistContext",
    "SINGLE",
    "torchrun_world_size",
    "setup",
    "teardown",
    "process_group",
    "current",
    "process_device",
    "wrap_model",
    "shard",
    "reduce_step",
    "barrier",
]

_ENV = ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False
    """True when :func:`setup` initialised the process group (and :func:`teardown` destroys it)."""

    @property
    def enabled(self) -> bool:
        """More than one process: DDP, sharded batches, reduced losses."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that writes files and reports events."""
        return self.rank == 0


#: one process (no torchrun): everything as before
SINGLE = DistContext()


def torchrun_world_size(environ=None) -> int:
    """``WORLD_SIZE`` of a torchrun launch (1 without torchrun); :class:`ConfigError` when it is incomplete."""
    environ = os.environ if environ is None else environ
    try:
        world = int(environ.get("WORLD_SIZE", "1") or 1)
    except ValueError:
        raise ConfigError(f"WORLD_SIZE={environ['WORLD_SIZE']!r} is not a number of processes.") from None
    if world > 1:
        missing = [k for k in _ENV if not environ.get(k)]
        if missing:
            raise ConfigError(
                f"WORLD_SIZE={world} but {', '.join(missing)} not set: launch multi-process training with "
                "torchrun (torchrun --nproc_per_node=N -m posenb.cli train config.yaml), or unset WORLD_SIZE."
            )
    return max(world, 1)


def current() -> DistContext:
    """The context of an already initialised default process group, else :data:`SINGLE`."""
    import torch.distributed as dist  # noqa: PLC0415

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() <= 1:
        return SINGLE
    return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0) or 0))


def setup() -> DistContext:
    """Join torchrun's process group (NCCL with CUDA, else gloo); :data:`SINGLE` without torchrun."""
    ctx = current()
    if ctx.enabled:
        return ctx
    world = torchrun_world_size()
    if world <= 1:
        return SINGLE
    import torch  # noqa: PLC0415
    import torch.distributed as dist  # noqa: PLC0415

    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    if torch.cuda.is_available():
        if local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} visible GPU(s): start at most one "
                "process per GPU (torchrun --nproc_per_node)."
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    return DistContext(rank, world, local_rank, owns_group=True)


def teardown(ctx: DistContext) -> None:
    """Destroy the process group if :func:`setup` created it."""
    import torch.distributed as dist  # noqa: PLC0415

    if ctx.owns_group and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def process_group():
    """``with process_group() as ctx:`` :func:`setup` ... :func:`teardown` (also on errors)."""
    ctx = setup()
    try:
        yield ctx
    finally:
        teardown(ctx)


def process_device(ctx: DistContext):
    """This process's device: ``cuda:<local_rank>``, else the CPU with its share of the machine's cores."""
    import torch  # noqa: PLC0415

    if torch.cuda.is_available():
        return torch.device("cuda", ctx.local_rank)
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", ctx.world_size) or ctx.world_size)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // max(1, local_world)))
    return torch.device("cpu")


def wrap_model(model, device):
    """``DistributedDataParallel(model)`` on ``device`` (gradients averaged over processes)."""
    from torch.nn.parallel import DistributedDataParallel  # noqa: PLC0415

    if device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[device.index], output_device=device.index)
    return DistributedDataParallel(model)


def shard(global_batch: list[int], ctx: DistContext) -> list[int]:
    """This rank's slice of a global batch of ``world_size * b`` items (rank ``r`` takes ``[r*b, (r+1)*b)``)."""
    per = len(global_batch) // ctx.world_size
    return global_batch[ctx.rank * per : (ctx.rank + 1) * per]


def reduce_step(loss, stop: bool) -> tuple[float, bool]:
    """One all-reduce per step: ``(mean loss over processes, any process asked to stop)``."""
    import torch  # noqa: PLC0415
    import torch.distributed as dist  # noqa: PLC0415

    values = torch.stack([loss.detach().float().reshape(()), torch.tensor(float(stop), device=loss.device)])
    dist.all_reduce(values)
    total, stops = values.tolist()
    return total / dist.get_world_size(), stops > 0


def barrier(ctx: DistContext) -> None:
    """Wait for every process (no-op for one process)."""
    if ctx.enabled:
        import torch.distributed as dist  # noqa: PLC0415

        dist.barrier()
