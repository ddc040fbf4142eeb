"""Which model the labeler's suggestions come from (:class:`posenb.infer.suggest.LabelSuggester`).

The newest of two: the labeling model (``<project>/labeling-model/train``, trained on every label by
:func:`posenb.train.labeling_model.update_labeling_model`) and the shuffle's snapshot (config ``snapshotindex``),
whichever snapshot file was written last; the other when it cannot be loaded. Single-animal projects get a
:class:`~posenb.infer.predictor.Predictor`; multi-animal ones an :class:`~posenb.infer.ma_predictor.MAPredictor`
(the pose snapshot and the newest centroid snapshot of its ``centroid/`` folder), used only when it was trained on
config.yaml's ``multianimalbodyparts`` and ``uniquebodyparts`` (and individuals, with identity).
"""

from __future__ import annotations

import math
from pathlib import Path

from posenb.errors import ConfigError, ModelError

__all__ = ["newest_label_model"]


def _snapshot_mtime(path: Path | None) -> float:
    try:
        return path.stat().st_mtime if path is not None else -math.inf
    except OSError:
        return -math.inf


def _candidates(cfg: dict, shuffle: int, trainingsetindex: int) -> list[tuple[Path, str]]:
    """``[(snapshot, source)]``: the labeling model's newest and the shuffle's, newest file first."""
    from posenb.nn.snapshots import list_snapshots, select_snapshot  # noqa: PLC0415
    from posenb.project.paths import get_labeling_model_dir, get_train_dir  # noqa: PLC0415

    own = list_snapshots(get_labeling_model_dir(cfg) / "train")
    candidates = [(own[-1], "labeling model")] if own else []
    try:
        index = cfg.get("snapshotindex", -1)
        train_dir = get_train_dir(cfg, shuffle, trainingsetindex)[0]
        candidates.append((select_snapshot(train_dir, -1 if index == "all" else index), f"shuffle {shuffle}"))
    except (ModelError, ConfigError, IndexError):
        pass
    return sorted(candidates, key=lambda c: _snapshot_mtime(c[0]), reverse=True)


def _load_ma(cfg: dict, path: Path):
    """The :class:`MAPredictor` of pose snapshot ``path``; ModelError when it is not one of this project's models."""
    from posenb.infer.ma_predictor import MAPredictor  # noqa: PLC0415
    from posenb.nn.snapshots import select_snapshot  # noqa: PLC0415
    from posenb.project.config import project_parts  # noqa: PLC0415

    parts = project_parts(cfg)
    predictor = MAPredictor.from_snapshots(path, select_snapshot(path.parent / "centroid", -1))
    individuals = predictor.individuals if predictor.identity else list(parts.individuals)
    if (predictor.bodyparts, predictor.unique_bodyparts, individuals) != (
        list(parts.bodyparts), list(parts.unique_bodyparts), list(parts.individuals)
    ):  # fmt: skip
        raise ModelError(f"{path} was trained on other body parts or individuals than config.yaml lists.")
    return predictor, predictor.iteration


def newest_label_model(cfg: dict, shuffle: int, trainingsetindex: int, test_scales=None):
    """``(predictor, {"source": "labeling model" or "shuffle <k>", "snapshot": path (str), "iteration"})`` of the
    newest usable model (see the module docstring), or ``(None, None)`` without one. ``test_scales``: a
    single-animal predictor's input scales (:class:`~posenb.infer.predictor.Predictor`; None: one pass)."""
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    for path, source in _candidates(cfg, shuffle, trainingsetindex):
        try:
            if cfg.get("multianimalproject"):
                predictor, iteration = _load_ma(cfg, path)
            else:
                predictor, info = load_predictor(
                    cfg, shuffle, trainingsetindex, snapshot=path, test_scales=test_scales
                )
                iteration = info["iteration"]
        except (ModelError, ConfigError, FileNotFoundError, IndexError):
            continue
        return predictor, {"source": source, "snapshot": str(path), "iteration": iteration}
    return None, None
