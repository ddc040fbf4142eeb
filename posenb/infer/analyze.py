"""``analyze_videos``: streamed, batched key-point prediction for videos (DeepLabCut's analysis output).

For every video: a background thread decodes batches of frames into a bounded queue (so decoding overlaps
with the network, and memory stays flat whatever the video length: at most ``queue size x batch`` frames
live at once), the :class:`~posenb.infer.predictor.Predictor` runs each batch, and the predictions go to

- ``<destfolder or video folder>/<stem><DLCscorer>.h5`` (key ``df_with_missing``, table format, columns
  ``(scorer, bodyparts, x/y/likelihood)``, index = frame number) and ``.csv`` with ``save_as_csv``;
- ``<stem><DLCscorer>_meta.pickle`` with DeepLabCut's keys (``start``, ``stop``, ``run_duration``, ``Scorer``,
  ``DLC-model-config file``, ``fps``, ``batch_size``, ``frame_dimensions``, ``nframes``,
  ``iteration (active-learning)``, ``training set fraction``, ``cropping``, ``cropping_parameters``), and
  posenb's ``snapshot``, ``posenb_frames_per_s``, ``posenb_backend`` and ``posenb_precision`` (what computed
  the key points: e.g. ``"openvino"`` and ``"bfloat16"``; ``"+"``-joined when a runtime fell back to torch), and
  ``posenb_test_scales`` (None: one pass at the model's ``global_scale``; a list such as ``[1.1, 1.25]``: the
  key points are the mean of one pass per input scale, :mod:`posenb.infer.multiscale`).

Test-time scales (``test_scales=``, or the shuffle's ``train/pose_cfg.yaml`` key ``test_scales``): every batch runs
the network once per scale (``scale x global_scale`` of the full frame, resized with OpenCV as the labeler's
suggestions are) and averages the key points; the decoder then delivers full frames. A runtime back end
(ONNX Runtime, OpenVINO) compiles one session per input size, so one per scale, each checked against torch at its
first batch. The output file names stay DeepLabCut's (the scorer names the snapshot, not how it was run): a video
already analysed at other scales is skipped with a warning saying so, never re-analysed silently.

The ``.h5`` is written last: it is the commit point. A video counts as analysed only when its outputs are
complete and readable (:func:`analysis_status`: the ``.h5`` reads back with one row per frame and the scorer's
columns, ``_meta.pickle`` is there, and the ``.csv`` when asked for); anything else -- a run killed midway, a
truncated file -- is analysed again, each new file replacing the old one atomically.

Cropping (config ``cropping: true`` with x1/x2/y1/y2, or ``cropping=[x1, x2, y1, y2]``) analyses the crop
only, and coordinates stay in the crop's frame, as in DeepLabCut (the meta file records the offset).
Following the animal (``dynamic``, :mod:`posenb.infer.follow`): by default (``"auto"``) a single animal that fills
a small part of the frame is analysed in a window that follows it (aligned to the network's grid, falling back to
the whole frame wherever the window may have missed something), so the key points are the whole frame's to a few
hundredths of a pixel at a fraction of the cost; ``dynamic=(False, 0.5, 10)`` analyses whole frames, ``(True,
threshold, margin)`` follows whatever the animal's size. Coordinates are always in the (analysis crop's) frame;
the meta file records what following did (``posenb_dynamic``).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import VideoError
from posenb.infer.follow import Follower, resolve_dynamic
from posenb.infer.frame_stream import FrameStream, get_cropping
from posenb.infer.outputs import _already_analyzed, analysis_status  # noqa: F401 - analysis_status re-exported
from posenb.project import paths
from posenb.project.config import project_parts, read_config

__all__ = [
    "analyze_videos", "analyze_videos_dask", "analyze_video", "analyze_video_to_files", "FrameStream", "get_cropping",
    "analysis_status",
]  # fmt: skip


#: decode frames directly at the network's input size (decord/ffmpeg scaler) when no crop is used; False:
#: decode full frames and resize with OpenCV (INTER_AREA, as in training). See benchmarks/RESULTS.md.
DECODER_RESIZE = True


def analyze_video(
    predictor,
    video: str | os.PathLike,
    batch_size: int,
    crop=None,
    dynamic="auto",
    desc=None,
    decoder_resize: bool | None = None,
    progress: bool = True,
):
    """Predict every frame of one video; returns ``(predictions (n_frames, K, 3) float64, info dict)``.

    ``info`` holds ``fps``, ``n_frames``, ``width``, ``height`` (of the full frame), ``seconds``,
    ``decoded`` (frames actually decoded; the rest are NaN) and ``dynamic`` (:meth:`Follower.summary
    <posenb.infer.follow.Follower.summary>`, None when whole frames were analysed). ``progress=False`` hides the
    frame bar. Frames are decoded at reduced size in the decoder when the network input is smaller than the frame
    and no crop is used, so only what the network needs is ever decoded. ``dynamic``: see
    :mod:`posenb.infer.follow` (not with test-time scales: whole frames then, with a warning when asked for).
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.io.video import open_video  # noqa: PLC0415
    from posenb.io.video_stream import open_stream  # noqa: PLC0415 - decodes with flat memory (issue 11)

    video = Path(video)
    mode, threshold, margin = resolve_dynamic(dynamic)
    probe = open_video(video)
    n_frames, fps, width, height = probe.n_frames, probe.fps, probe.full_width, probe.full_height
    probe.close()
    resize = None
    scale = predictor.input_scale
    if decoder_resize is None:
        decoder_resize = DECODER_RESIZE
    multiscale = getattr(predictor, "test_scales", None) is not None  # full frames, resized per scale
    if crop is None and scale < 1 and decoder_resize and not multiscale:
        resize = (max(16, int(round(width * scale))), max(16, int(round(height * scale))))
    follower = None
    if mode != "off" and not multiscale and hasattr(predictor, "run"):
        frame_size = (crop[1] - crop[0], crop[3] - crop[2]) if crop is not None else (width, height)
        follower = Follower(predictor, frame_size, mode, threshold, margin)
    elif mode == "on" and multiscale:
        warnings.warn(
            "dynamic cropping is not used with test-time scales: whole frames analysed.", stacklevel=2
        )
    t0 = time.time()
    bar = dict(desc=desc or video.name, unit="frame", leave=False, smoothing=0.1, disable=not progress)
    progress = tqdm(total=n_frames, **bar)
    out = np.full((n_frames, predictor.num_joints, 3), np.nan)
    done = 0
    try:
        reader = open_stream(video, resize=resize)
        try:
            with FrameStream(reader, batch_size, crop=crop) as stream:
                for i0, frames in stream:
                    if follower is not None:
                        pred = follower.predict(frames)
                    elif resize is not None:
                        pred = predictor.predict_resized(frames, (width, height))
                    else:
                        pred = predictor.predict(frames)
                    out[i0 : i0 + len(frames)] = pred
                    done += len(frames)
                    progress.update(len(frames))
        finally:
            reader.close()
        if done < n_frames:
            warnings.warn(
                f"{video.name}: only {done} of {n_frames} frames could be decoded; the rest are NaN.",
                stacklevel=2,
            )
    finally:
        progress.close()
    seconds = time.time() - t0
    info = {"fps": fps, "n_frames": n_frames, "width": width, "height": height, "seconds": seconds}
    return out, {**info, "decoded": done, "dynamic": follower.summary() if follower is not None else None}


def analyze_video_to_files(
    predictor,
    info: dict,
    cfg: dict,
    video: str | os.PathLike,
    h5: str | os.PathLike,
    batch_size: int,
    cropping=None,
    dynamic="auto",
    save_as_csv: bool = False,
    progress: bool = True,
) -> dict:
    """Analyse one video; write ``h5`` (+ ``.csv``), ``_meta.pickle``; return :func:`analyze_video`'s info.

    ``predictor, info`` come from :func:`~posenb.infer.predictor.load_predictor`; ``h5`` is
    ``<out dir>/<stem><DLCscorer>.h5``. Shared by :func:`analyze_videos` and the Dask tasks of
    :mod:`posenb.infer.distributed`, so both write the same files.
    """
    from posenb.io.predictions import (  # noqa: PLC0415
        array_to_predictions,
        write_meta,
        write_predictions,
        write_predictions_csv,
    )
    from posenb.io.video import open_video  # noqa: PLC0415

    video, h5 = Path(video), Path(h5)
    scorer = info["scorer"]
    probe = open_video(video)
    width, height = probe.full_width, probe.full_height
    probe.close()
    crop = get_cropping(cfg, cropping, width, height, video)
    start = time.time()
    if hasattr(predictor, "ran"):
        predictor.ran.clear()
    pred, vinfo = analyze_video(
        predictor, video, batch_size, crop=crop, dynamic=dynamic, desc=video.name, progress=progress
    )
    stop = time.time()
    df = array_to_predictions(pred, scorer, list(cfg["bodyparts"]))
    del pred
    crop_params = list(crop) if crop is not None else [0, width, 0, height]
    write_meta(
        h5,
        {
            "start": start,
            "stop": stop,
            "run_duration": stop - start,
            "Scorer": scorer,
            "DLC-model-config file": info["test_cfg"],
            "fps": vinfo["fps"],
            "batch_size": batch_size,
            "frame_dimensions": (height, width),
            "nframes": vinfo["n_frames"],
            "iteration (active-learning)": cfg["iteration"],
            "training set fraction": info["train_fraction"],
            "cropping": crop is not None,
            "cropping_parameters": crop_params,
            "snapshot": info["snapshot"],
            "posenb_frames_per_s": vinfo["n_frames"] / max(vinfo["seconds"], 1e-9),
            "posenb_dynamic": vinfo["dynamic"],
            **_run_meta(predictor),
        },
    )
    if save_as_csv:
        write_predictions_csv(df, h5.with_suffix(".csv"))
    write_predictions(df, h5)  # last: a .h5 in place means the meta (and csv) are too
    return vinfo


def _run_meta(predictor) -> dict:
    """``posenb_backend``, ``posenb_precision`` and ``posenb_test_scales`` of what analysed the video (meta file)."""
    if hasattr(predictor, "run_summary"):
        run = predictor.run_summary()
    else:
        run = {"backend": getattr(predictor, "backend", "torch")}
        run["precision"] = getattr(predictor, "precision", "")
    scales = getattr(predictor, "test_scales", None)
    return {
        "posenb_backend": run["backend"],
        "posenb_precision": run["precision"],
        "posenb_test_scales": [float(s) for s in scales] if scales is not None else None,
    }


def analyze_videos(
    config: str | os.PathLike,
    videos,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    save_as_csv: bool = False,
    in_random_order: bool = False,
    destfolder: str | os.PathLike | None = None,
    batchsize: int | None = None,
    cropping: list[int] | None = None,
    TFGPUinference: bool = True,
    dynamic="auto",
    modelprefix: str = "",
    snapshot: str | os.PathLike | None = None,
    client=None,
    backend: str | None = "auto",
    auto_track: bool = True,
    n_tracks: int | None = None,
    precision: str | None = "float32",
    test_scales=None,
) -> str:
    """Predict the body parts in videos with the trained network of a shuffle (DeepLabCut's API).

    A multi-animal project (config ``multianimalproject: true``) writes every animal of every frame to
    ``<stem><DLCscorer>_detections.h5`` and, with ``auto_track``, links them over time into ``_el.h5``
    (``n_tracks`` animals, default the config's individuals): :mod:`posenb.infer.analyze_ma`.

    Parameters
    ----------
    config : project config.yaml.
    videos : a video, a folder of videos, or a list of both (folders filtered by ``videotype``).
    shuffle, trainingsetindex : which model (``dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>``).
    gputouse : CUDA device index (None: CUDA if present, else CPU).
    save_as_csv : also write ``<stem><DLCscorer>.csv``.
    destfolder : where outputs go (default: next to each video).
    batchsize : frames per network call (default config ``batch_size``).
    cropping : ``[x1, x2, y1, y2]`` analysis crop for all videos of this call (else config's, if enabled).
    dynamic : ``"auto"`` (default) follows a small single animal in a window, whole frames' key points ~4x faster
        (:mod:`posenb.infer.follow`); ``(False, 0.5, 10)``: whole frames; ``(True, thr, margin)``: always follow.
    snapshot : a snapshot file to use instead of config ``snapshotindex``.
    client : a ``dask.distributed.Client``: analyse the videos in parallel on its workers, one task per video
        (:func:`analyze_videos_dask`; needs ``posenb[cluster]``), with this ``backend`` and ``precision``.
        Failed videos do not stop the others; they are raised together at the end
        (:class:`~posenb.infer.distributed.VideoAnalysisError`).
    backend : posenb only: inference back end, ``"auto"`` (default: OpenVINO or ONNX Runtime on a CPU when
        ``posenb[fast]`` is installed, else PyTorch), ``"torch"``, ``"onnxruntime"``, ``"openvino"``
        (:mod:`posenb.infer.backends`). All give the same key points to float rounding.
    precision : posenb only: ``"float32"`` (default) or ``"bfloat16"``: the network computes in bfloat16 on a
        CPU with AMX / AVX512-BF16 (OpenVINO or PyTorch; about 2x faster with OpenVINO), and the key points move
        by ~0.15 px median (up to ~3 px at the 99th percentile) from float32. Where it would not pay (ONNX
        Runtime, a CPU without native bfloat16) it stays float32 with a warning. Recorded in the meta file
        (``posenb_precision``). Multi-animal projects analyse in float32.
    test_scales : posenb only: None (default: the shuffle's ``train/pose_cfg.yaml`` key ``test_scales``, which
        is null, i.e. one pass, unless set) or input scales relative to the model's ``global_scale``, e.g.
        ``[1.1, 1.25]``: each frame is analysed once per scale and the key points averaged (openfield: mean test
        error 1.81 -> 1.73 px, ~2.8x the compute; :mod:`posenb.infer.multiscale`). ``[1]``: one pass whatever the
        file says. Recorded in the meta file (``posenb_test_scales``); works with every ``backend`` and
        ``precision`` and with ``client``. Single-animal projects only for now (a :class:`ConfigError` otherwise).
    auto_track : multi-animal projects: link the animals over time into ``<stem><DLCscorer>_el.h5`` after the
        per-frame detections (DeepLabCut's default True). Ignored for single-animal projects.
    n_tracks : multi-animal projects: the number of animals to track (default: the config's individuals).

    Returns the scorer string ``DLC_<net>_<Task><date>shuffle<k>_<iterations>``. Videos whose outputs are
    complete (:func:`analysis_status`) are skipped; incomplete or unreadable ones are analysed again. Unreadable videos raise :class:`VideoError` naming the file.
    """
    del TFGPUinference, modelprefix
    resolve_dynamic(dynamic)  # a bad value fails before anything is read or written
    cfg = read_config(config)
    common = dict(
        videotype=videotype, shuffle=shuffle, trainingsetindex=trainingsetindex, gputouse=gputouse,
        save_as_csv=save_as_csv, in_random_order=in_random_order, destfolder=destfolder, batchsize=batchsize,
        cropping=cropping, dynamic=dynamic, snapshot=snapshot, backend=backend, precision=precision,
    )  # fmt: skip
    if project_parts(cfg).multianimal:
        return _analyze_multianimal(config, cfg, videos, common, test_scales, auto_track, n_tracks, client)
    if client is not None:
        return _analyze_with_client(config, videos, client, {**common, "test_scales": test_scales})
    return _analyze_here(cfg, videos, {**common, "test_scales": test_scales})


def _analyze_multianimal(config, cfg, videos, common: dict, test_scales, auto_track, n_tracks, client) -> str:
    """analyze_videos of a multi-animal project (:mod:`posenb.infer.analyze_ma`); test-time scales refused."""
    from posenb.infer.analyze_ma import analyze_videos_ma  # noqa: PLC0415
    from posenb.infer.multiscale import refuse_multianimal_scales  # noqa: PLC0415

    refuse_multianimal_scales(cfg, common["shuffle"], common["trainingsetindex"], test_scales)
    return analyze_videos_ma(
        config, videos, auto_track=auto_track, n_tracks=n_tracks, client=client, **common
    )


def _analyze_with_client(config, videos, client, kwargs: dict) -> str:
    """analyze_videos on a Dask client's workers, one task per video; returns the scorer."""
    from posenb.infer.distributed import _analyze_on_dask  # noqa: PLC0415

    return _analyze_on_dask(analyze_video_to_files, config, videos, client=client, **kwargs)[0]


def _analyze_here(cfg: dict, videos, options: dict) -> str:
    """analyze_videos of a single-animal project in this process, one video after the other; returns the scorer.

    ``options``: analyze_videos' keyword arguments (``shuffle``, ``backend``, ``test_scales``, ...)."""
    from posenb.infer.multiscale import resolve_test_scales, scales_text  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    videotype, shuffle, trainingsetindex = (
        options["videotype"],
        options["shuffle"],
        options["trainingsetindex"],
    )
    # checked before anything is read or written: a bad scale list fails here
    scales = resolve_test_scales(
        options["test_scales"], paths.get_train_dir(cfg, shuffle, trainingsetindex)[0]
    )
    predictor, info = load_predictor(
        cfg, shuffle, trainingsetindex, gputouse=options["gputouse"], snapshot=options["snapshot"],
        backend=options["backend"], precision=options["precision"], test_scales=scales,
    )  # fmt: skip
    scorer, dynamic, save_as_csv = info["scorer"], options["dynamic"], options["save_as_csv"]
    batch_size = int(options["batchsize"] or cfg.get("batch_size") or 8)
    video_list = paths.list_videos(videos, videotype)
    if not video_list:
        warnings.warn(f"No videos found in {videos!r} (videotype {videotype!r}).", stacklevel=3)
        return scorer
    if options["in_random_order"]:
        video_list = list(np.random.default_rng().permutation(video_list))
    for video in video_list:
        video = Path(video)
        if not video.exists():
            raise VideoError(f"Video not found: {video}.")
        out_dir = paths.ensure_folder(options["destfolder"]) if options["destfolder"] else video.parent
        h5 = out_dir / f"{paths.video_stem(video)}{scorer}.h5"
        if _already_analyzed(video, h5, scorer, cfg["bodyparts"], save_as_csv, scales):
            continue
        vinfo = analyze_video_to_files(
            predictor, info, cfg, video, h5, batch_size, cropping=options["cropping"], dynamic=dynamic,
            save_as_csv=save_as_csv,
        )  # fmt: skip
        fps_done = vinfo["n_frames"] / max(vinfo["seconds"], 1e-9)
        how = "" if scales is None else f" ({scales_text(scales)})"
        print(f"{video.name}: {vinfo['n_frames']} frames at {fps_done:.1f} frames/s{how} -> {h5}")
    return scorer


def analyze_videos_dask(
    config: str | os.PathLike,
    videos,
    client=None,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    save_as_csv: bool = False,
    in_random_order: bool = False,
    destfolder: str | os.PathLike | None = None,
    batchsize: int | None = None,
    cropping: list[int] | None = None,
    dynamic="auto",
    snapshot: str | os.PathLike | None = None,
    errors: str = "raise",
    backend: str | None = "auto",
    precision: str | None = "float32",
    test_scales=None,
) -> dict[str, str | BaseException]:
    """Analyse videos in parallel on a Dask cluster, one task per video (the files of :func:`analyze_videos`).

    Parameters
    ----------
    config, videos, videotype, shuffle, trainingsetindex, save_as_csv, in_random_order, destfolder, batchsize,
    cropping, dynamic, snapshot, backend, precision, test_scales : as in :func:`posenb.infer.analyze.analyze_videos`
        (``test_scales`` resolved and checked here, before anything is submitted, and sent to the workers); every
        worker resolves ``backend`` and ``precision`` itself (``"auto"``: the fastest back end installed on
        it; ``"bfloat16"`` on a worker without native bfloat16: float32, and a warning here at the end), and
        each ``_meta.pickle`` records what ran (``posenb_backend``, ``posenb_precision``).
    client : a ``dask.distributed.Client``: ``Client(LocalCluster(...))``, ``Client(SLURMCluster(...))``, ...
        None: the current default client (the last one created); without one a :class:`PosenbError` says how
        to make one. posenb never starts or closes a cluster itself.
    gputouse : CUDA device for every worker; None: one device per worker by worker name (module docstring).
    errors : ``"raise"`` (default): when videos failed, raise :class:`VideoAnalysisError` at the end naming
        each file (after all the others are written; ``.results`` holds the full dict). ``"warn"``: warn and
        return the dict.

    Returns ``{absolute video path: output .h5 path (str) or the exception it failed with}``, in the order of
    the video list; videos already analysed map to their existing file (they are not submitted again).
    """
    from posenb.infer.distributed import _analyze_on_dask  # noqa: PLC0415

    _, results = _analyze_on_dask(
        analyze_video_to_files, config, videos, client=client, videotype=videotype, shuffle=shuffle,
        trainingsetindex=trainingsetindex, gputouse=gputouse, save_as_csv=save_as_csv,
        in_random_order=in_random_order, destfolder=destfolder, batchsize=batchsize, cropping=cropping,
        dynamic=dynamic, snapshot=snapshot, errors=errors, backend=backend, precision=precision,
        test_scales=test_scales,
    )  # fmt: skip
    return results
