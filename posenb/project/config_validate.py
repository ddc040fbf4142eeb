"""The rules config.yaml's values obey (one home: :meth:`ProjectConfig.validate` and ``validate_config`` call here).

Each rule raises :class:`ConfigError` naming the file, the key and the fix, or returns warnings for what does not
stop the work (skeleton entries naming unknown parts, keys DeepLabCut 3 would refuse). The rules are DeepLabCut
3.0.1's (its pydantic schema, ../shared/DLC_COMPAT.md §1.3) plus posenb's own: names that become folder names
stay inside the project, and the multi-animal keys are consistent.
"""

from __future__ import annotations

import os
from typing import Any

from posenb.errors import ConfigError
from posenb.project.config_schema import (
    KNOWN_KEYS,
    MULTI_SENTINEL,
    SETTINGS_FILE,
    TRACK_METHODS,
    UNIQUE_INDIVIDUAL,
)

# ``pc`` below is a :class:`posenb.project.project_config.ProjectConfig` (read through its attributes only): that
# module calls these checks, so this one does not import it (imports run one way).
_ProjectConfig = Any

__all__ = ["check_config", "parse_crop", "format_crop"]


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


def check_config(
    pc: _ProjectConfig, where: str | os.PathLike = "config.yaml", check_videos: bool = False
) -> list[str]:
    """Check every value of ``pc``; raise :class:`ConfigError` on the first real problem, return the warnings.

    With ``check_videos=True`` every ``video_sets`` entry must exist on disk (matched by stem in
    ``<project>/videos`` too).
    """
    where = str(where)
    for key in ("Task", "scorer"):
        if getattr(pc, key) in (None, "", []):
            raise ConfigError(f"{where}: the key '{key}' is missing or empty.")
    _check_path_names(pc, where)
    if pc.multianimalproject not in (None, True, False):
        raise ConfigError(
            f"{where}: 'multianimalproject' must be true or false, got {pc.multianimalproject!r}."
        )
    warnings: list[str] = []
    if pc.multianimalproject:
        known = _check_multianimal(pc, where, warnings)
    else:
        known = _check_single_animal(pc, where)
    target = "'multianimalbodyparts' or 'uniquebodyparts'" if pc.multianimalproject else "'bodyparts'"
    warnings += _check_skeleton(pc.skeleton, known, target, where)
    _check_numbers(pc, where)
    _check_cropping_and_videos(pc, where, check_videos)
    extra = sorted(k for k in pc.to_dict() if k not in KNOWN_KEYS)
    if extra:
        warnings.append(
            f"{where}: keys {extra} are unknown to DeepLabCut (DeepLabCut 3 will refuse this file); "
            f"posenb keeps its own settings in {SETTINGS_FILE}."
        )
    return warnings


def _check_path_names(pc: _ProjectConfig, where: str) -> None:
    """Task, scorer, date and iteration become folder names: none may lead out of the project."""
    from posenb.project.paths import check_path_component

    for key in ("Task", "scorer", "date"):
        if getattr(pc, key) is not None:
            check_path_component(getattr(pc, key), f"{where}: '{key}'")
    it = pc.iteration
    if it is not None and (not isinstance(it, int) or isinstance(it, bool) or it < 0):
        raise ConfigError(f"{where}: 'iteration' must be an integer >= 0, got {it!r}.")


def _name_list(value: Any, key: str, where: str, allow_empty: bool) -> list[str]:
    """A list of unique non-empty names (``key`` of config.yaml), else :class:`ConfigError`."""
    if value in (None, []) and allow_empty:
        return []
    if value in (None, "", []):
        raise ConfigError(f"{where}: the key '{key}' is missing or empty.")
    if not isinstance(value, list) or not all(isinstance(b, str) and b for b in value):
        raise ConfigError(f"{where}: '{key}' must be a list of names, got {value!r}.")
    dup = sorted({b for b in value if value.count(b) > 1})
    if dup:
        what = "individuals" if key == "individuals" else "body parts"
        raise ConfigError(f"{where}: duplicate {what} {dup}; each name must appear once in '{key}'.")
    return value


def _check_single_animal(pc: _ProjectConfig, where: str) -> list[str]:
    if pc.bodyparts == MULTI_SENTINEL:
        raise ConfigError(
            f"{where}: 'bodyparts' is {MULTI_SENTINEL} (a multi-animal project) but 'multianimalproject' is false. "
            "Set multianimalproject: true, or list the body parts under 'bodyparts'."
        )
    return _name_list(pc.bodyparts, "bodyparts", where, allow_empty=False)


def _check_multianimal(pc: _ProjectConfig, where: str, warnings: list[str]) -> list[str]:
    """individuals, multianimalbodyparts, uniquebodyparts, identity, default_track_method; returns all parts."""
    individuals = _name_list(pc.individuals, "individuals", where, allow_empty=False)
    if UNIQUE_INDIVIDUAL in individuals:
        raise ConfigError(
            f"{where}: '{UNIQUE_INDIVIDUAL}' cannot be an individual's name: DeepLabCut stores the unique body "
            "parts under it. Rename that individual in 'individuals'."
        )
    multi = _name_list(pc.multianimalbodyparts, "multianimalbodyparts", where, allow_empty=False)
    unique = _name_list(pc.uniquebodyparts, "uniquebodyparts", where, allow_empty=True)
    both = [b for b in multi if b in unique]
    if both:
        raise ConfigError(
            f"{where}: body part(s) {both} are in both 'multianimalbodyparts' and 'uniquebodyparts'. A part is "
            "either labeled on every individual (multianimalbodyparts) or once per frame (uniquebodyparts)."
        )
    if pc.identity not in (None, True, False):
        raise ConfigError(f"{where}: 'identity' must be true or false, got {pc.identity!r}.")
    if pc.default_track_method not in (None, *TRACK_METHODS):
        raise ConfigError(
            f"{where}: 'default_track_method' must be one of {list(TRACK_METHODS)}, got {pc.default_track_method!r}."
        )
    if pc.bodyparts != MULTI_SENTINEL:
        warnings.append(
            f"{where}: a multi-animal project's 'bodyparts' is {MULTI_SENTINEL} (DeepLabCut's value); the body "
            f"parts are 'multianimalbodyparts' and 'uniquebodyparts' ({pc.bodyparts!r} is not used)."
        )
    return multi + unique


def _check_skeleton(skeleton: Any, known: list[str], target: str, where: str) -> list[str]:
    skeleton = skeleton or []
    if not isinstance(skeleton, list):
        raise ConfigError(f"{where}: 'skeleton' must be a list of [part, part] pairs.")
    warnings = []
    for bone in skeleton:
        if not isinstance(bone, (list, tuple)) or len(bone) != 2 or bone[0] == bone[1]:
            raise ConfigError(f"{where}: skeleton entry {bone!r} must be two different body-part names.")
        unknown = [b for b in bone if b not in known]
        if unknown:  # e.g. DLC's template bodypart1/2/3 left in the skeleton: drawn nowhere, blocks nothing
            warnings.append(
                f"{where}: skeleton entry {list(bone)} names unknown body part(s) {unknown} and is skipped in plots "
                f"and videos; known body parts are {known}. Fix 'skeleton' or add the part to {target}."
            )
    return warnings


def _check_numbers(pc: _ProjectConfig, where: str) -> None:
    fractions = pc.TrainingFraction
    if fractions is not None:
        for f in fractions if isinstance(fractions, list) else [fractions]:
            if not isinstance(f, (int, float)) or isinstance(f, bool) or not 0 < f < 1:
                raise ConfigError(
                    f"{where}: TrainingFraction {f!r} must be a number strictly between 0 and 1 (e.g. 0.95)."
                )
            if round(f, 2) != f:
                raise ConfigError(
                    f"{where}: TrainingFraction {f!r} may have at most two decimals (e.g. 0.95)."
                )
    for key in ("start", "stop", "pcutoff", "alphavalue"):
        value = getattr(pc, key)
        if value is not None and not _is_fraction(value):
            raise ConfigError(f"{where}: '{key}' must be a number between 0 and 1, got {value!r}.")
    if pc.start is not None and pc.stop is not None and not pc.start < pc.stop:
        raise ConfigError(f"{where}: 'start' ({pc.start}) must be smaller than 'stop' ({pc.stop}).")
    n = pc.numframes2pick
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ConfigError(f"{where}: 'numframes2pick' must be a positive integer, got {n!r}.")
    bs = pc.batch_size
    if bs is not None and (not isinstance(bs, int) or bs < 1):
        raise ConfigError(f"{where}: 'batch_size' must be an integer >= 1, got {bs!r}.")
    if pc.engine not in (None, "pytorch", "tensorflow"):
        raise ConfigError(f"{where}: 'engine' must be 'pytorch' or 'tensorflow', got {pc.engine!r}.")


def _check_cropping_and_videos(pc: _ProjectConfig, where: str, check_videos: bool) -> None:
    if pc.cropping:
        vals = [pc.x1, pc.x2, pc.y1, pc.y2]
        if any(v is None for v in vals):
            raise ConfigError(f"{where}: cropping is true but x1, x2, y1, y2 are not all set.")
        if not (vals[0] < vals[1] and vals[2] < vals[3]):
            raise ConfigError(f"{where}: cropping needs x1 < x2 and y1 < y2, got {vals}.")
    video_sets = pc.video_sets or {}
    if not isinstance(video_sets, dict):
        raise ConfigError(f"{where}: 'video_sets' must map video paths to {{crop: 'x1, x2, y1, y2'}}.")
    for video, entry in video_sets.items():
        if isinstance(entry, dict) and entry.get("crop") is not None:
            parse_crop(entry["crop"], f"{where} (video_sets entry {video})")
    if check_videos:
        from posenb.project.paths import resolve_video

        cfg = pc.to_dict()
        for video in video_sets:
            if resolve_video(cfg, video) is None:
                raise ConfigError(
                    f"{where}: video {video} listed in video_sets does not exist (nor a file of that name in "
                    f"{pc.project_path}/videos). Restore it or remove it from video_sets."
                )
