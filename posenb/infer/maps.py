"""Score maps and location-refinement fields of a trained model (DeepLabCut's ``extract_maps``, DLC §11).

What the network returns (:mod:`posenb.nn.model`), and what these functions hand out:

- ``scmap`` ``(h, w, K)`` float32 in [0, 1]: ``sigmoid`` of the heatmap logits, one map per body part.
- ``locref`` ``(h, w, K, 2)`` float32: the location-refinement offsets ``(dx, dy)`` from each cell centre
  towards the body part, in **pixels** (network output times ``locref_stdev``; DeepLabCut's
  ``extract_cnn_output`` does the same), of the network input or, with ``rescale=False`` in
  :func:`extract_maps`, of the returned image.
- ``h, w = ceil(h_in / 8), ceil(w_in / 8)`` where ``(w_in, h_in)`` is the network input: the frame resized by
  the snapshot's ``global_scale`` (posenb trains and infers at that scale). Cell ``(i, j)`` is centred at
  ``(j * 8 + 4, i * 8 + 4)`` network-input pixels, i.e. ``x = (j * 8 + 4 + 0.5) / sx - 0.5`` frame pixels with
  ``sx = w_in / W`` (same for y); :func:`cell_centers` gives these coordinates.

Functions
---------
- :func:`predict_maps` (predictor, frames): stacked arrays for a batch of frames (the computation).
- :func:`extract_maps` (DeepLabCut's API): ``{train_fraction: {snapshot: {image_index: [image, scmap, locref,
  paf, peaks, bodyparts, paf_graph, image_name, is_training_image]}}}`` for the labeled images of a shuffle.
- :func:`visualize_scoremaps`, :func:`visualize_locrefs`: matplotlib overlays (DeepLabCut's signatures).
- :func:`extract_save_all_maps` (DeepLabCut's API): PNGs per image (and per body part) in
  ``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>/maps/``.

posenb models are single-animal: there are no part-affinity fields (``paf`` is None, the graph empty).
matplotlib is imported lazily.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError
from posenb.project import paths
from posenb.project.config import read_config

__all__ = [
    "predict_maps",
    "cell_centers",
    "maps_to_image",
    "extract_maps",
    "visualize_scoremaps",
    "visualize_locrefs",
    "extract_save_all_maps",
]


def predict_maps(predictor, frames: np.ndarray, batch_size: int = 8) -> dict:
    """Score maps and locref fields of ``frames`` through a :class:`~posenb.infer.predictor.Predictor`.

    Parameters
    ----------
    predictor : from :func:`~posenb.infer.predictor.load_predictor` (its model, device and ``global_scale``).
    frames : ``(n, H, W, 3)`` (or ``(H, W, 3)``) uint8 RGB frames, all of one size, original pixels.

    Returns
    -------
    dict with
        ``scmap`` ``(n, h, w, K)`` float32 probabilities in [0, 1];
        ``locref`` ``(n, h, w, K, 2)`` float32 offsets (dx, dy) in network-input pixels;
        ``poses`` ``(n, K, 3)`` float64 decoded from these maps: x, y in frame pixels, likelihood
        (what ``predictor.predict`` returns, up to BatchNorm folding);
        ``input_size`` ``(w_in, h_in)`` network input; ``scale`` ``(sx, sy)`` = input / frame size;
        ``stride`` (8.0).
    """
    import torch  # noqa: PLC0415

    from posenb.data.augment import rescale  # noqa: PLC0415

    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (n, H, W, 3) RGB, got shape {frames.shape}")
    model = predictor.model
    k = int(predictor.num_joints)
    h_full, w_full = frames.shape[1:3]
    w_in, h_in = predictor.scaled_size(w_full, h_full)
    h, w = model.output_size(h_in, w_in)
    scmap = np.zeros((len(frames), h, w, k), np.float32)
    locref = np.zeros((len(frames), h, w, k, 2), np.float32)
    poses = np.zeros((len(frames), k, 3))
    for start in range(0, len(frames), max(1, int(batch_size))):
        chunk = frames[start : start + batch_size]
        small = np.stack([rescale(f, None, predictor.global_scale)[0] for f in chunk])
        with torch.inference_mode():
            x = model.normalize(
                np.ascontiguousarray(small), device=predictor.device, channels_last=predictor.channels_last
            )
            out = model(x)
            heat, loc = out["heatmap"].float(), out["locref"].float()
            pose = predictor.decode_maps(heat, loc)
            prob = torch.sigmoid(heat).permute(0, 2, 3, 1)  # (n, h, w, K)
            offsets = loc.reshape(len(chunk), k, 2, h, w).permute(0, 3, 4, 1, 2) * model.locref_std
        stop = start + len(chunk)
        scmap[start:stop] = prob.cpu().numpy()
        locref[start:stop] = offsets.cpu().numpy()
        poses[start:stop] = pose.cpu().numpy()
    sx, sy = w_in / w_full, h_in / h_full
    poses[..., 0] = (poses[..., 0] + 0.5) / sx - 0.5
    poses[..., 1] = (poses[..., 1] + 0.5) / sy - 0.5
    return {
        "scmap": scmap,
        "locref": locref,
        "poses": poses,
        "input_size": (w_in, h_in),
        "scale": (sx, sy),
        "stride": float(model.stride),
    }


def cell_centers(
    map_hw: tuple[int, int], scale=(1.0, 1.0), stride: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(x (w,), y (h,))`` centres of the map cells in image pixels; ``scale`` = network input / image size.

    ``x_j = (j * stride + stride / 2 + 0.5) / sx - 0.5``; with ``scale=(1, 1)`` network-input pixels.
    """
    h, w = map_hw
    sx, sy = scale
    x = (np.arange(w) * stride + stride / 2 + 0.5) / sx - 0.5
    y = (np.arange(h) * stride + stride / 2 + 0.5) / sy - 0.5
    return x, y


def maps_to_image(
    maps: np.ndarray, image_hw: tuple[int, int], scale=(1.0, 1.0), stride: float = 8.0
) -> np.ndarray:
    """Resample ``(h, w[, C])`` maps onto an ``image_hw`` image (bilinear; cells as :func:`cell_centers`).

    Returns ``(H, W[, C])`` float32 (edges replicate the border cells).
    """
    import cv2  # noqa: PLC0415

    maps = np.asarray(maps, dtype=np.float32)
    sx, sy = scale
    matrix = np.array(
        [[stride / sx, 0.0, (stride / 2 + 0.5) / sx - 0.5], [0.0, stride / sy, (stride / 2 + 0.5) / sy - 0.5]]
    )
    H, W = int(image_hw[0]), int(image_hw[1])
    flat = maps.reshape(maps.shape[0], maps.shape[1], -1)
    out = np.empty((H, W, flat.shape[2]), np.float32)
    for c0 in range(0, flat.shape[2], 256):  # OpenCV handles at most 512 channels at once
        part = np.ascontiguousarray(flat[..., c0 : c0 + 256])
        warped = cv2.warpAffine(part, matrix, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out[..., c0 : c0 + 256] = warped.reshape(H, W, -1)
    return out.reshape((H, W) + maps.shape[2:])


# -- extraction over the labeled images of a shuffle ------------------------------------------------------


def _fractions(cfg: dict, trainingsetindex) -> list[int]:
    n = len(cfg["TrainingFraction"])
    if trainingsetindex == "all":
        return list(range(n))
    if not isinstance(trainingsetindex, (int, np.integer)) or not 0 <= int(trainingsetindex) < n:
        raise ConfigError(
            f"trainingsetindex={trainingsetindex!r} is out of range: config.yaml has TrainingFraction "
            f"{cfg['TrainingFraction']} (use 0..{n - 1} or 'all')."
        )
    return [int(trainingsetindex)]


def _snapshots(train_dir: Path, cfg: dict) -> list[Path]:
    from posenb.errors import ModelError  # noqa: PLC0415
    from posenb.nn.snapshots import list_snapshots, select_snapshot  # noqa: PLC0415

    index = cfg.get("snapshotindex", -1)
    if index == "all":
        snaps = list_snapshots(train_dir)
        if not snaps:
            raise ModelError(f"No snapshot in {train_dir}. Train the network first (posenb.train_network).")
        return snaps
    return [select_snapshot(train_dir, index)]


def _selected_rows(n_rows: int, Indices) -> list[int]:
    if Indices is None:
        return list(range(n_rows))
    rows = [int(i) for i in (Indices if np.ndim(Indices) else [Indices])]
    bad = [i for i in rows if not 0 <= i < n_rows]
    if bad:
        raise ConfigError(
            f"Indices {bad} are out of range: the training set has {n_rows} labeled images "
            f"(positions 0..{n_rows - 1})."
        )
    return list(dict.fromkeys(rows))


def _iter_maps(
    cfg: dict, shuffle, trainingsetindex, gputouse, rescale: bool, Indices, modelprefix
) -> Iterator[tuple]:
    """Yield ``(fraction, snapshot name, row, record)`` per selected labeled image; see :func:`extract_maps`.

    ``record`` is a dict: ``image``, ``scmap``, ``locref`` (pixels of ``image``), ``peaks`` (K, 3),
    ``name`` (path parts), ``train`` (bool), ``scale`` ((sx, sy) = network input / ``image`` size),
    ``stride``, ``bodyparts``.
    """
    from posenb.data.augment import rescale as resize  # noqa: PLC0415
    from posenb.data.dataset import read_image  # noqa: PLC0415
    from posenb.data.trainingset import read_training_split  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    project = Path(cfg["project_path"])
    for tsi in _fractions(cfg, trainingsetindex):
        data, train_idx, _, fraction = read_training_split(cfg, shuffle, tsi)
        rows = _selected_rows(len(data), Indices)
        train_rows = set(train_idx)
        train_dir = project / paths.get_model_folder(fraction, shuffle, cfg, modelprefix) / "train"
        for snap in _snapshots(train_dir, cfg):
            predictor, _ = load_predictor(cfg, shuffle, tsi, gputouse=gputouse, snapshot=snap)
            for row in rows:
                parts = tuple(str(p) for p in data.index[row])
                image = read_image(project.joinpath(*parts))
                maps = predict_maps(predictor, image)
                scmap, locref, peaks = maps["scmap"][0], maps["locref"][0], maps["poses"][0]
                sx, sy = maps["scale"]
                if rescale:  # DeepLabCut's rescale=True: the image at global_scale, i.e. the network input
                    image = resize(image, None, predictor.global_scale)[0]
                    peaks = peaks.copy()
                    peaks[:, 0] = (peaks[:, 0] + 0.5) * sx - 0.5
                    peaks[:, 1] = (peaks[:, 1] + 0.5) * sy - 0.5
                    scale = (1.0, 1.0)
                else:  # offsets in pixels of the original image
                    locref = locref / np.array([sx, sy], np.float32)
                    scale = (sx, sy)
                record = {
                    "image": image,
                    "scmap": scmap,
                    "locref": locref,
                    "peaks": peaks,
                    "name": parts,
                    "train": row in train_rows,
                    "scale": scale,
                    "stride": maps["stride"],
                    "bodyparts": list(predictor.bodyparts),
                }
                yield fraction, snap.stem, row, record


def extract_maps(
    config: str | os.PathLike,
    shuffle: int = 0,
    trainingsetindex: int | str = 0,
    gputouse: int | None = None,
    rescale: bool = False,
    Indices=None,
    modelprefix: str = "",
) -> dict:
    """Score maps and locref fields of the labeled images of a shuffle (DeepLabCut's structure).

    Parameters
    ----------
    config : project config.yaml.
    shuffle : shuffle index (DeepLabCut's default is 0 here; most projects have shuffle 1).
    trainingsetindex : index into ``TrainingFraction``, or ``"all"``.
    gputouse : CUDA device index (None: CUDA if present, else CPU).
    rescale : False: ``image`` is the labeled image as stored, ``locref`` and ``peaks`` in its pixels;
        True: ``image`` is resized by ``global_scale`` (the network input, as DeepLabCut's ``rescale=True``)
        and ``locref`` / ``peaks`` are in its pixels. The network always runs at ``global_scale`` (posenb
        trains there), so the maps are the same either way.
    Indices : row positions in the training set's ``CollectedData`` table (None: all images).
    modelprefix : sub-folder of the project holding ``dlc-models``.

    Returns
    -------
    ``{train_fraction: {snapshot name: {row: [image, scmap, locref, paf, peaks, bodyparts, paf_graph,
    image_name, is_training_image]}}}`` with the snapshots chosen by config ``snapshotindex`` (``"all"``:
    each),
    ``image`` ``(H, W, 3)`` uint8 RGB, ``scmap`` ``(h, w, K)`` float32 in [0, 1], ``locref`` ``(h, w, K, 2)``
    float32 pixels, ``paf`` None, ``peaks`` ``(K, 3)`` decoded x, y, likelihood, ``paf_graph`` ``[]``,
    ``image_name`` the tuple of path parts (``("labeled-data", video, "img042.png")``). Unlike DeepLabCut, the
    row keys are the positions in the table even when ``Indices`` is given.
    """
    cfg = read_config(config)
    out: dict = {}
    for fraction, snap, row, rec in _iter_maps(
        cfg, shuffle, trainingsetindex, gputouse, rescale, Indices, modelprefix
    ):
        out.setdefault(fraction, {}).setdefault(snap, {})[row] = [
            rec["image"],
            rec["scmap"],
            rec["locref"],
            None,
            rec["peaks"],
            rec["bodyparts"],
            [],
            rec["name"],
            rec["train"],
        ]
    return out


# -- drawing ----------------------------------------------------------------------------------------------


def _grid(shape_hw: tuple[int, int], image_hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of an ``(h, w)`` array laid over the image (its own indices when sizes match)."""
    h, w = shape_hw
    H, W = image_hw
    x = (np.arange(w) + 0.5) * W / w - 0.5
    y = (np.arange(h) + 0.5) * H / h - 0.5
    return np.meshgrid(x, y)


def _draw_scoremap(ax, image: np.ndarray, scmap: np.ndarray) -> None:
    scmap = np.asarray(scmap, dtype=np.float32)
    if scmap.ndim == 3:
        scmap = scmap.max(axis=2)
    H, W = np.shape(image)[:2]
    ax.imshow(image)
    ax.imshow(scmap, alpha=0.5, extent=(-0.5, W - 0.5, H - 0.5, -0.5), vmin=0.0, vmax=1.0, cmap="jet")
    ax.set_xlim(-0.5, W - 0.5)
    ax.set_ylim(H - 0.5, -0.5)
    ax.set_axis_off()


def _draw_locref(ax, image, scmap, locref_x, locref_y, step: int = 5, zoom_width: int = 0) -> None:
    scmap = np.asarray(scmap, dtype=np.float32)
    if scmap.ndim == 3:
        scmap = scmap.max(axis=2)
    _draw_scoremap(ax, image, scmap)
    locref_x, locref_y = np.asarray(locref_x, np.float32), np.asarray(locref_y, np.float32)
    X, Y = _grid(locref_x.shape, np.shape(image)[:2])
    if scmap.shape != locref_x.shape:
        import cv2  # noqa: PLC0415

        scmap = cv2.resize(scmap, locref_x.shape[::-1], interpolation=cv2.INTER_LINEAR)
    mask = scmap < 0.5
    step = max(1, int(step))
    U = np.ma.masked_array(locref_x, mask=mask)
    V = np.ma.masked_array(locref_y, mask=mask)
    ax.quiver(
        X[::step, ::step], Y[::step, ::step], U[::step, ::step], V[::step, ::step],
        color="r", units="xy", scale_units="xy", scale=1, angles="xy",
    )  # fmt: skip
    if zoom_width > 0:
        i, j = np.unravel_index(int(np.argmax(scmap)), scmap.shape)
        cx, cy = X[i, j], Y[i, j]
        ax.set_xlim(cx - zoom_width, cx + zoom_width)
        ax.set_ylim(cy + zoom_width, cy - zoom_width)


def _figsize(image_hw) -> tuple[float, float]:
    H, W = image_hw
    zoom = max(1.0, 480.0 / max(W, 1))
    return W * zoom / 100.0, H * zoom / 100.0


def visualize_scoremaps(image: np.ndarray, scmap: np.ndarray):
    """Overlay a score map on an image; returns matplotlib ``(fig, ax)`` (DeepLabCut's function).

    ``image`` ``(H, W, 3)``; ``scmap`` ``(H, W)`` (e.g. from :func:`maps_to_image`) or a map of any size,
    which is stretched over the image; ``(h, w, K)`` shows the maximum over body parts. Values 0-1, ``jet``,
    alpha 0.5.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig = plt.figure(figsize=_figsize(np.shape(image)[:2]), frameon=False)
    ax = fig.add_axes((0, 0, 1, 1))
    _draw_scoremap(ax, image, scmap)
    return fig, ax


def visualize_locrefs(image, scmap, locref_x, locref_y, step: int = 5, zoom_width: int = 0):
    """Score map plus locref arrows (red, where the score is >= 0.5); returns ``(fig, ax)`` (DeepLabCut's).

    ``locref_x``, ``locref_y`` ``(H, W)`` in image pixels (arrows are drawn to scale: each points from a pixel
    to where it places the body part); arrays of another size are laid over the image. ``step``: one arrow
    every ``step`` array cells; ``zoom_width`` > 0 zooms to +- that many pixels around the score maximum.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig = plt.figure(figsize=_figsize(np.shape(image)[:2]), frameon=False)
    ax = fig.add_axes((0, 0, 1, 1))
    _draw_locref(ax, image, scmap, locref_x, locref_y, step=step, zoom_width=zoom_width)
    return fig, ax


def _save(path: Path, image_hw, draw) -> None:
    """Draw on a figure not managed by pyplot (no global state, works in any backend) and write a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=_figsize(image_hw), frameon=False)
    FigureCanvasAgg(fig)
    draw(fig.add_axes((0, 0, 1, 1)))
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)) or "_"


def _map_images(rec: dict, cols: list[int], compare: list[str], run: str, per_bodypart: bool) -> list[tuple]:
    """``[(file name, (H, W) score map, None or (lx, ly) locref arrows), ...]`` of one image's maps resampled onto
    it: the best-scoring part of ``cols`` at each pixel (scmap, locref), then each part alone with
    ``per_bodypart``. ``run``: ``<shuffle>_<fraction>_<snapshot>``."""
    hw = rec["image"].shape[:2]
    scmap = maps_to_image(rec["scmap"][..., cols], hw, rec["scale"], rec["stride"])  # (H, W, k)
    locref = maps_to_image(rec["locref"][:, :, cols], hw, rec["scale"], rec["stride"])  # (H, W, k, 2)
    video, img = rec["name"][-2] if len(rec["name"]) > 1 else "", Path(rec["name"][-1]).stem
    name = _safe(f"{video}-{img}" if video else img)
    tail = f"{'train' if rec['train'] else 'test'}_{run}.png"
    best = scmap.argmax(axis=2)
    combined = np.take_along_axis(scmap, best[..., None], axis=2)[..., 0]
    lx = np.take_along_axis(locref[..., 0], best[..., None], axis=2)[..., 0]
    ly = np.take_along_axis(locref[..., 1], best[..., None], axis=2)[..., 0]
    jobs = [(f"{name}_scmap_{tail}", combined, None), (f"{name}_locref_{tail}", combined, (lx, ly))]
    if per_bodypart:
        for c, bp in enumerate(compare):
            jobs.append((f"{name}_scmap-{_safe(bp)}_{tail}", scmap[..., c], None))
            jobs.append(
                (f"{name}_locref-{_safe(bp)}_{tail}", scmap[..., c], (locref[..., c, 0], locref[..., c, 1]))
            )
    return jobs


def extract_save_all_maps(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int | str = 0,
    comparisonbodyparts="all",
    extract_paf: bool = False,
    all_paf_in_one: bool = True,
    gputouse: int | None = None,
    rescale: bool = False,
    Indices=None,
    modelprefix: str = "",
    dest_folder: str | os.PathLike | None = None,
    *,
    per_bodypart: bool = True,
) -> list[Path]:
    """Write score-map and locref overlays of the labeled images as PNGs (DeepLabCut's API).

    Folder: ``dest_folder`` or ``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>/maps/``
    (DeepLabCut's). Per image and snapshot, with ``<name>`` = ``<video>-<image stem>``, ``<label>`` =
    ``train`` / ``test``, ``<frac>`` the training fraction and ``<snap>`` the snapshot name:

    - ``<name>_scmap_<label>_<shuffle>_<frac>_<snap>.png`` and ``<name>_locref_..._<snap>.png``: all
      ``comparisonbodyparts`` in one image (maximum of their score maps, where DeepLabCut sums them; arrows
      of the best-scoring part);
    - with ``per_bodypart`` (posenb), ``<name>_scmap-<bodypart>_<label>_...png`` and
      ``<name>_locref-<bodypart>_...`` for each of them.

    DeepLabCut names files by the image file name alone, so images of different videos overwrite each other;
    posenb puts the video in front. Maps are resampled onto the image (:func:`maps_to_image`).
    ``extract_paf`` and ``all_paf_in_one`` are accepted and ignored: posenb models have no part-affinity
    fields. Other arguments as :func:`extract_maps`. Returns the written files.
    """
    del all_paf_in_one
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.io.predictions import select_bodyparts  # noqa: PLC0415

    if extract_paf:
        warnings.warn("posenb models have no part-affinity fields; extract_paf is ignored.", stacklevel=2)
    cfg = read_config(config)
    bodyparts = list(cfg["bodyparts"])
    compare = select_bodyparts(bodyparts, comparisonbodyparts, where="config.yaml's bodyparts")
    cols = [bodyparts.index(b) for b in compare]
    project = Path(cfg["project_path"])
    written: list[Path] = []
    items = _iter_maps(cfg, shuffle, trainingsetindex, gputouse, rescale, Indices, modelprefix)
    for fraction, snap, _, rec in tqdm(items, desc="maps", unit="img", leave=False):
        if dest_folder is not None:
            folder = Path(dest_folder)
        else:
            folder = project / paths.get_evaluation_folder(fraction, shuffle, cfg, modelprefix) / "maps"
        folder.mkdir(parents=True, exist_ok=True)
        image = rec["image"]
        hw = image.shape[:2]
        for path, smap, arrows in _map_images(
            rec, cols, compare, f"{shuffle}_{fraction}_{snap}", per_bodypart
        ):
            if arrows is None:
                _save(folder / path, hw, lambda ax, s=smap, im=image: _draw_scoremap(ax, im, s))
            else:
                _save(folder / path, hw, lambda ax, s=smap, a=arrows, im=image: _draw_locref(ax, im, s, *a))
            written.append(folder / path)
    return written
