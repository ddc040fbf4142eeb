"""Which frames to extract: DeepLabCut's "uniform" sample and a faster, better k-means selection.

- :func:`frame_range`: the frame interval ``[floor(n * start), ceil(n * stop))`` DLC samples from.
- :func:`uniform_indices`: DLC's ``algo="uniform"``: a random sample *without replacement* (not evenly spaced).
- :func:`load_thumbnails`: small thumbnails of many frames, decoded at reduced size by the decoder itself
  (``open_video(path, resize=(w, h))``), sequentially in chunks: never a full-resolution decode or a seek per frame.
- :func:`select_kmeans`: k-means on mean-centred thumbnails, one frame per cluster: the member closest to the
  centroid (DLC takes a random member), so each pick is the most typical frame of its scene.

``extract_frames`` (``extract.py``) and ``extract_outlier_frames`` (``outliers.py``) build on these.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence

import numpy as np

from posenb.errors import ConfigError
from posenb.frames._thumbs_ffmpeg import _thumbnails_ffmpeg

__all__ = [
    "make_rng",
    "frame_range",
    "uniform_indices",
    "thumbnail_geometry",
    "load_thumbnails",
    "select_kmeans",
]


def make_rng(seed: int | np.random.Generator | None = None) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (returned as is), or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def frame_range(
    n_frames: int, start: float = 0.0, stop: float = 1.0, where: str = "config.yaml"
) -> tuple[int, int]:
    """DLC's extraction interval ``[floor(n_frames * start), ceil(n_frames * stop))``, clipped to the video.

    ``start`` and ``stop`` are fractions of the video with ``0 <= start < stop <= 1``; anything else raises
    :class:`ConfigError` naming ``where``.
    """
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop))
    if not ok or not 0 <= start < stop <= 1:
        raise ConfigError(
            f"{where}: 'start' ({start!r}) and 'stop' ({stop!r}) are fractions of the video and must satisfy "
            "0 <= start < stop <= 1 (e.g. start: 0, stop: 1 for the whole video)."
        )
    lo = int(math.floor(n_frames * start))
    hi = min(int(n_frames), int(math.ceil(n_frames * stop)))
    return lo, max(lo, hi)


def uniform_indices(
    n_frames: int,
    n_pick: int,
    start: float = 0.0,
    stop: float = 1.0,
    rng: int | np.random.Generator | None = None,
    exclude: Iterable[int] = (),
) -> np.ndarray:
    """DLC's ``algo="uniform"``: ``n_pick`` distinct frame numbers drawn at random from ``[floor(n*start), ceil(n*stop))``.

    Frames in ``exclude`` (already extracted or labeled) are never drawn; fewer than ``n_pick`` come back when the
    interval holds fewer free frames. Returns sorted ``int64`` frame indices.
    """
    lo, hi = frame_range(n_frames, start, stop)
    candidates = np.arange(lo, hi, dtype=np.int64)
    excluded = np.fromiter((int(i) for i in exclude), dtype=np.int64)
    if excluded.size:
        candidates = candidates[~np.isin(candidates, excluded)]
    k = min(int(n_pick), candidates.size)
    if k <= 0:
        return np.zeros(0, np.int64)
    return np.sort(make_rng(rng).choice(candidates, size=k, replace=False))


def thumbnail_geometry(
    full_width: int,
    full_height: int,
    resize_width: int = 30,
    crop: Sequence[int] | None = None,
    where: str = "video",
) -> tuple[tuple[int, int], tuple[slice, slice]]:
    """Decode size and thumbnail crop for k-means.

    The downscale factor is ``ratio = resize_width / region_width`` (region = the crop box ``(x1, x2, y1, y2)`` or
    the whole frame), the same on both axes, as in DLC. Returns ``((decode_width, decode_height), (rows, cols))``:
    decode the whole frame at that size, then slice ``thumb[rows, cols]`` to get the (scaled) crop region.
    Raises :class:`ConfigError` when ``ratio > 1`` (upsampling), as DLC does.
    """
    x1, x2, y1, y2 = crop if crop is not None else (0, full_width, 0, full_height)
    x2, y2 = min(x2, full_width), min(y2, full_height)
    region_w = x2 - x1
    if region_w <= 0 or y2 - y1 <= 0:
        raise ConfigError(f"{where}: crop {tuple(crop)} lies outside the {full_width}x{full_height} frame.")
    ratio = resize_width / region_w
    if ratio > 1:
        raise ConfigError(
            f"{where}: cluster_resizewidth={resize_width} is larger than the frame width ({region_w} px); k-means "
            f"clusters downscaled frames and never upsamples. Use cluster_resizewidth <= {region_w} (default 30)."
        )
    dw, dh = max(1, round(full_width * ratio)), max(1, round(full_height * ratio))
    r0, r1 = int(round(y1 * ratio)), max(int(round(y1 * ratio)) + 1, int(round(y2 * ratio)))
    c0, c1 = int(round(x1 * ratio)), max(int(round(x1 * ratio)) + 1, int(round(x2 * ratio)))
    return (dw, dh), (slice(r0, min(r1, dh)), slice(c0, min(c1, dw)))


def _open_small(path, size, backend: str | None = None):
    """A reader decoding at ``size``; decord with the decoder's own threads unless ``backend="opencv"``."""
    from posenb.errors import VideoError
    from posenb.io.video import DecordReader, open_video

    if backend is None:
        try:
            return DecordReader(path, resize=size, num_threads=0)
        except (ImportError, VideoError):
            pass
    return open_video(path, resize=size, backend=backend)


def load_thumbnails(
    video: str | os.PathLike,
    indices: Sequence[int] | None = None,
    width: int = 30,
    color: bool = False,
    crop: Sequence[int] | None = None,
    start: int = 0,
    stop: int | None = None,
    step: int = 1,
    chunk: int = 256,
    progress: bool = True,
    backend: str | None = None,
    skip_bframes: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Thumbnails of many frames for clustering, decoded at reduced size, sequentially.

    Parameters
    ----------
    video : video file.
    indices : frame numbers to load (any order; loaded in file order). Default ``range(start, stop, step)``.
    width : thumbnail width in pixels (DLC's ``cluster_resizewidth``); the height keeps the aspect ratio.
    color : keep the three colour channels (DLC's ``cluster_color``); else grayscale (luma; DLC averages the
        channels, which weighs colours differently but serves clustering alike).
    crop : ``(x1, x2, y1, y2)`` box in full-resolution pixels: thumbnails of that region only (``width`` applies
        to the box).
    start, stop, step : frame interval used when ``indices`` is None (frame numbers, not fractions).
    chunk : frames decoded per batch (reader path).
    progress : show a tqdm progress bar.
    backend : ``"ffmpeg"`` (one ffmpeg process streaming scaled frames; used by default for a ``start:stop:step``
        interval), ``"reader"`` (``open_video(path, resize=...)``, decord's in-decoder resize; used for explicit
        ``indices``), or None (ffmpeg when possible, else the reader).
    skip_bframes : ffmpeg path with ``step == 1`` only: decode I- and P-frames only (B-frames are skipped by the
        decoder, the bulk of the work in a typical H.264 file); the frames returned are those. Ignored (every
        frame of the interval) when the file's timestamps do not give frame numbers. With more than one core,
        a long video is decoded by two ffmpeg processes at once (halves split at a key frame; the same result).

    Returns
    -------
    indices : ``(n,)`` int64 frame numbers, sorted.
    thumbnails : ``(n, d)`` uint8, one flattened thumbnail per frame; ``d = h * w`` (grayscale) or ``h * w * 3``.
    Thumbnails of one call are comparable with each other; the two backends scale slightly differently.
    """
    from tqdm.auto import tqdm

    from posenb.io.video import open_video

    probe = open_video(video)
    full_w, full_h, n_frames, fps = probe.full_width, probe.full_height, probe.n_frames, probe.fps
    keyframes = _keyframes(probe) if skip_bframes else None
    probe.close()
    step = max(1, int(step))
    idx = _wanted_frames(video, n_frames, indices, start, stop, step)
    size, (rows, cols) = thumbnail_geometry(full_w, full_h, width, crop, where=str(video))
    h, w = rows.stop - rows.start, cols.stop - cols.start
    out = np.empty((idx.size, h * w * (3 if color else 1)), np.uint8)
    if idx.size == 0:
        return idx, out
    bar = tqdm(
        total=int(idx.size),
        desc=f"thumbnails {os.path.basename(str(video))}",
        unit="frame",
        disable=not progress,
    )
    try:
        if backend in (None, "ffmpeg") and indices is None:
            box = None if crop is None else (crop[0], min(crop[1], full_w), crop[2], min(crop[3], full_h))
            fast = _ffmpeg_interval(video, idx, step, (w, h), box, color, bar, fps, skip_bframes, keyframes)
            if fast is not None:
                return fast
        elif backend not in (None, "ffmpeg", "reader"):
            raise ValueError(f"backend must be 'ffmpeg', 'reader' or None, got {backend!r}")
        _thumbnails_reader(video, idx, size, rows, cols, color, chunk, out, bar)
    finally:
        bar.close()
    return idx, out


def _wanted_frames(video, n_frames: int, indices, start: int, stop: int | None, step: int) -> np.ndarray:
    """Sorted unique int64 frame numbers: ``indices`` (checked against ``n_frames``) or ``range(start, stop, step)``."""
    if indices is None:
        start = max(0, int(start))
        stop = n_frames if stop is None else min(int(stop), n_frames)
        return np.arange(start, stop, step, dtype=np.int64)
    idx = np.unique(np.asarray(indices, dtype=np.int64))
    if idx.size and (idx[0] < 0 or idx[-1] >= n_frames):
        raise IndexError(f"frame indices must lie in [0, {n_frames}) for {video}")
    return idx


def _keyframes(reader) -> tuple[np.ndarray, np.ndarray] | None:
    """``(frame numbers, seconds from the start)`` of the key frames from decord's index, or None."""
    try:
        index = np.asarray(reader._vr.get_key_indices(), dtype=np.int64)
        seconds = np.asarray(reader._vr.get_frame_timestamp(index.tolist()), dtype=np.float64).reshape(-1, 2)
    except Exception:  # noqa: BLE001 - another reader, or no index: a single decoding pass
        return None
    return (index, seconds[:, 0]) if index.size else None


def _ffmpeg_interval(video, idx, step, size, box, color, bar, fps, skip_bframes, keyframes=None):
    """``(indices, thumbnails)`` of the interval ``idx`` through ffmpeg (I/P-frames only with ``skip_bframes``),
    or None (and the bar reset) when ffmpeg cannot serve it."""
    lo, hi = int(idx[0]), int(idx[-1]) + 1
    if skip_bframes and step == 1:
        refs = _thumbnails_ffmpeg(
            video, lo, hi, 1, size, box, color, bar, fps=fps, skip_bframes=True, keyframes=keyframes
        )
        if refs is not None and len(refs[0]):
            return refs
        bar.reset()
    fast = _thumbnails_ffmpeg(video, lo, hi, step, size, box, color, bar)
    if fast is not None:
        return idx, fast
    bar.reset()
    return None


def _decode_runs(idx: np.ndarray, keyframes: np.ndarray | None) -> list[tuple[int, int]]:
    """Contiguous ``[a, b)`` frame ranges covering sorted ``idx``, each starting at a keyframe or continuing the previous.

    Decoding such ranges needs no skip inside a GOP (decord 3.4's skip can return a wrong frame after a few dozen
    frames). Without keyframe information one run from frame 0 is used.
    """
    runs: list[list[int]] = []
    pos = None  # next frame the decoder would produce
    for i in idx.tolist():
        k = int(keyframes[np.searchsorted(keyframes, i, side="right") - 1]) if keyframes is not None else 0
        if pos is not None and k <= pos <= i:
            runs[-1][1] = i + 1
        else:
            runs.append([k, i + 1])
        pos = i + 1
    return [(a, b) for a, b in runs]


def _thumbnails_reader(video, idx, size, rows, cols, color, chunk, out, bar) -> None:
    """Reader path of :func:`load_thumbnails` (decord decoding at ``size``); fills ``out`` in place.

    Frames are decoded in contiguous runs from a keyframe (never a per-frame seek), keeping the wanted ones. When
    decord fails at this size (decord 3.4 rejects some output widths), OpenCV decodes and resizes instead.
    """
    from posenb.errors import VideoError

    try:
        _reader_pass(_open_small(video, size), idx, rows, cols, color, chunk, out, bar)
    except VideoError:
        bar.reset()
        _reader_pass(_open_small(video, size, backend="opencv"), idx, rows, cols, color, chunk, out, bar)


def _reader_pass(reader, idx, rows, cols, color, chunk, out, bar) -> None:
    try:
        if reader.backend == "decord":
            try:
                keyframes = np.asarray(reader._vr.get_key_indices(), dtype=np.int64)
                keyframes = keyframes if keyframes.size and keyframes[0] == 0 else None
            except Exception:  # noqa: BLE001 - no keyframe index: decode from the start
                keyframes = None
            runs = _decode_runs(idx, keyframes)
        else:
            runs = [(int(idx[0]), int(idx[-1]) + 1)]  # OpenCV: one accurate seek, then sequential reads
        wanted = set(idx.tolist())
        k = 0
        for a, b in runs:
            for i0, frames in reader.iter_frames(a, b, chunk):
                keep = [j for j in range(len(frames)) if i0 + j in wanted]
                if keep:
                    got = _to_vectors(frames[keep][:, rows, cols], color)
                    out[k : k + len(got)] = got
                    k += len(got)
                    bar.update(len(got))
    finally:
        reader.close()


def _to_vectors(frames: np.ndarray, color: bool) -> np.ndarray:
    """``(n, h, w, 3)`` uint8 RGB -> ``(n, d)`` uint8; grayscale is the BT.601 luma, as ffmpeg's ``gray``."""
    if not color:
        f = frames.astype(np.uint16)
        frames = ((77 * f[..., 0] + 150 * f[..., 1] + 29 * f[..., 2] + 128) >> 8).astype(np.uint8)
    return frames.reshape(len(frames), -1)


def _farthest_fill(x: np.ndarray, chosen: np.ndarray, allowed: np.ndarray, n_more: int) -> list[int]:
    """Greedy farthest-point picks among ``allowed`` rows, away from the rows in ``chosen``."""
    sq = np.einsum("ij,ij->i", x, x)
    dmin = np.full(len(x), np.inf, np.float32)
    if chosen.size:
        for k in range(0, chosen.size, 256):
            c = chosen[k : k + 256]
            d = sq[:, None] - 2 * x @ x[c].T + sq[c][None, :]
            dmin = np.minimum(dmin, d.min(axis=1))
    out: list[int] = []
    free = allowed.copy()
    free[chosen] = False
    for _ in range(n_more):
        if not free.any():
            break
        score = np.where(free, dmin, -np.inf)
        j = int(np.argmax(score))
        out.append(j)
        free[j] = False
        dmin = np.minimum(dmin, sq - 2 * x @ x[j] + sq[j])
    return out


def _sq_dist(x: np.ndarray, sq: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances ``(n, k)`` between rows of ``x`` (squared norms ``sq``) and ``centers``."""
    d = sq[:, None] - 2.0 * (x @ centers.T) + np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(d, 0.0, out=d)


def _kmeans(
    x: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 50, tol: float = 1e-3
) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding on float32 ``x`` ``(n, d)``; returns the ``(n, k)`` squared distances
    of every row to the final centroids.

    Plain numpy (a few matrix products per iteration): clustering a few thousand 30-px thumbnails takes
    milliseconds, and ``import sklearn`` (with scipy) took longer than the clustering of a 10-minute video. A
    cluster that loses all its members keeps its centroid (``select_kmeans`` fills such clusters' picks).
    """
    n = len(x)
    sq = np.einsum("ij,ij->i", x, x)
    first = int(rng.integers(n))
    centers = [first]
    closest = _sq_dist(x, sq, x[[first]])[:, 0]
    for _ in range(1, k):
        total = float(closest.sum())
        if total <= 0:  # fewer distinct rows than clusters
            nxt = int(rng.integers(n))
        else:  # k-means++: next seed drawn with probability proportional to the squared distance
            nxt = int(
                np.searchsorted(np.cumsum(closest, dtype=np.float64), rng.random() * total, side="right")
            )
            nxt = min(nxt, n - 1)
        centers.append(nxt)
        closest = np.minimum(closest, _sq_dist(x, sq, x[[nxt]])[:, 0])
    c = x[centers].copy()
    scale = float(np.mean(np.var(x, axis=0))) * x.shape[1] if n > 1 else 0.0
    for _ in range(max(1, int(max_iter))):
        labels = _sq_dist(x, sq, c).argmin(axis=1)
        counts = np.bincount(labels, minlength=k).astype(np.float32)
        onehot = np.zeros((n, k), np.float32)
        onehot[np.arange(n), labels] = 1.0
        sums = onehot.T @ x
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1.0)[:, None], c)
        shift = float(((new - c) ** 2).sum())
        c = new.astype(np.float32)
        if shift <= tol * scale:
            break
    return _sq_dist(x, sq, c)


def select_kmeans(
    thumbnails: np.ndarray,
    n_pick: int,
    rng: int | np.random.Generator | None = None,
    exclude: np.ndarray | Sequence[int] | None = None,
    batch_size: int = 1024,
    max_iter: int = 50,
) -> np.ndarray:
    """One representative row per k-means cluster of ``thumbnails``.

    Parameters
    ----------
    thumbnails : ``(n, d)`` array, one flattened thumbnail per candidate frame (e.g. from :func:`load_thumbnails`).
    n_pick : number of clusters (= frames wanted).
    rng : seed or Generator (seeds the k-means++ initialisation).
    batch_size : unused (kept for compatibility; the clustering is full-batch k-means).
    exclude : rows that take part in clustering but may not be picked (frames already extracted or labeled):
        boolean mask ``(n,)`` or row positions.

    Returns
    -------
    ``(<= n_pick,)`` int64 sorted row positions into ``thumbnails`` (not frame numbers). Data are mean-centred,
    clustered with k-means (``n_pick`` clusters, k-means++ seeding, up to ``max_iter`` Lloyd iterations); each
    cluster contributes the allowed member closest to its centroid. Clusters that end up empty, or hold only excluded rows, are replaced by farthest-point picks, so
    ``n_pick`` rows come back whenever at least that many are allowed. With no more allowed rows than ``n_pick``,
    all allowed rows are returned.
    """
    x = np.asarray(thumbnails, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"thumbnails must be a 2-D (n_frames, n_features) array, got shape {x.shape}")
    n = len(x)
    allowed = np.ones(n, bool)
    if exclude is not None:
        exclude = np.asarray(exclude)
        if exclude.dtype == bool:
            allowed &= ~exclude
        elif exclude.size:
            allowed[exclude.astype(np.int64)] = False
    n_pick = int(n_pick)
    if allowed.sum() <= n_pick:
        return np.flatnonzero(allowed).astype(np.int64)
    if n_pick <= 0:
        return np.zeros(0, np.int64)
    x = x - x.mean(axis=0, keepdims=True)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: this problem is small, and threads competing for busy cores made it 10-100x slower.
    with threadpool_limits(1):
        dist = _kmeans(
            x, n_pick, make_rng(rng), max_iter=max_iter
        )  # (n, n_pick) squared distances to centroids
    labels = dist.argmin(axis=1)
    picks: list[int] = []
    for c in range(n_pick):
        members = np.flatnonzero((labels == c) & allowed)
        if members.size:
            picks.append(int(members[np.argmin(dist[members, c])]))
    picks = list(dict.fromkeys(picks))
    if len(picks) < n_pick:
        chosen = np.array(sorted(set(picks) | set(np.flatnonzero(~allowed).tolist())), dtype=np.int64)
        picks += _farthest_fill(x, chosen, allowed, n_pick - len(picks))
    return np.sort(np.asarray(picks, dtype=np.int64))
