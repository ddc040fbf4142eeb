"""``check_labels``: draw the human labels onto copies of the labeled images, to check them by eye.

Writes ``labeled-data/<stem>_labeled/<image>.png`` (DeepLabCut's folder; folder scans skip ``*_labeled``) with one
marker per body part, coloured by the config's ``colormap`` (body-part order), ``dotsize`` and ``alphavalue``, and the
``skeleton`` in ``skeleton_color``. Drawing is done with OpenCV (a few calls per image), so hundreds of images take
seconds. :func:`draw_labels` is the pure drawing function; :func:`label_colors` the colour table.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError

__all__ = ["check_labels", "draw_labels", "label_colors", "named_color"]


def label_colors(colormap: str, n: int, where: str = "config.yaml") -> np.ndarray:
    """``(n, 3)`` uint8 RGB colours sampled evenly from a matplotlib colormap (:func:`~posenb.post._common.bodypart_colors`)."""
    from posenb.post._common import bodypart_colors

    return np.round(bodypart_colors(colormap, n, where) * 255).astype(np.uint8)


def named_color(name, where: str = "config.yaml") -> tuple[int, int, int]:
    """A matplotlib colour (``"black"``, ``"#ff0000"``, ``"C1"``, an RGB tuple) as uint8 RGB."""
    from matplotlib.colors import to_rgb

    try:
        return tuple(int(round(c * 255)) for c in to_rgb(name))
    except (ValueError, TypeError):
        raise ConfigError(
            f"{where}: skeleton_color {name!r} is not a matplotlib colour (e.g. black, white, red)."
        ) from None


def _marker(
    canvas: np.ndarray, pt: tuple[int, int], color: tuple[int, int, int], marker: str, size: int
) -> None:
    import cv2

    thick = max(1, size // 6)
    kinds = {
        "+": cv2.MARKER_CROSS,
        "x": cv2.MARKER_TILTED_CROSS,
        "*": cv2.MARKER_STAR,
        "s": cv2.MARKER_SQUARE,
        "d": cv2.MARKER_DIAMOND,
        "D": cv2.MARKER_DIAMOND,
        "^": cv2.MARKER_TRIANGLE_UP,
        "v": cv2.MARKER_TRIANGLE_DOWN,
    }
    if marker in kinds:
        cv2.drawMarker(canvas, pt, color, kinds[marker], max(3, size), thick, cv2.LINE_AA)
    elif marker == "o":
        cv2.circle(canvas, pt, max(1, size // 2), color, thick, cv2.LINE_AA)
    else:  # "." and anything else: a filled dot
        cv2.circle(canvas, pt, max(1, size // 2), color, -1, cv2.LINE_AA)


def draw_labels(
    image: np.ndarray,
    points: np.ndarray,
    colors: np.ndarray,
    skeleton: Sequence[tuple[int, int]] = (),
    skeleton_color: tuple[int, int, int] = (0, 0, 0),
    marker: str = "+",
    dotsize: float = 12,
    alpha: float = 0.7,
    scale: float = 1.0,
) -> np.ndarray:
    """Draw key points on an image (pure function; returns a new array).

    Parameters
    ----------
    image : ``(H, W, 3)`` uint8 RGB.
    points : ``(n_bodyparts, 2)`` x/y in pixels of ``image`` (NaN = not labeled, not drawn).
    colors : ``(n_bodyparts, 3)`` uint8 RGB, one per body part.
    skeleton : pairs of body-part indices joined by a line (drawn below the markers).
    marker : matplotlib-style marker: ``+``, ``x``, ``.``, ``o``, ``*``, ``s``, ``d``, ``^``, ``v``.
    dotsize : marker width in pixels (before ``scale``).
    alpha : opacity of markers and lines.
    scale : output size factor (the image and the coordinates are scaled).

    Returns ``(round(H*scale), round(W*scale), 3)`` uint8 RGB.
    """
    import cv2

    img = np.ascontiguousarray(image, dtype=np.uint8)
    if scale != 1:
        h, w = img.shape[:2]
        img = cv2.resize(
            img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR
        )
    pts = np.asarray(points, dtype=np.float64) * scale
    ok = np.isfinite(pts).all(axis=1)
    ipts = np.zeros(pts.shape, np.int64)
    ipts[ok] = np.round(pts[ok]).astype(np.int64)
    size = max(3, int(round(dotsize * scale)))
    overlay = img.copy()
    for i, j in skeleton:
        if ok[i] and ok[j]:
            cv2.line(overlay, tuple(map(int, ipts[i])), tuple(map(int, ipts[j])), tuple(map(int, skeleton_color)),
                     max(1, size // 6), cv2.LINE_AA)  # fmt: skip
    for k in np.flatnonzero(ok):
        _marker(overlay, (int(ipts[k, 0]), int(ipts[k, 1])), tuple(int(c) for c in colors[k]), marker, size)
    return cv2.addWeighted(overlay, float(alpha), img, 1.0 - float(alpha), 0.0)


def _folders(cfg: dict, project: Path) -> list[str]:
    """Video stems of video_sets, then other label folders holding a label file (deduplicated, in that order)."""
    from posenb.project.label_tools import label_folders
    from posenb.project.paths import video_stem

    stems = [video_stem(v) for v in cfg.get("video_sets") or {}]
    root = project / "labeled-data"
    stems += [f for f in label_folders(project) if any((root / f).glob("CollectedData_*.[hc][5s]*"))]
    return list(dict.fromkeys(stems))


def _label_file(project: Path, stem: str, scorer: str) -> Path | None:
    from posenb.io.labels import labels_path

    h5 = labels_path(project, stem, scorer)
    for candidate in (h5, h5.with_suffix(".csv")):
        if candidate.is_file():
            return candidate
    folder = h5.parent
    others = (
        sorted({p.name for p in folder.glob("CollectedData_*") if p.suffix in (".h5", ".csv")})
        if folder.is_dir()
        else []
    )
    if others:
        raise LabelError(
            f"{folder} holds {', '.join(others)} but no {h5.name}: those labels are by another scorer than config.yaml's "
            f"scorer {scorer!r}. Set 'scorer' in config.yaml to the labeller's name, or convert the file with "
            f"posenb.convertcsv2h5(config, scorer={scorer!r}) after renaming it to {h5.with_suffix('.csv').name}."
        )
    return None


def check_labels(
    config: str | os.PathLike,
    Labels: Sequence[str] = ("+", ".", "x"),  # noqa: N803 - DeepLabCut's argument name
    scale: float = 1,
    dpi: int = 100,
    draw_skeleton: bool = True,
    visualizeindividuals: bool = True,
) -> list[Path]:
    """Draw the labels of every labeled folder into ``labeled-data/<stem>_labeled/`` (DeepLabCut's ``check_labels``).

    Parameters
    ----------
    config : path of config.yaml (``scorer``, ``bodyparts``, ``colormap``, ``dotsize``, ``alphavalue``,
        ``skeleton``, ``skeleton_color`` are used).
    Labels : markers; ``Labels[0]`` is used for human labels (DLC uses the others for predictions and errors).
    scale : size factor of the output images.
    dpi, visualizeindividuals : accepted for DeepLabCut compatibility (images are drawn at pixel size; single
        animal).
    draw_skeleton : draw the config's ``skeleton``.

    Returns the list of ``<stem>_labeled`` folders written. A label file of another scorer raises
    :class:`LabelError`; labeled images that are missing are skipped with a warning naming them.
    """
    import cv2
    from tqdm.auto import tqdm

    from posenb.io.labels import labels_to_array, read_labels
    from posenb.project.config import read_config, usable_skeleton

    where = str(config)
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    scorer, bodyparts = cfg["scorer"], list(cfg["bodyparts"])
    colors = label_colors(cfg.get("colormap") or "rainbow", len(bodyparts), where)
    bone_color = named_color(cfg.get("skeleton_color") or "black", where)
    part_index = {b: i for i, b in enumerate(bodyparts)}
    bones = [(part_index[a], part_index[b]) for a, b in usable_skeleton(cfg) if draw_skeleton]
    marker = Labels[0] if Labels else "+"
    dotsize, alpha = (
        float(cfg.get("dotsize") or 12),
        float(cfg.get("alphavalue") if cfg.get("alphavalue") is not None else 0.7),
    )
    written = []
    for stem in _folders(cfg, project):
        path = _label_file(project, stem, scorer)
        if path is None:
            print(f"Attention: {project / 'labeled-data' / stem} does not appear to have labeled data!")
            continue
        df = read_labels(path)
        file_scorer = df.columns.get_level_values(0)[0]
        if file_scorer != scorer:
            raise LabelError(
                f"{path}: labels are by scorer {file_scorer!r} but config.yaml's scorer is {scorer!r}. Use the "
                f"project's own scorer, or rewrite the file with posenb.convertcsv2h5(config, scorer={scorer!r})."
            )
        extra = sorted(set(df.columns.get_level_values(1)) - set(bodyparts))
        if extra:
            print(f"{path}: body parts {extra} are not in config.yaml's bodyparts and are not drawn.")
        points = labels_to_array(df, bodyparts)
        out_dir = project / "labeled-data" / f"{stem}_labeled"
        out_dir.mkdir(parents=True, exist_ok=True)
        missing = []
        for row, pts in tqdm(zip(df.index, points), total=len(df), desc=f"check_labels {stem}", unit="image"):
            image_path = project.joinpath(*[str(p) for p in row])
            bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR) if image_path.is_file() else None
            if bgr is None:
                missing.append(str(image_path))
                continue
            drawn = draw_labels(
                cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB),
                pts,
                colors,
                bones,
                bone_color,
                marker,
                dotsize,
                alpha,
                scale,
            )
            target = out_dir / Path(str(row[-1])).with_suffix(".png").name
            tmp = target.with_name(f".{target.name}.tmp.png")
            if not cv2.imwrite(str(tmp), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR)):
                raise OSError(f"Could not write {target}.")
            os.replace(tmp, target)
        if missing:
            warnings.warn(
                f"check_labels: {len(missing)} image(s) labeled in {path} do not exist (or cannot be read), e.g. "
                f"{missing[:3]}. Restore them, or drop their rows with "
                "posenb.dropannotationfileentriesduetodeletedimages(config).",
                stacklevel=2,
            )
        written.append(out_dir)
    if written:
        print(f"Labeled images written to {', '.join(str(w) for w in written)}. If all the labels are ok, create the "
              "training set with posenb.create_training_dataset(config).")  # fmt: skip
    return written
