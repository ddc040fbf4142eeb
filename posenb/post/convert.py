"""``analyze_videos_converth5_to_csv``: DeepLabCut's CSV next to every analysis ``.h5`` of some videos.

For each video, the prediction files ``<stem>DLC...h5`` (and legacy ``<stem>DeepCut...h5``, filtered ones
included) in the video's folder get a ``.csv`` with the same name: 3 header rows (scorer, bodyparts, coords),
one row per frame, first column = frame number; byte for byte what ``analyze_videos(save_as_csv=True)``
writes. ``_skeleton``, ``_meta`` and ``3D`` files are left alone
(:func:`posenb.io.predictions.is_analysis_name`).
Each CSV is written atomically; an existing CSV is replaced and kept as ``<name>.csv.bak``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from posenb.errors import LabelError, VideoError
from posenb.io.labels import read_hdf_any
from posenb.io.predictions import is_analysis_name, write_predictions_csv
from posenb.project.paths import list_videos, video_stem

__all__ = ["analyze_videos_converth5_to_csv", "analysis_files"]


def analysis_files(video: str | os.PathLike) -> list[Path]:
    """The analysis ``.h5`` files (unfiltered and ``_filtered``) of ``video`` in its folder, by name."""
    video = Path(video)
    folder, stem = video.parent, video_stem(video)
    if not folder.is_dir():
        return []
    return sorted(
        f for f in folder.iterdir() if f.is_file() and is_analysis_name(f.name, stem, filtered=None)
    )


def analyze_videos_converth5_to_csv(
    video_folder, videotype: str = ".mp4", listofvideos: bool = False
) -> list[str]:
    """Write a ``.csv`` next to every ``<stem>DLC...h5`` / ``<stem>DeepCut...h5`` prediction file (DLC's API).

    Parameters
    ----------
    video_folder : a folder of videos (filtered by ``videotype``; ``*_labeled.*`` videos skipped), or, with
        ``listofvideos=True`` (or when a list is passed), a list of video paths (and/or folders). The videos
        themselves are not read: only their folder and file stem are used.
    videotype : video extension(s) looked for in folders (``""``: any known video extension).
    listofvideos : ``video_folder`` is a list of videos (DeepLabCut's GUI flag).

    Returns the list of CSV paths written (str), in video order. Files that are not prediction tables are
    skipped with a warning; a folder that does not exist raises :class:`VideoError`.
    """
    if isinstance(video_folder, (str, os.PathLike)):
        if not listofvideos and not Path(video_folder).exists():
            raise VideoError(
                f"Video folder not found: {video_folder}. Pass a folder, or a list with listofvideos=True."
            )
        videos = list_videos(video_folder, videotype)
    else:
        videos = list_videos(list(video_folder), videotype)
    if not videos:
        warnings.warn(
            f"No videos found in {video_folder!r} (videotype {videotype!r}); nothing converted.", stacklevel=2
        )
        return []
    written: list[str] = []
    seen: set[Path] = set()
    for video in videos:
        for h5 in analysis_files(video):
            if h5 in seen:
                continue
            seen.add(h5)
            try:
                df = read_hdf_any(h5)
            except LabelError as exc:
                warnings.warn(f"{exc} Not converted.", stacklevel=2)
                continue
            if not isinstance(df, pd.DataFrame) or not isinstance(df.columns, pd.MultiIndex):
                warnings.warn(f"{h5} is not a DeepLabCut prediction table; not converted.", stacklevel=2)
                continue
            csv = write_predictions_csv(df, h5.with_suffix(".csv"))
            print(f"{h5.name} -> {csv.name}")
            written.append(str(csv))
    if not written:
        warnings.warn(
            f"No prediction files (<stem>DLC...h5) found for the {len(videos)} video(s) in {video_folder!r}; "
            "run analyze_videos first.",
            stacklevel=2,
        )
    else:
        print(f"{len(written)} prediction file(s) converted to CSV.")
    return written
