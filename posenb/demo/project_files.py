"""What the single- and multi-animal demo projects share: the ground-truth file, creating the project quietly,
and writing the labeled frames as extract_frames does."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["GROUND_TRUTH_FILE", "ground_truth_path", "create_quietly", "extract_demo_frames"]

GROUND_TRUTH_FILE = "demo_ground_truth.h5"


def ground_truth_path(config: str | os.PathLike) -> Path:
    """Where the demo project keeps the true key points of every frame (a DLC prediction table, likelihood 1)."""
    return Path(config).parent / GROUND_TRUTH_FILE


def create_quietly(*args, **kwargs) -> str:
    """``create_new_project`` without its printout and warnings: the demo sets the body parts itself and carries
    on, so "Next: edit bodyparts" is not for it."""
    import contextlib
    import io
    import warnings

    from posenb.project.create import create_new_project

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return create_new_project(*args, **kwargs)


def extract_demo_frames(project_dir: Path, video_name: str, idx) -> list[tuple[str, str, str]]:
    """Write frames ``idx`` of ``videos/<video_name>`` as ``labeled-data/<stem>/imgNNN.png`` (decoded from the
    mp4 frame-exactly, as extract_frames does); returns their row keys ``("labeled-data", stem, name)`` in the
    order of ``idx``."""
    import cv2

    from posenb.frames.extract import read_exact_frames
    from posenb.io.video import probe_video
    from posenb.project.paths import frame_name

    stem = Path(video_name).stem
    folder = project_dir / "labeled-data" / stem
    folder.mkdir(parents=True, exist_ok=True)
    path = project_dir / "videos" / video_name
    n_frames = probe_video(path)[2]
    names = {}
    for i, frame in read_exact_frames(path, [int(i) for i in idx]):
        names[i] = frame_name(i, n_frames)
        cv2.imwrite(str(folder / names[i]), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    return [("labeled-data", stem, names[int(i)]) for i in idx]
