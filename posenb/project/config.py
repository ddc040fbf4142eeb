"""config.yaml: DeepLabCut's single-animal template, validation, read and write.

posenb writes exactly DeepLabCut's key set (DLC 3 refuses unknown keys), in DLC 2.3's order with its section
comments, so a project opens in either tool. Settings DeepLabCut does not know live in ``<project>/posenb.yaml``
(:func:`read_settings` / :func:`write_settings`).

The network posenb trains is one of them: ``net_type`` in posenb.yaml (:func:`resolve_net_type`).
config.yaml's ``default_net_type`` stays a DeepLabCut value (``resnet_50``), so that DeepLabCut's
``create_training_dataset`` accepts the project. Projects whose config.yaml names a network DeepLabCut does not
know (``efficientnet-lite0``, written by posenb before 2026-12) still train it; the next save of config.yaml
moves that choice into posenb.yaml and writes ``resnet_50`` into config.yaml.
"""

from __future__ import annotations

import copy
import io
import os
import warnings as _warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from posenb.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "CONFIG_SECTIONS",
    "read_config",
    "write_config",
    "validate_config",
    "read_settings",
    "write_settings",
    "DEFAULT_SETTINGS",
    "parse_crop",
    "format_crop",
    "POSENB_DEFAULT_NET_TYPE",
    "DLC_DEFAULT_NET_TYPE",
    "is_dlc_net_type",
    "resolve_net_type",
    "usable_skeleton",
    "ProjectParts",
    "project_parts",
    "UNIQUE_INDIVIDUAL",
]

#: DeepLabCut's individual name for the unique body parts (scene points) of a multi-animal project
UNIQUE_INDIVIDUAL = "single"
#: DeepLabCut's ``bodyparts`` value in a multi-animal config.yaml
MULTI_SENTINEL = "MULTI!"

#: posenb's own network: fast on a CPU, ImageNet weights shipped with a package (trains offline)
POSENB_DEFAULT_NET_TYPE = "efficientnet-lite0"
#: DeepLabCut's template value of config.yaml's ``default_net_type``
DLC_DEFAULT_NET_TYPE = "resnet_50"
# name prefixes of DeepLabCut's networks (2.x TensorFlow and 3.x PyTorch net types)
_DLC_NET_PREFIXES = (
    "resnet_", "mobilenet_v2_", "efficientnet-b", "dlcrnet_", "hrnet_", "cspnext_", "rtmpose_", "dekr_",
    "top_down_", "ctd_", "animaltokenpose_",
)  # fmt: skip

# (section comment, keys) in DeepLabCut 2.3's template order.
CONFIG_SECTIONS: list[tuple[str, list[str]]] = [
    ("# Project definitions (do not edit)", ["Task", "scorer", "date", "multianimalproject", "identity"]),
    ("# Project path (change when moving around)", ["project_path"]),
    ("# Default DeepLabCut engine to use for shuffle creation (either pytorch or tensorflow)", ["engine"]),
    (
        "# Annotation data set configuration (and individual video cropping parameters)",
        ["video_sets", "bodyparts"],
    ),
    (
        "# Fraction of video to start/stop when extracting frames for labeling/refinement",
        ["start", "stop", "numframes2pick"],
    ),
    ("# Plotting configuration", ["skeleton", "skeleton_color", "pcutoff", "dotsize", "alphavalue", "colormap"]),
    (
        "# Training,Evaluation and Analysis configuration",
        [
            "TrainingFraction",
            "iteration",
            "default_net_type",
            "default_augmenter",
            "snapshotindex",
            "detector_snapshotindex",
            "batch_size",
            "detector_batch_size",
        ],
    ),
    (
        "# Cropping Parameters (for analysis and outlier frame detection)",
        ["cropping", "x1", "x2", "y1", "y2"],
    ),
    (
        "# Refinement configuration (parameters from annotation dataset configuration also relevant in this stage)",
        ["corner2move2", "move2corner"],
    ),
    ("# Conversion tables to fine-tune SuperAnimal weights", ["SuperAnimalConversionTables"]),
]

DEFAULT_CONFIG: dict[str, Any] = {
    "Task": None,
    "scorer": None,
    "date": None,
    "multianimalproject": False,
    "identity": None,
    "project_path": None,
    "engine": "pytorch",
    "video_sets": {},
    "bodyparts": ["bodypart1", "bodypart2", "bodypart3", "objectA"],
    "start": 0,
    "stop": 1,
    "numframes2pick": 20,
    "skeleton": [["bodypart1", "bodypart2"], ["objectA", "bodypart3"]],
    "skeleton_color": "black",
    "pcutoff": 0.6,
    "dotsize": 12,
    "alphavalue": 0.7,
    "colormap": "rainbow",
    "TrainingFraction": [0.95],
    "iteration": 0,
    "default_net_type": DLC_DEFAULT_NET_TYPE,  # DeepLabCut's; posenb's network: posenb.yaml net_type
    "default_augmenter": "default",
    "snapshotindex": -1,
    "detector_snapshotindex": -1,
    "batch_size": 8,
    "detector_batch_size": 1,
    "cropping": False,
    "x1": 0,
    "x2": 640,
    "y1": 277,
    "y2": 624,
    "corner2move2": [50, 50],
    "move2corner": True,
    "SuperAnimalConversionTables": None,
}

# Keys DeepLabCut 2.x / 3.0 know; anything else in config.yaml is reported (DLC 3 would reject it).
KNOWN_KEYS = set(DEFAULT_CONFIG) | {
    "config_version",
    "pose_config_path",
    "individuals",
    "uniquebodyparts",
    "multianimalbodyparts",
    "default_track_method",
    "resnet",
    "croppedtraining",
    "video_sets_original",
    "eval_prefix",
}

DEFAULT_SETTINGS: dict[str, Any] = {
    # posenb-only settings, stored in <project>/posenb.yaml (DLC 3 rejects unknown keys in config.yaml).
    "mirror_pairs": [],  # [[left_part, right_part], ...] swapped when mirroring during augmentation
    "train": {},  # overrides of the training recipe (see posenb.data / posenb.train)
    "net_type": None,  # the network posenb trains (None: POSENB_DEFAULT_NET_TYPE); see resolve_net_type
}

SETTINGS_FILE = "posenb.yaml"


def _is_fraction(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


def parse_crop(crop: Any, where: str = "config.yaml") -> tuple[int, int, int, int]:
    """Parse DLC's crop string ``"x1, x2, y1, y2"`` (or a 4-list) into ints; raise a clear error if malformed."""
    if isinstance(crop, str):
        parts = [p.strip() for p in crop.split(",")]
    elif isinstance(crop, (list, tuple)):
        parts = list(crop)
    else:
        parts = []
    try:
        if len(parts) != 4:
            raise ValueError
        x1, x2, y1, y2 = (int(float(p)) for p in parts)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}: malformed crop {crop!r}. Write it as 'x1, x2, y1, y2' in pixels, e.g. '0, 640, 0, 480'."
        ) from None
    if not (x1 < x2 and y1 < y2) or min(x1, y1) < 0:
        raise ConfigError(f"{where}: crop {crop!r} must satisfy 0 <= x1 < x2 and 0 <= y1 < y2.")
    return x1, x2, y1, y2


def format_crop(x1: int, x2: int, y1: int, y2: int) -> str:
    """DLC's crop string: ``"x1, x2, y1, y2"``."""
    return f"{int(x1)}, {int(x2)}, {int(y1)}, {int(y2)}"


def _check_path_names(cfg: dict, where: str) -> None:
    """Task, scorer, date and iteration become folder names: none may lead out of the project."""
    from posenb.project.paths import check_path_component

    for key in ("Task", "scorer", "date"):
        if cfg.get(key) is not None:
            check_path_component(cfg[key], f"{where}: '{key}'")
    it = cfg.get("iteration")
    if it is not None and (not isinstance(it, int) or isinstance(it, bool) or it < 0):
        raise ConfigError(f"{where}: 'iteration' must be an integer >= 0, got {it!r}.")


def _check_multianimal(cfg: dict, where: str) -> list[str]:
    """Body parts of a multi-animal config (``multianimalbodyparts`` + ``uniquebodyparts``); ConfigError if unusable."""
    if not cfg.get("multianimalproject"):
        raise ConfigError(f"{where}: bodyparts is {MULTI_SENTINEL!r} but multianimalproject is not true.")
    for key in ("individuals", "multianimalbodyparts"):
        value = cfg.get(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: multi-animal projects need '{key}' as a non-empty list of names.")
    unique = cfg.get("uniquebodyparts") or []
    return list(cfg["multianimalbodyparts"]) + [u for u in unique if u not in cfg["multianimalbodyparts"]]


def validate_config(cfg: dict, path: str | os.PathLike = "config.yaml", check_videos: bool = False) -> list[str]:
    """Check a config dict; raise :class:`ConfigError` on the first real problem.

    Returns a list of warnings (e.g. keys DeepLabCut 3 would reject) that do not stop the work.
    With ``check_videos=True`` every ``video_sets`` entry must exist on disk (matched by stem in
    ``<project>/videos`` too).
    """
    where = str(path)
    warnings: list[str] = []
    for key in ("Task", "scorer", "bodyparts"):
        if cfg.get(key) in (None, "", []):
            raise ConfigError(f"{where}: the key '{key}' is missing or empty.")
    _check_path_names(cfg, where)
    bodyparts = cfg["bodyparts"]
    if bodyparts == "MULTI!" or cfg.get("multianimalproject"):
        bodyparts = _check_multianimal(cfg, where)
    if not isinstance(bodyparts, list) or not all(isinstance(b, str) and b for b in bodyparts):
        raise ConfigError(f"{where}: 'bodyparts' must be a list of names, got {bodyparts!r}.")
    dup = sorted({b for b in bodyparts if bodyparts.count(b) > 1})
    if dup:
        raise ConfigError(f"{where}: duplicate body parts {dup}; each name must appear once in 'bodyparts'.")
    skeleton = cfg.get("skeleton") or []
    if not isinstance(skeleton, list):
        raise ConfigError(f"{where}: 'skeleton' must be a list of [part, part] pairs.")
    for bone in skeleton:
        if not isinstance(bone, (list, tuple)) or len(bone) != 2 or bone[0] == bone[1]:
            raise ConfigError(f"{where}: skeleton entry {bone!r} must be two different body-part names.")
        unknown = [b for b in bone if b not in bodyparts]
        if unknown:  # e.g. DLC's template bodypart1/2/3 left in the skeleton: drawn nowhere, blocks nothing
            warnings.append(
                f"{where}: skeleton entry {list(bone)} names unknown body part(s) {unknown} and is skipped in plots "
                f"and videos; known body parts are {bodyparts}. Fix 'skeleton' or add the part to 'bodyparts'."
            )
    fractions = cfg.get("TrainingFraction")
    if fractions is not None:
        if not isinstance(fractions, list):
            fractions = [fractions]
        for f in fractions:
            if not isinstance(f, (int, float)) or isinstance(f, bool) or not 0 < f < 1:
                raise ConfigError(
                    f"{where}: TrainingFraction {f!r} must be a number strictly between 0 and 1 (e.g. 0.95)."
                )
            if round(f, 2) != f:
                raise ConfigError(f"{where}: TrainingFraction {f!r} may have at most two decimals (e.g. 0.95).")
    for key in ("start", "stop", "pcutoff", "alphavalue"):
        if cfg.get(key) is not None and not _is_fraction(cfg[key]):
            raise ConfigError(f"{where}: '{key}' must be a number between 0 and 1, got {cfg[key]!r}.")
    if cfg.get("start") is not None and cfg.get("stop") is not None and not cfg["start"] < cfg["stop"]:
        raise ConfigError(f"{where}: 'start' ({cfg['start']}) must be smaller than 'stop' ({cfg['stop']}).")
    n = cfg.get("numframes2pick")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ConfigError(f"{where}: 'numframes2pick' must be a positive integer, got {n!r}.")
    bs = cfg.get("batch_size")
    if bs is not None and (not isinstance(bs, int) or bs < 1):
        raise ConfigError(f"{where}: 'batch_size' must be an integer >= 1, got {bs!r}.")
    if cfg.get("engine") not in (None, "pytorch", "tensorflow"):
        raise ConfigError(f"{where}: 'engine' must be 'pytorch' or 'tensorflow', got {cfg['engine']!r}.")
    if cfg.get("cropping"):
        vals = [cfg.get(k) for k in ("x1", "x2", "y1", "y2")]
        if any(v is None for v in vals):
            raise ConfigError(f"{where}: cropping is true but x1, x2, y1, y2 are not all set.")
        if not (vals[0] < vals[1] and vals[2] < vals[3]):
            raise ConfigError(f"{where}: cropping needs x1 < x2 and y1 < y2, got {vals}.")
    video_sets = cfg.get("video_sets") or {}
    if not isinstance(video_sets, dict):
        raise ConfigError(f"{where}: 'video_sets' must map video paths to {{crop: 'x1, x2, y1, y2'}}.")
    for video, entry in video_sets.items():
        if isinstance(entry, dict) and entry.get("crop") is not None:
            parse_crop(entry["crop"], f"{where} (video_sets entry {video})")
    if check_videos:
        from posenb.project.paths import resolve_video

        for video in video_sets:
            if resolve_video(cfg, video) is None:
                raise ConfigError(
                    f"{where}: video {video} listed in video_sets does not exist (nor a file of that name in "
                    f"{cfg.get('project_path')}/videos). Restore it or remove it from video_sets."
                )
    extra = sorted(set(cfg) - KNOWN_KEYS)
    if extra:
        warnings.append(
            f"{where}: keys {extra} are unknown to DeepLabCut (DeepLabCut 3 will refuse this file); "
            f"posenb keeps its own settings in {SETTINGS_FILE}."
        )
    return warnings


def read_config(path: str | os.PathLike, repair_project_path: bool = True) -> dict:
    """Read and validate a project's config.yaml.

    Parameters
    ----------
    path : path of config.yaml (a project folder is accepted too).
    repair_project_path : when the project folder was moved, set ``project_path`` to the folder that holds
        the file and save it (as DeepLabCut does).

    Raises
    ------
    ConfigError : missing file, YAML syntax error, or invalid values (the message names the file and the fix).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "config.yaml"
    if not path.is_file():
        raise ConfigError(
            f"No config file at {path}. Pass the path of a project's config.yaml "
            "(create one with posenb.create_new_project)."
        )
    try:
        text = path.read_text(encoding="utf-8")
        cfg = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: this is not valid YAML{where} ({getattr(exc, 'problem', exc)}).") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file; expected a YAML config.") from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path}: expected a YAML mapping of keys (Task, scorer, bodyparts, ...).")
    for key, value in DEFAULT_CONFIG.items():
        if key not in cfg:
            cfg[key] = copy.deepcopy(value)
    if cfg.get("video_sets") is None:
        cfg["video_sets"] = {}
    if cfg.get("skeleton") is None:
        cfg["skeleton"] = []
    if isinstance(cfg.get("TrainingFraction"), (int, float)):
        cfg["TrainingFraction"] = [cfg["TrainingFraction"]]
    for message in validate_config(cfg, path):
        if "skeleton entry" in message:
            _warnings.warn(message, UserWarning, stacklevel=2)
    project_dir = str(path.parent.resolve())
    if repair_project_path and cfg.get("project_path") != project_dir:
        cfg["project_path"] = project_dir
        try:
            write_config(path, cfg)
        except OSError:
            pass  # read-only project (e.g. shared data): use the repaired path in memory only
    return cfg


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


def project_parts(cfg: dict) -> ProjectParts:
    """The :class:`ProjectParts` of a config dict (``read_config``'s result)."""
    if not cfg.get("multianimalproject"):
        return ProjectParts(False, (), tuple(cfg.get("bodyparts") or ()))
    return ProjectParts(
        True,
        tuple(str(i) for i in cfg.get("individuals") or ()),
        tuple(cfg.get("multianimalbodyparts") or ()),
        tuple(cfg.get("uniquebodyparts") or ()),
        bool(cfg.get("identity")),
    )


def usable_skeleton(cfg: dict) -> list[list[str]]:
    """The ``skeleton`` entries whose two parts are in ``bodyparts`` (what plots, videos and analyzeskeleton use).

    Entries naming unknown parts are skipped (read_config warns about each, naming it); config.yaml keeps them.
    """
    parts = set(cfg.get("bodyparts") or [])
    return [list(b) for b in (cfg.get("skeleton") or []) if len(b) == 2 and b[0] in parts and b[1] in parts]


def _dump_value(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1000)


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
        out.write("\n\n")
    rest = [k for k in cfg if k not in written]
    for key in rest:
        out.write(_dump_value(key, cfg[key]))
    return out.getvalue()


def write_config(path: str | os.PathLike, cfg: dict) -> Path:
    """Validate and write config.yaml atomically (the previous file is kept as ``config.yaml.bak``).

    A ``default_net_type`` DeepLabCut does not know (e.g. ``efficientnet-lite0``) is posenb's choice: it is
    written into posenb.yaml's ``net_type`` and config.yaml gets DeepLabCut's ``resnet_50`` (``cfg`` itself is
    not changed), so DeepLabCut keeps accepting the project.
    """
    from posenb.io.atomic import atomic_write_text

    path = Path(path)
    validate_config(cfg, path)
    net = cfg.get("default_net_type")
    if net and not is_dlc_net_type(net):
        settings = read_settings(path.parent)
        if settings.get("net_type") != net:
            settings["net_type"] = net
            write_settings(path.parent, settings)
        cfg = {**cfg, "default_net_type": DLC_DEFAULT_NET_TYPE}
    atomic_write_text(path, dumps_config(cfg))
    return path


def is_dlc_net_type(name: str) -> bool:
    """Is ``name`` a network DeepLabCut knows (``resnet_50``, ``mobilenet_v2_1.0``, ``efficientnet-b0``, ...)?"""
    return isinstance(name, str) and name.startswith(_DLC_NET_PREFIXES)


def resolve_net_type(cfg: dict, net_type: str | None = None) -> tuple[str, str]:
    """The network posenb trains for a project, and why: ``(net_type, reason)``.

    In order: the ``net_type`` argument; ``net_type`` of posenb.yaml; a config.yaml ``default_net_type`` that
    DeepLabCut does not know (a posenb project from before 2026-12); posenb's default
    :data:`POSENB_DEFAULT_NET_TYPE`. config.yaml's DeepLabCut value (``resnet_50`` on every DeepLabCut project)
    is DeepLabCut's setting and is not used: pass ``net_type`` or set it in posenb.yaml to train it.
    """
    if net_type:
        return str(net_type), "passed as net_type"
    project = cfg.get("project_path")
    settings = read_settings(project) if project and Path(project).is_dir() else {}
    chosen = settings.get("net_type")
    if chosen:
        if not isinstance(chosen, str):
            raise ConfigError(f"{Path(project) / SETTINGS_FILE}: 'net_type' must be a network name, got {chosen!r}.")
        return chosen, f"net_type in {SETTINGS_FILE}"
    dlc = cfg.get("default_net_type")
    if dlc and not is_dlc_net_type(dlc):
        return str(dlc), "config.yaml's default_net_type (moved to posenb.yaml at the next save)"
    reason = "posenb's default: fast on a CPU, ImageNet weights installed with posenb"
    if dlc:
        reason += (
            f"; config.yaml's default_net_type {dlc!r} is DeepLabCut's setting - pass net_type={dlc!r} or set "
            f"net_type: {dlc} in {SETTINGS_FILE} to train it with posenb"
        )
    return POSENB_DEFAULT_NET_TYPE, reason


def read_settings(project_path: str | os.PathLike) -> dict:
    """posenb-only settings of a project (``<project>/posenb.yaml``), merged over :data:`DEFAULT_SETTINGS`."""
    settings = copy.deepcopy(DEFAULT_SETTINGS)
    path = Path(project_path) / SETTINGS_FILE
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc}). Fix or delete the file.") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a YAML mapping.")
        settings.update(data)
    return settings


def write_settings(project_path: str | os.PathLike, settings: dict) -> Path:
    """Write ``<project>/posenb.yaml`` atomically."""
    from posenb.io.atomic import atomic_write_text

    path = Path(project_path) / SETTINGS_FILE
    atomic_write_text(path, yaml.safe_dump(settings, sort_keys=False, default_flow_style=False))
    return path
