"""What an import changes in config.yaml: body parts, skeleton, a multi-animal project's individuals and unique
body parts (:func:`plan_bodyparts`, used by :func:`posenb.formats.api.import_labels` before anything is written),
and the :class:`ImportReport` it returns (re-exported by ``api``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.formats._model import LabelSet

__all__ = ["ImportReport", "template", "has_labels", "plan_bodyparts", "plan_unique"]


@dataclass
class ImportReport:
    """What :func:`import_labels` did: label files written, frames and PNGs, config.yaml keys changed, notes."""

    files: list[Path] = field(default_factory=list)
    n_frames: int = 0
    n_images: int = 0
    bodyparts: list[str] = field(default_factory=list)
    config_changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        folders = ", ".join(f"labeled-data/{p.parent.name}" for p in self.files) or "nothing"
        lines = [
            f"Imported {self.n_frames} labeled frame(s) into {folders} ({self.n_images} new PNG frame(s))."
        ]
        if self.config_changed:
            lines.append("config.yaml: set " + ", ".join(self.config_changed) + ".")
        return "\n".join(lines + self.notes)


def template(key: str, multianimal: bool = False) -> list:
    """DeepLabCut's placeholder ``bodyparts`` / ``multianimalbodyparts`` / ``skeleton`` / ``individuals`` of a new
    (multi-animal) project."""
    from posenb.project.config import DEFAULT_CONFIG, MULTIANIMAL_TEMPLATE

    return copy.deepcopy((MULTIANIMAL_TEMPLATE if multianimal else DEFAULT_CONFIG)[key])


def has_labels(project: Path) -> bool:
    folder = project / "labeled-data"
    return folder.is_dir() and (
        any(folder.glob("*/CollectedData_*.h5")) or any(folder.glob("*/CollectedData_*.csv"))
    )


def plan_bodyparts(cfg: dict, labelset: LabelSet, path: Path, report: ImportReport) -> dict:
    """Decide config.yaml's body parts/skeleton (and a multi-animal project's individuals); returns the new cfg (a
    copy). Raises when the parts (or animals) disagree."""
    from posenb.formats._animals import plan_individuals
    from posenb.project.config import project_parts

    new = copy.deepcopy(cfg)
    project = Path(cfg["project_path"])
    multi = project_parts(cfg).multianimal
    key = "multianimalbodyparts" if multi else "bodyparts"
    parts = list(cfg.get(key) or [])
    file_parts = list(labelset.bodyparts)
    fresh = parts == template(key, multi) and not has_labels(project)
    if multi:
        individuals = list(cfg.get("individuals") or [])
        unused = individuals == template("individuals", True) and not has_labels(project)
        new["individuals"] = plan_individuals(individuals, labelset, path, unused)
        if new["individuals"] != individuals:
            report.config_changed.append("individuals")
        plan_unique(cfg, new, labelset, path, report, fresh)
    if fresh:
        new[key] = file_parts
        new["skeleton"] = [list(b) for b in labelset.skeleton]
        report.config_changed += [key, "skeleton"] if labelset.skeleton else [key]
        return new
    extra = [b for b in file_parts if b not in parts]
    labelled_extra = [
        b
        for b in extra
        if any(np.isfinite(g.coords[..., file_parts.index(b), :]).any() for g in labelset.groups)
    ]
    if labelled_extra:
        raise LabelError(
            f"{path}: body part(s) {labelled_extra} are not in this project's config.yaml ({key}: "
            f"{parts}). Add them to '{key}' first, or import into a project with the file's "
            f"body parts {file_parts}."
        )
    if extra:
        report.notes.append(f"Body part(s) {extra} of the file hold no label and were not imported.")
    missing = [b for b in parts if b not in file_parts]
    if missing:
        report.notes.append(
            f"The file has no {missing}: left unlabeled (NaN); the others were mapped by name."
        )
    if labelset.skeleton and (not cfg.get("skeleton") or cfg.get("skeleton") == template("skeleton", multi)):
        known = parts + list(new.get("uniquebodyparts") or []) if multi else parts
        bones = [list(b) for b in labelset.skeleton if b[0] in known and b[1] in known]
        if bones:
            new["skeleton"] = bones
            report.config_changed.append("skeleton")
    return new


def plan_unique(
    cfg: dict, new: dict, labelset: LabelSet, path: Path, report: ImportReport, fresh: bool
) -> None:
    """A multi-animal project's ``uniquebodyparts`` for the file's unique parts (DeepLabCut's ``"single"``): a fresh
    project without any takes the file's; else labeled ones the project lacks raise, unlabeled ones are noted."""
    file_unique = list(labelset.unique_bodyparts)
    if not file_unique:
        return
    unique = list(cfg.get("uniquebodyparts") or [])
    if fresh and not unique:
        new["uniquebodyparts"] = file_unique
        report.config_changed.append("uniquebodyparts")
        return
    extra = [u for u in file_unique if u not in unique]
    labelled = [
        u
        for u in extra
        if any(
            g.unique is not None and np.isfinite(g.unique[:, file_unique.index(u)]).any()
            for g in labelset.groups
        )
    ]
    if labelled:
        raise LabelError(
            f"{path}: unique body part(s) {labelled} (individual 'single') are not in this project's config.yaml "
            f"(uniquebodyparts: {unique}). Add them to 'uniquebodyparts' first, or import into a project with the "
            f"file's unique body parts {file_unique}."
        )
    if extra:
        report.notes.append(f"Unique body part(s) {extra} of the file hold no label and were not imported.")
