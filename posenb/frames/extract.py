"""``extract_frames``: pick frames of each project video for labeling and save them as DeepLabCut PNGs.

Output: ``labeled-data/<stem>/img<index>.png`` (index = absolute frame number, zero-padded to
``ceil(log10(n_frames))`` digits), RGB, optionally cropped to the ``video_sets`` crop box. Frames that already exist
or appear in a label file of the folder are never rewritten, deleted, or picked again: new picks replace them.

Speed: k-means clusters thumbnails decoded at reduced size in one sequential pass (:func:`posenb.frames.select.
load_thumbnails`, two ffmpeg processes with two cores); only the picked frames are then decoded at full resolution,
in file order, with exact seeks (two threads, each with its own reader, with two cores).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, PosenbError, VideoError
from posenb.frames._thumbs_ffmpeg import _cores
from posenb.frames.select import (
    frame_range,
    load_thumbnails,
    make_rng,
    select_kmeans,
    thumbnail_geometry,
    uniform_indices,
)

__all__ = ["extract_frames", "add_new_videos", "taken_frames", "read_exact_frames", "save_frames"]

ALGOS = ("uniform", "kmeans")
#: k-means on intervals of at least this many frames clusters the I- and P-frames only (B-frames not decoded)
LONG_VIDEO_FRAMES = 6000
MODES = ("automatic", "manual", "match")


def _manual(config):
    """``mode="manual"`` outside Jupyter: the frame grabber is a panel (posenb/widgets; the core never imports it)."""
    raise PosenbError(
        "Manual frame extraction is done in the frame grabber panel of posenb's Jupyter interface: in a "
        "notebook, call posenb.extract_frames(config, mode='manual') or posenb.launch(config) (with the packages "
        "of pip install 'posenb[jupyter]'). Without Jupyter, use "
        "extract_frames(config, mode='automatic', algo='kmeans' or 'uniform')."
    )


def taken_frames(folder: str | os.PathLike) -> set[int]:
    """Frame numbers already used in ``labeled-data/<stem>``: ``img*.png`` files and rows of its label files.

    Label files read (:func:`posenb.io.label_files.label_file_rows`): ``CollectedData_*.h5`` (or ``.csv`` when there
    is no ``.h5``) and ``machinelabels*.h5``; an unreadable file is reported and skipped (its PNGs still protect the
    frames).
    """
    from posenb.io.label_files import label_file_rows  # noqa: PLC0415 (pandas only when a label file exists)
    from posenb.project.paths import frame_index  # noqa: PLC0415

    folder = Path(folder)
    if not folder.is_dir():
        return set()
    taken = {frame_index(p.name) for p in folder.iterdir() if p.suffix.lower() == ".png"}
    taken |= {frame_index(name) for name in label_file_rows(folder)}
    taken.discard(None)
    return taken


def read_exact_frames(
    video: str | os.PathLike, indices: Iterable[int], decoder_threads: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, frame (H, W, 3) uint8 RGB)`` for sorted unique ``indices``, frame-exact.

    Reads through :func:`posenb.io.video.open_frame_exact` (forward when the next frame is near, a seek to the
    key frame before otherwise; decord 3.4 can return a wrong frame when it skips far inside a GOP). Without
    OpenCV support for the file, the video is decoded sequentially from the start. ``decoder_threads``: OpenCV's
    decoder threads (None: its default).
    """
    from posenb.io.video import open_frame_exact, open_video

    wanted = sorted({int(i) for i in indices})
    if not wanted:
        return
    try:
        reader = open_frame_exact(video, decoder_threads)
    except VideoError:
        keep = set(wanted)
        with open_video(video) as seq:
            for i0, frames in seq.iter_frames(0, wanted[-1] + 1, 32):
                for j, frame in enumerate(frames):
                    if i0 + j in keep:
                        yield i0 + j, frame
        return
    with reader:
        for i in wanted:
            if not 0 <= i < reader.n_frames:
                raise VideoError(
                    f"Frame {i} of {video} does not exist (the video has {reader.n_frames} frames)."
                )
            try:
                frame = reader.read(i)
            except VideoError as exc:
                raise VideoError(f"{exc} Then extract again.") from None
            yield i, frame


def save_frames(
    video: str | os.PathLike,
    indices: Iterable[int],
    folder: str | os.PathLike,
    n_frames: int,
    crop: tuple[int, int, int, int] | None = None,
    progress: bool = True,
) -> list[int]:
    """Decode ``indices`` of ``video`` at full resolution and save them as ``folder/img<index>.png`` (RGB).

    ``crop`` = ``(x1, x2, y1, y2)`` pixels. Existing files are never overwritten (those frames are skipped); each PNG
    is written to a temporary name and renamed, so no half-written image is left behind. Returns the indices saved
    (sorted). With more than one core and :data:`PARALLEL_SAVE_MIN` frames or more, two threads with a reader each
    decode and encode the first and the second half of the frames at once (OpenCV releases the GIL): the same
    pixels, about half the time.
    """
    from tqdm.auto import tqdm

    from posenb.project.paths import frame_name

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    todo = [
        int(i)
        for i in sorted(set(int(i) for i in indices))
        if not (folder / frame_name(i, n_frames)).exists()
    ]
    saved = []
    bar = tqdm(total=len(todo), desc=f"saving {Path(video).name}", unit="frame", disable=not progress)
    parts = 2 if len(todo) >= PARALLEL_SAVE_MIN and _cores() > 1 else 1
    try:
        for i, buf in _encoded_frames(video, todo, crop, parts):
            target = folder / frame_name(i, n_frames)
            tmp = folder / f".{target.name}.tmp"
            tmp.write_bytes(buf)
            if target.exists():  # appeared meanwhile (another process): keep it
                tmp.unlink()
            else:
                os.replace(tmp, target)
                saved.append(i)
            bar.update(1)
    finally:
        bar.close()
    return sorted(saved)


#: save_frames decodes in two threads from this many frames on (each thread opens its own reader)
PARALLEL_SAVE_MIN = 4


def _encode_png(video, i: int, frame: np.ndarray, crop) -> bytes:
    """One RGB frame (cropped to ``crop``) as PNG bytes (OpenCV's default compression)."""
    import cv2

    if crop is not None:
        x1, x2, y1, y2 = crop
        frame = frame[y1:y2, x1:x2]
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    if not ok:
        raise VideoError(f"Could not encode frame {i} of {video} as PNG.")
    return buf.tobytes()


def _encoded_frames(video, todo: list[int], crop, parts: int) -> Iterator[tuple[int, bytes]]:
    """``(index, PNG bytes)`` of the sorted frames ``todo``: in one pass (``parts == 1``), or ``parts`` threads
    each reading a contiguous share with its own frame-exact reader (results in completion order)."""
    if parts <= 1:
        for i, frame in read_exact_frames(video, todo):
            yield i, _encode_png(video, i, frame, crop)
        return
    import queue
    import threading

    done = object()
    results: queue.Queue = queue.Queue(maxsize=8)  # bounded: the decoders wait for the writer
    stop = threading.Event()

    def work(share):
        try:
            for i, frame in read_exact_frames(video, share, decoder_threads=1):  # the threads share the cores
                if stop.is_set():
                    break
                results.put((i, _encode_png(video, i, frame, crop)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            results.put(exc)
        finally:
            results.put(done)

    shares = [list(a) for a in np.array_split(np.asarray(todo, dtype=np.int64), parts) if len(a)]
    threads = [threading.Thread(target=work, args=(share,), daemon=True) for share in shares]
    for t in threads:
        t.start()
    running = len(threads)
    try:
        while running:
            item = results.get()
            if item is done:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield int(item[0]), item[1]
    finally:
        stop.set()
        while running:  # let blocked workers finish
            if results.get() is done:
                running -= 1
        for t in threads:
            t.join()


def _select_videos(cfg: dict, videos_list) -> list[str]:
    from posenb.project.paths import video_stem

    videos = list(cfg.get("video_sets_original") or cfg.get("video_sets") or {})
    if videos_list is None:
        return videos
    if isinstance(videos_list, (str, os.PathLike)):
        videos_list = [videos_list]
    chosen = []
    for wanted in videos_list:
        matches = [v for v in videos if str(v) == str(wanted) or video_stem(v) == video_stem(wanted)]
        if not matches:
            print(
                f"{wanted} is not listed in video_sets of config.yaml: skipped (add it with posenb.add_new_videos)."
            )
        chosen += [m for m in matches if m not in chosen]
    return chosen


def _crop_box(cfg: dict, video: str, width: int, height: int, where: str) -> tuple[int, int, int, int]:
    from posenb.project.config import parse_crop

    entry = (cfg.get("video_sets_original") or cfg.get("video_sets") or {}).get(video) or {}
    if entry.get("crop") is None:
        return 0, width, 0, height
    x1, x2, y1, y2 = parse_crop(entry["crop"], f"{where} (video_sets entry {video})")
    if x1 >= width or y1 >= height:
        raise ConfigError(
            f"{where}: the crop '{entry['crop']}' of {video} lies outside its {width}x{height} frames. Fix the crop "
            "in video_sets (x1, x2, y1, y2 in pixels)."
        )
    return x1, min(x2, width), y1, min(y2, height)


def _pick_frames(
    algo, path, n_frames, n_pick, cfg, taken, box, rng, cluster_step, cluster_resizewidth, cluster_color
):
    """Frame numbers to extract from one video (sorted), avoiding ``taken``."""
    start, stop = cfg.get("start", 0), cfg.get("stop", 1)
    if algo == "uniform":
        return uniform_indices(n_frames, n_pick, start, stop, rng, exclude=taken)
    lo, hi = frame_range(n_frames, start, stop)
    step = max(1, int(cluster_step or 1))
    candidates = np.arange(lo, hi, step, dtype=np.int64)
    free = candidates[~np.isin(candidates, np.fromiter(taken, np.int64, len(taken)))]
    if free.size <= n_pick:
        return free
    kwargs = dict(width=cluster_resizewidth, color=cluster_color, crop=box, start=lo, stop=hi, step=step)
    # a long interval: cluster the I- and P-frames only (the decoder skips the B-frames: ~2-3x less decoding),
    # as long as they leave plenty of candidates; else every frame (see benchmarks/RESULTS.md, frame extraction)
    sample = step == 1 and candidates.size >= LONG_VIDEO_FRAMES
    idx, thumbs = load_thumbnails(path, skip_bframes=sample, **kwargs)
    if sample and idx.size < max(LONG_VIDEO_FRAMES // 4, 20 * n_pick):
        idx, thumbs = load_thumbnails(path, **kwargs)
    rows = select_kmeans(thumbs, n_pick, rng, exclude=np.isin(idx, free, invert=True))
    return idx[rows]


def extract_frames(
    config: str | os.PathLike,
    mode: str = "automatic",
    algo: str = "kmeans",
    crop: bool | str = False,
    userfeedback: bool = True,
    cluster_step: int = 1,
    cluster_resizewidth: int = 30,
    cluster_color: bool = False,
    opencv: bool = True,
    slider_width: int = 25,
    config3d: str | None = None,
    extracted_cam: int = 0,
    videos_list: Iterable[str] | None = None,
    seed: int | np.random.Generator | None = None,
):
    """Extract frames to label from the project's videos (DeepLabCut's ``extract_frames``).

    Parameters
    ----------
    config : path of the project's config.yaml. Uses its ``video_sets``, ``start``, ``stop`` (fractions of each
        video, ``0 <= start < stop <= 1``) and ``numframes2pick`` (frames per video and call).
    mode : ``"automatic"``; ``"manual"`` returns the frame grabber panel (Jupyter; display it; this is done by
        ``posenb.extract_frames``, :mod:`posenb.widgets.modes`); ``"match"`` (3D camera matching) is not
        supported yet.
    algo : ``"kmeans"`` (one frame per visual cluster: the member closest to the centroid) or ``"uniform"``
        (DLC's: a random sample without replacement from ``[floor(n*start), ceil(n*stop))``).
    crop : True to save only the ``video_sets`` crop box of each video (labels are then in cropped coordinates).
    userfeedback : ask per video before extracting; without an interactive input the answer is yes.
    cluster_step : k-means candidates are every ``cluster_step``-th frame.
    cluster_resizewidth : thumbnail width (pixels) for k-means; must not exceed the frame (or crop) width.
    cluster_color : cluster colour thumbnails instead of grayscale.
    opencv, slider_width, config3d, extracted_cam : accepted for DeepLabCut compatibility (no effect).
    videos_list : only these videos (paths or stems; they must be in ``video_sets``).
    seed : int or ``numpy.random.Generator`` for reproducible picks (DLC uses the global random state).

    Returns
    -------
    ``{video (as listed in video_sets): [frame numbers saved]}`` for every video processed; or, with
    ``mode="manual"``, the frame grabber panel.

    Frames that exist in ``labeled-data/<stem>`` (PNG files, or rows of its label files) are never overwritten or
    deleted and never picked again: replacements are picked instead, as long as the interval has free frames.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.project.config import read_config  # noqa: PLC0415

    if mode == "manual":
        return _manual(config)
    _check_arguments(mode, algo, crop)
    where = str(config)
    cfg = read_config(config)
    frame_range(1, cfg.get("start", 0), cfg.get("stop", 1), where=where)  # 0 <= start < stop <= 1
    n_pick = int(cfg.get("numframes2pick") or 0)
    if n_pick < 1:
        raise ConfigError(
            f"{where}: numframes2pick must be a positive integer, got {cfg.get('numframes2pick')!r}."
        )
    videos = _select_videos(cfg, videos_list)
    if not videos:
        print(
            "No videos to extract frames from: video_sets of config.yaml is empty (add videos with add_new_videos)."
        )
        return {}
    options = {"algo": algo, "crop": crop, "userfeedback": userfeedback, "n_pick": n_pick, "rng": make_rng(seed),
               "cluster_step": cluster_step, "cluster_resizewidth": cluster_resizewidth,
               "cluster_color": cluster_color, "where": where}  # fmt: skip
    results: dict[str, list[int]] = {}
    for video in tqdm(videos, desc="videos", unit="video", disable=len(videos) < 2):
        saved = _extract_video(cfg, video, options)
        if saved is not None:
            results[str(video)] = saved
    if results:
        print(
            "Frames were extracted for the videos listed above. Label them with the Labeler panel "
            "(posenb.launch() or posenb.label_frames(config)), then check them with posenb.check_labels(config)."
        )
    return results


def _check_arguments(mode: str, algo: str, crop) -> None:
    """Refuse the modes and arguments extract_frames does not run (each error says what to do instead)."""
    if mode == "match":
        raise PosenbError(
            "extract_frames(mode='match') (matching frames across 3D cameras) is not supported by posenb yet."
        )
    if mode != "automatic":
        raise ConfigError(f"extract_frames: mode must be one of {MODES}, got {mode!r}.")
    if algo not in ALGOS:
        raise ConfigError(f"extract_frames: algo must be 'kmeans' or 'uniform', got {algo!r}.")
    if isinstance(crop, str):
        raise PosenbError(
            f"extract_frames(crop={crop!r}): draw the crop box in the frame grabber panel (posenb.launch()), or write "
            "it into video_sets in config.yaml as 'x1, x2, y1, y2', then call extract_frames(config, crop=True)."
        )


def _extract_video(cfg: dict, video: str, options: dict) -> list[int] | None:
    """Pick and save one video's frames; returns the frame numbers saved (None: video missing or declined)."""
    from posenb.io.video import open_video  # noqa: PLC0415
    from posenb.project.paths import resolve_video, video_stem  # noqa: PLC0415

    project, where, n_pick = Path(cfg["project_path"]), options["where"], options["n_pick"]
    path = resolve_video(cfg, video)
    if path is None:
        print(f"Video {video} not found (nor a file of that name in {project / 'videos'}): skipped.")
        return None
    stem = video_stem(video)
    folder = project / "labeled-data" / stem
    taken = taken_frames(folder)
    if options["userfeedback"]:
        # the label helpers' question (yes without a terminal); imported only here: label_tools imports pandas
        from posenb.project.label_tools import confirm  # noqa: PLC0415

        note = f" ({len(taken)} frames are already in {folder}; they are kept)" if taken else ""
        if not confirm(f"Do you want to extract (perhaps additional) frames for video: {video}?{note}"):
            return None
    with open_video(path) as reader:
        n_frames, width, height = reader.n_frames, reader.full_width, reader.full_height
    box = _crop_box(cfg, video, width, height, where) if options["crop"] else None
    if options["algo"] == "kmeans":
        thumbnail_geometry(
            width, height, options["cluster_resizewidth"], box, where=str(path)
        )  # ratio > 1 -> error
    picks = _pick_frames(
        options["algo"], path, n_frames, n_pick, cfg, taken, box, options["rng"], options["cluster_step"],
        options["cluster_resizewidth"], options["cluster_color"],
    )  # fmt: skip
    saved = save_frames(path, picks, folder, n_frames, box)
    if len(saved) < n_pick:
        print(
            f"{stem}: {len(saved)} new frames (asked {n_pick}): the interval start={cfg.get('start')} "
            f"stop={cfg.get('stop')} holds no more frames that are not already extracted."
        )
    else:
        print(f"{stem}: {len(saved)} frames extracted into {folder}.")
    return saved


_extract_frames = extract_frames  # add_new_videos's argument of the same name hides it there


def add_new_videos(
    config: str | os.PathLike,
    videos,
    copy_videos: bool = False,
    coords: list | None = None,
    extract_frames: bool = False,
    videotype: str = "",
) -> list[str]:
    """Add videos to a project (DeepLabCut's ``add_new_videos``), then, with ``extract_frames=True``, extract frames
    of the added videos without questions.

    The videos are added by :func:`posenb.project.create.add_new_videos` (link/copy into ``videos/``,
    ``video_sets`` entries with ``coords`` crops, label folders); returns the paths added to ``video_sets``.
    """
    from posenb.project.create import add_new_videos as _add

    added = _add(config, videos, copy_videos=copy_videos, coords=coords, videotype=videotype)
    if extract_frames and added:
        _extract_frames(config, userfeedback=False, videos_list=added)
    return added
