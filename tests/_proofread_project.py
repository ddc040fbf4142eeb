"""A two-mouse project with a tracked file to proofread (importable from any test: ``tests/`` is on ``sys.path``).

:func:`write_swapped_tracks` writes ``videos/demo_mice<DLCscorer>_el.h5`` into the multi-animal demo project
(:func:`posenb.demo.make_demo_project` with ``animals=2``: 60 frames, 128x96) from its ground truth, with the
mistakes a tracker makes planted at known frames: the identities of ``mouse1`` and ``mouse2`` exchanged from
:data:`SWAP` on (or only up to a given frame), a gap in ``mouse1`` (:data:`GAP`), ``mouse1`` lost for good from :data:`LOST` on and a
low-confidence stretch of ``mouse2`` (:data:`LOW`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SWAP = 20  # mouse1 and mouse2 are exchanged from this frame to the end
GAP = (8, 12)  # mouse1 has no points on these frames
LOST = 54  # mouse1 has no points from this frame on (its track is free there)
LOW = (40, 46)  # mouse2's likelihood is 0.3 on these frames
N_FRAMES = 60


def make_proofread_project(root: str | Path) -> str:
    """The two-mouse demo project under ``root`` (60 frames, 128x96); returns its config.yaml path."""
    import contextlib
    import io

    from posenb.demo import make_demo_project

    with contextlib.redirect_stdout(io.StringIO()):
        return make_demo_project(Path(root), n_frames=N_FRAMES, n_labeled=16, width=128, height=96, animals=2)


def truth_tracks(config: str) -> np.ndarray:
    """``(T, 2, 4, 2)`` true points of mouse1 and mouse2 (image px)."""
    from posenb.demo.project_ma import read_ma_ground_truth

    return read_ma_ground_truth(config)[0]


def write_swapped_tracks(config: str, unique: bool = False, swap_until: int | None = None) -> Path:
    """The tracked file with the planted mistakes (see the module docstring); returns its path. ``unique``: with a
    unique part ``corner`` (individual ``single``) at (5, 6), likelihood 0.95, in every frame. ``swap_until``: the
    identities are exchanged on frames ``[SWAP, swap_until)`` only (default: to the end)."""
    from posenb.project.config import read_config
    from posenb.project.paths import get_scorer_name
    from posenb.track.files import tracked_table, write_tracked

    cfg = read_config(config)
    truth = truth_tracks(config)
    T, N, P, _ = truth.shape
    tracks = np.concatenate([truth, np.full((T, N, P, 1), 0.9)], axis=-1)
    tracks[SWAP:swap_until] = tracks[SWAP:swap_until, ::-1].copy()  # identities exchanged
    tracks[GAP[0] : GAP[1], 0] = np.nan
    tracks[LOST:, 0] = np.nan
    tracks[LOW[0] : LOW[1], 1, :, 2] = 0.3
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    corner = np.tile([5.0, 6.0, 0.95], (T, 1, 1)) if unique else None
    df = tracked_table(
        tracks, scorer, cfg["individuals"], cfg["multianimalbodyparts"], corner, ["corner"] if unique else ()
    )
    h5 = Path(cfg["project_path"]) / "videos" / f"demo_mice{scorer}_el.h5"
    return write_tracked(df, h5)
