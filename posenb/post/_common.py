"""Helpers shared by the post-processing functions (and outlier extraction).

- :func:`find_analysis_file`: the ``<stem><DLCscorer>[_filtered].h5`` of a video for a config + shuffle;
- :func:`iter_analyses`: the same over a list of videos / folders, reporting the ones not analysed;
- :func:`select_bodyparts`, :func:`bodypart_colors`, :func:`crop_offset`, :func:`drawing_params`;
- ``ask_yes_no`` (from :mod:`posenb.io.prompt`): a question that never hangs when nobody can answer it.

Nothing here imports matplotlib, cv2 or torch at module level.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError
from posenb.io.predictions import select_bodyparts  # noqa: F401 - re-exported for post/ and frames/
from posenb.io.prompt import ask_yes_no, stdin_is_interactive  # noqa: F401 - re-exported
from posenb.project.analysis_files import find_analysis_file  # the rule's home; re-exported
from posenb.project.config import usable_skeleton
from posenb.project.paths import list_videos, scorer_pattern  # scorer_pattern: re-exported

__all__ = [
    "scorer_pattern",
    "find_analysis_file",
    "iter_analyses",
    "select_bodyparts",
    "bodypart_colors",
    "color_to_rgb",
    "crop_offset",
    "drawing_params",
    "ask_yes_no",
    "stdin_is_interactive",
]


def iter_analyses(
    cfg: dict,
    videos,
    videotype: str | Iterable[str] = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    destfolder: str | os.PathLike | None = None,
    track_method: str = "",
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(video, analysis h5)`` for each video in ``videos`` (files and/or folders).

    Videos without an analysis file are reported with a warning and skipped, like DeepLabCut does; if *no*
    video has one, :class:`LabelError` is raised so that a typo does not pass silently.
    """
    vids = list_videos(videos, videotype)
    if not vids:
        raise LabelError(
            f"No videos found in {videos!r} (videotype {videotype!r}). Check the paths and videotype."
        )
    errors = []
    found = 0
    for video in vids:
        try:
            h5 = find_analysis_file(
                cfg, video, shuffle, trainingsetindex, filtered, destfolder, track_method=track_method
            )
        except LabelError as exc:
            errors.append(str(exc))
            continue
        found += 1
        yield video, h5
    if errors and not found:
        raise LabelError(" ".join(errors))
    for msg in errors:
        warnings.warn(msg, stacklevel=3)


def bodypart_colors(colormap: str, n: int, where: str = "config.yaml") -> np.ndarray:
    """``(n, 3)`` float RGB in [0, 1]: ``n`` colours sampled evenly from a matplotlib colormap (DLC's ``get_cmap``).

    The one colour rule of posenb (labeled videos, plots, check_labels, outlier frames and the panels use it);
    an unknown colormap is a :class:`ConfigError` naming ``where`` (the panels then fall back to rainbow).
    """
    import matplotlib  # noqa: PLC0415

    try:
        cmap = matplotlib.colormaps[colormap]
    except (KeyError, ValueError, TypeError):
        raise ConfigError(
            f"{where}: unknown colormap {colormap!r}; use a matplotlib name such as 'rainbow', 'jet', 'viridis'."
        ) from None
    if n <= 0:
        return np.zeros((0, 3))
    return np.asarray(cmap.resampled(n)(np.arange(n)))[:, :3]


def color_to_rgb(color) -> np.ndarray:
    """A matplotlib colour (name, hex, or RGB tuple in [0, 1] or [0, 255]) as ``(3,)`` float RGB in [0, 1]."""
    if isinstance(color, (list, tuple, np.ndarray)) and len(color) in (3, 4) and max(color[:3]) > 1:
        return np.asarray(color[:3], float) / 255.0
    from matplotlib.colors import to_rgb  # noqa: PLC0415

    try:
        return np.asarray(to_rgb(color), float)
    except ValueError:
        raise ConfigError(
            f"Unknown colour {color!r} (skeleton_color); use a matplotlib colour name or hex code."
        ) from None


def crop_offset(meta: dict, h5=None, cfg: dict | None = None) -> tuple[float, float]:
    """``(x1, y1)`` to add to predictions of a cropped analysis (DLC ``_meta.pickle``); ``(0, 0)`` otherwise.

    With ``h5`` (the analysis file whose meta ``meta`` is): a missing ``_meta.pickle`` is an error
    (:class:`~posenb.errors.LabelError`) when ``cfg`` has ``cropping: true`` -- the offset is unknown, and
    ``(0, 0)`` would shift every point -- and a warning otherwise. ``analyze_videos`` redoes such analyses.
    """
    if not meta and h5 is not None:
        from posenb.io.predictions import meta_path  # noqa: PLC0415

        missing = meta_path(h5)
        if not missing.is_file():
            advice = "Run analyze_videos again: it redoes analyses whose outputs are incomplete."
            if (cfg or {}).get("cropping"):
                raise LabelError(
                    f"{missing} is missing and config.yaml has cropping: true, so the crop offset of {Path(h5).name} "
                    f"is unknown. {advice}"
                )
            warnings.warn(
                f"{missing} is missing: assuming {Path(h5).name} was not cropped. {advice}", stacklevel=2
            )
    if meta and meta.get("cropping"):
        params = meta.get("cropping_parameters") or [0, 0, 0, 0]
        return float(params[0]), float(params[2])
    return 0.0, 0.0


def drawing_params(cfg: dict, **overrides) -> dict:
    """pcutoff, dotsize, alphavalue, colormap, skeleton, skeleton_color from config.yaml; ``None`` overrides are ignored."""
    params = {
        "pcutoff": float(cfg.get("pcutoff", 0.6)),
        "dotsize": float(cfg.get("dotsize", 8)),
        "alphavalue": float(cfg.get("alphavalue", 0.7)),
        "colormap": cfg.get("colormap") or "rainbow",
        "skeleton": usable_skeleton(cfg),
        "skeleton_color": cfg.get("skeleton_color") or "black",
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params
