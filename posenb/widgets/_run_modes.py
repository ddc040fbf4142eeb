"""How a trained model is run, as the panels offer it (one home for the words): :data:`RUN_MODES`, the "Run" choice
of the Analyze videos tab (``analyze_videos`` keywords), and :data:`EVALUATION_MODES`, the part of it that the
evaluation view offers (``evaluate_network`` takes ``test_scales`` but no ``precision``). Single-animal projects
only: multi-animal analysis and evaluation run one pass in float32, and the panels hide the choice."""

from __future__ import annotations

from posenb.infer.multiscale import ACCURATE_SCALES

__all__ = ["RUN_MODES", "EVALUATION_MODES", "run_mode_options"]

#: the "Run" choices of a single-animal project: key -> (label, analyze_videos keyword arguments)
RUN_MODES: dict[str, tuple[str, dict]] = {
    "model": ("As the model is set up (train/pose_cfg.yaml: one pass unless test_scales is set)", {}),
    "accurate": (
        "More accurate: input scales x1.1 + x1.25 averaged (~2.8x the time; openfield 1.81 -> 1.73 px)",
        {"test_scales": list(ACCURATE_SCALES)},
    ),
    "fast": (
        "Faster: bfloat16 (~2x on CPUs with AMX / AVX512-BF16; key points ~0.15 px from float32)",
        {"precision": "bfloat16"},
    ),
}

#: the keys of :data:`RUN_MODES` the evaluation view offers (their keywords are ``evaluate_network``'s too)
EVALUATION_MODES: tuple[str, ...] = ("model", "accurate")


def run_mode_options(keys=None) -> list[tuple[str, str]]:
    """``(label, key)`` pairs of :data:`RUN_MODES` (``keys``: a subset, in that order) for a Dropdown."""
    return [(RUN_MODES[key][0], key) for key in (keys if keys is not None else RUN_MODES)]
