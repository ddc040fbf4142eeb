"""The Project wizard's pure half: checks of a new project, the config form's text <-> config.yaml values, and
the status table. No widgets here (tested without a browser); :mod:`posenb.widgets.wizard` draws the panel.

Form keys are config.yaml's, except: ``bodyparts`` is ``multianimalbodyparts`` in a multi-animal project, and
``net_type`` is posenb.yaml's network (:func:`posenb.project.config.resolve_net_type`), not config.yaml's
DeepLabCut ``default_net_type``.
"""

from __future__ import annotations

import copy
import html
import os
from pathlib import Path

from posenb.errors import ConfigError
from posenb.project.paths import (
    VIDEO_EXTENSIONS,
    list_videos,
    name_problem,
    project_folder_name,
    project_folder_problem,
)

__all__ = [
    "check_new_project",
    "form_to_config",
    "config_key",
    "removed_labeled_parts",
    "removed_labeled_individuals",
    "status_html",
    "parse_list",
]


def check_new_project(
    name: str, experimenter: str, videos: list[str], working_directory: str, n_uploads: int = 0
) -> list[str]:
    """Problems that stop a project from being created (empty list: go ahead). Nothing is written."""
    problems = []
    for value, what in ((name, "Project name"), (experimenter, "Experimenter")):
        problem = name_problem(value, what)  # the core rule of create_new_project / create_new_project_3d
        if problem:
            problems.append(problem)
    wd = Path(working_directory or ".").expanduser()
    if not wd.is_dir():
        problems.append(f"Working directory {wd} does not exist (create it first, or pick another).")
    elif not os.access(wd, os.W_OK):
        problems.append(f"Working directory {wd} is not writable by this server.")
    if not videos and not n_uploads:
        problems.append("Add at least one video (a server path, a folder of videos, or an upload).")
    for v in videos:
        p = Path(v).expanduser()
        if not p.exists():
            problems.append(f"Video {p} does not exist on the server.")
        elif p.is_dir() and not list_videos(p):
            problems.append(f"Folder {p} holds no video files ({', '.join(VIDEO_EXTENSIONS[:4])}, ...).")
        elif p.is_file() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            problems.append(f"{p.name} is not a video file ({', '.join(VIDEO_EXTENSIONS)}).")
    if not problems and wd.is_dir():
        problem = project_folder_problem(wd / project_folder_name(name, experimenter))  # create's own rule
        if problem:
            problems.append(problem)
    return problems


def parse_list(text: str) -> list[str]:
    out = []
    for line in text.replace(",", "\n").splitlines():
        item = line.strip()
        if item:
            out.append(item)
    return out


def _parse_skeleton(text: str) -> list[list[str]]:
    bones = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if "," in line:
            parts = [p.strip() for p in line.split(",") if p.strip()]
        elif " - " in line:
            parts = [p.strip() for p in line.split(" - ") if p.strip()]
        else:
            parts = line.split()
        if len(parts) != 2:
            raise ConfigError(
                f"Skeleton line {n} ({line!r}): write two body parts per line, e.g. 'snout, leftear'."
            )
        bones.append(parts)
    return bones


def _number(text, kind, key):
    try:
        return kind(str(text).strip())
    except ValueError:
        raise ConfigError(
            f"'{key}' must be a {'whole number' if kind is int else 'number'}, got {text!r}."
        ) from None


def config_key(form_key: str, cfg: dict) -> str | None:
    """The config.yaml key a form field edits (None: ``net_type``, which lives in posenb.yaml)."""
    if form_key == "net_type":
        return None
    if form_key == "bodyparts" and cfg.get("multianimalproject"):
        return "multianimalbodyparts"
    return form_key


def form_to_config(cfg: dict, form: dict) -> dict:
    """A copy of ``cfg`` updated from the panel's text fields (``form``: key -> value as typed).

    ``bodyparts`` edits ``multianimalbodyparts`` in a multi-animal project; ``individuals`` and
    ``uniquebodyparts`` are lists like ``bodyparts``; ``net_type`` is ignored (posenb.yaml's, see the module
    docstring). Raises :class:`ConfigError` for values that cannot be parsed; the result still needs
    ``validate_config``.
    """
    new = copy.deepcopy(cfg)
    for key in ("bodyparts", "individuals", "uniquebodyparts"):
        if key in form:
            new[config_key(key, cfg)] = parse_list(form[key])
    if "skeleton" in form:
        new["skeleton"] = _parse_skeleton(form["skeleton"])
    if "TrainingFraction" in form:
        new["TrainingFraction"] = [
            _number(v, float, "TrainingFraction") for v in parse_list(str(form["TrainingFraction"]))
        ]
    for key in ("numframes2pick", "dotsize", "batch_size", "iteration"):
        if key in form:
            new[key] = _number(form[key], int, key)
    for key in ("start", "stop", "pcutoff", "alphavalue"):
        if key in form:
            new[key] = _number(form[key], float, key)
    if "snapshotindex" in form:
        text = str(form["snapshotindex"]).strip()
        new["snapshotindex"] = "all" if text == "all" else _number(text, int, "snapshotindex")
    for key in ("colormap", "skeleton_color", "default_net_type"):
        if key in form:
            new[key] = str(form[key]).strip()
    return new


def _labeled_in(cfg: dict, level: str, names: list[str]) -> dict[str, list[str]]:
    """Which of ``names`` (values of the label tables' column ``level``) have labels: ``{name: [folders]}``."""
    from posenb.errors import LabelError
    from posenb.io.labels import read_labels

    found: dict[str, list[str]] = {}
    if not names:
        return found
    root = Path(cfg["project_path"]) / "labeled-data"
    for f in sorted(root.glob(f"*/CollectedData_{cfg['scorer']}.h5")):
        try:
            df = read_labels(f)
        except LabelError:
            continue
        if level not in df.columns.names:
            continue
        for name in names:
            if name in df.columns.get_level_values(level):
                if df.xs(name, level=level, axis=1).notna().to_numpy().any():
                    found.setdefault(name, []).append(f.parent.name)
    return found


def removed_labeled_parts(cfg: dict, new_bodyparts: list[str]) -> dict[str, list[str]]:
    """Body parts of ``cfg`` (multi-animal: per-animal and unique ones) missing from ``new_bodyparts`` that
    have labels: ``{part: [label folders]}``."""
    from posenb.project.config import project_parts

    removed = [b for b in project_parts(cfg).all_bodyparts if b not in new_bodyparts]
    return _labeled_in(cfg, "bodyparts", removed)


def removed_labeled_individuals(cfg: dict, new_individuals: list[str]) -> dict[str, list[str]]:
    """Individuals of a multi-animal ``cfg`` missing from ``new_individuals`` that have labels."""
    from posenb.project.config import project_parts

    removed = [i for i in project_parts(cfg).individuals if i not in new_individuals]
    return _labeled_in(cfg, "individuals", removed)


def status_html(config) -> str:
    """The project status (:func:`posenb.project.status.project_status`) as an HTML table."""
    from posenb.project.status import project_status

    s = project_status(config)
    e = html.escape
    rows = [
        f"<b>{e(s.task)}</b> · scorer <b>{e(s.scorer)}</b> · iteration {s.iteration} · {e(s.project_path)}"
    ]
    if s.individuals:
        rows.append(f"<br>Individuals: {e(', '.join(s.individuals))}")
    rows.append(f"<br>Body parts: {e(', '.join(s.bodyparts))}")
    rows.append(
        "<table class='posenb-status-table' style='border-collapse:collapse' cellpadding='4'>"
        "<tr><th>video</th><th>file</th><th>frames</th><th>labeled</th><th>analyzed</th></tr>"
    )
    folders = {f.stem: f for f in s.folders}
    for v in s.videos:
        f = folders.pop(v.stem, None)
        filtered = f" (+{len(v.filtered)} filtered)" if v.filtered else ""
        rows.append(
            f"<tr><td>{e(v.stem)}</td><td>{'ok' if v.found else '<b>missing</b>'}</td>"
            f"<td>{f.n_images if f else 0}</td><td>{f.n_labeled if f else 0}</td>"
            f"<td>{len(v.analyzed)}{filtered}</td></tr>"
        )
    for f in folders.values():
        rows.append(
            f"<tr><td>{e(f.stem)}</td><td>(no video)</td><td>{f.n_images}</td><td>{f.n_labeled}</td><td></td></tr>"
        )
    rows.append("</table>")
    rows.append(
        f"Training sets: {len(s.training_sets)}"
        + "".join(
            f"<br>&nbsp;&nbsp;iteration {t.iteration}: {t.train_pct}% shuffle {t.shuffle}"
            for t in s.training_sets
        )
    )
    rows.append(
        f"<br>Models: {len(s.models)}"
        + "".join(
            f"<br>&nbsp;&nbsp;{e(m.folder)}: {len(m.snapshots)} snapshot(s)"
            + (f", last {m.snapshots[-1]}" if m.snapshots else "")
            + (", evaluated" if m.evaluated else "")
            for m in s.models
        )
    )
    rows.append(f"<br><b>Next:</b> {e(s.next_step)}")
    return "".join(rows)
