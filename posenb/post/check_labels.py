"""``check_labels``: draw the human labels onto copies of the labeled images, to check them by eye.

Writes ``labeled-data/<stem>_labeled/<image>.png`` (DeepLabCut's folder; folder scans skip ``*_labeled``) with one
marker per body part, coloured by the config's ``colormap`` (body-part order), ``dotsize`` and ``alphavalue``, and the
``skeleton`` in ``skeleton_color``. Multi-animal projects: one colour per individual (or per body part with one
marker per individual, ``visualizeindividuals=False``), the skeleton within each individual; the labels are read
through the label-folder model (:class:`posenb.io.label_folder.LabelFolder`). Drawing is done with OpenCV (a few
calls per image), so hundreds of images take seconds. :func:`draw_labels` is the pure drawing function; :func:`label_colors` the colour table, :func:`label_style`
the colours, markers and bones of single- and multi-animal drawings.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError

__all__ = ["check_labels", "draw_labels", "label_colors", "label_style", "named_color"]


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
    markers: Sequence[str] | None = None,
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
    markers : one marker per point (overrides ``marker``; multi-animal drawings tell individuals apart with it).

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
        kind = markers[k] if markers is not None else marker
        _marker(overlay, (int(ipts[k, 0]), int(ipts[k, 1])), tuple(int(c) for c in colors[k]), kind, size)
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


MARKERS = ("+", "x", "o", "s", "^", "d", "*", "v", ".")  # individuals' markers when colours are per body part


def label_style(
    parts,
    colormap: str,
    skeleton: Sequence[Sequence[str]] = (),
    visualizeindividuals: bool = True,
    marker: str = "+",
    where: str = "config.yaml",
) -> tuple[np.ndarray, list[str] | None, list[tuple[int, int]]]:
    """Colours, markers and bones of the drawn points (pure; no image).

    The drawn points are the label-folder model's, flattened: for each individual its ``bodyparts``, then the
    unique parts (``J = n_individuals * K + U`` points; single-animal: the ``K`` body parts).
    ``parts``: ``project_parts(cfg)``. Single-animal: one colour per body part (the colormap over the parts),
    ``markers`` None (all ``marker``). Multi-animal with ``visualizeindividuals`` (DeepLabCut's default): one colour
    per individual (the colormap over the individuals, then ``"single"`` for the unique parts), all ``marker``;
    without: one colour per body part and one marker per individual (``marker`` for the first, then
    :data:`MARKERS`). Bones join the two parts of a ``skeleton`` pair within each individual (and between unique
    parts). Returns ``(colors (J, 3) uint8, markers list of J or None, bones [(i, j), ...])``.
    """
    k, unique = len(parts.bodyparts), list(parts.unique_bodyparts)
    if not parts.multianimal:
        from posenb.project.project_config import skeleton_indices  # noqa: PLC0415

        bones = list(skeleton_indices(parts.bodyparts, skeleton))
        return label_colors(colormap, k, where), None, bones
    from posenb.post.individuals_drawing import animal_bones  # noqa: PLC0415

    n_ind = len(parts.individuals)
    if visualizeindividuals:
        table = label_colors(colormap, n_ind + (1 if unique else 0), where)
        colors = np.concatenate(
            [np.repeat(table[:n_ind], k, axis=0), np.repeat(table[n_ind:], len(unique), 0)]
        )
        markers = None
    else:
        table = label_colors(colormap, k + len(unique), where)
        colors = np.concatenate([np.tile(table[:k], (n_ind, 1)), table[k:]])
        cycle = list(dict.fromkeys([marker, *MARKERS]))
        markers = [cycle[i % len(cycle)] for i in range(n_ind) for _ in range(k)] + [marker] * len(unique)
    # the points in order: each individual's parts, then the unique parts (their own group, as in the tables)
    points = [(ind, b) for ind in parts.individuals for b in parts.bodyparts] + [(None, u) for u in unique]
    bones = animal_bones(points, skeleton)
    return colors.astype(np.uint8), markers, bones


def _drawn_columns(df, parts, path: Path):
    """``df`` without the columns of parts (and individuals) the config does not list, which are not drawn."""
    if df.columns.nlevels == 4:
        inds, bps = df.columns.get_level_values(1), df.columns.get_level_values(2)
        known = [(i in parts.individuals and b in parts.bodyparts) or (i == "single" and b in parts.unique_bodyparts)
                 for i, b in zip(inds, bps)]  # fmt: skip
        names = sorted({f"{i}/{b}" for (i, b), ok in zip(zip(inds, bps), known) if not ok})
    else:
        known = [b in parts.bodyparts for b in df.columns.get_level_values(1)]
        names = sorted({b for b, ok in zip(df.columns.get_level_values(1), known) if not ok})
    if names:
        print(f"{path}: body parts {names} are not in config.yaml's body parts and are not drawn.")
    return df.loc[:, known]


def _draw_folder(model, flat: np.ndarray, style, cfg_draw, scale: float, path: Path) -> Path:
    """Write ``<stem>_labeled/<image>.png`` for every labeled row of ``model``; returns the folder."""
    import cv2
    from tqdm.auto import tqdm

    colors, markers, bones, bone_color, marker, dotsize, alpha = (*style, *cfg_draw)
    out_dir = model.folder.with_name(f"{model.stem}_labeled")
    out_dir.mkdir(parents=True, exist_ok=True)
    missing = []
    rows = [i for i, name in enumerate(model.images) if name in model.file_rows]
    for i in tqdm(rows, desc=f"check_labels {model.stem}", unit="image"):
        image_path = model.folder / model.images[i]
        bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR) if image_path.is_file() else None
        if bgr is None:
            missing.append(str(image_path))
            continue
        drawn = draw_labels(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), flat[i], colors, bones, bone_color, marker,
                            dotsize, alpha, scale, markers)  # fmt: skip
        target = out_dir / Path(model.images[i]).with_suffix(".png").name
        tmp = target.with_name(f".{target.name}.tmp.png")
        if not cv2.imwrite(str(tmp), cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR)):
            raise OSError(f"Could not write {target}.")
        os.replace(tmp, target)
    if missing:
        warnings.warn(
            f"check_labels: {len(missing)} image(s) labeled in {path} do not exist (or cannot be read), e.g. "
            f"{missing[:3]}. Restore them, or drop their rows with "
            "posenb.dropannotationfileentriesduetodeletedimages(config).",
            stacklevel=3,
        )
    return out_dir


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
    config : path of config.yaml (``scorer``, body parts, ``colormap``, ``dotsize``, ``alphavalue``,
        ``skeleton``, ``skeleton_color`` are used).
    Labels : markers; ``Labels[0]`` is used for human labels (DLC uses the others for predictions and errors).
    scale : size factor of the output images.
    dpi : accepted for DeepLabCut compatibility (images are drawn at pixel size).
    draw_skeleton : draw the config's ``skeleton`` (within each individual).
    visualizeindividuals : multi-animal projects: one colour per individual (True, DeepLabCut's default) or one
        colour per body part and one marker per individual (False); see :func:`label_style`. Single-animal
        projects: one colour per body part either way.

    Returns the list of ``<stem>_labeled`` folders written. A label file of another scorer raises
    :class:`LabelError`; labeled images that are missing are skipped with a warning naming them.
    """
    from posenb.io.label_folder import LabelFolder
    from posenb.io.labels import read_labels
    from posenb.project.config import project_parts, read_config, usable_skeleton

    where = str(config)
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    scorer, parts = cfg["scorer"], project_parts(cfg)
    marker = Labels[0] if Labels else "+"
    skeleton = usable_skeleton(cfg) if draw_skeleton else []
    style = label_style(
        parts, cfg.get("colormap") or "rainbow", skeleton, visualizeindividuals, marker, where
    )
    alpha = cfg.get("alphavalue")
    cfg_draw = (
        named_color(cfg.get("skeleton_color") or "black", where),
        marker,
        float(cfg.get("dotsize") or 12),
        float(alpha if alpha is not None else 0.7),
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
        model = LabelFolder.from_dataframe(
            _drawn_columns(df, parts, path), project / "labeled-data" / stem, scorer, parts.bodyparts,
            parts.individuals, parts.unique_bodyparts, parts.multianimal,
        )  # fmt: skip
        n, k = model.n_images, model.n_individuals * len(model.bodyparts)
        flat = np.concatenate([model.points.reshape(n, k, 2), model.unique], axis=1)
        written.append(_draw_folder(model, flat, style, cfg_draw, scale, path))
    if written:
        print(f"Labeled images written to {', '.join(str(w) for w in written)}. If all the labels are ok, create the "
              "training set with posenb.create_training_dataset(config).")  # fmt: skip
    return written
