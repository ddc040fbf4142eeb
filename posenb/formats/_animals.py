"""Several animals per frame: a multi-animal :class:`LabelSet`'s animal slots -> a project's ``individuals``.

A file's slots (:attr:`LabelSet.individuals`) are its tracked animals (by name: SLEAP tracks, DeepLabCut
individuals, COCO ``track_id`` / ``individual``, NWB instance names) then ``n_untracked`` slots holding its
untracked animals. In a project, tracked animals go to the individual of their name; untracked ones fill, frame by
frame and in order, the individuals no tracked animal of that frame took. A track without any label in the file (a
DeepLabCut table's empty individual) needs no individual of its name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import LabelSet, multi_animal_error

__all__ = [
    "tracked_names",
    "labelled_tracks",
    "animals_per_frame",
    "plan_individuals",
    "assign_individuals",
    "to_single_animal",
]


def tracked_names(labelset: LabelSet) -> list[str]:
    """The file's track names (its slots minus the untracked ones)."""
    return list(labelset.individuals[: len(labelset.individuals) - labelset.n_untracked])


def _present(coords: np.ndarray) -> np.ndarray:
    """``(n_frames, n_slots)`` bool: the slot holds at least one labeled point."""
    return np.isfinite(coords).any(axis=(2, 3))


def labelled_tracks(labelset: LabelSet) -> list[str]:
    """The track names that hold at least one label in the file."""
    tracks = tracked_names(labelset)
    seen = np.zeros(len(tracks), dtype=bool)
    for g in labelset.groups:
        seen |= _present(g.coords[:, : len(tracks)]).any(axis=0)
    return [t for t, ok in zip(tracks, seen) if ok]


def animals_per_frame(labelset: LabelSet) -> int:
    """The most animals on one frame of the file."""
    return max((int(_present(g.coords).sum(axis=1).max(initial=0)) for g in labelset.groups), default=0)


def plan_individuals(individuals: list[str], labelset: LabelSet, path: Path, fresh: bool) -> list[str]:
    """The project's ``individuals`` after the import: ``fresh`` (DeepLabCut's template names, nothing labeled)
    takes the file's track names (plus ``individual<i>`` slots for the most animals a frame has beyond them; the
    template is kept for untracked files it fits). Else the project's, when the tracks and animals fit them;
    :class:`LabelError` naming the file and what to do when not."""
    tracks = tracked_names(labelset)
    most = animals_per_frame(labelset)
    if fresh and (tracks or most > len(individuals)):
        n = max(len(tracks), most)
        extra = [f"individual{i}" for i in range(1, n + 1) if f"individual{i}" not in tracks]
        return tracks + extra[: n - len(tracks)]
    unknown = [t for t in labelled_tracks(labelset) if t not in individuals]
    if unknown:
        raise LabelError(
            f"{path}: the file's track(s) / individual(s) {unknown} are not among config.yaml's individuals "
            f"{list(individuals)}. Add them to 'individuals' in config.yaml (or rename them in the source tool) and "
            "import again."
        )
    if most > len(individuals):
        raise LabelError(
            f"{path}: a frame holds {most} animals but config.yaml lists {len(individuals)} individuals "
            f"{list(individuals)}. Add individuals to config.yaml (or delete the extra animals in the source tool) "
            "and import again."
        )
    return list(individuals)


def assign_individuals(labelset: LabelSet, individuals: list[str], path: Path) -> list[np.ndarray]:
    """Per group, ``(n_frames, len(individuals), n_file_parts, 2)``: tracked animals in the individual of their
    name, untracked ones in the frame's free individuals in order (:class:`LabelError` when none is free)."""
    tracks = tracked_names(labelset)
    where = [individuals.index(t) if t in individuals else None for t in tracks]  # None: holds no label
    out = []
    for g in labelset.groups:
        present = _present(g.coords)
        coords = np.full((len(g.names), len(individuals), *g.coords.shape[2:]), np.nan)
        for f in range(len(g.names)):
            taken = set()
            for slot, j in enumerate(where):
                if j is not None and present[f, slot]:
                    coords[f, j] = g.coords[f, slot]
                    taken.add(j)
            free = [j for j in range(len(individuals)) if j not in taken]
            loose = [s for s in range(len(tracks), present.shape[1]) if present[f, s]]
            if len(loose) > len(free):
                raise LabelError(
                    f"{path}: frame {g.stem}/{g.names[f]} holds {len(taken) + len(loose)} animals but config.yaml "
                    f"lists {len(individuals)} individuals. Add individuals to config.yaml and import again."
                )
            for s, j in zip(loose, free):
                coords[f, j] = g.coords[f, s]
        out.append(coords)
    return out


def to_single_animal(labelset: LabelSet, path: Path) -> LabelSet:
    """A multi-animal ``labelset`` with at most one animal per frame as a single-animal one (a tracked file of one
    animal); :func:`multi_animal_error` when a frame holds several. Unique body parts (DeepLabCut) become body
    parts after the animal's."""
    for g in labelset.groups:
        counts = _present(g.coords).sum(axis=1)
        if (counts > 1).any():
            f = int(np.argmax(counts > 1))
            raise multi_animal_error(
                path, f"frame {g.stem}/{g.names[f]} has {int(counts[f])} animals", single_project=True
            )
    unique = [u for u in labelset.unique_bodyparts if u not in labelset.bodyparts]
    for g in labelset.groups:
        slot = np.argmax(_present(g.coords), axis=1)  # the frame's one animal (slot 0, all NaN, when none)
        g.coords = g.coords[np.arange(len(g.names)), slot]
        if unique:
            keep = [labelset.unique_bodyparts.index(u) for u in unique]
            g.coords = np.concatenate([g.coords, g.unique[:, keep]], axis=1)
        g.unique = None
    labelset.bodyparts = list(labelset.bodyparts) + unique
    labelset.individuals, labelset.n_untracked, labelset.unique_bodyparts = [], 0, []
    return labelset
