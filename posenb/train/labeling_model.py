"""``update_labeling_model``: bring the model behind the labeler's suggestions up to date with every label.

Human-in-the-loop labeling (label, train, predict, correct, retrain): the labeler shows the model's guesses on
unlabeled frames (:class:`posenb.infer.suggest.LabelSuggester`); the more frames are labeled, the better those
guesses get, if the model learns from them. This function is the "retrain" step, meant to be pressed every few
labeled frames (the labeler's "Update model" button calls it).

Where the model lives: ``<project>/labeling-model/`` (:func:`posenb.project.paths.get_labeling_model_dir`), with
``train/`` (``pose_cfg.yaml``, ``snapshot-<iteration>.pt``, ``learning_stats.csv``, ``train.log``) and ``test/``
like a shuffle's model folder, but apart from DeepLabCut's ``training-datasets/`` and ``dlc-models/``. It is
trained on *every* labeled frame of the project (merged as ``create_training_dataset`` merges them, read only),
without a test split: its job is to guess the next frames, not to be evaluated. Nothing of the user's shuffles is
written: not the merged ``CollectedData`` table, not a ``Documentation_data-*.pickle`` / ``.mat`` split, not a
snapshot, so their training sets and evaluations stay exactly as they were.

What it starts from (its warm start), in order:

1. the newest snapshot of the labeling model itself, or of the shuffle (``shuffle=1``: the model the suggestions
   came from before the first update), whichever file was written last; a shuffle snapshot newer than the
   labeling model's (the user trained again) wins, and the labeling model's older snapshots are moved to
   ``train/previous-<n>/`` (nothing is deleted). The start snapshot's ``pose_cfg.yaml`` comes along (the weights
   learnt at its input scale and crop). A snapshot of other body parts is not used.
2. without one (or ``from_scratch=True``): posenb's recipe derived from all labels
   (:func:`posenb.data.recipe.derive_recipe`) and its budget, from ImageNet weights.

The warm start's budget (:func:`fine_tune_budget`; written to ``train.log`` with its numbers): ``new`` = labeled
frames the start snapshot has not learnt (frames added since, or whose labels changed: every labeling-model
snapshot records a digest of the labels it was trained on; for a shuffle's snapshot, its training split)::

    iterations = 50 x new x sqrt(parts / 4) (in [1, 2]), rounded up to 100, in [200, the recipe's budget for all frames]
    learning rate: cosine from 0.3 x lr down to lr / 100 over those iterations (the optimizer state is kept, no
    warm-up); no time budget, no plateau stop (a short run of known length)

The iteration count continues the start snapshot's (``snapshot-<T + iterations>.pt``). When nothing is new, nothing
is trained.

Multi-animal projects (:mod:`posenb.train.labeling_model_ma`): the same rules for the top-down model that
``train_network`` trains (:mod:`posenb.train.ma_api`): the pose model in ``labeling-model/train/`` and the centroid
model (with the unique body parts' maps) in ``labeling-model/train/centroid/``, on every frame with a labeled animal
or unique part. The start is a pose snapshot and the newest centroid snapshot of the same folder (both models'
older snapshots go to their ``previous-<n>/``); the pose model's label digest and iteration decide; both models get
the warm start's iterations (the centroid model at most its recipe's budget for all frames, ``ma_centroid_iters``)
and the same short cosine. From scratch: the top-down recipe from all labels
(:func:`posenb.data.ma_trainingset.derive_ma_recipe`).

Each kind of project brings its own pieces (:class:`SingleAnimalModel`,
:class:`~posenb.train.labeling_model_ma.MultiAnimalModel`: its labels, which snapshot may start it, the recipe and
budget, the training); the rules above live in :mod:`posenb.train.labeling_rules` only.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError, ModelError
from posenb.project.config import read_config
from posenb.project.paths import get_labeling_model_dir, get_train_dir
from posenb.train.labeling_rules import (
    FT_ITERS_PER_FRAME,
    FT_LR_SHARE,
    FT_MIN_ITERS,
    FT_STEP,
    announce,
    digest_of_split,
    fine_tune_budget,
    fixed_length,
    label_digest,
    newest_snapshot,
    warm_overrides,
    write_scratch_cfgs,
)

__all__ = [
    "update_labeling_model",
    "LabelingModelUpdate",
    "SingleAnimalModel",
    "fine_tune_budget",
    "label_digest",
    "FT_ITERS_PER_FRAME",
    "FT_MIN_ITERS",
    "FT_STEP",
    "FT_LR_SHARE",
]

@dataclass(frozen=True)
class LabelingModelUpdate:
    """What :func:`update_labeling_model` did.

    ``mode``: ``"warm start"``, ``"from scratch"`` or ``"up to date"`` (nothing new: nothing trained).
    ``snapshot``: the labeling model's newest snapshot afterwards (None if it has none; multi-animal projects: the
    pose model's, ``train/snapshot-<iter>.pt``). ``start``: the snapshot it started from (None from scratch).
    ``frames``: labeled frames trained on; ``new_frames``: those the start snapshot had not learnt. ``iterations``:
    iterations of this update (planned; fewer when stopped; multi-animal projects: the pose model's).
    """

    mode: str
    train_dir: Path
    snapshot: Path | None
    start: Path | None
    frames: int
    new_frames: int
    iterations: int
    stopped: bool = False


class SingleAnimalModel:
    """The single-animal pieces of :func:`update_labeling_model`: labels as ``(table, image paths, keypoints
    (n, K, 2) float pixels, NaN = not labeled)``; one network in ``labeling-model/train/``."""

    def __init__(self, cfg: dict):
        self.cfg = cfg

    def labels(self):
        """``(table, images (paths), keypoints (n, K, 2))`` of every frame with at least one labeled point."""
        from posenb.data.trainingset import merge_annotated_datasets  # noqa: PLC0415
        from posenb.io.labels import labels_to_array  # noqa: PLC0415

        data = merge_annotated_datasets(self.cfg, quiet=True)
        kp = labels_to_array(data, list(self.cfg["bodyparts"]))
        keep = np.isfinite(kp).all(axis=-1).any(axis=-1)
        data, kp = data[keep], kp[keep]
        project = Path(self.cfg["project_path"])
        images = [project.joinpath(*[str(p) for p in i]) for i in data.index]
        return data, images, kp

    def check(self, path: Path, state: dict, folder: Path) -> None:
        """ModelError when snapshot ``path`` (in ``folder``) cannot start the labeling model."""
        from posenb.nn.snapshots import check_bodyparts  # noqa: PLC0415

        check_bodyparts(state, list(self.cfg["bodyparts"]), path)

    def archive(self, train_dir: Path) -> None:
        """Move the labeling model's snapshots to ``previous-<n>/`` (a start from scratch or from the shuffle)."""
        from posenb.nn.snapshots import archive_snapshots  # noqa: PLC0415

        archive_snapshots(train_dir)

    def shuffle_digest(self, shuffle: int, trainingsetindex: int) -> dict[str, str]:
        """Label digest of a shuffle's training split ({} when it cannot be read)."""
        from posenb.data.trainingset import read_training_split  # noqa: PLC0415

        try:
            data, train_idx, _, _ = read_training_split(self.cfg, shuffle, trainingsetindex)
        except (ConfigError, LabelError, OSError, ValueError):
            return {}
        return digest_of_split(data, train_idx)

    def scratch_cfg(self, train_dir: Path, labels) -> None:
        """pose_cfg.yaml (train/ and test/) of a from-scratch labeling model: posenb's recipe from all labels."""
        from posenb.data.pose_cfg import build_pose_cfgs  # noqa: PLC0415
        from posenb.data.recipe import derive_recipe  # noqa: PLC0415
        from posenb.data.trainingset_files import frame_size  # noqa: PLC0415
        from posenb.project.config import resolve_net_type  # noqa: PLC0415

        data, _, keypoints = labels
        size = frame_size(Path(self.cfg["project_path"]), data.index)
        net_type, _ = resolve_net_type(self.cfg)
        augmenter = self.cfg.get("default_augmenter") or "default"
        derived = derive_recipe(size, keypoints)
        write_scratch_cfgs(
            train_dir, *build_pose_cfgs(self.cfg, 1.0, 0, net_type, augmenter, None, size, derived)
        )

    def budget(self, train_dir: Path, labels) -> tuple[int, int]:
        """``(parts, iterations)`` for :func:`fine_tune_budget`: labeled parts, the recipe's budget for all frames."""
        from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415
        from posenb.data.recipe import label_statistics, training_budget  # noqa: PLC0415

        stats = label_statistics(labels[2])
        crop = read_pose_cfg(train_dir / "pose_cfg.yaml").get("crop_size") or [256, 256]
        full, _ = training_budget(stats["labeled_frames"], stats["parts"], int(crop[0]), int(crop[0]))
        return stats["parts"], full["max_iters"]

    def train(self, train_dir: Path, plan: dict, labels, run: dict) -> tuple[int, bool]:
        """Train the network as planned; ``(iterations, stopped)``."""
        from posenb.train.api import train_on_images  # noqa: PLC0415
        from posenb.train.run_config import load_train_config  # noqa: PLC0415

        if plan["mode"] == "warm start":
            warm_overrides(plan, float(load_train_config(train_dir).lr))
        tcfg = load_train_config(train_dir, plan["overrides"])
        n_iter = plan.get("iterations", int(tcfg.max_iters))
        announce(plan, n_iter)
        recipe = (tcfg.extra.get("recipe") or {}) if plan["mode"] == "from scratch" else {}
        run = {**run, "overrides": plan["overrides"], "shuffle": 0, "fraction": 1.0,
               "notes": {**recipe, **plan["notes"]}, "extra": {"labeling_model": True, **plan["digests"]}}  # fmt: skip
        _, images, keypoints = labels
        result = (
            train_on_images(self.cfg, train_dir, tcfg, images, keypoints, (plan["state"], None), run) or {}
        )
        return n_iter, bool(result.get("stopped"))


def _warm_start(cfg: dict, kind, train_dir: Path, shuffle: int, trainingsetindex: int):
    """``(snapshot path, loaded state, its train folder, why)`` to start from, or ``(None, None, None, why)``."""
    from posenb.nn.snapshots import load_snapshot  # noqa: PLC0415

    own = newest_snapshot(train_dir)
    try:
        shuffle_dir = get_train_dir(cfg, shuffle, trainingsetindex)[0]
    except ConfigError:
        shuffle_dir = None
    theirs = newest_snapshot(shuffle_dir) if shuffle_dir is not None else None
    candidates = [(p, d) for p, d in ((own, train_dir), (theirs, shuffle_dir)) if p is not None]
    candidates.sort(key=lambda pd: pd[0].stat().st_mtime, reverse=True)
    why = []
    for path, folder in candidates:
        try:
            state = load_snapshot(path)
            kind.check(path, state, folder)
        except ModelError as exc:
            why.append(str(exc))
            continue
        if not state.get("net_type") or not (folder / "pose_cfg.yaml").is_file():
            why.append(f"{path}: no net_type or no pose_cfg.yaml beside it")
            continue
        what = (
            "the labeling model's newest snapshot"
            if folder == train_dir
            else f"shuffle {shuffle}'s newest snapshot"
        )
        return path, state, folder, what
    return None, None, None, "; ".join(why) or "no snapshot of the labeling model or of the shuffle"


def _copy_cfg(source_dir: Path, train_dir: Path, state: dict) -> None:
    """The start snapshot's settings as the labeling model's pose_cfg.yaml (train/ and test/): its folder's
    pose_cfg.yaml with the values its run had in effect (the snapshot's ``train_config``: input scale, crop, ...,
    which train_network's arguments may have changed)."""
    from posenb.data.pose_cfg import read_pose_cfg, write_pose_cfg  # noqa: PLC0415

    in_effect = {k: v for k, v in (state.get("train_config") or {}).items() if k != "extra"}
    for sub in ("train", "test"):
        src = source_dir.parent / sub / "pose_cfg.yaml"
        if src.is_file():
            data = read_pose_cfg(src)
            if sub == "train":
                data.update(in_effect)
                data["labeling_model"] = (
                    f"settings of {source_dir} (the warm start), by posenb.update_labeling_model"
                )
            write_pose_cfg(train_dir.parent / sub / "pose_cfg.yaml", data)


def _learnt(state: dict) -> dict[str, str]:
    """The label digest a labeling-model snapshot has learnt (a stopped update: what it started from)."""
    learnt = dict(state.get("label_digest") or {})
    end = int((state.get("scheduler") or {}).get("max_iters") or 0)
    if end > int(state["iteration"]):  # that update was stopped before its end: what it started from
        learnt = dict(state.get("label_digest_before") or {})
    return learnt


def _plan(kind, train_dir: Path, labels, start, iterations, shuffle, trainingsetindex) -> dict:
    """Choose the start and the budget; write pose_cfg.yaml. Returns the plan: ``mode``, ``start`` (path),
    ``folder`` (its train folder), ``state``, ``new``, ``digests`` (stored in the snapshots), ``overrides``,
    ``notes`` (train.log), ``asked`` (``iterations=``) and, warm-started, ``iterations``."""
    data = labels[0]
    digest = label_digest(data)
    path, state, folder, why = start
    if path is None or folder != train_dir:  # from scratch or from the shuffle: its own snapshots step aside
        kind.archive(train_dir)
    if path is None:
        kind.scratch_cfg(train_dir, labels)
        overrides = {} if iterations is None else fixed_length(int(iterations))
        notes = {
            "start": f"from scratch ({why})",
            "frames": f"{len(data)} labeled frames (all of the project)",
        }
        return {"mode": "from scratch", "start": None, "folder": None, "state": None, "new": len(data),
                "digests": {"label_digest": digest, "label_digest_before": {}}, "overrides": overrides,
                "notes": notes, "asked": iterations}  # fmt: skip
    if folder != train_dir:
        _copy_cfg(folder, train_dir, state)
        learnt = kind.shuffle_digest(shuffle, trainingsetindex)
    else:
        learnt = _learnt(state)
    new = sum(1 for k, v in digest.items() if learnt.get(k) != v)
    parts, full = kind.budget(train_dir, labels)
    n_iter, rule = fine_tune_budget(new, parts, full)
    if iterations is not None:
        n_iter, rule = (
            int(iterations),
            f"{int(iterations)} (iterations= of update_labeling_model; the rule: {rule})",
        )
    notes = {
        "start": f"warm start from {path} ({why}, iteration {int(state['iteration'])})",
        "frames": f"{len(data)} labeled frames (all of the project), {new} new or changed since that snapshot",
        "max_iters": f"+{n_iter}: {rule}",
        "lr": f"cosine from {FT_LR_SHARE} x lr down to lr / 100 over the {n_iter} iterations, optimizer state kept",
    }
    return {"mode": "warm start", "start": path, "folder": folder, "state": state, "new": new,
            "digests": {"label_digest": digest, "label_digest_before": learnt}, "iterations": n_iter,
            "overrides": {}, "notes": notes, "asked": iterations}  # fmt: skip


def _project_model(cfg: dict):
    """The pieces of this project's kind: :class:`SingleAnimalModel` or the multi-animal one."""
    if cfg.get("multianimalproject"):
        from posenb.train.labeling_model_ma import MultiAnimalModel  # noqa: PLC0415

        return MultiAnimalModel(cfg)
    return SingleAnimalModel(cfg)


def update_labeling_model(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    iterations: int | None = None,
    from_scratch: bool = False,
    callbacks: Iterable[Callable] | Callable | None = None,
    stop_event: threading.Event | None = None,
    progress: bool = True,
    gputouse: int | None = None,
    max_snapshots_to_keep: int | None = 3,
) -> LabelingModelUpdate:
    """Train the labeler's suggestion model on every label the project has now (see the module docstring).

    Parameters
    ----------
    config : project config.yaml (single- or multi-animal).
    shuffle, trainingsetindex : the shuffle whose newest snapshot may be the warm start (read only).
    iterations : iterations of this update (default: the fine-tune rule when warm-started, the recipe's budget
        from scratch; multi-animal projects: of each of the two models).
    from_scratch : ignore every snapshot and train from the recipe.
    callbacks, stop_event, progress, gputouse : as :func:`posenb.train.api.train_network` (a set ``stop_event``
        saves a snapshot and returns; ``progress``: a tqdm bar).
    max_snapshots_to_keep : newest snapshots kept in ``labeling-model/train/`` (and ``train/centroid/``).

    Returns a :class:`LabelingModelUpdate`. Suggestions use the new snapshot once the labeler's
    :class:`~posenb.infer.suggest.LabelSuggester` is reloaded (``reload()``).
    """
    cfg = read_config(config)
    kind = _project_model(cfg)
    train_dir = get_labeling_model_dir(cfg) / "train"
    train_dir.mkdir(parents=True, exist_ok=True)
    labels = kind.labels()
    frames = len(labels[0])
    start = (
        (None, None, None, "from_scratch=True")
        if from_scratch
        else _warm_start(cfg, kind, train_dir, shuffle, trainingsetindex)
    )
    plan = _plan(kind, train_dir, labels, start, iterations, shuffle, trainingsetindex)
    if plan["mode"] == "warm start" and plan["new"] == 0 and iterations is None:
        print(
            f"update_labeling_model: up to date ({plan['start'].name} has learnt all {frames} labeled frames)."
        )
        return LabelingModelUpdate(
            "up to date", train_dir, newest_snapshot(train_dir), plan["start"], frames, 0, 0
        )
    run = {"callbacks": callbacks, "stop_event": stop_event or threading.Event(), "max_keep": max_snapshots_to_keep,
           "progress": progress, "gputouse": gputouse}  # fmt: skip
    n_iter, stopped = kind.train(train_dir, plan, labels, run)
    return LabelingModelUpdate(
        plan["mode"],
        train_dir,
        newest_snapshot(train_dir),
        plan["start"],
        frames,
        plan["new"],
        n_iter,
        stopped,
    )
