"""Who and what the labeler labels: the *slots* of a frame (no Jupyter import).

The labeler's state holds the points of a frame as one flat list of *slots*, so that placing, dragging,
removing, undoing and suggestions work the same for one animal and for several. A :class:`SlotLayout` says what
each slot is:

- single-animal project: one slot per body part, in config.yaml's ``bodyparts`` order (one unnamed group);
- multi-animal project (DeepLabCut's ``multianimalproject: true``): for each individual in config order, one slot
  per ``multianimalbodyparts`` entry; then, when the project has ``uniquebodyparts``, one slot per unique part
  under the individual ``"single"`` -- the column order of a 4-level ``CollectedData`` table.

A *group* is an individual (or ``"single"``); :func:`slots_to_animals` and :func:`animals_to_slots` convert a
``(n_images, n_slots, 2)`` slot array to the per-animal ``(n_images, n_individuals, n_bodyparts, 2)`` and unique
``(n_images, n_unique, 2)`` arrays of ../notes/MA_SPEC.md and back. :func:`slot_colors` colours the slots per
individual or per body part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = [
    "UNIQUE_GROUP",
    "COLOR_MODES",
    "SlotLayout",
    "single_layout",
    "layout_from_parts",
    "slots_to_animals",
    "animals_to_slots",
    "slot_colors",
    "group_colors",
]

UNIQUE_GROUP = "single"  # DeepLabCut's individual holding the unique (scene) body parts
COLOR_MODES = ("individual", "bodypart")


@dataclass(frozen=True)
class SlotLayout:
    """The slots of a frame (see the module docstring).

    ``individuals``: config order, ``()`` for a single-animal project; ``bodyparts``: the parts every individual
    has (single-animal: all parts); ``unique_bodyparts``: scene parts labeled once per frame (multi-animal only).
    """

    individuals: tuple[str, ...]
    bodyparts: tuple[str, ...]
    unique_bodyparts: tuple[str, ...] = ()

    @property
    def multianimal(self) -> bool:
        return bool(self.individuals)

    @cached_property
    def groups(self) -> tuple[str, ...]:
        """Group names: the individuals then ``"single"`` (unique parts); ``("",)`` for a single animal."""
        if not self.multianimal:
            return ("",)
        return self.individuals + ((UNIQUE_GROUP,) if self.unique_bodyparts else ())

    @property
    def n_slots(self) -> int:
        return len(self.slot_group)

    def group_parts(self, group: int) -> tuple[str, ...]:
        """Body-part names of group ``group`` (the unique parts for ``"single"``)."""
        if self.multianimal and group == len(self.individuals):
            return self.unique_bodyparts
        return self.bodyparts

    def is_unique_group(self, group: int) -> bool:
        return self.multianimal and group == len(self.individuals)

    @cached_property
    def group_starts(self) -> tuple[int, ...]:
        """First slot of each group, then ``n_slots``."""
        starts = [0]
        for g in range(len(self.groups)):
            starts.append(starts[-1] + len(self.group_parts(g)))
        return tuple(starts)

    def group_slots(self, group: int) -> range:
        """The slots of group ``group``."""
        return range(self.group_starts[group], self.group_starts[group + 1])

    @cached_property
    def slot_group(self) -> np.ndarray:
        """``(n_slots,)`` group index of every slot."""
        return np.repeat(np.arange(len(self.groups)), np.diff(self.group_starts)).astype(int)

    @cached_property
    def slot_part(self) -> tuple[str, ...]:
        """Body-part name of every slot."""
        return tuple(name for g in range(len(self.groups)) for name in self.group_parts(g))

    @cached_property
    def slot_names(self) -> tuple[str, ...]:
        """What the labeler calls each slot: the part (single animal) or ``"<individual> <part>"``."""
        if not self.multianimal:
            return self.bodyparts
        return tuple(f"{self.groups[g]} {p}" for g, p in zip(self.slot_group, self.slot_part))

    def slot(self, group: int, part: int) -> int:
        """Slot of body part ``part`` (index within the group's parts) of group ``group``."""
        return self.group_starts[group] + part

    def skeleton_slots(self, skeleton: Sequence[Sequence[str]]) -> tuple[tuple[int, int], ...]:
        """config.yaml's ``skeleton`` (pairs of names) as slot pairs: the bones of every individual (and of the
        unique parts, when both ends are unique parts); the core's rule,
        :func:`posenb.post.individuals_drawing.animal_bones`."""
        from posenb.post.individuals_drawing import animal_bones  # noqa: PLC0415

        points = [(self.groups[g], part) for g, part in zip(self.slot_group, self.slot_part)]
        return tuple(animal_bones(points, skeleton or []))


def single_layout(bodyparts: Sequence[str]) -> SlotLayout:
    """The layout of a single-animal project: one slot per body part."""
    return SlotLayout((), tuple(bodyparts))


def layout_from_parts(parts) -> SlotLayout:
    """The layout of a :class:`posenb.project.config.ProjectParts` (``project_parts(cfg)``)."""
    if not parts.multianimal:
        return single_layout(parts.bodyparts)
    return SlotLayout(tuple(parts.individuals), tuple(parts.bodyparts), tuple(parts.unique_bodyparts))


def slots_to_animals(layout: SlotLayout, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, n_slots, 2)`` -> per-animal ``(n, n_individuals, n_bodyparts, 2)`` and unique ``(n, n_unique, 2)``.

    A single-animal layout gives ``(n, 1, n_bodyparts, 2)`` and ``(n, 0, 2)``.
    """
    points = np.asarray(points, dtype=float)
    n = points.shape[0]
    n_ind = max(1, len(layout.individuals))
    k = len(layout.bodyparts)
    animals = points[:, : n_ind * k].reshape(n, n_ind, k, 2)
    return animals.copy(), points[:, n_ind * k :].copy()


def animals_to_slots(layout: SlotLayout, animals: np.ndarray, unique: np.ndarray | None = None) -> np.ndarray:
    """Inverse of :func:`slots_to_animals` (``unique`` None: no unique parts, or all NaN)."""
    animals = np.asarray(animals, dtype=float)
    n = animals.shape[0]
    n_u = len(layout.unique_bodyparts) if layout.multianimal else 0
    if unique is None:
        unique = np.full((n, n_u, 2), np.nan)
    n_animal = max(1, len(layout.individuals)) * len(layout.bodyparts)
    return np.concatenate(
        [animals.reshape(n, n_animal, 2), np.asarray(unique, float).reshape(n, n_u, 2)], axis=1
    )


def _palette(n: int, colormap: str) -> np.ndarray:
    from posenb.widgets._canvas import part_colors  # noqa: PLC0415 (matplotlib only when colours are asked for)

    return part_colors(n, colormap)


def slot_colors(layout: SlotLayout, by: str = "individual", colormap: str = "rainbow") -> np.ndarray:
    """``(n_slots, 3)`` uint8 RGB: one colour per individual (``by="individual"``; the unique parts get their own
    colours after the individuals') or per body part (``by="bodypart"``: a part has the same colour on every
    individual, as DeepLabCut's labeled images). A single-animal layout is always coloured per body part."""
    if by not in COLOR_MODES:
        raise ValueError(f"colour mode {by!r}: use one of {COLOR_MODES}")
    if not layout.multianimal:
        return _palette(len(layout.bodyparts), colormap)
    n_ind = len(layout.individuals)
    n_u = len(layout.unique_bodyparts)
    if by == "individual":
        palette = _palette(n_ind + n_u, colormap)
        ind = np.repeat(palette[:n_ind], len(layout.bodyparts), axis=0)
        return np.concatenate([ind, palette[n_ind:]], axis=0).reshape(-1, 3)
    palette = _palette(len(layout.bodyparts) + n_u, colormap)
    ind = np.tile(palette[: len(layout.bodyparts)], (n_ind, 1))
    return np.concatenate([ind, palette[len(layout.bodyparts) :]], axis=0).reshape(-1, 3)


def group_colors(layout: SlotLayout, colormap: str = "rainbow") -> np.ndarray:
    """``(n_groups, 3)`` uint8 RGB: the colour of each individual (and of ``"single"``), for buttons and bones."""
    if not layout.multianimal:
        return np.zeros((1, 3), np.uint8)
    colors = slot_colors(layout, "individual", colormap)
    return colors[[layout.group_starts[g] for g in range(len(layout.groups))]] if layout.n_slots else colors
