"""``analyze_time_lapse_frames``: key-point predictions for a folder of images (DeepLabCut §7.3).

Every file of ``directory`` whose name contains ``frametype`` (sorted by name, as DLC's ``np.sort``) is
predicted with the trained network of a shuffle, and the results go to the same folder:

- ``<dirname><DLCscorer>.h5`` (``<dirname>`` = the folder's name without extension, as DLC's
  ``Path(directory).stem``): key ``df_with_missing``, table format, columns ``(scorer, bodyparts, coords)``
  with coords ``x``, ``y`` (pixels of the analysed image, float64) and ``likelihood`` (0-1); one row per
  image, row index = the image file names; ``.csv`` too with ``save_as_csv``;
- ``<dirname><DLCscorer>_meta.pickle`` = ``{"data": {...}}`` with DLC's keys ``start``, ``stop``,
  ``run_duration`` (epoch seconds), ``Scorer``, ``config file`` (the test pose_cfg as a dict), ``batch_size``,
  ``num_outputs``, ``frame_dimensions`` (height, width of the first analysed image, after the crop, as DLC),
  ``nframes``, ``cropping``, ``cropping_parameters`` (``[x1, x2, y1, y2]``, or ``[0, w, 0, h]``), plus
  posenb's ``snapshot`` and ``posenb_image_sizes`` (the distinct (height, width) of the images, uncropped).

Unlike DLC (which needs one image size for batches > 1), images of different sizes are fine: equal-size
images are batched together (config ``batch_size``) and each prediction is in its own image's pixels.
With config ``cropping: true`` every image is cut to ``[y1:y2, x1:x2]`` first and the coordinates stay in
the crop's frame (as for videos; the meta file records the offset).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import VideoError
from posenb.project.config import read_config

__all__ = ["analyze_time_lapse_frames", "list_frames", "read_frame", "predict_frames", "output_path"]

#: analysis outputs written next to the images: never frames, even when their name contains frametype
_NOT_FRAMES = (".h5", ".csv", ".pickle", ".bak", ".tmp")


def list_frames(directory: str | os.PathLike, frametype: str = ".png") -> list[Path]:
    """Files in ``directory`` whose name contains ``frametype``, sorted by name (DLC's rule).

    Sub-folders and the analysis outputs (``.h5``, ``.csv``, ``.pickle``, ``.bak``, ``.tmp``) are left out.
    """
    directory = Path(directory)
    return sorted(
        (
            f
            for f in directory.iterdir()
            if frametype in f.name and f.is_file() and not f.name.endswith(_NOT_FRAMES)
        ),
        key=lambda f: f.name,
    )


def output_path(directory: str | os.PathLike, scorer: str) -> Path:
    """``<directory>/<dirname><scorer>.h5``; ``<dirname>`` = ``Path(directory).stem`` of the absolute path."""
    directory = Path(os.path.abspath(directory))
    return directory / f"{directory.stem}{scorer}.h5"


def _check_readable(path: Path) -> None:
    """Fail fast, before any prediction, on a file that is not an image (empty, truncated header, text...)."""
    from PIL import Image  # noqa: PLC0415

    try:
        with Image.open(path) as im:
            if im.width > 0 and im.height > 0:
                return
    except (OSError, ValueError, SyntaxError):  # UnidentifiedImageError is an OSError
        pass
    read_frame(path)  # formats OpenCV reads and Pillow does not: decode it (raises VideoError if it cannot)


def read_frame(path: str | os.PathLike) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB image (grey and 16-bit images converted as OpenCV does, EXIF rotation applied).

    Raises :class:`VideoError` naming the file when it is missing or cannot be decoded.
    """
    import cv2  # noqa: PLC0415

    path = Path(path)
    try:  # np.fromfile + imdecode rather than imread: non-ASCII paths work on Windows too
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise VideoError(f"Image {path} cannot be read ({exc}).") from None
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise VideoError(
            f"Image {path} is not a readable image (empty, truncated or another file type). Replace or "
            "remove it, or pass a frametype that excludes it, then run again; nothing was written."
        )
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def predict_frames(
    predictor, files: list[Path], batch_size: int, crop_for=None, desc: str | None = None
) -> np.ndarray:
    """Predict image files in order; returns ``(n_images, K, 3)`` float64 (x, y pixels; likelihood).

    Images of equal size (after the crop) are batched together, ``batch_size`` at a time; when images of
    many sizes are interleaved, all unfinished batches are run once ``4 x batch_size`` images wait, so memory
    stays bounded. ``crop_for(shape (H, W), path)`` returns the crop ``(x1, x2, y1, y2)`` for an image of
    that size, or None.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    out = np.full((len(files), predictor.num_joints, 3), np.nan)
    pending: dict[tuple, list[tuple[int, np.ndarray]]] = {}
    batch_size = max(1, int(batch_size))
    max_waiting, waiting = 4 * batch_size, 0

    def flush(shape):
        group = pending.pop(shape)
        out[[i for i, _ in group]] = predictor.predict(np.stack([img for _, img in group]))

    with tqdm(total=len(files), desc=desc or "images", unit="img", leave=False) as bar:
        for i, path in enumerate(files):
            img = read_frame(path)
            crop = crop_for(img.shape[:2], path) if crop_for is not None else None
            if crop is not None:
                x1, x2, y1, y2 = crop
                img = np.ascontiguousarray(img[y1:y2, x1:x2])
            group = pending.setdefault(img.shape, [])
            group.append((i, img))
            waiting += 1
            if len(group) >= batch_size:
                flush(img.shape)
                waiting -= batch_size
                bar.update(batch_size)
            if waiting >= max_waiting or i == len(files) - 1:
                for shape in list(pending):
                    flush(shape)
                bar.update(waiting)
                waiting = 0
    return out


def _already_analyzed(folder: Path, h5: Path) -> bool:
    """True (with a note) when this model's ``.h5`` (or DeepLabCut's older ``DeepCut`` name) is in ``folder``."""
    legacy = h5.with_name(h5.name.replace(f"{folder.stem}DLC", f"{folder.stem}DeepCut", 1))
    for done in (h5, legacy):
        if done.exists():
            print(f"{folder.name}: already analyzed ({done.name}); skipped.")
            return True
    return False


def analyze_time_lapse_frames(
    config: str | os.PathLike,
    directory: str | os.PathLike,
    frametype: str = ".png",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    save_as_csv: bool = False,
    modelprefix: str = "",
) -> str:
    """Predict the body parts in every image of a folder (DeepLabCut's API; e.g. time-lapse frames).

    Parameters
    ----------
    config : project config.yaml.
    directory : folder of images; every file whose name contains ``frametype`` is analysed, in name order.
    frametype : part of the file name to match (default ``".png"``; e.g. ``".jpg"``, ``".tif"``).
    shuffle, trainingsetindex : which model (``dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>``).
    gputouse : CUDA device index (None: CUDA if present, else CPU).
    save_as_csv : also write ``<dirname><DLCscorer>.csv``.
    modelprefix : not supported by posenb (warned and ignored).

    Output (see the module docstring): ``<directory>/<dirname><DLCscorer>.h5`` with one row per image
    (index = file name; x, y in pixels of that image, or of the crop with config ``cropping: true``;
    likelihood 0-1), ``.csv`` on request, ``_meta.pickle``. Images may differ in size. Batch size = config
    ``batch_size``. A folder already analysed by this model (``.h5`` present) is skipped.

    Returns the scorer string ``DLC_<net>_<Task><date>shuffle<k>_<iterations>``.

    A file that is not a readable image raises :class:`VideoError` naming it, and nothing is written (rather
    than a row of NaN: a finished ``.h5`` makes later calls skip the folder, so a silently missing image would
    stay missing). Most bad files (empty, not an image) are caught before any prediction is made. A missing
    folder raises :class:`VideoError`; a folder without matching images only warns and writes nothing.
    """
    from posenb.infer.analyze import get_cropping  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415
    from posenb.io.predictions import array_to_predictions, write_meta, write_predictions  # noqa: PLC0415

    if modelprefix:
        warnings.warn(
            "modelprefix is not supported by posenb; the shuffle's own model is used.", stacklevel=2
        )
    cfg = read_config(config)
    folder = Path(os.path.abspath(directory))
    if not folder.is_dir():
        raise VideoError(f"Image folder not found: {directory}. Pass the folder that holds the images.")
    files = list_frames(folder, frametype)
    predictor, info = load_predictor(cfg, shuffle, trainingsetindex, gputouse=gputouse)
    scorer = info["scorer"]
    if not files:
        message = f"No files containing {frametype!r} in {folder}; nothing analysed. Check the folder and frametype."
        warnings.warn(message, stacklevel=2)
        return scorer
    h5 = output_path(folder, scorer)
    if _already_analyzed(folder, h5):
        return scorer
    for f in files:
        _check_readable(f)

    crops: dict[tuple, tuple | None] = {}  # (height, width) -> crop box, in file order

    def crop_for(shape, path):
        if shape not in crops:
            crops[shape] = get_cropping(cfg, None, shape[1], shape[0], path)
        return crops[shape]

    batch_size = int(cfg.get("batch_size") or 8)
    start = time.time()
    pred = predict_frames(predictor, files, batch_size, crop_for=crop_for, desc=folder.name)
    stop = time.time()
    names = [f.name for f in files]
    df = array_to_predictions(pred, scorer, list(cfg["bodyparts"]), index=np.array(names, dtype=object))
    write_predictions(df, h5, save_as_csv=save_as_csv)
    timing = {"start": start, "stop": stop, "run_duration": stop - start, "batch_size": batch_size}
    write_meta(h5, _frames_meta(crops, timing, info, len(files)))
    print(
        f"{folder.name}: {len(files)} images at {len(files) / max(stop - start, 1e-9):.1f} images/s -> {h5}"
    )
    return scorer


def _frames_meta(crops: dict, timing: dict, info: dict, n_images: int) -> dict:
    """The ``_meta.pickle`` of an image folder (DLC's keys): the first image's size (and crop) stands for all;
    ``posenb_image_sizes`` lists every distinct ``(height, width)``, uncropped."""
    height, width = next(iter(crops))  # the first image's size: crops is filled in file order
    first_crop = crops[(height, width)]
    if first_crop is not None:
        x1, x2, y1, y2 = first_crop
        frame_dimensions, crop_params = (y2 - y1, x2 - x1), [x1, x2, y1, y2]
    else:
        frame_dimensions, crop_params = (height, width), [0, width, 0, height]
    return {
        "start": timing["start"],
        "stop": timing["stop"],
        "run_duration": timing["run_duration"],
        "Scorer": info["scorer"],
        "config file": info["test_cfg"],
        "batch_size": timing["batch_size"],
        "num_outputs": 1,
        "frame_dimensions": frame_dimensions,
        "nframes": n_images,
        "cropping": first_crop is not None,
        "cropping_parameters": crop_params,
        "snapshot": info["snapshot"],
        "posenb_image_sizes": [list(size) for size in crops],
    }
