"""SLEAP ``.slp`` files, read and written with sleap-io (``pip install sleap-io``).

Import takes the user-labeled instances (``predictions=True`` adds SLEAP's predicted instances on frames that have
no user instance). Frames come from the images embedded in the file, else from the video or image list it
references (a missing path is also looked for next to the .slp). Frame names: the image's own name for image
lists, else DeepLabCut's ``img<index>.png`` padded to the video's length. Files with SLEAP tracks or several
instances on a frame read as a multi-animal :class:`LabelSet` (tracks -> individuals by name, untracked instances
in the slots after them); :func:`posenb.formats.api.import_labels` puts them into a multi-animal project. The
track ``"single"`` is DeepLabCut's unique body parts: the nodes labeled on it become ``unique_bodyparts``, and export
writes a project's unique parts the same way (extra nodes on an instance of that track).

Export (one instance per labeled individual, on a track named after it, for a multi-animal project) references
the project's video when every frame name is ``img<index>.png`` of it, else the PNG files in ``labeled-data``
(``embed=True`` stores the frames inside the .slp, making it self-contained). Predictions become SLEAP predicted
instances with per-point scores (the likelihoods) on the analysed video; a multi-animal project's tracked file
gives one predicted instance per individual and frame on a track named after it, and its unique body parts are
extra skeleton nodes held by an instance on the track ``"single"`` (see :func:`write_predictions`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import (
    FrameGroup,
    GroupBuilder,
    LabelSet,
    VideoFrame,
    VideoPredictions,
    png_name,
    require,
)
from posenb.project.config import UNIQUE_INDIVIDUAL

__all__ = ["NAME", "SUFFIXES", "read", "write", "write_predictions", "sniff"]

NAME = "slp"
SUFFIXES = (".slp", ".pkg.slp")
MULTI_ANIMAL = True  # several animals per frame (tracks), in and out
UNIQUE_BODYPARTS = True  # DeepLabCut's unique body parts, on the track "single", in and out
DESCRIPTION = "SLEAP labels (.slp, via sleap-io)"


def sniff(path: Path) -> bool:
    return path.suffix.lower() == ".slp"


def _sio():
    return require("sleap_io", "sleap-io")


def _load(path: Path):
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    try:
        return _sio().load_slp(str(path), open_videos=False)
    except (OSError, KeyError, ValueError) as exc:
        raise LabelError(f"{path}: cannot be read as a SLEAP .slp file ({exc}).") from None


def _is_embedded(video) -> bool:
    return bool((video.backend_metadata or {}).get("has_embedded_images"))


def _find(filename, slp: Path) -> Path | None:
    if not filename or not isinstance(filename, str):
        return None
    p = Path(filename)
    for cand in (p, slp.parent / p, slp.parent / p.name):
        if cand.is_file():
            return cand
    return None


def _n_frames(video, path: Path | None) -> int:
    shape = (getattr(video, "backend_metadata", None) or {}).get("shape")
    if shape:
        return int(shape[0])
    if path is not None:
        from posenb.io.video import open_video

        with open_video(path) as reader:
            return reader.n_frames
    return 0


def _video_source(video, slp: Path):
    """(stem, image-name function, image-ref function, video path) for a sleap-io Video."""
    from posenb.project.paths import frame_name

    embedded = _is_embedded(video)
    origin = video.source_video if embedded and video.source_video is not None else video
    fname = origin.filename
    if isinstance(fname, list):  # an image list: names are the images' own
        files = [Path(f) for f in fname]
        stem = files[0].parent.name if files else slp.stem
        name_of = lambda i: png_name(files[i].name)  # noqa: E731
        if embedded:
            video.open()
            ref_of = lambda i: lambda: video[i]  # noqa: E731
        else:
            ref_of = lambda i: _find(str(files[i]), slp)  # noqa: E731
        return stem, name_of, ref_of, None
    path = None if embedded and not _find(fname, slp) else _find(fname, slp)
    stem = Path(str(fname).replace("\\", "/")).stem if fname and fname != "." else slp.stem
    n = _n_frames(origin, path) or _n_frames(video, path)
    name_of = lambda i: frame_name(i, max(n, i + 1))  # noqa: E731
    if embedded:
        video.open()
        ref_of = lambda i: lambda: video[i]  # noqa: E731
    else:
        ref_of = lambda i: VideoFrame(path, i) if path is not None else None  # noqa: E731
    return stem, name_of, ref_of, path


def _chosen(lf, predictions: bool) -> list:
    """A frame's user instances, else (with ``predictions``) its predicted ones."""
    chosen = list(lf.user_instances)
    if not chosen and predictions:
        chosen = list(lf.predicted_instances)
    return chosen


def _animal_slots(labels, rows: list) -> tuple[list[str], int]:
    """(individuals, n_untracked): the tracks the chosen instances use, in the file's order, then one slot per
    untracked instance of the frame with most of them."""
    used = {id(i.track) for _lf, insts in rows for i in insts if i.track is not None}
    tracks = [t for t in labels.tracks if id(t) in used]
    n_untracked = max([sum(i.track is None for i in insts) for _lf, insts in rows] or [0])
    names = [str(t.name) for t in tracks]
    names += [f"individual{i}" for i in range(len(names) + 1, len(names) + n_untracked + 1)]
    return names, n_untracked


def _frame_animals(lf, insts: list, tracks: list, n_slots: int, k: int, path: Path) -> np.ndarray:
    """``(n_slots, k, 2)``: tracked instances in their track's slot, untracked ones after the tracks, in order."""
    out = np.full((n_slots, k, 2), np.nan)
    free = iter(range(len(tracks), n_slots))
    for inst in insts:
        if inst.track is None:
            j = next(free)
        else:
            j = next(n for n, t in enumerate(tracks) if t is inst.track)
            if np.isfinite(out[j]).any():
                raise LabelError(
                    f"{path}: frame {lf.frame_idx} has two instances on track {inst.track.name!r}. Fix the tracks in "
                    "SLEAP (one instance per track and frame) and import again."
                )
        out[j] = np.asarray(inst.numpy(), dtype="float64")[:, :2]
    return out


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read a .slp file: user instances (plus predicted ones on frames without, when ``predictions``).

    A file whose instances have SLEAP tracks, or with several instances on a frame, gives a multi-animal
    :class:`LabelSet` (``individuals``: the track names, then ``individual<i>`` slots for untracked instances).
    """
    path = Path(path)
    labels = _load(path)
    if len(labels.skeletons) != 1:
        raise LabelError(
            f"{path}: holds {len(labels.skeletons)} skeletons; posenb imports files with exactly one."
        )
    skel = labels.skeletons[0]
    bodyparts = list(skel.node_names)
    skeleton = [[bodyparts[a], bodyparts[b]] for a, b in skel.edge_inds]
    rows = [(lf, insts) for lf in labels.labeled_frames if (insts := _chosen(lf, predictions))]
    individuals, n_untracked = _animal_slots(labels, rows)
    multi = len(individuals) > 1 or any(i.track is not None for _lf, insts in rows for i in insts)
    tracks = [t for t in labels.tracks if str(t.name) in individuals[: len(individuals) - n_untracked]]
    builder = GroupBuilder(len(bodyparts), len(individuals) if multi else 0)
    sources = {}
    for lf, insts in rows:
        vid = labels.videos.index(lf.video)
        if vid not in sources:
            sources[vid] = _video_source(lf.video, path)
        stem, name_of, ref_of, video_path = sources[vid]
        i = int(lf.frame_idx)
        xy = _frame_animals(lf, insts, tracks, len(individuals), len(bodyparts), path)
        builder.add(stem, name_of(i), xy if multi else xy[0], ref_of(i), video_path)
    groups = builder.groups()
    if not groups:
        raise LabelError(
            f"{path}: no user-labeled instance"
            + ("" if predictions else " (pass predictions=True for SLEAP's predictions)")
        )
    if not multi:
        return LabelSet(bodyparts, skeleton, groups, "sleap")
    return _split_unique(LabelSet(bodyparts, skeleton, groups, "sleap", individuals, n_untracked), path)


def _split_unique(labelset: LabelSet, path: Path) -> LabelSet:
    """The track ``"single"`` holds DeepLabCut's unique body parts (as posenb's export and sleap-io's reading of
    DeepLabCut tables write them): the nodes labeled on it become ``unique_bodyparts`` (each group's ``unique``),
    the others stay the animals' parts. A node labeled both on ``"single"`` and on an animal is a LabelError."""
    tracked = labelset.individuals[: len(labelset.individuals) - labelset.n_untracked]
    if UNIQUE_INDIVIDUAL not in tracked:
        return labelset
    slot = labelset.individuals.index(UNIQUE_INDIVIDUAL)
    others = [i for i in range(len(labelset.individuals)) if i != slot]
    on_single = np.any([np.isfinite(g.coords[:, slot]).any(axis=(0, 2)) for g in labelset.groups], axis=0)
    on_animals = np.any(
        [np.isfinite(g.coords[:, others]).any(axis=(0, 1, 3)) for g in labelset.groups], axis=0
    )
    both = [labelset.bodyparts[k] for k in np.flatnonzero(on_single & on_animals)]
    if both:
        raise LabelError(
            f"{path}: node(s) {both} are labeled both on the track {UNIQUE_INDIVIDUAL!r} (DeepLabCut's unique body "
            "parts) and on animals. Rename that track in SLEAP, or keep those nodes on one of them, and import again."
        )
    uniq, parts = np.flatnonzero(on_single), np.flatnonzero(~on_single)
    for g in labelset.groups:
        g.unique = g.coords[:, slot][:, uniq]
        g.coords = g.coords[:, others][:, :, parts]
    names = [labelset.bodyparts[k] for k in parts]
    unique = [labelset.bodyparts[k] for k in uniq]
    known = set(names) | set(unique)
    skeleton = [e for e in labelset.skeleton if set(e) <= known]
    individuals = [n for i, n in enumerate(labelset.individuals) if i != slot]
    return LabelSet(names, skeleton, labelset.groups, "sleap", individuals, labelset.n_untracked, unique)


def _multi_animal_array(path: str | os.PathLike, predictions: bool = False) -> dict:
    """A multi-animal .slp as arrays (the benchmarks' reader; :func:`read` gives the same as a LabelSet).

    Returns a dict: ``coords`` ``(n_frames, n_individuals, n_bodyparts, 2)`` float64 pixels (NaN = absent),
    ``individuals`` (track names, ``individual<i>`` for untracked slots), ``bodyparts``, ``skeleton``,
    ``frame_indices`` ``(n_frames,)`` int and ``videos`` (one video file name per frame).
    """
    path = Path(path)
    labels = _load(path)
    skel = labels.skeletons[0]
    bodyparts = list(skel.node_names)
    rows = [(lf, insts) for lf in labels.labeled_frames if (insts := _chosen(lf, predictions))]
    individuals, n_untracked = _animal_slots(labels, rows)
    tracks = [t for t in labels.tracks if str(t.name) in individuals[: len(individuals) - n_untracked]]
    coords = np.stack(
        [_frame_animals(lf, insts, tracks, len(individuals), len(bodyparts), path) for lf, insts in rows]
    ).reshape(len(rows), len(individuals), len(bodyparts), 2)
    videos = []
    for lf, _ in rows:
        src = (
            lf.video.source_video
            if _is_embedded(lf.video) and lf.video.source_video is not None
            else lf.video
        )
        videos.append(str(src.filename))
    return {
        "coords": coords,
        "individuals": individuals,
        "bodyparts": bodyparts,
        "skeleton": [[bodyparts[a], bodyparts[b]] for a, b in skel.edge_inds],
        "frame_indices": np.array([int(lf.frame_idx) for lf, _ in rows], dtype=int),
        "videos": videos,
    }


def _save(sio, labels, tmp: Path, **kwargs) -> None:
    """``sio.save_slp`` to the temporary file of an atomic write (sleap-io wants the name to end in .slp)."""
    named = tmp.with_suffix(".slp")  # .<name>.<pid>.<random>.slp beside the temporary file
    try:
        sio.save_slp(labels, str(named), verbose=False, **kwargs)
        os.replace(named, tmp)
    finally:
        named.unlink(missing_ok=True)


def _skeleton(sio, bodyparts, skeleton):
    return sio.Skeleton(list(bodyparts), edges=[tuple(b) for b in skeleton])


def _group_video(sio, g: FrameGroup):
    """(sleap-io Video, frame indices): the source video when all names are its ``img<index>.png``."""
    from posenb.project.paths import frame_index, frame_name

    if g.video is not None and Path(g.video).is_file():
        n = _n_frames(None, Path(g.video))
        idx = [frame_index(name) for name in g.names]
        if all(i is not None and i < n and frame_name(i, n) == name for i, name in zip(idx, g.names)):
            return sio.Video.from_filename(str(g.video)), idx
    files = []
    for name, ref in zip(g.names, g.images):
        if not isinstance(ref, Path) or not ref.is_file():
            raise LabelError(
                f"Frame {g.stem}/{name} has no image file to reference in the .slp; extract it first."
            )
        files.append(str(Path(ref).resolve()))
    return sio.Video.from_filename(files), list(range(len(files)))


def write(labelset: LabelSet, path: str | os.PathLike, embed: bool = False) -> list[Path]:
    """Write a .slp of user instances; ``embed=True`` stores the frames in the file.

    A multi-animal ``labelset`` gives one instance per labeled individual, on a SLEAP track named after it; its
    unique body parts are extra nodes held by an instance on the track ``"single"`` (as :func:`write_predictions`).
    """
    from posenb.io.atomic import atomic_write

    sio = _sio()
    unique = list(labelset.unique_bodyparts) if labelset.individuals else []
    skel = _skeleton(sio, list(labelset.bodyparts) + unique, labelset.skeleton)
    names = list(labelset.individuals) + ([UNIQUE_INDIVIDUAL] if unique else [])
    tracks = [sio.Track(name=str(n)) for n in names]
    frames, videos = [], []
    for g in labelset.groups:
        video, indices = _group_video(sio, g)
        videos.append(video)
        for row, (i, xy) in enumerate(zip(indices, g.coords)):
            animals = xy if tracks else xy[None]
            if unique:  # the animals' nodes, then the unique parts on the track "single"
                k, u = len(labelset.bodyparts), len(unique)
                single = np.full((1, k + u, 2), np.nan)
                if g.unique is not None:
                    single[0, k:] = g.unique[row]
                animals = np.concatenate(
                    [np.pad(animals, ((0, 0), (0, u), (0, 0)), constant_values=np.nan), single]
                )
            insts = [
                sio.Instance.from_numpy(np.asarray(a, dtype="float64"), skeleton=skel, track=t)
                for a, t in zip(animals, tracks or [None])
                if np.isfinite(a).any()
            ]
            if insts:
                frames.append(sio.LabeledFrame(video=video, frame_idx=int(i), instances=insts))
    labels = sio.Labels(labeled_frames=frames, videos=videos, skeletons=[skel], tracks=tracks)
    target = Path(path)
    atomic_write(target, lambda tmp: _save(sio, labels, tmp, embed="user" if embed else False))
    return [target]


def write_predictions(pred: VideoPredictions, target: str | os.PathLike) -> Path:
    """A .slp of one video's predictions: SLEAP predicted instances with per-point scores (the likelihoods).

    Several animals: one predicted instance per individual and frame (skipped where the individual has no point),
    on a SLEAP track named after it; instance score = the mean likelihood of its points. The unique body parts are
    extra nodes of the one skeleton, held by an instance on the track ``"single"`` (as sleap-io reads
    DeepLabCut's multi-animal tables); the other nodes of an instance are missing (NaN).
    """
    from posenb.io.atomic import atomic_write

    sio = _sio()
    groups = pred.animals()
    nodes = list(dict.fromkeys(bp for _name, parts, _xy, _like in groups for bp in parts))
    skel = _skeleton(sio, nodes, pred.skeleton)
    if pred.video is None or not Path(pred.video).is_file():
        raise LabelError(f"Video of {pred.stem} not found: a .slp of predictions references its video.")
    video = sio.Video.from_filename(str(pred.video))
    tracks = [sio.Track(name=name) for name, *_ in groups] if pred.multianimal else [None]
    slots = [[nodes.index(bp) for bp in parts] for _name, parts, _xy, _like in groups]
    frames = []
    for i in range(len(pred.xy)):
        insts = []
        for (_name, _parts, xy, like), track, slot in zip(groups, tracks, slots):
            if not np.isfinite(xy[i]).any():
                continue
            points, scores = np.full((len(nodes), 2), np.nan), np.full(len(nodes), np.nan)
            points[slot], scores[slot] = xy[i], like[i]
            score = float(np.nanmean(like[i])) if np.isfinite(like[i]).any() else 0.0
            insts.append(
                sio.PredictedInstance.from_numpy(
                    points, skeleton=skel, point_scores=scores, score=score, track=track
                )
            )
        if insts:
            frames.append(sio.LabeledFrame(video=video, frame_idx=i, instances=insts))
    used = [t for t in tracks if t is not None]
    labels = sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel], tracks=used)
    return atomic_write(Path(target), lambda tmp: _save(sio, labels, tmp))
