"""Proofread frames -> the training set: images and human labels in ``labeled-data/<video stem>/``.

:func:`send_to_training_set` extracts the chosen frames of a proofread video (frame-exact reader) as
``img<frame>.png`` (DeepLabCut's name, :func:`posenb.project.paths.frame_name`; an image of that frame already
in the folder is reused, whatever its zero padding) and writes the corrected points as human labels into
``CollectedData_<scorer>.h5`` + ``.csv`` through :class:`posenb.io.label_folder.LabelFolder` (atomic, previous
version kept as ``.bak``). Human labels are never overwritten: a frame whose row already holds human labels is
skipped (with a warning). Only points with likelihood >= ``pcutoff`` become labels (hand-placed points have 1).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posenb.errors import ConfigError, LabelError, ProofreadError

if TYPE_CHECKING:  # pragma: no cover
    from posenb.track.proofread import TrackEditor

__all__ = ["send_to_training_set", "track_to_config_individuals"]


def track_to_config_individuals(tracks: list[str], individuals: list[str]) -> list[int]:
    """Index in the config's ``individuals`` of each track: by name when every track is named after one, else
    by order (``ind1..indN`` tracks of a project without identity); ProofreadError when there are more tracks."""
    if all(t in individuals for t in tracks):
        return [individuals.index(t) for t in tracks]
    if len(tracks) <= len(individuals):
        return list(range(len(tracks)))
    raise ProofreadError(
        f"The file has {len(tracks)} tracks {tracks} but config.yaml lists {len(individuals)} individuals "
        f"{individuals}: delete or join the extra tracks first, or add individuals to config.yaml."
    )


def _write_png(path: Path, frame: np.ndarray) -> None:
    import cv2  # noqa: PLC0415

    from posenb.io.atomic import atomic_write  # noqa: PLC0415

    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ProofreadError(f"Could not encode {path.name} as PNG.")
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.tobytes()), backup=False)


def _images(video: Path, frames: list[int], folder: Path, existing: dict[int, str]) -> dict[int, str]:
    """``{frame: image name}``: existing images reused, the others read frame-exact and written."""
    from posenb.io.video import open_frame_exact  # noqa: PLC0415
    from posenb.project.paths import frame_name  # noqa: PLC0415

    names = {t: existing[t] for t in frames if t in existing}
    todo = [t for t in frames if t not in existing]
    if not todo:
        return names
    folder.mkdir(parents=True, exist_ok=True)
    with open_frame_exact(video) as reader:
        n = reader.n_frames
        bad = [t for t in todo if t >= n]
        if bad:
            raise ProofreadError(
                f"{video}: frames {bad[:5]} do not exist (the video has {n} frames); is this the video that "
                "was tracked?"
            )
        for t in todo:
            names[t] = frame_name(t, n)
            _write_png(folder / names[t], reader.read(t))
    return names


def _project(config):
    from posenb.project.config import project_parts, read_config  # noqa: PLC0415

    cfg = read_config(config)
    parts = project_parts(cfg)
    if not parts.multianimal:
        raise ConfigError(f"{config}: sending tracks to the training set needs a multi-animal project.")
    return cfg, parts


def _frames(editor: TrackEditor, frames) -> list[int]:
    frames = sorted({int(t) for t in (editor.edited_frames if frames is None else frames)})
    if not frames:
        raise ProofreadError("No frame to send: edit some frames first, or pass frames=[...].")
    bad = [t for t in frames if not 0 <= t < editor.n_frames]
    if bad:
        raise ProofreadError(f"frames {bad[:5]} out of range (the tracks have {editor.n_frames} frames).")
    return frames


def _part_map(names, known, where: str) -> list[tuple[int, int]]:
    missing = [b for b in names if b not in known]
    if missing:
        raise LabelError(
            f"The tracked file has body parts {missing} that config.yaml does not list for {where}; "
            "is this the project that made the tracks?"
        )
    return [(k, list(known).index(b)) for k, b in enumerate(names)]


def _fill(lf, row: int, editor: TrackEditor, t: int, slots: list[int], pcutoff: float) -> None:
    """Write the points of frame ``t`` with likelihood >= ``pcutoff`` into row ``row`` of the label folder."""
    data = editor.tracks[t]  # (N, P, 3)
    pmap = _part_map(editor.bodyparts, lf.bodyparts, "animals")
    for k, c in enumerate(slots):
        for p, q in pmap:
            x, y, like = data[k, p]
            if np.isfinite(x) and np.isfinite(y) and like >= pcutoff:
                lf.points[row, c, q] = (x, y)
    if editor.unique is not None and len(editor.unique_bodyparts):
        for p, q in _part_map(editor.unique_bodyparts, lf.unique_bodyparts, "unique parts"):
            x, y, like = editor.unique[t, p]
            if np.isfinite(x) and np.isfinite(y) and like >= pcutoff:
                lf.unique[row, q] = (x, y)


def send_to_training_set(config, editor: TrackEditor, frames=None, *, pcutoff: float | None = None) -> Path:
    """Send proofread frames of ``editor``'s video to the training set; returns the label file (``.h5``).

    frames : frame indices (default: :attr:`TrackEditor.edited_frames`). pcutoff : points below it are left
    unlabeled (default: config ``pcutoff``). Images go to ``labeled-data/<video stem>/`` (see the module
    docstring); frames whose row already has human labels are skipped with a warning. The video is added to
    config.yaml's ``video_sets`` when it is not there (DeepLabCut builds training sets from those).
    """
    from posenb.io.label_folder import LabelFolder, list_images  # noqa: PLC0415
    from posenb.project.paths import frame_index, video_stem  # noqa: PLC0415

    cfg, parts = _project(config)
    frames = _frames(editor, frames)
    video = editor.video
    if video is None or not Path(video).is_file():
        raise ProofreadError(
            f"The video of {editor.path} is needed to extract its frames ({video or 'none given'}): "
            "open the editor with load_track_editor(config, video)."
        )
    pcutoff = float(cfg.get("pcutoff", 0.6) if pcutoff is None else pcutoff)
    slots = track_to_config_individuals(editor.individuals, list(parts.individuals))
    folder = Path(cfg["project_path"]) / "labeled-data" / video_stem(video)
    lf = LabelFolder.load(folder, cfg["scorer"], parts=parts)
    labeled = lf.labeled()
    human = {lf.images[i] for i in range(lf.n_images) if labeled[i]}
    existing = {i: n for n in list_images(folder) if (i := frame_index(n)) is not None}
    existing.update({i: n for n in lf.images if (i := frame_index(n)) is not None and n in human})
    skipped = [t for t in frames if existing.get(t) in human]
    if skipped:
        warnings.warn(
            f"Frames {skipped[:10]} already have human labels in {lf.path}; left as they are.", stacklevel=2
        )
    todo = [t for t in frames if t not in skipped]
    names = _images(Path(video), todo, folder, existing)
    for t in todo:
        _fill(lf, lf.add_image(names[t]), editor, t, slots, pcutoff)
    path = lf.save() or lf.path
    _register_video(config, cfg, video)
    return path


def _register_video(config, cfg: dict, video) -> None:
    from posenb.project.create import add_new_videos  # noqa: PLC0415
    from posenb.project.paths import video_stem  # noqa: PLC0415

    if video_stem(video) not in {video_stem(v) for v in cfg.get("video_sets") or {}}:
        add_new_videos(config, [str(video)], copy_videos=False)
