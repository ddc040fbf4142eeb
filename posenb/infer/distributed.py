"""Analyse many videos in parallel on a Dask cluster: one task per video, over ``dask.distributed``.

posenb does not schedule anything itself: it submits one task per video to a ``dask.distributed.Client`` and
collects the results as they complete. Each task runs the same per-video code as :func:`analyze_videos`
(:func:`posenb.infer.analyze.analyze_video_to_files`), so the files are the ones a serial run writes:
``<stem><DLCscorer>.h5``, ``<stem><DLCscorer>_meta.pickle`` and, with ``save_as_csv``, ``.csv``.

Install the extra first: ``pip install "posenb[cluster]"`` (that is ``dask[distributed]``).

On one machine::

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=4, threads_per_worker=4))   # 16 cores: 4 videos at a time
    results = posenb.analyze_videos_dask(config, ["/data/videos/"], client=client)

On a SLURM cluster (``pip install dask-jobqueue``; posenb does not depend on it)::

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=8, processes=1, memory="16GB", walltime="02:00:00",
                           job_extra_directives=["--gres=gpu:1"])     # one GPU per job
    cluster.scale(jobs=10)
    client = Client(cluster)
    results = posenb.analyze_videos_dask(config, ["/data/videos/"], client=client)

``posenb.analyze_videos(config, videos, client=client)`` does the same and returns the scorer, as DeepLabCut's
``analyze_videos`` does.

How it runs
-----------
- Videos are listed as :func:`analyze_videos` lists them (files, folders filtered by ``videotype``), with
  absolute paths; videos whose ``<stem><DLCscorer>.h5`` already exists are skipped before anything is
  submitted. The workers must see the project, the videos and ``destfolder`` at the same paths (one machine,
  or a shared file system on a cluster).
- The snapshot is chosen once, in the calling process (config ``snapshotindex`` or ``snapshot=``), and every
  task uses that file, with the caller's ``backend``, ``precision`` and test-time scales (the scales resolved and
  checked in the calling process, the keyword or the shuffle's ``pose_cfg.yaml``, and recorded in each
  ``_meta.pickle`` as ``posenb_test_scales``; backend and precision resolved on the worker: ``"auto"`` is
  the fastest back end installed there, and ``"bfloat16"`` falls back to float32 with a warning on a worker
  whose CPU has no native bfloat16; each ``_meta.pickle`` records what ran, ``posenb_backend`` and
  ``posenb_precision``, and the caller warns when bfloat16 was asked and a video was analysed in float32).
  Each worker loads the model once and keeps it (at most two models per worker, keyed by snapshot path, its
  modification time, the device, the back end, the precision and the scales); :func:`worker_model_loads` counts
  the loads.
- Threads: a worker analyses one video at a time and gives torch as many threads as the worker has
  (``threads_per_worker``), so ``n_workers x threads_per_worker`` should be the cores you want to use. Two
  workers on one machine then do not oversubscribe it. Dask's nanny sets ``OMP_NUM_THREADS=1`` in worker
  processes; posenb sets ``torch.set_num_threads`` explicitly before each video. Use process workers
  (``LocalCluster``'s default): thread workers (``processes=False``) share one torch thread setting.
- GPUs: ``gputouse=k`` puts every worker on CUDA device ``k``. With ``gputouse=None`` a worker on a machine
  with CUDA uses device ``(worker name) % (visible devices)`` when the worker's name is an integer (the
  default names of ``LocalCluster`` are 0, 1, ...), else device 0. That is right for one GPU per worker
  process: SLURM jobs with ``--gres=gpu:1`` and dask-cuda's ``LocalCUDACluster`` (each worker sees only its
  own GPU as device 0), or ``LocalCluster(n_workers=<number of GPUs>)``. With several workers per GPU, they
  share it. Not tested in CI (no GPU there).
- Failures: a video that fails (corrupt, unreadable) does not stop the others. The result is a dict
  ``{video path: output .h5 path or the exception}``; at the end, :class:`VideoAnalysisError` is raised (or,
  with ``errors="warn"``, a warning is issued) naming every failed file and its error. The exception keeps the
  full dict in ``.results``. Interrupting the call (Ctrl-C) cancels the videos not yet analysed.
- Progress: a ``tqdm.auto`` bar over videos, advanced as tasks complete (``as_completed``). Worker processes
  show no per-frame bars.
"""

from __future__ import annotations

import os
import threading
import uuid
import warnings
from collections import OrderedDict
from pathlib import Path

from posenb.errors import ModelError, PosenbError, VideoError
from posenb.project import paths
from posenb.project.config import read_config

__all__ = ["VideoAnalysisError", "worker_model_loads", "worker_device_index"]

_INSTALL_HINT = 'Install it with: pip install "posenb[cluster]"  (or: pip install "dask[distributed]").'
_NO_CLIENT = (
    "No Dask client: pass client=..., or create one first, e.g.\n"
    "    from dask.distributed import Client, LocalCluster\n"
    "    client = Client(LocalCluster(n_workers=2, threads_per_worker=4))\n"
    "(on a SLURM cluster: Client(dask_jobqueue.SLURMCluster(...))). For one process without Dask, use "
    "posenb.analyze_videos."
)
#: models kept per worker (least recently used dropped first)
MAX_MODELS_PER_WORKER = 2


class VideoAnalysisError(PosenbError):
    """Some videos of a Dask analysis failed; the others were analysed.

    Attributes: ``results`` (``{video: h5 path str or exception}``, every video of the call) and ``failed``
    (``{video: exception}``).
    """

    def __init__(self, message: str, results: dict, failed: dict):
        super().__init__(message)
        self.results = results
        self.failed = failed


def _distributed():
    try:
        import distributed  # noqa: PLC0415
    except ImportError:
        raise PosenbError(f"Analysing videos on Dask needs dask.distributed. {_INSTALL_HINT}") from None
    return distributed


def _get_client(client):
    distributed = _distributed()
    if client is not None:
        return client
    try:
        return distributed.default_client()
    except ValueError:
        raise PosenbError(_NO_CLIENT) from None


def resolve_model(cfg: dict, shuffle: int = 1, trainingsetindex: int = 0, snapshot=None) -> tuple[str, str]:
    """``(DLC scorer, snapshot path)`` the analysis will use, without building the network.

    Same choice as :func:`~posenb.infer.predictor.load_predictor` (config ``snapshotindex`` or ``snapshot``);
    the workers check that their loaded model gives the same scorer.
    """
    from posenb.infer.predictor import resolve_snapshot  # noqa: PLC0415
    from posenb.nn.snapshots import snapshot_iteration  # noqa: PLC0415

    path, state, _, fraction, net_type = resolve_snapshot(cfg, shuffle, trainingsetindex, snapshot)
    iteration = int(state.get("iteration", snapshot_iteration(path)))
    return paths.get_scorer_name(cfg, shuffle, fraction, net_type, iteration), str(Path(path).resolve())


# --------------------------------------------------------------------------------------------- worker side

_cache_lock = threading.Lock()
_models: dict[str, OrderedDict] = {}  # worker address -> {key: (predictor, info, lock)}
_loads: dict[str, int] = {}  # worker address -> number of models loaded


def _this_worker():
    try:
        from distributed import get_worker  # noqa: PLC0415

        return get_worker()
    except (ImportError, ValueError):
        return None


def worker_device_index(gputouse: int | None, worker_name, n_devices: int) -> int | None:
    """CUDA device of a worker: ``gputouse``, else ``name % n_devices`` (integer names) or 0; None: CPU."""
    if gputouse is not None:
        return int(gputouse)
    if n_devices <= 0:
        return None
    try:
        return int(worker_name) % n_devices
    except (TypeError, ValueError):
        return 0


def worker_model_loads(dask_worker=None) -> int:
    """How many models this worker has loaded; ``client.run(worker_model_loads)`` gives ``{address: n}``."""
    worker = dask_worker or _this_worker()
    return _loads.get(worker.address if worker is not None else "", 0)


def _predictor(cfg: dict, shuffle: int, trainingsetindex: int, snapshot: str, gputouse, worker, run: tuple):
    """The worker's cached ``(predictor, info, lock)`` for this snapshot, device and ``run`` = ``(backend,
    precision[, test scales])`` as asked (loaded on first use)."""
    import torch  # noqa: PLC0415

    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    address = worker.address if worker is not None else ""
    n_dev = torch.cuda.device_count() if torch.cuda.is_available() else 0
    device = worker_device_index(gputouse, worker.name if worker is not None else None, n_dev)
    mtime = os.stat(snapshot).st_mtime_ns
    key = (cfg["project_path"], int(shuffle), int(trainingsetindex), snapshot, mtime, device, tuple(run))
    with _cache_lock:
        models = _models.setdefault(address, OrderedDict())
        if key in models:
            models.move_to_end(key)
            return models[key]
        kw = {"gputouse": device, "snapshot": snapshot, "backend": run[0], "precision": run[1]}
        kw["test_scales"] = run[2] if len(run) > 2 else None
        predictor, info = load_predictor(cfg, shuffle, trainingsetindex, **kw)
        entry = (predictor, info, threading.Lock())
        models[key] = entry
        while len(models) > MAX_MODELS_PER_WORKER:
            models.popitem(last=False)
        _loads[address] = _loads.get(address, 0) + 1
        return entry


def _analyze_task(
    analyze_one,
    cfg: dict,
    video: str,
    h5: str,
    scorer: str,
    snapshot: str,
    shuffle: int,
    trainingsetindex: int,
    gputouse,
    batch_size: int,
    cropping,
    dynamic,
    save_as_csv: bool,
    run: tuple = ("torch", "float32", None),
) -> dict:
    """One Dask task: analyse ``video`` into ``h5`` with the worker's cached model; returns a summary dict
    (``h5``, ``n_frames``, ``decoded``, ``seconds``, ``worker``, and ``precision`` of what ran).

    ``run``: ``(backend, precision, test scales)`` as the caller asked (backend and precision resolved by the
    worker's :class:`~posenb.infer.predictor.Predictor`; the scales already checked, None: one pass).

    ``analyze_one`` is :func:`posenb.infer.analyze.analyze_video_to_files` (passed in, so that this module, the
    fan-out, needs nothing of the module that calls it)."""
    import torch  # noqa: PLC0415, F401  (torch before decord: see posenb/io/_decord.py)

    from posenb.io.video import open_video  # noqa: PLC0415

    open_video(video).close()  # a corrupt video fails here, before any model is loaded
    worker = _this_worker()
    predictor, info, lock = _predictor(cfg, shuffle, trainingsetindex, snapshot, gputouse, worker, run)
    if info["scorer"] != scorer:
        raise ModelError(f"The worker's model {snapshot} gives scorer {info['scorer']}, expected {scorer}.")
    nthreads = worker.state.nthreads if worker is not None else None
    with lock:  # one video at a time per worker, with all of the worker's threads
        if nthreads:
            torch.set_num_threads(int(nthreads))
        vinfo = analyze_one(
            predictor, info, cfg, video, h5, batch_size, cropping=cropping, dynamic=dynamic,
            save_as_csv=save_as_csv, progress=False,
        )  # fmt: skip
        ran = predictor.run_summary()
    return {
        "h5": str(h5),
        "n_frames": vinfo["n_frames"],
        "decoded": vinfo.get("decoded", vinfo["n_frames"]),
        "seconds": vinfo["seconds"],
        "worker": worker.address if worker is not None else None,
        "precision": ran.get("precision", ""),
    }


# --------------------------------------------------------------------------------------------- client side


def _plan(
    video_list: list, destfolder, scorer: str, in_random_order: bool, bodyparts=(), save_as_csv: bool = False,
    scales: tuple | None = None,
) -> tuple[dict, list]:  # fmt: skip
    """``(results with skipped videos filled in, [(video, h5) to analyse])``; VideoError for missing files.

    A video is skipped only when its outputs are complete (:func:`posenb.infer.outputs.analysis_status`); one
    analysed at other test-time ``scales`` is skipped with a warning saying so."""
    import numpy as np  # noqa: PLC0415

    from posenb.infer.outputs import _already_analyzed  # noqa: PLC0415

    video_list = [Path(v).resolve() for v in video_list]
    missing = [str(v) for v in video_list if not v.is_file()]
    if missing:
        raise VideoError(f"Video(s) not found: {', '.join(missing)}. Nothing was submitted.")
    if in_random_order:
        video_list = list(np.random.default_rng().permutation(video_list))
    results: dict = {}
    todo: list[tuple[Path, Path]] = []
    targets: dict[Path, Path] = {}
    for video in dict.fromkeys(video_list):
        out_dir = paths.ensure_folder(destfolder).resolve() if destfolder else video.parent
        h5 = out_dir / f"{paths.video_stem(video)}{scorer}.h5"
        if h5 in targets:
            msg = f"{video} and {targets[h5]} would both write {h5}; only {targets[h5].name} is analysed."
            warnings.warn(msg, stacklevel=3)
            results[str(video)] = str(h5)
            continue
        targets[h5] = video
        if _already_analyzed(video, h5, scorer, list(bodyparts), save_as_csv, scales):
            results[str(video)] = str(h5)
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        results[str(video)] = None
        todo.append((video, h5))
    return results, todo


def _collect(distributed, client, futures: dict, results: dict, precision: str = "float32") -> dict:
    """Wait for the workers' tasks as they finish; fills ``results`` ({video: h5 path or exception}) and returns
    ``{video: exception}`` of the failed ones. Ctrl-C cancels what has not run yet; videos only partly decoded,
    and videos analysed in float32 when ``precision`` (the name asked) is ``"bfloat16"``, are warned about at
    the end."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    failed: dict = {}
    partial: list[str] = []
    in_float32: list[str] = []
    bar = tqdm(total=len(futures), desc="videos", unit="video")
    try:
        for fut in distributed.as_completed(list(futures)):
            video = futures[fut]
            try:
                out = fut.result()
            except Exception as exc:  # noqa: BLE001 - collected and reported at the end
                failed[str(video)] = exc
                results[str(video)] = exc
                bar.set_postfix(failed=len(failed))
            else:
                results[str(video)] = out["h5"]
                if out["decoded"] < out["n_frames"]:
                    n, k = out["n_frames"], out["decoded"]
                    partial.append(f"{video}: only {k} of {n} frames could be decoded")
                if precision == "bfloat16" and "bfloat16" not in out.get("precision", ""):
                    in_float32.append(str(video))
            finally:
                fut.release()
            bar.update(1)
    except BaseException:
        client.cancel([f for f in futures if not f.done()])  # Ctrl-C: stop what has not run yet
        raise
    finally:
        bar.close()
    for line in partial:
        warnings.warn(f"{line}; the rest are NaN.", stacklevel=4)
    if in_float32:
        warnings.warn(
            f"precision='bfloat16' not used for {len(in_float32)} video(s), analysed in float32 on their worker "
            f"(no native bfloat16 there, or a back end without it; see the workers' logs): {', '.join(in_float32)}",
            stacklevel=4,
        )
    return failed


def _analyze_on_dask(
    analyze_one,
    config,
    videos,
    client=None,
    videotype="",
    shuffle=1,
    trainingsetindex=0,
    gputouse=None,
    save_as_csv=False,
    in_random_order=False,
    destfolder=None,
    batchsize=None,
    cropping=None,
    dynamic="auto",
    snapshot=None,
    errors="raise",
    backend="auto",
    precision="float32",
    test_scales=None,
) -> tuple[str, dict]:
    """``(scorer, results)``: the work of :func:`~posenb.infer.analyze.analyze_videos_dask` (and of
    ``analyze_videos(client=)``); ``analyze_one`` analyses one video on a worker (see :func:`_analyze_task`)."""
    from posenb.infer.backends import precision_name  # noqa: PLC0415
    from posenb.infer.multiscale import resolve_test_scales  # noqa: PLC0415

    if errors not in ("raise", "warn"):
        raise ValueError(f"errors={errors!r}: use 'raise' or 'warn'.")
    # the name asked, checked here: an unknown precision fails before anything is submitted
    precision = precision_name(precision)
    distributed = _distributed()
    client = _get_client(client)
    cfg = read_config(config)
    # the scales (keyword, else the shuffle's pose_cfg.yaml), checked here: bad ones fail before any submission
    scales = resolve_test_scales(test_scales, paths.get_train_dir(cfg, shuffle, trainingsetindex)[0])
    run = (backend, precision, scales)
    scorer, snap = resolve_model(cfg, shuffle, trainingsetindex, snapshot)
    batch_size = int(batchsize or cfg.get("batch_size") or 8)
    video_list = paths.list_videos(videos, videotype)
    if not video_list:
        warnings.warn(f"No videos found in {videos!r} (videotype {videotype!r}).", stacklevel=3)
        return scorer, {}
    results, todo = _plan(
        video_list, destfolder, scorer, in_random_order, cfg["bodyparts"], save_as_csv, scales
    )
    if not todo:
        return scorer, results

    futures = {}
    for video, h5 in todo:
        fut = client.submit(
            _analyze_task, analyze_one, cfg, str(video), str(h5), scorer, snap, shuffle, trainingsetindex, gputouse,
            batch_size, cropping, dynamic, save_as_csv, run,
            key=f"posenb-analyze-{video.name}-{uuid.uuid4().hex[:12]}",
            pure=False,
        )  # fmt: skip
        futures[fut] = video
    failed = _collect(distributed, client, futures, results, run[1])
    if failed:
        lines = "\n".join(f"  {v}: {type(e).__name__}: {e}" for v, e in failed.items())
        message = (
            f"{len(failed)} of {len(todo)} video(s) could not be analysed (the others were written):\n{lines}"
        )
        if errors == "raise":
            raise VideoAnalysisError(message, results, failed)
        warnings.warn(message, stacklevel=3)
    return scorer, results
