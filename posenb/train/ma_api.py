"""``train_network`` of a multi-animal project: the two networks of posenb's top-down model, one after the other.

1. the **centroid model** (one score map of all animals' anchors on the frame scaled by ``ma_centroid_scale``, and
   one map per unique (scene) body part: ``uniquebodyparts``) into ``train/centroid/snapshot-<iter>.pt``;
2. the **pose model** (the centred animal's parts on a ``crop_size`` crop around its anchor, + identity maps when
   ``identity: true``) into ``train/snapshot-<iter>.pt``, the snapshot DeepLabCut's ``snapshotindex`` refers to.

Both run in posenb's training loop (:func:`posenb.train.loop.run_training`: schedule, time budget, plateau stop,
snapshots, ``learning_stats.csv``, events, stop requests) with the datasets of :mod:`posenb.data.ma_dataset`; the
values come from ``train/pose_cfg.yaml`` (:func:`posenb.data.ma_trainingset.derive_ma_recipe`). Calling it again
resumes each model from its newest snapshot. Every snapshot stores a ``topdown`` dict (the model's kind and the
geometry inference needs: :mod:`posenb.infer.ma_predictor`). One process (no torchrun) for now.

Each model's ``train.log`` (``train/centroid/train.log``, ``train/train.log``) records its run as the single-animal
one does (:func:`posenb.train.run_config.run_log`): the values in effect, the recipe's reasons that apply to that
model (the centroid model's ``ma_centroid_*`` and fixed values, the pose model's budget and crop) and the
``train_network`` arguments that override them, then the budget's decisions.

While it runs, ``train/.posenb-training.json`` marks the shuffle as busy and names the phase (``centroid`` /
``pose``), its ``max_iters`` and the ``learning_stats.csv`` it writes (the centroid model's is
``train/centroid/learning_stats.csv``); ``train/.posenb-stop`` stops it from any process
(:func:`posenb.train.follow.marked_run`, :func:`posenb.train.follow.run_stats_path`), as for single-animal runs.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from posenb.errors import ConfigError, ModelError
from posenb.project.config import project_parts
from posenb.project.paths import get_train_dir
from posenb.train.run_config import arguments_to_overrides, load_train_config, run_log

__all__ = ["train_ma_network", "train_ma_on_images"]

#: pose_cfg keys only the pose model uses: the centroid model has its own (``ma_centroid_*``) or fixed values
POSE_ONLY = ("global_scale", "crop_size", "max_iters", "max_minutes", "scale_jitter_lo", "scale_jitter_up",
             "pos_dist_thresh", "ma_center_jitter")  # fmt: skip
#: the centroid model's fixed settings (:func:`_centroid_config`), logged with the recipe's reasons
CENTROID_FIXED = {
    "crop_sampling": "'hybrid': half the canvases near a labeled anchor, half anywhere in the scaled frame",
    "scale_jitter_lo": "0.75: the centroid model's fixed jitter (whole frames, not one animal's size)",
    "scale_jitter_up": "1.25: the centroid model's fixed jitter (whole frames, not one animal's size)",
}


def _topdown_info(tcfg, parts, anchor: int | None, kind: str) -> dict:
    extra = tcfg.extra
    return {
        "kind": kind,
        "bodyparts": list(parts.bodyparts),
        "individuals": list(parts.individuals),
        "identity": bool(parts.identity),
        "anchor": anchor,
        "crop_size": int(tcfg.crop_size[0]),
        "crop_scale": float(tcfg.global_scale),
        "centroid_scale": float(extra["ma_centroid_scale"]),
        "centroid_pos_dist": float(extra["ma_centroid_pos_dist"]),
        "unique_bodyparts": list(parts.unique_bodyparts),  # the centroid model's maps after the anchors' one
    }


def _log_view(notes: dict, overrides: dict, kind: str, maxiters) -> tuple[dict, dict]:
    """The recipe's reasons and the overrides that apply to one model of the pair (``kind`` "centroid" or
    "instance"), for its ``train.log``: the pose model's without the ``ma_centroid_*`` keys, the centroid model's
    without :data:`POSE_ONLY` (``maxiters`` caps both models) and with :data:`CENTROID_FIXED`."""
    if kind != "centroid":
        return (
            {k: v for k, v in notes.items() if not k.startswith("ma_centroid_")},
            {k: v for k, v in overrides.items() if not k.startswith("ma_centroid_")},
        )
    both = ("max_iters", "max_minutes") if maxiters is not None else ()
    kept = {k: v for k, v in notes.items() if k not in POSE_ONLY}
    return {**kept, **CENTROID_FIXED}, {k: v for k, v in overrides.items() if k not in POSE_ONLY or k in both}


def _train_one(model_dir: Path, tcfg, dataset, num_joints: int, payload: dict, device, run: dict) -> dict:
    """Build (or resume) one network and run the training loop on ``dataset``; returns run_training's summary.
    It resumes ``run["start"][kind]`` when given (kind ``"centroid"`` / ``"instance"``), else the newest snapshot
    of ``model_dir``. ``model_dir/train.log`` gets the values in effect, the reasons (``run["notes"]``, else the
    recipe's) and the overrides of this model."""
    from posenb.nn import build_model  # noqa: PLC0415
    from posenb.nn.snapshots import list_snapshots, load_snapshot  # noqa: PLC0415
    from posenb.train.loop import run_training  # noqa: PLC0415

    kind = payload["topdown"]["kind"]
    model_dir.mkdir(parents=True, exist_ok=True)
    starts = run.get("start") or {}
    if kind in starts:  # a warm start chosen by the caller (update_labeling_model)
        start_state, start_name = starts[kind], f"the {kind} model's start snapshot"
    else:
        snaps = list_snapshots(model_dir)
        start_state = load_snapshot(snaps[-1]) if snaps else None
        start_name = str(snaps[-1]) if snaps else ""
    if start_state is not None and start_state.get("net_type") != tcfg.net_type:
        raise ModelError(
            f"{start_name} is a {start_state.get('net_type')} network but pose_cfg.yaml asks for {tcfg.net_type}. "
            "Move the old snapshots away (or set net_type back) to train."
        )
    import torch  # noqa: PLC0415

    torch.manual_seed(int(tcfg.seed))  # the same labels and settings train the same network, as single-animal
    model = build_model(
        tcfg.net_type,
        num_joints,
        pretrained=bool(tcfg.pretrained) and start_state is None,
        locref_std=float(tcfg.locref_stdev),
        freeze_bn_stats=bool(tcfg.freeze_bn_stats),
    )
    reasons = run["notes"] if run.get("notes") is not None else (tcfg.extra.get("recipe") or {})
    notes, overrides = _log_view(reasons, run["overrides"], kind, run["maxiters"])
    log = run_log(model_dir, tcfg, overrides, device, notes=notes)
    log(f"top-down {payload['topdown']['kind']} model: {len(dataset)} training items, {num_joints} maps")
    result = run_training(
        model,
        dataset,
        tcfg,
        model_dir,
        device=device,
        start_state=start_state,
        snapshot_extra=payload,
        callbacks=run["callbacks"],
        stop_event=run["stop_event"],
        max_snapshots_to_keep=run["max_keep"],
        progress=run["progress"],
        log=log,
    )
    log(f"end: iteration {result['iteration']}, loss {result['loss']:.5f}, {result['seconds'] / 60:.1f} min")
    return result


def _centroid_config(tcfg, maxiters):
    extra = tcfg.extra
    crop = extra["ma_centroid_crop"]
    return dataclasses.replace(
        tcfg,
        global_scale=float(extra["ma_centroid_scale"]),
        crop_size=[int(crop[0]), int(crop[1])],
        crop_sampling="hybrid",
        pos_dist_thresh=float(extra["ma_centroid_pos_dist"]),
        scale_jitter_lo=0.75,
        scale_jitter_up=1.25,
        max_iters=int(maxiters if maxiters is not None else extra["ma_centroid_iters"]),
        max_minutes=None if maxiters is not None else extra.get("ma_centroid_minutes"),
    )


def train_ma_network(
    cfg: dict,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    max_snapshots_to_keep: int | None = 5,
    displayiters: int | None = None,
    saveiters: int | None = None,
    maxiters: int | None = None,
    callbacks=None,
    stop_event: threading.Event | None = None,
    progress: bool = True,
    **overrides,
) -> Path:
    """Train the top-down model of a multi-animal shuffle (see module docstring); returns the ``train`` folder.

    Arguments as :func:`posenb.train_network` (``cfg`` is the read config dict). ``maxiters`` caps both models (and
    turns off their time budgets and plateau stop, as for single-animal projects).
    """
    from posenb import __version__  # noqa: PLC0415
    from posenb.data.ma_trainingset import MA_KEYS, ma_label_arrays, read_ma_training_split  # noqa: PLC0415

    parts = project_parts(cfg)
    project = Path(cfg["project_path"])
    train_dir, fraction = get_train_dir(cfg, shuffle, trainingsetindex)
    ma_overrides = {k: overrides.pop(k) for k in list(overrides) if k in MA_KEYS}
    arguments_to_overrides(overrides, maxiters, displayiters, saveiters)
    tcfg = load_train_config(train_dir, overrides)
    tcfg.extra.update(ma_overrides)
    if list(tcfg.all_joints_names) != list(parts.bodyparts) or "ma_centroid_scale" not in tcfg.extra:
        raise ConfigError(
            f"{train_dir / 'pose_cfg.yaml'} is not a multi-animal training set of config.yaml's multianimalbodyparts "
            f"{list(parts.bodyparts)}. Re-create the training set (posenb.create_training_dataset)."
        )
    data, train_idx, _, _ = read_ma_training_split(cfg, shuffle, trainingsetindex)
    if not train_idx:
        raise ConfigError(f"Shuffle {shuffle} has no training images; choose a larger TrainingFraction.")
    coords, unique = (a[train_idx] for a in ma_label_arrays(data, parts))
    images = [project.joinpath(*[str(p) for p in data.index[i]]) for i in train_idx]
    run = {
        "overrides": {**overrides, **ma_overrides},
        "maxiters": maxiters,
        "callbacks": callbacks,
        "stop_event": stop_event or threading.Event(),
        "max_keep": max_snapshots_to_keep,
        "progress": progress,
        "gputouse": gputouse,
    }
    base = {"bodyparts": list(parts.bodyparts), "net_type": tcfg.net_type, "posenb_version": __version__,
            "train_fraction": float(fraction), "shuffle": int(shuffle)}  # fmt: skip
    train_ma_on_images(train_dir, tcfg, (images, coords, unique), parts, base, run)
    return train_dir


def train_ma_on_images(train_dir: Path, tcfg, data: tuple, parts, base: dict, run: dict) -> dict:
    """Train the centroid model, then the pose model, of a top-down model into ``train_dir`` (``centroid/`` and
    itself) on labeled images: the part of :func:`train_ma_network` after the inputs are chosen (also
    :func:`posenb.train.labeling_model.update_labeling_model`'s training of a multi-animal project).

    ``tcfg``: the pose model's TrainConfig (its ``extra`` holds the ``ma_*`` values; the centroid model's come from
    them, :func:`_centroid_config`). ``data``: ``(image paths, coords (N, A, P, 2), unique (N, U, 2))`` frame pixels,
    NaN = not labeled. ``parts``: the project's :class:`~posenb.project.config.ProjectParts`. ``base``: values stored
    in every snapshot (``bodyparts``, ``net_type``, ``shuffle``, ...; the ``topdown`` dict is added). ``run``:
    ``overrides`` (logged), ``maxiters`` (caps both models, or None), ``callbacks``, ``stop_event``, ``max_keep``,
    ``progress``, ``gputouse``, and optionally ``start`` (``{"centroid": state, "instance": state}``: the snapshots to
    resume instead of the newest of each folder) and ``notes`` (``{key: reason}`` for train.log instead of the
    recipe's). Returns ``{"stopped": bool, "iteration": the pose model's last iteration or None}``.
    """
    from posenb.data.ma_dataset import animal_anchors  # noqa: PLC0415
    from posenb.train import follow  # noqa: PLC0415
    from posenb.train.loop import pick_device  # noqa: PLC0415

    images, coords, unique = data
    anchor_name = tcfg.extra.get("ma_anchor")
    anchor = list(parts.bodyparts).index(anchor_name) if anchor_name in parts.bodyparts else None
    anchors = animal_anchors(coords, anchor)
    device = pick_device(run.get("gputouse"))
    ccfg = _centroid_config(tcfg, run["maxiters"])
    # other processes (a dashboard, a terminal) see this run, its phase and log, and can ask it to stop
    marker = {"shuffle": int(base.get("shuffle", 0)), "net_type": tcfg.net_type, "multianimal": True}
    arrays = (images, coords, anchors, unique)
    with follow.marked_run(train_dir, run["stop_event"], **marker) as phase:
        stats = train_dir / "centroid" / follow.STATS_FILE
        phase(phase="centroid", max_iters=int(ccfg.max_iters), stats=str(stats))
        result = _train_models(train_dir, (tcfg, ccfg), arrays, parts, base, anchor, device, run, phase)
    return {
        "stopped": bool(run["stop_event"].is_set()),
        "iteration": result.get("iteration") if result else None,
    }


def _train_models(
    train_dir: Path, cfgs, data, parts, base: dict, anchor, device, run: dict, phase
) -> dict | None:
    """The centroid model, then (unless stopped) the pose model; ``phase`` updates the run marker between them.
    Returns the pose model's run_training summary (None when stopped before it)."""
    from posenb.data.ma_dataset import CentroidDataset, InstanceDataset  # noqa: PLC0415
    from posenb.train.follow import STATS_FILE  # noqa: PLC0415

    tcfg, ccfg = cfgs
    images, coords, anchors, unique = data
    cset = CentroidDataset(
        images, anchors, ccfg.data_params(), unique=unique if parts.unique_bodyparts else None,
        cache=bool(tcfg.cache_images), seed=int(tcfg.seed),
    )  # fmt: skip
    info = _topdown_info(tcfg, parts, anchor, "centroid")
    what = f"scale {ccfg.global_scale:g}" + (f", + {cset.n_unique} unique parts" if cset.n_unique else "")
    print(f"train_network: top-down model, 1/2 centroid ({len(cset)} frames, {what})")
    _train_one(train_dir / "centroid", ccfg, cset, cset.num_joints, {**base, "topdown": info}, device, run)
    if run["stop_event"].is_set():
        return None
    phase(phase="pose", max_iters=int(tcfg.max_iters), stats=str(train_dir / STATS_FILE))
    params = {**tcfg.data_params(), "center_jitter": float(tcfg.extra.get("ma_center_jitter", 0.05))}
    iset = InstanceDataset(
        images, coords, anchors, int(tcfg.crop_size[0]), float(tcfg.global_scale), params,
        identity=parts.identity, cache=bool(tcfg.cache_images), seed=int(tcfg.seed),
    )  # fmt: skip
    info = _topdown_info(tcfg, parts, anchor, "instance")
    print(
        f"train_network: top-down model, 2/2 pose ({len(iset)} animals, {iset.size}px crops at x{iset.scale:g})"
    )
    return _train_one(train_dir, tcfg, iset, iset.num_joints, {**base, "topdown": info}, device, run)
