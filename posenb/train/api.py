"""``train_network``: train (or resume) the network of one shuffle, DeepLabCut's API on posenb's loop.

Reads ``dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>/train/pose_cfg.yaml`` (written by
``create_training_dataset``) and the shuffle's training images, resumes from the newest
``train/snapshot-<iter>.pt`` when there is one (or from ``snapshot=``), and writes snapshots and
``learning_stats.csv`` into ``train/`` as it goes.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

from posenb.errors import ConfigError, ModelError
from posenb.project import paths
from posenb.project.config import read_config, read_settings, resolve_net_type
from posenb.project.paths import get_train_dir
from posenb.train.run_config import arguments_to_overrides, load_train_config, run_log

__all__ = [
    "train_network",
    "train_on_images",
    "get_train_dir",
    "load_train_config",
    "return_train_network_path",
]


def _choose_network(cfg: dict, train_dir: Path, overrides: dict) -> str:
    """Set ``overrides["net_type"]`` to the network to train; returns why it was chosen.

    ``net_type`` passed to train_network wins; a ``pose_cfg.yaml`` written by posenb's create_training_dataset
    (it has posenb's ``split_seed`` key) already holds the choice; a DeepLabCut-written one names DeepLabCut's
    network (``resnet_50``), so posenb's choice is used instead (:func:`posenb.project.config.resolve_net_type`).
    """
    from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415

    path = train_dir / "pose_cfg.yaml"
    pose_cfg = read_pose_cfg(path) if path.is_file() else {}
    if overrides.get("net_type"):
        return "passed as net_type"
    if "split_seed" in pose_cfg or not pose_cfg.get("net_type"):
        return "train/pose_cfg.yaml"
    net, why = resolve_net_type(cfg)
    if net != pose_cfg["net_type"]:
        overrides["net_type"] = net
        why += f"; {path} was written by DeepLabCut for {pose_cfg['net_type']}"
    return why


def _record_network(train_dir: Path, net_type: str) -> None:
    """Write the trained network into train/ and test/pose_cfg.yaml (DeepLabCut names the predictions after it)."""
    import yaml  # noqa: PLC0415

    from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415
    from posenb.io.atomic import atomic_write_text  # noqa: PLC0415

    for path in (train_dir / "pose_cfg.yaml", train_dir.parent / "test" / "pose_cfg.yaml"):
        if not path.is_file():
            continue
        data = read_pose_cfg(path)
        if data.get("net_type") != net_type:
            data["net_type"] = net_type
            atomic_write_text(path, yaml.safe_dump(data, sort_keys=True, default_flow_style=None))


def _symmetric_pairs(project: Path, bodyparts: list[str]) -> list[tuple[int, int]] | None:
    """``mirror_pairs`` of posenb.yaml (names) as index pairs; None to let augmentation find left/right names."""
    pairs = read_settings(project).get("mirror_pairs") or []
    if not pairs:
        return None
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(p not in bodyparts for p in pair):
            raise ConfigError(
                f"{project / 'posenb.yaml'}: mirror_pairs entry {pair!r} must be two body parts of {bodyparts}."
            )
        out.append((bodyparts.index(pair[0]), bodyparts.index(pair[1])))
    return out


def train_network(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    max_snapshots_to_keep: int | None = 5,
    displayiters: int | None = None,
    saveiters: int | None = None,
    maxiters: int | None = None,
    snapshot: str | os.PathLike | None = None,
    callbacks: Iterable[Callable] | Callable | None = None,
    stop_event: threading.Event | None = None,
    progress: bool = True,
    allow_growth: bool = True,
    autotune: bool = False,
    keepdeconvweights: bool = True,
    modelprefix: str = "",
    **overrides,
) -> Path:
    """Train the network of a shuffle; returns its ``train`` folder.

    Parameters
    ----------
    config : project config.yaml.
    shuffle, trainingsetindex : which shuffle (``TrainingFraction[trainingsetindex]``).
    gputouse : CUDA device index (None: CUDA if present, with mixed precision; else the CPU, all cores). Ignored
        under torchrun, where process ``LOCAL_RANK`` uses ``cuda:LOCAL_RANK``.
    max_snapshots_to_keep : newest snapshots kept in ``train/`` (None keeps all).
    displayiters, saveiters, maxiters : override ``display_iters``, ``save_iters`` and ``max_iters`` of
        ``pose_cfg.yaml`` (the cosine schedule spans ``maxiters``; DLC's ``multi_step`` is cut there). An explicit
        ``maxiters`` also turns off the recipe's time budget (``max_minutes``) and ``plateau_stop`` unless they
        are passed too.
    snapshot : resume from this snapshot (path or ``snapshot-<iter>``) instead of the newest one.
    callbacks : callables receiving :class:`posenb.train.events.TrainingEvent` ("start", "display",
        "snapshot", "end", "stopped").
    stop_event : ``threading.Event``; when set, a snapshot is saved and the function returns. A stop request
        file (``posenb.train.follow.request_stop(train_dir)``, from any process) does the same; while training
        runs, ``train/.posenb-training.json`` marks the folder as busy.
    progress : show a tqdm progress bar.
    **overrides : any :class:`~posenb.train.config.TrainConfig` field, e.g. ``batch_size=4``, ``lr=5e-4``.

    ``train/train.log`` (appended to, one run after the other) records the recipe of the run: the values in
    effect, the reasons ``create_training_dataset`` wrote under ``recipe`` in ``pose_cfg.yaml``
    (:mod:`posenb.data.recipe`), the keys overridden by arguments, and the budget's decisions (time budget,
    plateau: :mod:`posenb.train.budget`).

    Several GPUs: run this (or ``posenb.cli train``) under ``torchrun --nproc_per_node=N``: it trains with
    DistributedDataParallel, one process per GPU (:mod:`posenb.train.distributed`). ``batch_size`` is then per
    process (each step sees ``N * batch_size`` images; the learning rate is not rescaled), only rank 0 writes
    snapshots, ``learning_stats.csv`` (the loss averaged over processes) and calls ``callbacks``, and the snapshots
    are the same files as a single-process run's. Without torchrun nothing of this happens.

    Resuming: the newest snapshot of ``train/`` is loaded automatically (model, optimizer, iteration), so
    calling ``train_network`` again continues where the last run stopped. A snapshot trained on another
    body-part set or backbone raises :class:`~posenb.errors.ModelError`. Ctrl-C saves a snapshot and returns.

    Multi-animal projects (``multianimalproject: true``): :func:`posenb.train.ma_api.train_ma_network` trains the
    top-down model (a centroid model into ``train/centroid/``, then the pose model into ``train/``).
    """
    del allow_growth, autotune, keepdeconvweights, modelprefix
    cfg = read_config(config)
    if cfg.get("multianimalproject"):  # posenb's top-down model (posenb.train.ma_api)
        from posenb.train.ma_api import train_ma_network  # noqa: PLC0415

        return train_ma_network(
            cfg, shuffle, trainingsetindex, gputouse, max_snapshots_to_keep, displayiters, saveiters, maxiters,
            callbacks=callbacks, stop_event=stop_event, progress=progress, **overrides,
        )  # fmt: skip
    arguments_to_overrides(overrides, maxiters, displayiters, saveiters)
    run = {"overrides": overrides, "callbacks": callbacks, "stop_event": stop_event or threading.Event(),
           "max_keep": max_snapshots_to_keep, "progress": progress, "gputouse": gputouse}  # fmt: skip
    return _train_single_animal(cfg, int(shuffle), trainingsetindex, snapshot, run)


def _train_single_animal(cfg: dict, shuffle: int, trainingsetindex: int, snapshot, run: dict) -> Path:
    """train_network of a single-animal shuffle: config, resume state, images, then the loop in each process."""
    train_dir, fraction = get_train_dir(cfg, shuffle, trainingsetindex)
    tcfg, why = _shuffle_config(cfg, train_dir, run["overrides"])
    print(f"train_network: network {tcfg.net_type} ({why}).")
    start_state, init_state = _start_states(train_dir, tcfg, snapshot, list(cfg["bodyparts"]))
    images, keypoints = _training_images(cfg, shuffle, trainingsetindex)
    run = {**run, "shuffle": shuffle, "fraction": float(fraction)}
    train_on_images(cfg, train_dir, tcfg, images, keypoints, (start_state, init_state), run)
    return train_dir


def train_on_images(
    cfg: dict, train_dir: Path, tcfg, images, keypoints, states: tuple, run: dict
) -> dict | None:
    """Train one single-animal network on ``images`` with ``keypoints`` ``(n_images, n_bodyparts, 2)`` (NaN =
    unlabeled) into ``train_dir``: the part of ``train_network`` after the inputs are chosen (also
    :func:`posenb.train.labeling_model.update_labeling_model`'s training).

    ``states``: ``(start_state, init_state)`` (a snapshot to resume, a snapshot to take the weights from; None
    each). ``run``: ``overrides``, ``callbacks``, ``stop_event``, ``max_keep``, ``progress``, ``gputouse``,
    ``shuffle``, ``fraction``, and optionally ``extra`` (more values stored in each snapshot) and ``notes``
    (``{key: reason}`` for train.log instead of pose_cfg.yaml's recipe). Returns the loop's summary
    (:func:`posenb.train.loop.run_training`; None in processes other than rank 0 under torchrun).
    """
    # torchrun: join the process group, one device per process (posenb.train.distributed); else one process
    from posenb.train import distributed  # noqa: PLC0415

    with distributed.process_group() as dist:
        model, dataset, device = _model_and_data(cfg, tcfg, images, keypoints, states, dist, run["gputouse"])
        return _train_in_process(train_dir, tcfg, model, dataset, device, states[0], dist, run)


def _shuffle_config(cfg: dict, train_dir: Path, overrides: dict):
    """``(TrainConfig, why this network)`` of the shuffle, its body parts checked against config.yaml's."""
    bodyparts = list(cfg["bodyparts"])
    why = _choose_network(cfg, train_dir, overrides)
    tcfg = load_train_config(train_dir, overrides)
    if list(tcfg.all_joints_names) != bodyparts:
        raise ConfigError(
            f"{train_dir / 'pose_cfg.yaml'} lists body parts {tcfg.all_joints_names}, but config.yaml has {bodyparts}. "
            "Re-create the training set (posenb.create_training_dataset) after changing body parts."
        )
    return tcfg, why


def _start_states(train_dir: Path, tcfg, snapshot, bodyparts: list[str]) -> tuple[dict | None, dict | None]:
    """``(start_state, init_state)``: the snapshot to resume (``snapshot=`` or the newest in ``train/``), else the
    posenb snapshot ``init_weights`` names to fine-tune from (None when neither); both checked against the shuffle."""
    from posenb.nn.snapshots import check_bodyparts, list_snapshots, load_snapshot, select_snapshot  # noqa: PLC0415

    start_state = None
    if snapshot is not None:
        start_state = load_snapshot(select_snapshot(train_dir, snapshot))
        resume_from = snapshot
    else:
        snaps = list_snapshots(train_dir)
        resume_from = snaps[-1] if snaps else None
        if resume_from is not None:
            start_state = load_snapshot(resume_from)
    print(
        f"train_network: network {tcfg.net_type} ({tcfg.extra.pop('_why_network', 'train/pose_cfg.yaml')})."
    )
    init_state = None
    if start_state is not None:
        check_bodyparts(start_state, bodyparts, resume_from)
        if start_state.get("net_type") and start_state["net_type"] != tcfg.net_type:
            raise ModelError(
                f"{resume_from} is a {start_state['net_type']} network but pose_cfg.yaml asks for {tcfg.net_type}. "
                "Move the old snapshots away (or set net_type back) to train."
            )
    elif (
        tcfg.init_weights
        and str(tcfg.init_weights).endswith(".pt")
        and Path(str(tcfg.init_weights)).is_file()
    ):
        init_state = load_snapshot(tcfg.init_weights)  # fine-tune from another posenb snapshot
        check_bodyparts(init_state, bodyparts, tcfg.init_weights)
    return start_state, init_state


def _training_images(cfg: dict, shuffle: int, trainingsetindex: int):
    """``(image paths, keypoints (n_images, n_bodyparts, 2) float, NaN = unlabeled)`` of the shuffle's train split."""
    import numpy as np  # noqa: PLC0415

    from posenb.data.trainingset import read_training_split  # noqa: PLC0415
    from posenb.io.labels import labels_to_array  # noqa: PLC0415

    project = Path(cfg["project_path"])
    data, train_idx, _, _ = read_training_split(cfg, shuffle, trainingsetindex)
    if not train_idx:
        raise ConfigError(f"Shuffle {shuffle} has no training images; choose a larger TrainingFraction.")
    keypoints = labels_to_array(data, list(cfg["bodyparts"]))[train_idx]
    images = [project.joinpath(*[str(p) for p in data.index[i]]) for i in train_idx]
    if not np.isfinite(keypoints).all(axis=-1).any(axis=-1).any():
        from posenb.errors import LabelError  # noqa: PLC0415

        raise LabelError(
            f"The training images of shuffle {shuffle} hold no labeled point. Label some frames first."
        )
    return images, keypoints


def _model_and_data(cfg: dict, tcfg, images, keypoints, states, dist, gputouse):
    """``(model, PoseDataset, device)`` of this process (seeded; weights from ``states`` or pretrained)."""
    import torch  # noqa: PLC0415

    from posenb.data.dataset import PoseDataset  # noqa: PLC0415
    from posenb.data.targets import heatmap_sigma  # noqa: PLC0415
    from posenb.nn import build_model  # noqa: PLC0415
    from posenb.train import distributed  # noqa: PLC0415
    from posenb.train.loop import pick_device  # noqa: PLC0415

    start_state, init_state = states
    bodyparts = list(cfg["bodyparts"])
    params = tcfg.data_params()
    pairs = _symmetric_pairs(Path(cfg["project_path"]), bodyparts)
    if pairs is not None:
        params["symmetric_pairs"] = pairs
    torch.manual_seed(int(tcfg.seed))
    if dist.enabled:
        if gputouse is not None and dist.is_main:
            warnings.warn(
                f"gputouse={gputouse} is ignored under torchrun: process LOCAL_RANK uses cuda:LOCAL_RANK "
                "(choose GPUs with CUDA_VISIBLE_DEVICES).",
                stacklevel=4,
            )
        device = distributed.process_device(dist)
    else:
        device = pick_device(gputouse)
    model = build_model(
        tcfg.net_type,
        len(bodyparts),
        pretrained=bool(tcfg.pretrained) and start_state is None and init_state is None,
        locref_std=float(tcfg.locref_stdev),
        heatmap_sigma=heatmap_sigma(tcfg.scmap_type, tcfg.pos_dist_thresh, tcfg.global_scale),
        freeze_bn_stats=bool(tcfg.freeze_bn_stats),
    )
    if init_state is not None:
        model.load_state_dict(init_state["model"])
    dataset = PoseDataset(
        images,
        keypoints,
        params,
        augment=True,
        stride=model.stride,
        cache=bool(tcfg.cache_images),
        seed=int(tcfg.seed),
    )
    return model, dataset, device


def _train_in_process(
    train_dir: Path, tcfg, model, dataset, device, start_state, dist, run: dict
) -> dict | None:
    """Run the loop in this process; rank 0 records the network, marks the run (stop requests from other processes
    end it, :mod:`posenb.train.follow`) and writes ``train.log``."""
    from posenb import __version__  # noqa: PLC0415
    from posenb.train import follow  # noqa: PLC0415

    extra = {"bodyparts": list(tcfg.all_joints_names), "net_type": tcfg.net_type, "posenb_version": __version__,
             "train_fraction": run["fraction"], "shuffle": run["shuffle"], **(run.get("extra") or {})}  # fmt: skip
    if dist.is_main:
        _record_network(train_dir, tcfg.net_type)
    if len(dataset) < tcfg.batch_size * dist.world_size and dist.is_main:
        per = f" x {dist.world_size} processes" if dist.enabled else ""
        warnings.warn(
            f"Only {len(dataset)} training images for batch_size {tcfg.batch_size}{per}: images repeat within a batch.",
            stacklevel=4,
        )
    done = threading.Event()
    if dist.is_main:
        follow.clear_stop_request(train_dir)
        follow.write_run_marker(
            train_dir, shuffle=run["shuffle"], max_iters=int(tcfg.max_iters), net_type=tcfg.net_type
        )
        args = (train_dir, run["stop_event"], done)
        threading.Thread(
            target=follow.watch_stop_request, args=args, name="posenb-stop-watch", daemon=True
        ).start()
    log = run_log(train_dir, tcfg, run["overrides"], device, run.get("notes")) if dist.is_main else None
    try:
        options = dict(device=device, snapshot_extra=extra, stop_event=run["stop_event"], dist=dist, log=log,
                       max_snapshots_to_keep=run["max_keep"], progress=run["progress"])  # fmt: skip
        result = _train_cycles(model, dataset, tcfg, train_dir, start_state, options, run["callbacks"])
        if dist.is_main and result.get("snapshot") is not None:
            _store_peak_weight(model, dataset, device, Path(result["snapshot"]), log)
        if log is not None:
            log(
                f"end: iteration {result['iteration']}, loss {result['loss']:.5f}, "
                f"{result['seconds'] / 60:.1f} min{' (stopped)' if result['stopped'] else ''}"
            )
        return result if dist.is_main else None
    finally:
        done.set()
        if dist.is_main:
            follow.clear_run_marker(train_dir)
            follow.clear_stop_request(train_dir)


def _store_peak_weight(model, dataset, device, snapshot: Path, log) -> None:
    """Choose the decoding's peak weight on the training images (:mod:`posenb.train.peak_weight`) and store it in
    the run's last snapshot (rewritten atomically) and in ``train.log``."""
    from posenb.nn.snapshots import load_snapshot, save_snapshot  # noqa: PLC0415
    from posenb.train.peak_weight import choose_peak_weight  # noqa: PLC0415

    try:
        weight, errors = choose_peak_weight(model, dataset, device)
    except (RuntimeError, ValueError, OSError) as exc:  # e.g. out of GPU memory on whole frames: training stands
        warnings.warn(f"Decoding weight not chosen ({exc}); {snapshot.name} decodes with locref alone.", stacklevel=4)
        return
    model.peak_weight = weight
    model.config["peak_weight"] = weight
    state = load_snapshot(snapshot)
    if dict(state.get("model_config") or {}).get("peak_weight") != weight:
        state["model_config"] = {**dict(state.get("model_config") or {}), "peak_weight": weight}
        save_snapshot(snapshot.parent, state)
    if log is not None and errors:
        tried = ", ".join(f"{w:g}: {e:.3f} px" for w, e in errors.items())
        log(f"decoding: score-map peak weight {weight:g} (mean training error {tried}; posenb.train.peak_weight)")


def _train_cycles(model, dataset, tcfg, train_dir: Path, start_state, options: dict, callbacks) -> dict:
    """The loop's first cycle, then the refinement cycle when one follows (:mod:`posenb.train.refine_cycle`); the
    callbacks hear one run: the first cycle's "end" is held back when the refinement cycle follows it."""
    from posenb.train.events import EventBus  # noqa: PLC0415
    from posenb.train.loop import run_training  # noqa: PLC0415
    from posenb.train.refine_cycle import next_cycle  # noqa: PLC0415

    bus, held = EventBus(callbacks), []

    def first_cycle(event) -> None:
        if event.kind == "end":
            held.append(event)
        else:
            bus.emit(event)

    result = run_training(
        model, dataset, tcfg, train_dir, start_state=start_state, callbacks=first_cycle, **options
    )
    timed = not options["dist"].enabled  # under torchrun every rank must decide alike: no speed rule
    cycle_cfg, cycle_state, line = next_cycle(tcfg, result, start_state, model, timed=timed)
    if line and options["log"] is not None:
        options["log"](line)
    if cycle_cfg is None:
        for event in held:
            bus.emit(event)
        return result
    return run_training(
        model, dataset, cycle_cfg, train_dir, start_state=cycle_state, callbacks=bus.emit, **options
    )


def return_train_network_path(
    config: str | os.PathLike, shuffle: int = 1, trainingsetindex: int = 0, modelprefix: str = ""
) -> tuple[Path, Path, Path]:
    """``(train/pose_cfg.yaml, test/pose_cfg.yaml, train folder)`` of a shuffle, as DeepLabCut returns them.

    Paths are absolute: ``<project>/[<modelprefix>/]dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>/...``
    for ``TrainingFraction[trainingsetindex]``. Like DeepLabCut, the files need not exist yet (check
    ``.is_file()``); a ``trainingsetindex`` outside ``TrainingFraction`` raises :class:`ConfigError`.
    """
    cfg = read_config(config)
    fractions = cfg["TrainingFraction"]
    if not 0 <= int(trainingsetindex) < len(fractions):
        raise ConfigError(
            f"trainingsetindex={trainingsetindex} is out of range: {config} has TrainingFraction {fractions}."
        )
    folder = paths.get_model_folder(
        fractions[int(trainingsetindex)], int(shuffle), cfg, modelprefix=modelprefix
    )
    model_dir = Path(cfg["project_path"]) / folder
    return model_dir / "train" / "pose_cfg.yaml", model_dir / "test" / "pose_cfg.yaml", model_dir / "train"
