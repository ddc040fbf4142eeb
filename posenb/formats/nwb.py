"""NWB files with the ndx-pose extension, written and read with pynwb + ndx-pose (``pip install pynwb ndx-pose``).

Labels are ndx-pose training data in the ``behavior`` processing module: a ``Skeletons`` container (body parts =
nodes, skeleton = edges) and ``PoseTraining`` whose ``TrainingFrame``\\ s each hold one ``SkeletonInstance``
(``node_locations`` ``(n_bodyparts, 2)`` pixels, NaN and ``node_visibility`` False where not labeled) and point
at their image in ``source_videos``: one ``ImageSeries`` per video, named after it, whose ``external_file`` lists
the labeled PNGs (paths relative to the .nwb; ``source_video_frame_index`` = position in that list). A source
``ImageSeries`` holding one video file (as other tools write) is read too: frames are then decoded from it.

Several animals: a training frame holds one ``SkeletonInstance`` per labeled individual, named after it (``id`` =
its index in config.yaml's ``individuals``); reading, an instance's name is its track (individual, ordered by
``id``), while ``instance`` / ``instance_<n>`` (posenb's single-animal files, sleap-io's) mean untracked animals,
which fill a frame's free individuals in order, unless the file has an ndx-multisubjects ``subjects_table`` (sleap-io
writes one for tracked labels): then the instance's ``id`` is its row, and the row's ``subject_id`` its track.
Individuals without any label do not appear in the file.

Predictions are ndx-pose ``PoseEstimation`` containers, one per video (named after it), with one
``PoseEstimationSeries`` per body part (x/y in pixels, confidence = likelihood, at the video's frame rate), as
DeepLabCut's dlc2nwb writes them; a multi-animal project's tracked file gives one ``PoseEstimation_<individual>``
per individual (and ``PoseEstimation_single`` for the unique body parts) in the video's file. Coordinates: origin
at the centre of the top-left pixel.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import uuid
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import GroupBuilder, LabelSet, VideoFrame, VideoPredictions, png_name, require

__all__ = ["NAME", "SUFFIXES", "read", "write", "write_predictions", "sniff"]

NAME = "nwb"
SUFFIXES = (".nwb",)
DESCRIPTION = "NWB with ndx-pose (PoseTraining labels, PoseEstimation predictions)"
REFERENCE_FRAME = "(0, 0) is the centre of the top-left pixel of the video frame; x to the right, y down; pixels."
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
MULTI_ANIMAL = True  # several skeleton instances per training frame, named after their individual
#: names of skeleton instances that carry no identity (posenb's single-animal files, sleap-io's instance_<i>)
UNTRACKED = re.compile(r"(instance(_\d+)?)?")


def sniff(path: Path) -> bool:
    return path.suffix.lower() == ".nwb"


def _libs():
    pynwb = require("pynwb", "pynwb")
    ndx_pose = require("ndx_pose", "ndx-pose")
    return pynwb, ndx_pose


def _nwbfile(pynwb, description: str, experimenter: str | None = None):
    kwargs = {}
    if experimenter:
        kwargs["experimenter"] = [experimenter]
    return pynwb.NWBFile(
        session_description=description,
        identifier=str(uuid.uuid4()),
        session_start_time=_dt.datetime.now(_dt.timezone.utc),
        **kwargs,
    )


def _nwb_name(text: str) -> str:
    return str(text).replace("/", "_").replace(":", "_") or "video"


def _skeleton(ndx_pose, bodyparts, skeleton, name="skeleton"):
    from posenb.project.project_config import skeleton_indices  # noqa: PLC0415

    edges = np.array(skeleton_indices(bodyparts, skeleton), dtype="uint64").reshape(-1, 2)
    return ndx_pose.Skeleton(name=name, nodes=list(bodyparts), edges=edges)


def _write_file(pynwb, nwbfile, target: Path) -> Path:
    from posenb.io.atomic import atomic_write

    def _write(tmp: Path) -> None:
        with warnings.catch_warnings():  # the temporary name ends in .nwb.tmp; the final one in .nwb
            warnings.filterwarnings("ignore", message=".*does not end in '.nwb'")
            with pynwb.NWBHDF5IO(str(tmp), mode="w") as io:
                io.write(nwbfile)

    return atomic_write(target, _write)


def _relpath(ref, folder: Path) -> str:
    try:
        return os.path.relpath(Path(ref).resolve(), folder.resolve())
    except ValueError:  # another drive on Windows
        return str(Path(ref).resolve())


def _instances(ndx_pose, labelset: LabelSet, xy: np.ndarray, skel) -> list:
    """The ``SkeletonInstance``\\ s of one frame: one named ``instance`` (single-animal), or one per labeled
    individual, named after it, ``id`` = its index in ``labelset.individuals``."""
    animals = [("instance", 0, xy)] if not labelset.individuals else []
    tracked = len(labelset.individuals) - labelset.n_untracked
    for a, animal in enumerate(xy if labelset.individuals else []):
        if np.isfinite(animal).any():
            animals.append((str(labelset.individuals[a]) if a < tracked else f"instance_{a}", a, animal))
    return [
        ndx_pose.SkeletonInstance(
            name=name,
            id=np.uint8(a) if a < 256 else np.uint16(a),
            node_locations=np.asarray(points, dtype="float64"),
            node_visibility=np.isfinite(points).all(axis=1),
            skeleton=skel,
        )
        for name, a, points in animals
    ]


def _check_names(labelset: LabelSet, target: Path) -> None:
    tracked = labelset.individuals[: len(labelset.individuals) - labelset.n_untracked]
    bad = [n for n in tracked if "/" in str(n) or UNTRACKED.fullmatch(str(n))]
    if bad:
        raise LabelError(
            f"{target}: individual name(s) {bad} cannot name an NWB skeleton instance (no '/', not empty, not "
            "'instance' or 'instance_<n>', which mean an untracked animal). Rename them in config.yaml first."
        )


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write the labels as ndx-pose ``PoseTraining`` (images referenced, not copied).

    A multi-animal ``labelset`` gives one ``SkeletonInstance`` per labeled individual and frame, named after it.
    """
    from pynwb.image import ImageSeries

    pynwb, ndx_pose = _libs()
    target = Path(path)
    _check_names(labelset, target)
    nwbfile = _nwbfile(pynwb, "posenb labels (ndx-pose PoseTraining)", labelset.scorer)
    skel = _skeleton(ndx_pose, labelset.bodyparts, labelset.skeleton)
    behavior = nwbfile.create_processing_module(name="behavior", description="pose labels exported by posenb")
    behavior.add(ndx_pose.Skeletons(skeletons=[skel]))
    series, frames = [], []
    for g in labelset.groups:
        files = []
        for name, ref in zip(g.names, g.images):
            if not isinstance(ref, Path) or not ref.is_file():
                raise LabelError(
                    f"Frame {g.stem}/{name} has no image file to reference in the .nwb; extract it first."
                )
            files.append(_relpath(ref, target.parent))
        images = ImageSeries(
            name=_nwb_name(g.stem),
            description=f"labeled frames of video {g.stem}" + (f" ({g.video})" if g.video else ""),
            unit="n.a.",
            format="external",
            external_file=files,
            starting_frame=list(range(len(files))),
            timestamps=np.arange(len(files), dtype="float64"),  # one image per file; no frame rate
        )
        series.append(images)
        for i, xy in enumerate(g.coords):
            frames.append(
                ndx_pose.TrainingFrame(
                    name=f"frame_{len(frames):06d}",
                    annotator=labelset.scorer,
                    skeleton_instances=ndx_pose.SkeletonInstances(
                        skeleton_instances=_instances(ndx_pose, labelset, xy, skel)
                    ),
                    source_video=images,
                    source_video_frame_index=np.uint64(i),
                )
            )
    training = ndx_pose.PoseTraining(
        training_frames=ndx_pose.TrainingFrames(training_frames=frames),
        source_videos=ndx_pose.SourceVideos(image_series=series),
    )
    behavior.add(training)
    return [_write_file(pynwb, nwbfile, Path(target))]


def _external(images) -> list[str]:
    files = images.external_file
    return [f.decode() if isinstance(f, bytes) else str(f) for f in (files[:] if files is not None else [])]


def _series_info(images, path: Path) -> tuple[list[str], Path | None, int]:
    """(external files, the video file when the series is one video, its frame count) of a source ImageSeries."""
    files = _external(images)
    if not files or Path(files[0]).suffix.lower() in IMAGE_SUFFIXES:
        return files, None, 0
    video = Path(files[0]) if Path(files[0]).is_absolute() else path.parent / files[0]
    n = 0
    if video.is_file():
        from posenb.io.video import open_video

        with open_video(video) as reader:
            n = reader.n_frames
    return files, video, n


def _frame_source(frame, path: Path, cache: dict):
    """(stem, name, image ref, video) of a TrainingFrame."""
    from posenb.project.paths import frame_name

    images = frame.source_video
    idx = int(frame.source_video_frame_index) if frame.source_video_frame_index is not None else 0
    if images is None:
        raise LabelError(f"{path}: training frame {frame.name} names no source video or images.")
    if images.name not in cache:
        cache[images.name] = _series_info(images, path)
    files, video, n = cache[images.name]
    if video is None:  # a list of images
        if idx >= len(files):
            raise LabelError(
                f"{path}: training frame {frame.name} points past the {len(files)} images of {images.name}."
            )
        rel = files[idx]
        ref = Path(rel) if Path(rel).is_absolute() else path.parent / rel
        parent = Path(rel.replace("\\", "/")).parent.name
        stem = parent if parent and parent != "labeled-data" else images.name
        return stem, png_name(Path(rel).name), ref, None
    ref = VideoFrame(video, idx) if video.is_file() else None
    return Path(files[0]).stem, frame_name(idx, max(n, idx + 1)), ref, video


def _instance_points(inst) -> np.ndarray:
    """``(n_nodes, 2)`` pixels of a SkeletonInstance, NaN where not visible."""
    xy = np.asarray(inst.node_locations[:], dtype="float64")[:, :2].copy()
    if inst.node_visibility is not None:
        xy[~np.asarray(inst.node_visibility[:], dtype=bool)] = np.nan
    return xy


def _subject_ids(nwbfile) -> list[str]:
    """The ``subject_id`` column of an ndx-multisubjects ``subjects_table`` (sleap-io's tracked files: a skeleton
    instance's ``id`` is its row), or ``[]``."""
    table = getattr(nwbfile, "subjects_table", None)
    if table is None or "subject_id" not in getattr(table, "colnames", ()):
        return []
    return [s.decode() if isinstance(s, bytes) else str(s) for s in table["subject_id"][:]]


def _training_rows(training, path: Path, subjects: list[str]) -> tuple[object, list]:
    """(the skeleton, [(frame, [(name or None, id, (n_nodes, 2) points), ...]), ...]) of a PoseTraining.

    An instance's name is its track; ``instance`` / ``instance_<n>`` (or empty) name none: then the subject of row
    ``id`` in ``subjects`` when there is one, else untracked (None)."""
    skeleton_obj, rows = None, []
    for frame in training.training_frames.training_frames.values():
        animals = []
        for inst in frame.skeleton_instances.skeleton_instances.values():
            skeleton_obj = skeleton_obj or inst.skeleton
            nodes = list(inst.skeleton.nodes[:])
            if inst.skeleton is not skeleton_obj and nodes != list(skeleton_obj.nodes[:]):
                raise LabelError(f"{path}: instances use different skeletons; posenb imports files with one.")
            name = str(inst.name or "")
            ident = int(inst.id) if inst.id is not None else len(animals)
            if UNTRACKED.fullmatch(name):
                name = subjects[ident] if ident < len(subjects) else None
            animals.append((name, ident, _instance_points(inst)))
        rows.append((frame, animals))
    if skeleton_obj is None:
        raise LabelError(f"{path}: its PoseTraining holds no training frame with a skeleton instance.")
    return skeleton_obj, rows


def _slots(rows: list) -> tuple[list[str], int]:
    """(slot names: tracks by instance id then first appearance, then ``individual<i>`` slots; n_untracked)."""
    order: dict[str, int] = {}
    for _frame, animals in rows:
        for name, ident, _xy in animals:
            if name is not None:
                order.setdefault(name, ident)
    tracks = sorted(order, key=lambda n: order[n])
    n_untracked = max((sum(name is None for name, _i, _xy in animals) for _f, animals in rows), default=0)
    extra = [f"individual{j}" for j in range(len(tracks) + 1, len(tracks) + n_untracked + 1)]
    return tracks + extra, n_untracked


def _frame_points(animals: list, tracks: list[str], n_slots: int, k: int) -> np.ndarray:
    """``(n_slots, k, 2)``: named instances in their track's slot, unnamed ones after the tracks, in order."""
    out = np.full((n_slots, k, 2), np.nan)
    free = iter(range(len(tracks), n_slots))
    for name, _ident, xy in animals:
        out[next(free) if name is None else tracks.index(name)] = xy
    return out


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read ndx-pose ``PoseTraining`` labels (``predictions`` does not apply: export predictions, import labels).

    Several skeleton instances on a frame, or instances named otherwise than ``instance`` / ``instance_<n>``,
    give a multi-animal :class:`LabelSet`: an instance's name is its track (individual), ordered by instance
    ``id``; ``instance``/``instance_<n>`` (as sleap-io names them) are untracked unless a ``subjects_table`` names
    the subject of their ``id``.
    """
    pynwb, _ndx_pose = _libs()
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    try:
        io = pynwb.NWBHDF5IO(str(path), mode="r", load_namespaces=True)
        nwbfile = io.read()
    except Exception as exc:  # h5py/hdmf raise many kinds for a file that is not NWB
        raise LabelError(f"{path}: cannot be read as an NWB file ({exc}).") from None
    try:
        behavior = nwbfile.processing.get("behavior")
        training = None
        if behavior is not None:
            training = next(
                (c for c in behavior.data_interfaces.values() if type(c).__name__ == "PoseTraining"), None
            )
        if training is None or training.training_frames is None:
            raise LabelError(
                f"{path}: holds no ndx-pose PoseTraining labels (a predictions file cannot be imported)."
            )
        skeleton_obj, rows = _training_rows(training, path, _subject_ids(nwbfile))
        nodes = [str(n) for n in skeleton_obj.nodes[:]]
        individuals, n_untracked = _slots(rows)
        multi = len(individuals) > 1 or n_untracked < len(individuals)
        builder, cache = GroupBuilder(len(nodes), len(individuals) if multi else 0), {}
        for frame, animals in rows:
            stem, name, ref, video = _frame_source(frame, path, cache)
            xy = _frame_points(
                animals, individuals[: len(individuals) - n_untracked], len(individuals), len(nodes)
            )
            builder.add(stem, name, xy if multi else xy[0], ref, video)
        edges = np.asarray(skeleton_obj.edges[:]) if skeleton_obj.edges is not None else np.zeros((0, 2))
        skeleton = [[nodes[int(a)], nodes[int(b)]] for a, b in edges.reshape(-1, 2)]
        scorer = str(next(iter(nwbfile.experimenter or []), None) or "posenb")
    finally:
        io.close()
    if not multi:
        return LabelSet(nodes, skeleton, builder.groups(), scorer)
    return LabelSet(nodes, skeleton, builder.groups(), scorer, individuals, n_untracked)


def write_predictions(pred: VideoPredictions, target: str | os.PathLike) -> Path:
    """A .nwb with the ``PoseEstimation`` of one video (as dlc2nwb writes one file per video).

    Several animals (a multi-animal project's tracked file): one ``PoseEstimation_<individual>`` per individual
    (one series per body part, linking the shared skeleton ``skeleton``), and ``PoseEstimation_single`` for the
    unique body parts (skeleton ``skeleton_single``), as DeepLabCut's dlc2nwb treats ``"single"``; all in the
    one file of the video.
    """
    pynwb, ndx_pose = _libs()
    nwbfile = _nwbfile(pynwb, "posenb predictions (ndx-pose PoseEstimation)")
    behavior = nwbfile.create_processing_module(name="behavior", description="pose predictions of posenb")
    n = len(pred.xy)
    timing = (
        {"rate": float(pred.fps)} if pred.fps and pred.fps > 0 else {"timestamps": np.arange(n, dtype=float)}
    )
    skel = _skeleton(ndx_pose, pred.bodyparts, pred.skeleton)
    if not pred.multianimal:
        behavior.add(ndx_pose.Skeletons(skeletons=[skel]))
        behavior.add(_estimation(ndx_pose, pred, _nwb_name(pred.stem), "", pred.animals()[0], skel, timing))
        return _write_file(pynwb, nwbfile, Path(target))
    skeletons = [skel]
    if pred.unique_bodyparts:
        skeletons.append(_skeleton(ndx_pose, pred.unique_bodyparts, pred.skeleton, name="skeleton_single"))
    behavior.add(ndx_pose.Skeletons(skeletons=skeletons))
    for group in pred.animals():
        name = _nwb_name(group[0])
        link = skel if group[0] in pred.individuals else skeletons[-1]
        behavior.add(
            _estimation(ndx_pose, pred, f"PoseEstimation_{name}", f" of {name}", group, link, timing)
        )
    return _write_file(pynwb, nwbfile, Path(target))


def _estimation(ndx_pose, pred: VideoPredictions, name: str, who: str, group: tuple, skel, timing: dict):
    """A ``PoseEstimation`` named ``name``: one ``PoseEstimationSeries`` per body part of ``group`` (``(individual,
    bodyparts, xy (n, K, 2), likelihood (n, K))``, see :meth:`VideoPredictions.animals`); ``who``: its words."""
    _individual, parts, xy, like = group
    series = [
        ndx_pose.PoseEstimationSeries(
            name=bp,
            description=f"{bp}{who} in video {pred.stem}",
            data=np.asarray(xy[:, j], dtype="float64"),
            unit="pixels",
            reference_frame=REFERENCE_FRAME,
            confidence=np.asarray(like[:, j], dtype="float64"),
            confidence_definition="likelihood of the network's prediction, in [0, 1]",
            **timing,
        )
        for j, bp in enumerate(parts)
    ]
    kwargs = {}
    if pred.video is not None:
        kwargs["original_videos"] = [str(pred.video)]
    if pred.size:
        kwargs["dimensions"] = np.array([pred.size], dtype="uint64")
    return ndx_pose.PoseEstimation(
        name=name,
        pose_estimation_series=series,
        description=f"posenb predictions of {pred.stem}{who}",
        scorer=pred.scorer,
        source_software="posenb",
        skeleton=skel,
        **kwargs,
    )
