"""When a video counts as analysed: its outputs are complete and readable (used by the serial and Dask paths)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["analysis_status"]


def analysis_status(h5: str | os.PathLike, n_frames: int, scorer: str, bodyparts, save_as_csv: bool = False) -> str:
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


def _already_analyzed(video: Path, h5: Path, scorer: str, bodyparts, save_as_csv: bool) -> bool:
    """True (and says so) when ``h5`` is a complete analysis of ``video``; False (and why) when it must be redone."""
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
    print(f"{video.name}: already analyzed ({h5.name}); skipped.")
    return True
