"""COCO keypoints JSON (``images``, ``annotations``, ``categories``), read and written with the standard library.

Labels: one category whose ``keypoints`` are the body parts and whose ``skeleton`` holds 1-based index pairs;
one annotation per image with ``keypoints = [x1, y1, v1, ...]`` (v=0: not labeled, x=y=0; v=2: labeled; v=1,
labeled but occluded, is read as labeled). Image ``file_name`` is relative to the JSON's folder; posenb writes
``labeled-data/<stem>/<name>`` and copies the frames there. Several annotations on one image are several animals.

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
        raise multi_animal_error(path, f"it has {len(cats)} keypoint categories ({[c.get('name') for c in cats]})")
    return cats[0]


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read a COCO keypoints file; images are resolved relative to the JSON's folder."""
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
        if ann["image_id"] in per_image:
            name = images.get(ann["image_id"], {}).get("file_name", ann["image_id"])
            raise multi_animal_error(path, f"image {name} has several annotations (several animals)")
        per_image[ann["image_id"]] = ann
    ids = [i for i in images if i in per_image]
    if not ids:
        raise LabelError(f"{path}: no annotation with keypoints.")
    stems_names = [split_image_path(images[i]["file_name"], path.stem) for i in ids]
    arr = np.full((len(ids), k, 2), np.nan)
    for row, i in enumerate(ids):
        kp = np.asarray(per_image[i]["keypoints"], dtype="float64")
        if kp.size != 3 * k:
            raise LabelError(f"{path}: annotation of image {i} has {kp.size // 3} keypoints, the category {k}.")
        kp = kp.reshape(k, 3)
        seen = kp[:, 2] > 0
        arr[row, seen] = kp[seen, :2]
    groups = []
    for stem, rows in group_rows(stems_names).items():
        names = [png_name(stems_names[r][1]) for r in rows]
        if len(set(names)) != len(names):
            raise LabelError(f"{path}: two images are named alike in folder {stem!r}; rename one.")
        refs = [path.parent / images[ids[r]]["file_name"] for r in rows]
        groups.append(FrameGroup(stem, names, arr[rows], refs))
    return LabelSet(bodyparts, skeleton, groups, str(data.get("info", {}).get("contributor") or "posenb"))


def _category_entry(bodyparts: list[str], skeleton: list[list[str]]) -> dict:
    from posenb.project.project_config import skeleton_indices  # noqa: PLC0415

    # COCO counts key points from 1
    bones = [[i + 1, j + 1] for i, j in skeleton_indices(bodyparts, skeleton)]
    return {"id": 1, "name": "animal", "supercategory": "animal", "keypoints": list(bodyparts), "skeleton": bones}


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


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write the JSON (``path``, or ``<path>/annotations.json`` for a folder) and copy the frames next to it."""
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
            annotations.append(_annotation(image_id, image_id, xy))
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
