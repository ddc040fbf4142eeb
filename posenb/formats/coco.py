"""COCO keypoints JSON (``images``, ``annotations``, ``categories``), read and written with the standard library.

Labels: one category whose ``keypoints`` are the body parts and whose ``skeleton`` holds 1-based index pairs;
one annotation per image with ``keypoints = [x1, y1, v1, ...]`` (v=0: not labeled, x=y=0; v=2: labeled; v=1,
labeled but occluded, is read as labeled). Image ``file_name`` is relative to the JSON's folder; posenb writes
``labeled-data/<stem>/<name>`` and copies the frames there.

Several annotations on one image are several animals. An annotation's identity is its ``individual`` name (or
``attributes.individual``, as CVAT exports attributes), else its ``track_id`` (PoseTrack's convention; an integer
``n`` >= 0 is the track ``track<n>``, a string the track of that name, a negative one untracked). Tracked animals
go to the project's individual of their name; annotations without identity are untracked and fill a frame's free
individuals in order (:mod:`posenb.formats._animals`). A multi-animal project exports one annotation per labeled
individual with ``track_id`` (the individual's index in config.yaml's ``individuals``) and ``individual`` (its
name), so a round trip gives the same individuals; individuals without any label do not appear in the file.

Predictions are written in the same layout, one image entry per video frame (``file_name``
``<stem>/img0042.png``, with ``video`` and ``frame_index`` fields), each annotation carrying ``score`` (mean
likelihood) and ``keypoint_scores`` (one likelihood per body part, as MMPose writes them). A multi-animal
project's tracked file gives one annotation per individual and frame with ``track_id`` (the individual's index)
and ``individual`` (its name); unique body parts are a second category ``"single"`` (see
:func:`write_predictions`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import (
    FrameGroup,
    LabelSet,
    VideoPredictions,
    group_rows,
    multi_animal_error,
    png_name,
    split_image_path,
)
from posenb.io.atomic import atomic_write_text

__all__ = ["NAME", "SUFFIXES", "read", "write", "write_predictions", "sniff"]

NAME = "coco"
SUFFIXES = (".json",)
MULTI_ANIMAL = True  # several annotations per image, identity in track_id / individual
DESCRIPTION = "COCO keypoints JSON (images, annotations, one category with keypoints)"


def sniff(path: Path) -> bool:
    return path.suffix.lower() == ".json"


def _load(path: Path) -> dict:
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: not a JSON file ({exc}).") from None
    if not isinstance(data, dict) or not {"images", "annotations", "categories"} <= set(data):
        raise LabelError(f"{path}: not a COCO file (expected keys 'images', 'annotations', 'categories').")
    return data


def _category(path: Path, data: dict) -> dict:
    cats = [c for c in data["categories"] if c.get("keypoints")]
    if not cats:
        raise LabelError(f"{path}: no category lists 'keypoints' (this is not a COCO keypoints file).")
    if len(cats) > 1:
        raise multi_animal_error(
            path, f"it has {len(cats)} keypoint categories ({[c.get('name') for c in cats]})"
        )
    return cats[0]


def _identity(ann: dict) -> tuple[str | None, float]:
    """(individual name or None when untracked, track id or inf) of an annotation: its ``individual`` (or
    ``attributes.individual``) name, else ``track<track_id>`` for a ``track_id`` >= 0 (PoseTrack's convention)."""
    attrs = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
    name = ann.get("individual", attrs.get("individual"))
    tid = ann.get("track_id", attrs.get("track_id"))
    number = tid if isinstance(tid, (int, float)) and not isinstance(tid, bool) and tid >= 0 else None
    order = float(number) if number is not None else math.inf
    if name not in (None, ""):
        return str(name), order
    if number is not None:
        return f"track{int(number) if float(number).is_integer() else number}", order
    if isinstance(tid, str) and tid.strip():
        return tid.strip(), order
    return None, order


def _points(path: Path, ann: dict, image_id, k: int) -> np.ndarray:
    """``(k, 2)`` pixels of an annotation's keypoints (NaN where v = 0)."""
    kp = np.asarray(ann["keypoints"], dtype="float64")
    if kp.size != 3 * k:
        raise LabelError(
            f"{path}: annotation of image {image_id} has {kp.size // 3} keypoints, the category {k}."
        )
    kp = kp.reshape(k, 3)
    xy = np.full((k, 2), np.nan)
    seen = kp[:, 2] > 0
    xy[seen] = kp[seen, :2]
    return xy


def _animal_slots(path: Path, images: dict, per_image: dict, ids: list) -> tuple[list[str], int, dict]:
    """(slot names: tracks by track id then first appearance, then ``individual<i>`` slots for untracked animals;
    n_untracked; {image id: [(slot, annotation), ...]})."""
    order: dict[str, float] = {}
    for i in ids:
        for ann in per_image[i]:
            name, tid = _identity(ann)
            if name is not None:
                order[name] = min(order.get(name, math.inf), tid)
    tracks = sorted(order, key=lambda n: order[n])  # stable: first appearance among equal ids
    n_untracked = max(sum(_identity(a)[0] is None for a in per_image[i]) for i in ids)
    names = tracks + [f"individual{j}" for j in range(len(tracks) + 1, len(tracks) + n_untracked + 1)]
    slots = {}
    for i in ids:
        free, taken, rows = iter(range(len(tracks), len(names))), set(), []
        for ann in per_image[i]:
            name = _identity(ann)[0]
            j = next(free) if name is None else tracks.index(name)
            if j in taken:
                raise LabelError(
                    f"{path}: image {images[i].get('file_name', i)} has two annotations of individual {name!r}. "
                    "Keep one annotation per individual and image and import again."
                )
            taken.add(j)
            rows.append((j, ann))
        slots[i] = rows
    return names, n_untracked, slots


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read a COCO keypoints file; images are resolved relative to the JSON's folder.

    Several annotations on an image, or annotations with an identity (``track_id``, ``individual``), give a
    multi-animal :class:`LabelSet` (tracks by name, then ``individual<i>`` slots for untracked annotations).
    """
    path = Path(path)
    data = _load(path)
    cat = _category(path, data)
    bodyparts = [str(k) for k in cat["keypoints"]]
    k = len(bodyparts)
    skeleton = [[bodyparts[int(a) - 1], bodyparts[int(b) - 1]] for a, b in cat.get("skeleton") or []]
    images = {img["id"]: img for img in data["images"]}
    per_image: dict = {}
    for ann in data["annotations"]:
        if ann.get("category_id", cat["id"]) != cat["id"] or not ann.get("keypoints"):
            continue
        per_image.setdefault(ann["image_id"], []).append(ann)
    ids = [i for i in images if i in per_image]
    if not ids:
        raise LabelError(f"{path}: no annotation with keypoints.")
    individuals, n_untracked, slots = _animal_slots(path, images, per_image, ids)
    multi = len(individuals) > 1 or n_untracked < len(individuals)
    arr = np.full((len(ids), max(len(individuals), 1), k, 2), np.nan)
    for row, i in enumerate(ids):
        for j, ann in slots[i]:
            arr[row, j] = _points(path, ann, i, k)
    stems_names = [split_image_path(images[i]["file_name"], path.stem) for i in ids]
    groups = []
    for stem, rows in group_rows(stems_names).items():
        names = [png_name(stems_names[r][1]) for r in rows]
        if len(set(names)) != len(names):
            raise LabelError(f"{path}: two images are named alike in folder {stem!r}; rename one.")
        refs = [path.parent / images[ids[r]]["file_name"] for r in rows]
        groups.append(FrameGroup(stem, names, arr[rows] if multi else arr[rows, 0], refs))
    scorer = str(data.get("info", {}).get("contributor") or "posenb")
    if not multi:
        return LabelSet(bodyparts, skeleton, groups, scorer)
    return LabelSet(bodyparts, skeleton, groups, scorer, individuals, n_untracked)


def _category_entry(bodyparts: list[str], skeleton: list[list[str]]) -> dict:
    from posenb.project.project_config import skeleton_indices  # noqa: PLC0415

    # COCO counts key points from 1
    bones = [[i + 1, j + 1] for i, j in skeleton_indices(bodyparts, skeleton)]
    return {
        "id": 1,
        "name": "animal",
        "supercategory": "animal",
        "keypoints": list(bodyparts),
        "skeleton": bones,
    }


def _annotation(ann_id: int, image_id: int, xy: np.ndarray) -> dict:
    seen = np.isfinite(xy).all(axis=1)
    kp = []
    for (x, y), ok in zip(xy, seen):
        kp += [float(x), float(y), 2] if ok else [0, 0, 0]
    if seen.any():
        x0, y0 = xy[seen].min(axis=0)
        x1, y1 = xy[seen].max(axis=0)
        bbox = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
    else:
        bbox = [0, 0, 0, 0]
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "keypoints": kp,
        "num_keypoints": int(seen.sum()),
        "bbox": bbox,
        "area": bbox[2] * bbox[3],
        "iscrowd": 0,
    }


def _image_size(ref) -> tuple[int, int] | None:
    import cv2

    if isinstance(ref, Path) and ref.is_file():
        img = cv2.imread(str(ref), cv2.IMREAD_UNCHANGED)
        if img is not None:
            return int(img.shape[1]), int(img.shape[0])
    return None


def _frame_annotations(labelset: LabelSet, xy: np.ndarray, image_id: int, first_id: int) -> list[dict]:
    """The annotations of one frame: one (single-animal), or one per labeled individual with ``track_id`` (its
    index in ``labelset.individuals``) and ``individual`` (its name); ids from ``first_id``."""
    if not labelset.individuals:
        return [_annotation(image_id, image_id, xy)]
    tracked = len(labelset.individuals) - labelset.n_untracked
    out = []
    for a, animal in enumerate(xy):
        if not np.isfinite(animal).any():
            continue
        ann = _annotation(first_id + len(out), image_id, animal)
        if a < tracked:
            ann["track_id"] = a
            ann["individual"] = str(labelset.individuals[a])
        out.append(ann)
    return out


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write the JSON (``path``, or ``<path>/annotations.json`` for a folder) and copy the frames next to it.

    A multi-animal ``labelset`` gives one annotation per labeled individual, with ``track_id`` and ``individual``.
    """
    from posenb.formats._images import write_frame_images

    target = Path(path) if Path(path).suffix.lower() == ".json" else Path(path) / "annotations.json"
    root = target.parent
    images, annotations = [], []
    for g in labelset.groups:
        folder = root / "labeled-data" / g.stem
        write_frame_images(folder, g.names, g.images)
        for name, xy in zip(g.names, g.coords):
            image_id = len(images) + 1
            entry = {"id": image_id, "file_name": f"labeled-data/{g.stem}/{name}"}
            size = _image_size(folder / name)
            if size:
                entry["width"], entry["height"] = size
            images.append(entry)
            annotations += _frame_annotations(labelset, xy, image_id, len(annotations) + 1)
    data = {
        "info": {"description": "exported by posenb", "contributor": labelset.scorer},
        "images": images,
        "annotations": annotations,
        "categories": [_category_entry(labelset.bodyparts, labelset.skeleton)],
    }
    atomic_write_text(target, json.dumps(data, indent=1))
    return [target]


def write_predictions(pred: VideoPredictions, target: str | os.PathLike) -> Path:
    """COCO JSON of one video's predictions: one image entry per frame, ``score`` and ``keypoint_scores``.

    Several animals (a multi-animal project's tracked file): one annotation per individual and frame where it has
    a point, with ``track_id`` (its index in the file's individuals) and ``individual`` (its name); the unique body
    parts are a second category (id 2, ``"single"``) with one annotation per frame, ``individual`` ``"single"``.
    """
    from posenb.project.paths import frame_name

    n = len(pred.xy)
    images, annotations = [], []
    for i in range(n):
        entry = {"id": i + 1, "file_name": f"{pred.stem}/{frame_name(i, n)}", "frame_index": i}
        if pred.video is not None:
            entry["video"] = str(pred.video)
        if pred.size:
            entry["width"], entry["height"] = pred.size
        images.append(entry)
        if pred.multianimal:
            annotations += _animal_annotations(pred, i, len(annotations) + 1)
        else:
            annotations.append(_scored(_annotation(i + 1, i + 1, pred.xy[i]), pred.likelihood[i]))
    categories = [_category_entry(pred.bodyparts, pred.skeleton)]
    if pred.multianimal and pred.unique_bodyparts:
        categories.append(dict(_category_entry(pred.unique_bodyparts, pred.skeleton), id=2, name="single"))
    data = {
        "info": {
            "description": f"predictions of {pred.scorer}, exported by posenb",
            "contributor": pred.scorer,
        },
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    return atomic_write_text(Path(target), json.dumps(data))


def _scored(ann: dict, like: np.ndarray) -> dict:
    """``ann`` with ``keypoint_scores`` (the likelihoods; 0 where NaN) and ``score`` (their mean)."""
    scores = [float(v) if math.isfinite(v) else 0.0 for v in like]
    ann["keypoint_scores"] = scores
    ann["score"] = float(np.mean(scores)) if scores else 0.0
    return ann


def _animal_annotations(pred: VideoPredictions, i: int, first_id: int) -> list[dict]:
    """Frame ``i``'s annotations of a multi-animal ``pred``: one per individual with a point, ``track_id`` = its
    index in ``pred.individuals`` and ``individual`` = its name; the unique parts under category 2 with
    ``individual`` ``"single"`` and ``track_id`` = the number of individuals (its index in the tracked file)."""
    out = []
    for track_id, (name, _parts, xy, like) in enumerate(pred.animals()):
        if not np.isfinite(xy[i]).any():
            continue
        ann = _scored(_annotation(first_id + len(out), i + 1, xy[i]), like[i])
        ann["category_id"] = 1 if name in pred.individuals else 2
        ann["track_id"], ann["individual"] = track_id, name
        out.append(ann)
    return out
