"""When a video counts as analysed: its outputs are complete and readable (used by the serial and Dask paths)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["analysis_status"]


def analysis_status(
    h5: str | os.PathLike, n_frames: int, scorer: str, bodyparts, save_as_csv: bool = False
) -> str:
    """Why the analysis ``h5`` of a video with ``n_frames`` frames is not complete; ``""`` when it is.

    Complete: ``h5`` reads back with ``n_frames`` rows and the columns ``(scorer, bodyparts, x/y/likelihood)``,
    ``_meta.pickle`` is there and readable, and with ``save_as_csv`` the ``.csv`` too.
    """
    from posenb.errors import PosenbError  # noqa: PLC0415
    from posenb.io.predictions import meta_path, read_meta, read_predictions  # noqa: PLC0415

    h5 = Path(h5)
    if not h5.is_file():
        return "no .h5"
    try:
        df = read_predictions(h5)
    except (PosenbError, OSError) as exc:
        return f"unreadable .h5 ({exc})"
    if len(df) != n_frames:
        return f".h5 has {len(df)} rows, the video {n_frames} frames"
    want = [(scorer, bp, c) for bp in bodyparts for c in ("x", "y", "likelihood")]
    if list(df.columns) != want:
        return ".h5 columns are not this scorer's body parts x, y, likelihood"
    if not meta_path(h5).is_file():
        return f"no {meta_path(h5).name}"
    try:
        read_meta(h5)
    except (PosenbError, OSError) as exc:
        return f"unreadable {meta_path(h5).name} ({exc})"
    if save_as_csv and not h5.with_suffix(".csv").is_file():
        return f"no {h5.with_suffix('.csv').name}"
    return ""


def analysed_scales(h5: str | os.PathLike) -> tuple[float, ...] | None:
    """The test-time scales an analysis ``h5`` was made with (its meta's ``posenb_test_scales``; None: one pass,
    also for files of DeepLabCut or of posenb before the option)."""
    from posenb.io.predictions import read_meta  # noqa: PLC0415

    scales = read_meta(h5).get("posenb_test_scales")
    return tuple(float(s) for s in scales) if scales else None


def _already_analyzed(
    video: Path, h5: Path, scorer: str, bodyparts, save_as_csv: bool, scales: tuple | None = None
) -> bool:
    """True (and says so) when ``h5`` is a complete analysis of ``video``; False (and why) when it must be redone.

    A complete analysis made at other test-time ``scales`` is kept (the file name does not depend on them) and a
    warning says how to analyse the video again at these."""
    from posenb.io.video import open_video  # noqa: PLC0415

    if not h5.exists():
        return False
    probe = open_video(video)
    n_frames = probe.n_frames
    probe.close()
    reason = analysis_status(h5, n_frames, scorer, bodyparts, save_as_csv)
    if reason:
        print(f"{video.name}: incomplete analysis ({reason}); analysing it again.")
        return False
    done = analysed_scales(h5)
    if done != (tuple(scales) if scales else None):
        import warnings  # noqa: PLC0415

        from posenb.infer.multiscale import scales_text  # noqa: PLC0415

        warnings.warn(
            f"{video.name}: already analysed with {scales_text(done)} ({h5}); not analysed again with "
            f"{scales_text(scales)}. Delete that file (and its _meta.pickle), or pass another destfolder, to "
            "analyse it again.",
            stacklevel=3,
        )
        return True
    print(f"{video.name}: already analyzed ({h5.name}); skipped.")
    return True
