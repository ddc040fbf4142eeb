"""``analyze_videos`` on a multi-animal project: every animal of every frame, streamed to a file beside the video.

:func:`posenb.infer.analyze.analyze_videos` hands multi-animal projects (config ``multianimalproject: true``, read
through :func:`posenb.project.config.project_parts`) to :func:`analyze_videos_ma`. Per video:

- the frames are decoded in a background thread in batches (:class:`~posenb.infer.analyze.FrameStream`, a
  bounded queue: at most ``queue size x batch`` frames live at once), the multi-animal predictor
  (:func:`posenb.infer.ma_predictor.load_ma_predictor`, ``predict_animals``) finds the animals of each batch, and
  each batch is appended to ``<destfolder or video folder>/<stem><DLCscorer>_detections.h5``
  (:mod:`posenb.io.detections`: resizable chunked datasets; x, y in original video pixels, the crop offset
  added; the animals of a frame sorted by score). Memory stays flat in the video length: no whole-video array
  is ever built;
- the detections file is renamed into place atomically once every frame is in it, then
  ``<stem><DLCscorer>_meta.pickle`` (DeepLabCut's keys, as for one animal) is written. A video counts as analysed
  when both are there and the detections file is complete (:func:`analysis_status_ma`: this scorer, these body
  parts, one row per frame); anything else (a run killed midway) is analysed again, the new file replacing the
  old one atomically.
- ``auto_track=True`` (DeepLabCut's default) then links the animals over time into ``<stem><DLCscorer>_el.h5``
  with the tracking stage (``posenb.track.track_video``, ``n_tracks`` animals) -- :func:`_track`, the one
  call site. When this build has no tracking stage, a warning says so and the detections file is the output.

Not for multi-animal projects (warned and ignored): ``dynamic`` cropping, a Dask ``client`` (the videos are
analysed one after the other here), and ``backend`` other than PyTorch (the multi-animal predictor runs on
PyTorch only).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import VideoError
from posenb.project import paths
from posenb.project.config import project_parts

__all__ = [
    "analyze_videos_ma",
    "analyze_video_ma",
    "analysis_status_ma",
    "detections_file",
    "load_predictor_ma",
]


def detections_file(out_dir: str | os.PathLike, video: str | os.PathLike, scorer: str) -> Path:
    """``<out_dir>/<video stem><scorer>_detections.h5``."""
    return Path(out_dir) / f"{paths.video_stem(video)}{scorer}_detections.h5"


def load_predictor_ma(config, cfg: dict, shuffle: int, trainingsetindex: int, gputouse=None, snapshot=None):
    """The multi-animal predictor of a shuffle and ``info`` (``scorer``, ``snapshot``, ``iteration``,
    ``net_type``, ``train_fraction``) as :func:`posenb.infer.predictor.load_predictor` gives for one animal."""
    from posenb.infer.ma_predictor import load_ma_predictor  # noqa: PLC0415
    from posenb.nn.device import pick_device  # noqa: PLC0415

    index = cfg.get("snapshotindex", -1) if snapshot is None else Path(str(snapshot)).stem
    predictor = load_ma_predictor(
        config,
        shuffle=shuffle,
        trainingsetindex=trainingsetindex,
        snapshotindex=index,
        device=pick_device(gputouse),
    )
    fraction = cfg["TrainingFraction"][trainingsetindex]
    info = {
        "scorer": paths.get_scorer_name(cfg, shuffle, fraction, predictor.net_type, predictor.iteration),
        "snapshot": str(predictor.snapshot),
        "iteration": int(predictor.iteration),
        "net_type": predictor.net_type,
        "train_fraction": fraction,
    }
    return predictor, info


def _shift(arr, crop) -> np.ndarray:
    """x, y of ``arr (..., 3)`` from crop to full-frame pixels (a copy, float32)."""
    arr = np.array(arr, dtype=np.float32)
    if crop is not None:
        arr[..., 0] += crop[0]
        arr[..., 1] += crop[2]
    return arr


def _append_batch(writer, predictor, i0: int, frames: np.ndarray, crop) -> None:
    """Predict one batch and append it at frame ``i0`` (frames the decoder skipped stay NaN)."""
    if i0 > writer.n_written:  # a gap: pad with empty frames
        gap = i0 - writer.n_written
        a, p = writer.n_animals, writer.n_parts
        writer.append(
            np.full((gap, a, p, 3), np.nan), np.full((gap, a), np.nan),
            identity=np.full((gap, a, writer.n_individuals), np.nan) if writer.identity else None,
            unique=np.full((gap, writer.n_unique, 3), np.nan) if writer.n_unique else None,
        )  # fmt: skip
    out = predictor.predict_animals(frames)
    identity = out.get("identity") if writer.identity else None
    unique = out.get("unique")
    if writer.n_unique and unique is None:
        unique = np.full((len(frames), writer.n_unique, 3), np.nan)
    writer.append(
        _shift(out["poses"], crop), out["scores"], identity=identity,
        unique=_shift(unique, crop) if writer.n_unique else None,
    )  # fmt: skip


def analyze_video_ma(
    predictor, video, det_path, batch_size: int, scorer: str, crop=None, progress: bool = True
) -> dict:
    """Stream the animals of every frame of ``video`` into ``det_path``; returns ``info`` (``fps``, ``n_frames``,
    ``width``, ``height``, ``seconds``, ``decoded``). ``crop``: ``(x1, x2, y1, y2)`` or None; coordinates are
    always full-frame pixels. The file appears (atomically) only once every frame is done."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.infer.frame_stream import FrameStream  # noqa: PLC0415
    from posenb.io.detections import DetectionsWriter  # noqa: PLC0415
    from posenb.io.video_stream import open_stream  # noqa: PLC0415 - decodes with flat memory (issue 11)

    video = Path(video)
    reader = open_stream(video)
    n_frames, fps, width, height = reader.n_frames, reader.fps, reader.full_width, reader.full_height
    t0 = time.time()
    writer = DetectionsWriter(
        det_path, bodyparts=predictor.bodyparts, individuals=predictor.individuals,
        max_animals=predictor.max_animals, uniquebodyparts=getattr(predictor, "unique_bodyparts", ()) or (),
        identity=bool(predictor.identity), scorer=scorer, video=str(video), nframes=n_frames, fps=fps, crop=crop,
    )  # fmt: skip
    bar = tqdm(
        total=n_frames, desc=video.name, unit="frame", leave=False, smoothing=0.1, disable=not progress
    )
    decoded = 0
    try:
        with writer, FrameStream(reader, batch_size, crop=crop) as stream:
            for i0, frames in stream:
                _append_batch(writer, predictor, i0, frames, crop)
                decoded += len(frames)
                bar.update(len(frames))
    finally:
        bar.close()
        reader.close()
    if decoded < n_frames:
        warnings.warn(
            f"{video.name}: only {decoded} of {n_frames} frames could be decoded; the rest are NaN.",
            stacklevel=2,
        )
    info = {"fps": fps, "n_frames": n_frames, "width": width, "height": height, "seconds": time.time() - t0}
    return {**info, "decoded": decoded}


def _meta(info, vinfo, cfg, crop, batch_size, start, predictor) -> dict:
    stop = time.time()
    width, height = vinfo["width"], vinfo["height"]
    return {
        "start": start, "stop": stop, "run_duration": stop - start, "Scorer": info["scorer"],
        "DLC-model-config file": {}, "fps": vinfo["fps"], "batch_size": batch_size,
        "frame_dimensions": (height, width), "nframes": vinfo["n_frames"],
        "iteration (active-learning)": cfg["iteration"], "training set fraction": info["train_fraction"],
        "cropping": crop is not None, "cropping_parameters": list(crop) if crop is not None else [0, width, 0, height],
        "individuals": list(predictor.individuals), "snapshot": info["snapshot"],
        "posenb_frames_per_s": vinfo["n_frames"] / max(vinfo["seconds"], 1e-9),
    }  # fmt: skip


def analysis_status_ma(video: Path, det: Path, scorer: str, bodyparts) -> str:
    """Why the multi-animal analysis of ``video`` (``det`` = its detections file) is not complete; ``""`` if it is."""
    from posenb.io.detections import detections_status  # noqa: PLC0415
    from posenb.io.predictions import meta_path  # noqa: PLC0415
    from posenb.io.video import open_video  # noqa: PLC0415

    probe = open_video(video)
    n_frames = probe.n_frames
    probe.close()
    reason = detections_status(det, n_frames, scorer, bodyparts)
    meta = meta_path(det.with_name(det.name.replace("_detections.h5", ".h5")))
    if not reason and not meta.is_file():
        reason = f"no {meta.name}"
    return reason


def _track(det_path: Path, cfg: dict, n_tracks, save_as_csv: bool) -> Path | None:
    """The one call into the tracking stage: ``_detections.h5`` -> ``_el.h5``; None when there is none.

    An ``_el.h5`` newer than the detections file is kept (tracked already)."""
    tracked = det_path.with_name(det_path.name.replace("_detections.h5", "_el.h5"))
    if tracked.is_file() and tracked.stat().st_mtime >= det_path.stat().st_mtime:
        return tracked
    try:
        from posenb.track import track_video  # noqa: PLC0415
    except ImportError:
        warnings.warn(
            f"auto_track: this posenb has no tracking stage (posenb.track); {det_path.name} holds the per-frame "
            "animals, not yet linked over time.", stacklevel=3,
        )  # fmt: skip
        return None
    return track_video(
        det_path, n_tracks=n_tracks, individuals=list(project_parts(cfg).individuals), save_as_csv=save_as_csv
    )


def _warn_unsupported(dynamic, client, backend, precision=None) -> None:
    from posenb.infer.follow import resolve_dynamic  # noqa: PLC0415

    if resolve_dynamic(dynamic)[0] == "on":
        warnings.warn("dynamic cropping is for single-animal projects; ignored.", stacklevel=3)
    if client is not None:
        warnings.warn(
            "A Dask client is not used for multi-animal projects yet; analysing here.", stacklevel=3
        )
    if backend not in (None, "auto", "torch"):
        warnings.warn(f"backend={backend!r}: multi-animal analysis runs on PyTorch.", stacklevel=3)
    if precision not in (None, "float32"):
        from posenb.infer.backends import resolve_precision  # noqa: PLC0415

        resolve_precision(precision)  # an unknown name is an error here too
        warnings.warn(f"precision={precision!r}: multi-animal analysis runs in float32.", stacklevel=3)


def analyze_videos_ma(
    config, videos, videotype: str = "", shuffle: int = 1, trainingsetindex: int = 0, gputouse=None,
    save_as_csv: bool = False, in_random_order: bool = False, destfolder=None, batchsize=None, cropping=None,
    snapshot=None, auto_track: bool = True, n_tracks: int | None = None, dynamic="auto", client=None,
    backend="auto", precision="float32",
) -> str:  # fmt: skip
    """:func:`posenb.infer.analyze.analyze_videos` for a multi-animal project (same arguments; module docstring).

    Returns the scorer string ``DLC_<net>_<Task><date>shuffle<k>_<iterations>``.
    """
    from posenb.infer.frame_stream import get_cropping  # noqa: PLC0415
    from posenb.io.predictions import write_meta  # noqa: PLC0415
    from posenb.io.video import open_video  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415

    _warn_unsupported(dynamic, client, backend, precision)
    cfg = read_config(config)
    predictor, info = load_predictor_ma(
        config, cfg, shuffle, trainingsetindex, gputouse=gputouse, snapshot=snapshot
    )
    scorer = info["scorer"]
    batch_size = int(batchsize or cfg.get("batch_size") or 8)
    video_list = paths.list_videos(videos, videotype)
    if not video_list:
        warnings.warn(f"No videos found in {videos!r} (videotype {videotype!r}).", stacklevel=2)
        return scorer
    if in_random_order:
        video_list = list(np.random.default_rng().permutation(video_list))
    for video in map(Path, video_list):
        if not video.exists():
            raise VideoError(f"Video not found: {video}.")
        out_dir = paths.ensure_folder(destfolder) if destfolder else video.parent
        det = detections_file(out_dir, video, scorer)
        reason = analysis_status_ma(video, det, scorer, predictor.bodyparts) if det.exists() else "new"
        if not reason:
            print(f"{video.name}: already analyzed ({det.name}); skipped.")
        else:
            if reason != "new":
                print(f"{video.name}: incomplete analysis ({reason}); analysing it again.")
            probe = open_video(video)
            crop = get_cropping(cfg, cropping, probe.full_width, probe.full_height, video)
            probe.close()
            start = time.time()
            vinfo = analyze_video_ma(predictor, video, det, batch_size, scorer, crop=crop)
            write_meta(
                out_dir / f"{paths.video_stem(video)}{scorer}.h5",
                _meta(info, vinfo, cfg, crop, batch_size, start, predictor),
            )
            fps_done = vinfo["n_frames"] / max(vinfo["seconds"], 1e-9)
            print(f"{video.name}: {vinfo['n_frames']} frames at {fps_done:.1f} frames/s -> {det}")
        if auto_track:
            _track(det, cfg, n_tracks, save_as_csv)
    return scorer
