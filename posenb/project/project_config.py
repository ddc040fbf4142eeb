"""``ProjectConfig``: the typed object over a project's config.yaml (DeepLabCut's keys), and ``ProjectParts``.

One object, read once, validated once (:mod:`posenb.project.config_validate`), written in DeepLabCut's key order
with its section comments. Its attributes carry DeepLabCut's key names unchanged (``Task``, ``TrainingFraction``,
...), so ``cfg["pcutoff"]`` and ``pc.pcutoff`` name the same thing and a DeepLabCut user recognises every one.
Keys it has no attribute for (DeepLabCut's legacy ``resnet`` / ``croppedtraining``, keys of other tools) are kept
in :attr:`ProjectConfig.extra` and written back untouched.

``read_config`` / ``write_config`` (:mod:`posenb.project.config`) keep DeepLabCut's dict API on top of it.
"""

from __future__ import annotations

import copy
import io
import os
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from posenb.errors import ConfigError
from posenb.project.config_schema import (
    CONFIG_SECTIONS,
    DEFAULT_CONFIG,
    DLC_DEFAULT_NET_TYPE,
    MULTI_SENTINEL,
    MULTIANIMAL_KEYS_AFTER,
    MULTIANIMAL_TEMPLATE,
    UNIQUE_INDIVIDUAL,
)
from posenb.project.config_validate import check_config

__all__ = [
    "ProjectConfig",
    "ProjectParts",
    "project_parts",
    "usable_skeleton",
    "skeleton_indices",
    "dumps_config",
]


@dataclass(frozen=True)
class ProjectParts:
    """Who and what a project labels: one home for the single- / multi-animal rule.

    Single-animal: ``individuals == ()`` and ``bodyparts`` is config.yaml's ``bodyparts``; ``unique_bodyparts`` is
    empty. Multi-animal (``multianimalproject: true``): ``individuals`` from config.yaml, ``bodyparts`` its
    ``multianimalbodyparts`` (labeled on every individual), ``unique_bodyparts`` its ``uniquebodyparts`` (scene
    points, stored under the individual ``"single"`` in label and prediction tables).
    """

    multianimal: bool
    individuals: tuple[str, ...]
    bodyparts: tuple[str, ...]
    unique_bodyparts: tuple[str, ...] = ()
    identity: bool = False

    @property
    def all_bodyparts(self) -> list[str]:
        """Every part name once: the per-animal parts, then the unique ones."""
        return list(self.bodyparts) + [u for u in self.unique_bodyparts if u not in self.bodyparts]

    @property
    def table_individuals(self) -> list[str]:
        """The ``individuals`` column level of a label table: the individuals, then ``"single"`` if unique parts."""
        return list(self.individuals) + ([UNIQUE_INDIVIDUAL] if self.unique_bodyparts else [])


@dataclass
class ProjectConfig:
    """A project's config.yaml. Attribute = DeepLabCut key; ``None`` = not set in the file.

    Build it with :meth:`load` (a file: defaults filled, validated, ``project_path`` repaired),
    :meth:`from_dict` (a dict as :func:`read_config` returns; nothing filled or checked) or :meth:`template`
    (DeepLabCut's values for a new project); :meth:`to_dict` gives DeepLabCut's dict back, :meth:`save` writes
    the file (validated first; the previous file kept as ``config.yaml.bak``).
    """

    # Project definitions
    Task: str | None = None  #: project name; part of training-set, model and scorer names
    scorer: str | None = (
        None  #: the labeller: ``CollectedData_<scorer>`` files and the ``scorer`` column level
    )
    date: str | None = None  #: creation date as DeepLabCut writes it (``Dec2``); part of derived names
    multianimalproject: bool | None = None  #: several animals per frame (the keys below) or one
    identity: bool | None = None  #: multi-animal: learn which individual is which from appearance
    project_path: str | None = None  #: absolute project folder (repaired on load when the project moved)
    engine: str | None = None  #: DeepLabCut's engine for new shuffles: ``pytorch`` or ``tensorflow``
    # Annotation data set
    video_sets: dict[str, dict] | None = None  #: ``{video path: {"crop": "x1, x2, y1, y2"}}``
    individuals: list[str] | None = None  #: multi-animal: individual names, in label-table order
    uniquebodyparts: list[str] | None = None  #: multi-animal: scene points, labeled once per frame ("single")
    multianimalbodyparts: list[str] | None = None  #: multi-animal: parts labeled on every individual
    bodyparts: list[str] | str | None = None  #: single-animal: the parts in order; multi-animal: ``"MULTI!"``
    start: float | None = None  #: fraction of a video where frame extraction starts (0..1)
    stop: float | None = None  #: fraction where it stops (0..1, > start)
    numframes2pick: int | None = None  #: frames per video for extract_frames / outlier extraction
    # Plotting
    skeleton: list[list[str]] | None = None  #: ``[[part, part], ...]`` bones drawn in plots and videos
    skeleton_color: str | None = None  #: matplotlib colour of the bones
    pcutoff: float | None = None  #: likelihood threshold for plots, videos and "p-cutoff" errors (0..1)
    dotsize: int | None = None  #: marker radius (pixels)
    alphavalue: float | None = None  #: marker opacity (0..1)
    colormap: str | None = None  #: matplotlib colormap of body parts (or individuals)
    # Training, evaluation and analysis
    TrainingFraction: list[float] | None = None  #: train fractions of new training sets (two decimals each)
    iteration: int | None = None  #: active-learning round (``iteration-N`` folders)
    default_net_type: str | None = (
        None  #: DeepLabCut's network name; posenb's choice is posenb.yaml's net_type
    )
    default_augmenter: str | None = None  #: DeepLabCut's augmenter name
    default_track_method: str | None = None  #: multi-animal tracker: ellipse, box, skeleton (ctd: DLC 3)
    snapshotindex: int | str | None = None  #: snapshot used for evaluation/analysis (-1 = last, or ``"all"``)
    detector_snapshotindex: int | None = None  #: DeepLabCut 3's detector snapshot (top-down models)
    batch_size: int | None = None  #: inference batch size of analyze_videos
    detector_batch_size: int | None = None  #: DeepLabCut 3's detector inference batch size
    # Cropping and refinement
    cropping: bool | None = None  #: crop frames for analysis / outlier extraction to x1..x2, y1..y2
    x1: int | None = None
    x2: int | None = None
    y1: int | None = None
    y2: int | None = None
    corner2move2: list[int] | None = None  #: where the refine tool puts predictions outside the image
    move2corner: bool | None = None  #: enable the above
    SuperAnimalConversionTables: dict | None = None  #: DeepLabCut 3: SuperAnimal keypoint conversion tables
    config_version: int | None = None  #: DeepLabCut 3's config format version
    pose_config_path: str | None = None  #: DeepLabCut 3 (unused by posenb)
    #: every other key of the file (legacy or other tools' keys), written back untouched
    extra: dict[str, Any] = field(default_factory=dict)
    #: the keys the file (or dict) held, in its order: written even when ``None``
    _keys: list[str] = field(default_factory=list, repr=False, compare=False)

    # ------------------------------------------------------------------ dict form
    @classmethod
    def keys_typed(cls) -> list[str]:
        """The DeepLabCut keys that are attributes (everything but :attr:`extra`)."""
        return [f.name for f in fields(cls) if f.name not in ("extra", "_keys")]

    @classmethod
    def from_dict(cls, cfg: dict) -> ProjectConfig:
        """The object over a config dict, values as they are (see :meth:`validate`); ``cfg`` is not changed."""
        typed = set(cls.keys_typed())
        pc = cls(**{k: v for k, v in cfg.items() if k in typed})
        pc.extra = {k: v for k, v in cfg.items() if k not in typed}
        pc._keys = list(cfg)
        return pc

    def to_dict(self) -> dict:
        """DeepLabCut's config dict: the file's keys in its order, then keys set since, then :attr:`extra`."""
        out: dict[str, Any] = {}
        typed = self.keys_typed()
        for key in self._keys:
            if key in typed:
                out[key] = getattr(self, key)
            elif key in self.extra:
                out[key] = self.extra[key]
        for key in typed:
            if key not in out and getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out

    @classmethod
    def template(cls, multianimal: bool = False) -> ProjectConfig:
        """DeepLabCut 3.0.1's ``create_new_project`` values (single- or multi-animal); Task etc. still unset."""
        cfg = copy.deepcopy(DEFAULT_CONFIG)
        if multianimal:
            cfg.update(copy.deepcopy(MULTIANIMAL_TEMPLATE))
        return cls.from_dict(cfg)

    def fill_defaults(self) -> ProjectConfig:
        """Set DeepLabCut's template value of each single-animal template key the file lacks (as DeepLabCut's
        reader does); normalise ``video_sets: null``, ``skeleton: null`` and a scalar ``TrainingFraction``."""
        for key, value in DEFAULT_CONFIG.items():
            if key not in self._keys and getattr(self, key) is None:
                if key == "bodyparts" and self.multianimalproject:
                    value = MULTI_SENTINEL
                setattr(self, key, copy.deepcopy(value))
                self._keys.append(key)
        if self.video_sets is None:
            self.video_sets = {}
        if self.skeleton is None:
            self.skeleton = []
        if isinstance(self.TrainingFraction, (int, float)):
            self.TrainingFraction = [self.TrainingFraction]
        return self

    # ------------------------------------------------------------------ rules
    def validate(self, where: str | os.PathLike = "config.yaml", check_videos: bool = False) -> list[str]:
        """Raise :class:`ConfigError` on the first invalid value; return warnings that do not stop the work."""
        return check_config(self, where, check_videos)

    @property
    def parts(self) -> ProjectParts:
        """The individuals and body parts labeled in this project (:class:`ProjectParts`)."""
        if not self.multianimalproject:
            bodyparts = self.bodyparts if isinstance(self.bodyparts, list) else []
            return ProjectParts(False, (), tuple(bodyparts))
        return ProjectParts(
            True,
            tuple(str(i) for i in self.individuals or ()),
            tuple(self.multianimalbodyparts or ()),
            tuple(self.uniquebodyparts or ()),
            bool(self.identity),
        )

    def usable_skeleton(self) -> list[list[str]]:
        """The ``skeleton`` entries whose two parts are body parts of the project (what plots and videos draw)."""
        known = set(self.parts.all_bodyparts)
        return [list(b) for b in self.skeleton or [] if len(b) == 2 and b[0] in known and b[1] in known]

    # ------------------------------------------------------------------ files
    @classmethod
    def load(
        cls, path: str | os.PathLike, repair_project_path: bool = True, _stacklevel: int = 2
    ) -> ProjectConfig:
        """Read, complete and validate a project's config.yaml (a project folder is accepted too).

        ``repair_project_path``: when the project folder was moved, set ``project_path`` to the folder that
        holds the file and save it (as DeepLabCut does). Raises :class:`ConfigError` (missing file, YAML syntax
        error, invalid values; the message names the file and the fix). Skeleton entries naming unknown parts
        are a ``UserWarning``.
        """
        path = Path(path)
        if path.is_dir():
            path = path / "config.yaml"
        pc = cls.from_dict(_load_yaml(path)).fill_defaults()
        for message in pc.validate(path):
            if "skeleton entry" in message:
                _warnings.warn(message, UserWarning, stacklevel=_stacklevel)
        project_dir = str(path.parent.resolve())
        if repair_project_path and pc.project_path != project_dir:
            pc.project_path = project_dir
            try:
                pc.save(path)
            except OSError:
                pass  # read-only project (e.g. shared data): use the repaired path in memory only
        return pc

    def save(self, path: str | os.PathLike | None = None) -> Path:
        """Validate and write config.yaml atomically (default: ``<project_path>/config.yaml``); keep a ``.bak``.

        A ``default_net_type`` DeepLabCut does not know (e.g. ``efficientnet-lite0``) is posenb's choice: it is
        written into posenb.yaml's ``net_type`` and config.yaml gets DeepLabCut's ``resnet_50`` (this object is
        not changed), so DeepLabCut keeps accepting the project.
        """
        from posenb.io.atomic import atomic_write_text
        from posenb.project.settings import is_dlc_net_type, read_settings, write_settings

        if path is None:
            if not self.project_path:
                raise ConfigError("ProjectConfig.save(): no path given and no project_path set.")
            path = Path(self.project_path) / "config.yaml"
        path = Path(path)
        self.validate(path)
        cfg = self.to_dict()
        net = cfg.get("default_net_type")
        if net and not is_dlc_net_type(net):
            settings = read_settings(path.parent)
            if settings.get("net_type") != net:
                settings["net_type"] = net
                write_settings(path.parent, settings)
            cfg["default_net_type"] = DLC_DEFAULT_NET_TYPE
        atomic_write_text(path, dumps_config(cfg))
        return path


def _load_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(
            f"No config file at {path}. Pass the path of a project's config.yaml "
            "(create one with posenb.create_new_project)."
        )
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"{path}: this is not valid YAML{where} ({getattr(exc, 'problem', exc)})."
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; expected a YAML config.") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: expected a YAML mapping of keys (Task, scorer, bodyparts, ...).")
    return cfg


def project_parts(cfg: dict | ProjectConfig) -> ProjectParts:
    """The :class:`ProjectParts` of a config dict (``read_config``'s result) or :class:`ProjectConfig`."""
    return (cfg if isinstance(cfg, ProjectConfig) else ProjectConfig.from_dict(cfg)).parts


def usable_skeleton(cfg: dict | ProjectConfig) -> list[list[str]]:
    """The ``skeleton`` entries whose two parts are body parts of the project (what plots, videos and
    analyzeskeleton use): ``bodyparts``, or ``multianimalbodyparts`` + ``uniquebodyparts`` of a multi-animal one.

    Entries naming unknown parts are skipped (read_config warns about each, naming it); config.yaml keeps them.
    """
    return (cfg if isinstance(cfg, ProjectConfig) else ProjectConfig.from_dict(cfg)).usable_skeleton()


def skeleton_indices(
    bodyparts: Sequence[str], skeleton: Sequence[Sequence[str]] | None
) -> tuple[tuple[int, int], ...]:
    """config.yaml's ``skeleton`` (pairs of body-part names) -> pairs of indices into ``bodyparts``, for drawing.

    Bones that are not pairs or name a part missing from ``bodyparts`` are dropped (a skeleton may name parts a
    table does not hold); :func:`posenb.post.skeleton.bone_features` instead raises for them, since it must measure every bone.
    """
    index = {b: i for i, b in enumerate(bodyparts)}
    return tuple(
        (index[bone[0]], index[bone[1]])
        for bone in skeleton or []
        if len(bone) == 2 and bone[0] in index and bone[1] in index
    )


def _dump_value(key: str, value: Any) -> str:
    return yaml.safe_dump(
        {key: value}, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000
    )


def dumps_config(cfg: dict) -> str:
    """The text of config.yaml for ``cfg``: DLC's key order and section comments, unknown keys at the end."""
    out = io.StringIO()
    written = set()
    for comment, keys in CONFIG_SECTIONS:
        present = [k for k in keys if k in cfg]
        if not present:
            continue
        out.write(comment + "\n")
        for key in present:
            if key == "x1":
                out.write("#if cropping is true for analysis, then set the values here:\n")
            out.write(_dump_value(key, cfg[key]))
            written.add(key)
            for extra in MULTIANIMAL_KEYS_AFTER.get(key, []):  # DeepLabCut's multi-animal template order
                if extra in cfg:
                    out.write(_dump_value(extra, cfg[extra]))
                    written.add(extra)
        out.write("\n\n")
    rest = [k for k in cfg if k not in written]
    for key in rest:
        out.write(_dump_value(key, cfg[key]))
    return out.getvalue()
