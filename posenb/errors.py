"""Errors posenb raises for bad user input.

Every error speaks to the user: what was wrong, in which file, and what to do next. They all derive from
:class:`PosenbError`, so a notebook or the CLI can catch one type and print its message without a traceback.
"""

from __future__ import annotations

__all__ = ["PosenbError", "ConfigError", "VideoError", "LabelError", "ModelError", "ProofreadError"]


class PosenbError(Exception):
    """Base class of all user-facing posenb errors."""


class ConfigError(PosenbError, ValueError):
    """config.yaml (or posenb.yaml) is missing, malformed or inconsistent."""


class VideoError(PosenbError, OSError):
    """A video file is missing, unreadable or corrupt."""


class LabelError(PosenbError, ValueError):
    """A label or prediction file is missing, malformed, or belongs to another scorer / body-part set."""


class ModelError(PosenbError, RuntimeError):
    """A model, snapshot or pretrained weight file cannot be used."""


class ProofreadError(PosenbError, ValueError):
    """A track-proofreading edit cannot be made (e.g. the target track is not free on those frames)."""
