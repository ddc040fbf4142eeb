"""The rules of ``update_labeling_model`` shared by single- and multi-animal projects (:mod:`posenb.train.labeling_model`
describes them): the warm start's iteration budget, the label digest that tells which frames a snapshot has learnt,
the short cosine that continues a snapshot, and the files a from-scratch model starts with.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from posenb.train.config import new_cycle_schedule

__all__ = [
    "FT_ITERS_PER_FRAME",
    "FT_MIN_ITERS",
    "FT_STEP",
    "FT_LR_SHARE",
    "label_digest",
    "fine_tune_budget",
    "newest_snapshot",
    "digest_of_split",
    "write_scratch_cfgs",
    "cosine_start",
    "warm_overrides",
    "fixed_length",
    "announce",
]

#: warm start: iterations per new (or changed) labeled frame, before the parts factor
FT_ITERS_PER_FRAME = 50
#: warm start: fewest iterations of an update
FT_MIN_ITERS = 200
#: warm start: iterations are rounded up to a multiple of this
FT_STEP = 100
#: warm start: the cosine starts at this share of pose_cfg's ``lr``
FT_LR_SHARE = 0.3


def label_digest(data) -> dict[str, str]:
    """``{"labeled-data/<folder>/<image>": digest}`` of a label table's rows (labels rounded to 0.01 px; a
    multi-animal table's row in its column order): tells which frames a model has learnt and whether their labels
    changed since."""
    from posenb.io.label_arrays import is_multianimal_table  # noqa: PLC0415
    from posenb.io.labels import labels_to_array  # noqa: PLC0415

    values = data.to_numpy(dtype=np.float64) if is_multianimal_table(data) else labels_to_array(data)
    arr = np.round(values, 2)
    out = {}
    for key, row in zip(data.index, arr):
        name = "/".join(str(p) for p in (key if isinstance(key, tuple) else (key,)))
        out[name] = hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest()[:16]
    return out


def fine_tune_budget(new_frames: int, parts: int, full_budget: int) -> tuple[int, str]:
    """Iterations of a warm-started update and the rule with its numbers (see the module docstring)."""
    f_parts = min(2.0, max(1.0, math.sqrt(max(int(parts), 1) / 4.0)))
    raw = FT_ITERS_PER_FRAME * int(new_frames) * f_parts
    iters = int(math.ceil(raw / FT_STEP) * FT_STEP)
    hi = max(FT_MIN_ITERS, int(full_budget))
    iters = int(min(hi, max(FT_MIN_ITERS, iters)))
    why = (
        f"{new_frames} new or changed labeled frame(s): {FT_ITERS_PER_FRAME} per frame x{f_parts:.2f} for {parts} "
        f"part(s) (sqrt(parts / 4) in [1, 2]) = {raw:.0f}, rounded up to {FT_STEP}, in [{FT_MIN_ITERS}, {hi}] (the "
        f"recipe's budget for all frames) = {iters}"
    )
    return iters, why


def newest_snapshot(train_dir: Path) -> Path | None:
    """The newest ``snapshot-<iter>.pt`` of a folder (None when it has none)."""
    from posenb.nn.snapshots import list_snapshots  # noqa: PLC0415

    snaps = list_snapshots(train_dir)
    return snaps[-1] if snaps else None


def digest_of_split(data, train_idx) -> dict[str, str]:
    """Label digest of a shuffle's training rows."""
    return label_digest(data.iloc[train_idx])


def write_scratch_cfgs(train_dir: Path, train: dict, test: dict) -> None:
    """Write a from-scratch labeling model's pose_cfg.yaml (``train/`` and ``test/``), marked as such."""
    from posenb.data.pose_cfg import write_pose_cfg  # noqa: PLC0415

    train["labeling_model"] = "trained on every labeled frame by posenb.update_labeling_model"
    write_pose_cfg(train_dir / "pose_cfg.yaml", train)
    write_pose_cfg(train_dir.parent / "test" / "pose_cfg.yaml", test)


def fixed_length(n: int) -> dict:
    return {"max_iters": n, "max_minutes": None, "plateau_stop": False, "refine_iters": 0}


def cosine_start(state: dict, iterations: int, lr: float) -> tuple[dict, int]:
    """``(state, stop)``: a copy of snapshot ``state`` whose schedule continues its iterations with a short cosine
    from ``FT_LR_SHARE x lr`` down over ``iterations`` (to iteration ``stop``)."""
    state = dict(state)
    start = int(state["iteration"])
    stop = start + int(iterations)
    # run_training's schedule anchor (posenb.train.config.resume_anchor): the decay starts again at (start, share x lr)
    state["scheduler"] = new_cycle_schedule(start, stop, FT_LR_SHARE * lr)
    state["train_config"] = {**(state.get("train_config") or {}), "lr": lr, "max_iters": stop}
    return state, stop


def warm_overrides(plan: dict, lr: float) -> None:
    """Continue the start snapshot's iterations with a short cosine from ``FT_LR_SHARE x lr`` (in ``plan``)."""
    plan["state"], stop = cosine_start(plan["state"], plan["iterations"], lr)
    plan["overrides"] = {**fixed_length(stop), "lr_schedule": "cosine"}


def announce(plan: dict, iterations: int) -> None:
    """One line on what the update does."""
    print(
        f"update_labeling_model: {plan['mode']}, {len(plan['digests']['label_digest'])} labeled frames "
        f"({plan['new']} new), {iterations} iterations."
    )
