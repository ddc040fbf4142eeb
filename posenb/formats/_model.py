"""The in-memory form every format reads into and writes from: labeled frames grouped by video, body parts, skeleton.

A format module only translates between its file and these dataclasses; :mod:`posenb.formats.api` moves them
into and out of a project (labeled-data, config.yaml).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.project.config import UNIQUE_INDIVIDUAL

__all__ = [
    "FrameGroup",
    "LabelSet",
    "VideoPredictions",
    "VideoFrame",
    "ImageRef",
    "MULTI_ANIMAL_MESSAGE",
    "multi_animal_error",
    "require",
    "load_image",
]

MULTI_ANIMAL_MESSAGE = (
    "multi-animal import needs a multi-animal project (create_new_project(..., multianimal=True)) and a file that "
    "holds several animals: SLEAP .slp, COCO .json, NWB (ndx-pose) or DeepLabCut's multi-animal label files"
)


def multi_animal_error(path: str | os.PathLike, what: str, single_project: bool = False) -> LabelError:
    """The error for several animals per frame where posenb cannot import them.

    ``single_project``: the file is fine but the project is single-animal; else the file's format (or this file's
    layout, e.g. COCO with several keypoint categories) is one posenb imports one animal per frame.
    """
    if single_project:
        return LabelError(
            f"{path}: {what}, but this project is single-animal (one animal per frame): multi-animal import needs "
            "a multi-animal project. Create one (posenb.create_new_project(..., multianimal=True)) and import the "
            "file there, or keep one animal per frame in the source tool and import again."
        )
    return LabelError(
        f"{path}: {what}. posenb imports this file one animal per frame; {MULTI_ANIMAL_MESSAGE}. Export the "
        "labels from the source tool as one of those, or keep one animal per frame and import again."
    )


@dataclass(frozen=True)
class VideoFrame:
    """Frame ``index`` (0-based) of ``video``: decoded when the image is needed."""

    video: Path
    index: int


#: where a frame's image comes from: an image file (copied, or converted to PNG), a video frame (decoded), a
#: function returning ``(H, W, 3)`` RGB or ``(H, W)`` grey uint8 (images embedded in the file), or None (no image).
ImageRef = Path | VideoFrame | Callable[[], np.ndarray] | None


@dataclass
class FrameGroup:
    """The labeled frames of one video (one ``labeled-data/<stem>/`` folder).

    Attributes
    ----------
    stem : the video's file name without extension (the folder name).
    names : image file names in the folder (``img0042.png``), one per frame.
    coords : ``(n_frames, n_bodyparts, 2)`` float64, x/y in pixels of the image (origin: centre of the top-left
        pixel, as DeepLabCut and SLEAP), NaN where a part is not labeled; in a multi-animal :class:`LabelSet`
        ``(n_frames, n_individuals, n_bodyparts, 2)``, one slot per ``LabelSet.individuals`` (NaN = absent).
    images : one :data:`ImageRef` per frame.
    video : the source video, when known.
    unique : ``(n_frames, n_unique, 2)`` float64 pixels of ``LabelSet.unique_bodyparts`` (DeepLabCut's unique body
        parts of a multi-animal file, one per frame, not per animal; NaN = not labeled), or None without them.
    """

    stem: str
    names: list[str]
    coords: np.ndarray
    images: list = field(default_factory=list)
    video: Path | None = None
    unique: np.ndarray | None = None

    def __post_init__(self):
        self.coords = np.asarray(self.coords, dtype="float64")
        if self.unique is not None:
            self.unique = np.asarray(self.unique, dtype="float64").reshape(len(self.names), -1, 2)
        if self.coords.ndim not in (3, 4):
            self.coords = self.coords.reshape(len(self.names), -1, 2)
        if not self.images:
            self.images = [None] * len(self.names)


@dataclass
class LabelSet:
    """Labels read from a file or gathered from a project: body parts, skeleton (pairs of names), frame groups.

    ``individuals``: empty for one animal per frame; else the animal slots of the groups' 4-d ``coords``: the
    file's tracked animals first, by name (SLEAP tracks, DeepLabCut individuals, COCO ``track_id`` / ``individual``,
    NWB instance names), then ``n_untracked`` slots named ``individual<i>`` that hold untracked animals, packed to
    the first free slots of each frame. ``unique_bodyparts``: DeepLabCut's unique body parts (the groups'
    ``unique`` arrays), empty for the other formats.
    """

    bodyparts: list[str]
    skeleton: list[list[str]]
    groups: list[FrameGroup]
    scorer: str = "posenb"
    individuals: list[str] = field(default_factory=list)
    n_untracked: int = 0
    unique_bodyparts: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return sum(len(g.names) for g in self.groups)


@dataclass
class VideoPredictions:
    """A network's predictions for one video (the analysis file ``source``).

    One animal (``individuals`` empty): ``xy`` ``(n_frames, n_bodyparts, 2)`` float64 pixels, ``likelihood``
    ``(n_frames, n_bodyparts)`` in [0, 1]. Several animals (a multi-animal project's tracked file):
    ``individuals`` the file's tracks in its order (config.yaml's individuals, or ``ind1..indN``), ``xy``
    ``(n_frames, n_individuals, n_bodyparts, 2)`` and ``likelihood`` ``(n_frames, n_individuals, n_bodyparts)``,
    NaN where a track has no animal; the unique body parts (DeepLabCut's individual ``"single"``) in
    ``unique_bodyparts``, ``unique_xy`` ``(n_frames, n_unique, 2)`` and ``unique_likelihood``
    ``(n_frames, n_unique)``. ``skeleton``: pairs of names (each writer keeps the bones of the parts it
    writes together). ``fps``: frames per second of the video (0 when unknown); ``size``: (width, height) or None.
    Row ``i`` is frame ``i`` of the video.
    """

    stem: str
    video: Path | None
    bodyparts: list[str]
    skeleton: list[list[str]]
    xy: np.ndarray
    likelihood: np.ndarray
    scorer: str
    fps: float = 0.0
    size: tuple[int, int] | None = None
    individuals: list[str] = field(default_factory=list)
    unique_bodyparts: list[str] = field(default_factory=list)
    unique_xy: np.ndarray | None = None
    unique_likelihood: np.ndarray | None = None
    source: Path | None = None

    @property
    def multianimal(self) -> bool:
        return bool(self.individuals)

    def animals(self) -> list[tuple[str, list[str], np.ndarray, np.ndarray]]:
        """``[(individual, bodyparts, xy (n_frames, K, 2), likelihood (n_frames, K))]``: one per individual, then
        ``("single", unique_bodyparts, ...)`` when there are unique parts; ``[("", bodyparts, xy, likelihood)]``
        for one animal."""
        if not self.individuals:
            return [("", list(self.bodyparts), self.xy, self.likelihood)]
        out = [
            (str(name), list(self.bodyparts), self.xy[:, a], self.likelihood[:, a])
            for a, name in enumerate(self.individuals)
        ]
        if self.unique_bodyparts and self.unique_xy is not None:
            out.append(
                (UNIQUE_INDIVIDUAL, list(self.unique_bodyparts), self.unique_xy, self.unique_likelihood)
            )
        return out


def require(module: str, package: str):
    """Import an optional library, or raise ImportError telling what to pip install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"This file format needs the optional package {package!r} ({exc}). Install it with "
            f'`pip install {package}` or `pip install "posenb[formats]"`.'
        ) from None


def load_image(path: str | os.PathLike) -> np.ndarray:
    """An image file as ``(H, W, 3)`` RGB uint8; :class:`LabelError` when it cannot be read."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise LabelError(f"Image {path} cannot be read (missing or not an image).")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def split_image_path(rel: str, default_stem: str) -> tuple[str, str]:
    """(stem, name) of a labeled image path like ``labeled-data/<stem>/img01.png``; the folder above the file is
    the stem unless it is ``labeled-data`` or absent, then ``default_stem``."""
    parts = [p for p in str(rel).replace("\\", "/").split("/") if p not in ("", ".")]
    name = parts[-1]
    folder = parts[-2] if len(parts) >= 2 else ""
    stem = folder if folder and folder != "labeled-data" else default_stem
    return stem, name


def png_name(name: str) -> str:
    """Frames in labeled-data are PNG: ``frame7.jpg`` -> ``frame7.png``."""
    return str(Path(name).with_suffix(".png"))


class GroupBuilder:
    """Collects frames one by one per stem; :meth:`groups` returns the :class:`FrameGroup` list."""

    def __init__(self, n_bodyparts: int, n_individuals: int = 0):
        self.shape = (n_individuals, n_bodyparts, 2) if n_individuals else (n_bodyparts, 2)
        self._rows: dict[str, dict] = {}

    def add(self, stem: str, name: str, xy: np.ndarray, image, video: Path | None = None) -> None:
        """``xy``: ``(n_bodyparts, 2)``, or ``(n_individuals, n_bodyparts, 2)`` for a multi-animal builder."""
        row = self._rows.setdefault(stem, {"names": [], "xy": [], "images": [], "video": video})
        row["names"].append(name)
        row["xy"].append(np.asarray(xy, dtype="float64").reshape(self.shape))
        row["images"].append(image)

    def groups(self) -> list[FrameGroup]:
        return [
            FrameGroup(stem, r["names"], np.stack(r["xy"]), r["images"], r["video"])
            for stem, r in self._rows.items()
        ]


def group_rows(stems_names: list[tuple[str, str]]) -> dict[str, list[int]]:
    """Row numbers per stem, stems in order of first appearance."""
    out: dict[str, list[int]] = {}
    for i, (stem, _name) in enumerate(stems_names):
        out.setdefault(stem, []).append(i)
    return out
