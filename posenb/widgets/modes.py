"""DeepLabCut's manual modes: ``extract_frames(mode="manual")`` and ``extract_outlier_frames(outlieralgorithm=
"manual")`` open a panel.

These are the functions that ``posenb.extract_frames`` and ``posenb.extract_outlier_frames`` name. Every other
mode runs the core function (:mod:`posenb.frames.extract`, :mod:`posenb.frames.outliers`) unchanged, and no Jupyter
package is imported for it: this module imports the panels only when a manual mode is asked for, so that the
core never has to import posenb.widgets (the layers of docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import functools
import inspect

from posenb.errors import PosenbError
from posenb.frames import extract as _extract

# posenb.frames.outliers (and pandas with it, ~0.3-1 s) is imported only when extract_outlier_frames is asked for
# (module __getattr__ below): extract_frames as a whole process stays free of it.

__all__ = ["extract_frames", "extract_outlier_frames"]  # noqa: F822 (the second comes from __getattr__)


def _panel(module: str, name: str, what: str):
    """The panel class ``module.name``, or a clear error when the Jupyter packages are missing."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise PosenbError(
            f"{what} is done in the Jupyter panel {module}.{name}, which cannot be imported here ({exc}). Install "
            "the panels with pip install 'posenb[jupyter]' and call it in a notebook."
        ) from None


@functools.wraps(_extract.extract_frames)
def extract_frames(config, mode="automatic", *args, **kwargs):
    if mode == "manual":
        grabber = _panel(
            "posenb.widgets.frame_grabber", "FrameGrabber", "Manual frame extraction (mode='manual')"
        )
        return grabber(config)
    return _extract.extract_frames(config, mode, *args, **kwargs)


def _make_extract_outlier_frames():
    from posenb.frames import outliers as _outliers

    @functools.wraps(_outliers.extract_outlier_frames)
    def extract_outlier_frames(config, videos, *args, **kwargs):
        bound = inspect.signature(_outliers.extract_outlier_frames).bind(config, videos, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        if a["outlieralgorithm"] != "manual":
            return _outliers.extract_outlier_frames(config, videos, *args, **kwargs)
        viewer = _panel(
            "posenb.widgets.trajectory_viewer",
            "TrajectoryViewer",
            "Picking outlier frames by hand (outlieralgorithm='manual')",
        )
        video = _outliers.add_videos_for_review(config, videos, a["videotype"], a["copy_videos"])
        return viewer(config, video=video, shuffle=a["shuffle"], trainingsetindex=a["trainingsetindex"])

    return extract_outlier_frames


def __getattr__(name: str):
    if name == "extract_outlier_frames":
        func = _make_extract_outlier_frames()
        globals()[name] = func  # built once
        return func
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
