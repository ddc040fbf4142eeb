"""Model-in-the-loop labeling: suggestions for the labeler and which frames to label next.

- :func:`label_suggestions`: the model's predictions for frames of ``labeled-data`` (the labeler shows them as
  hollow markers to accept, move or delete); without a model, the points of a nearby labeled frame carried
  forward by optical flow (:func:`posenb.frames.carry.carry_points`). Multi-animal projects: the top-down model's
  animals, one per individual (:func:`animals_to_slots`), then the unique parts, in the label table's column
  order (no carried points: the labeler copies the previous image's animals instead).
- :func:`suggest_frames`: rank frames of the project's videos that are not yet extracted by how much a label
  there would teach the model — the model's uncertainty, its disagreement with itself on the mirrored frame, and
  how different the frame looks from those already labeled — and extract the best ``n`` into ``labeled-data``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, ModelError
from posenb.infer.multiscale import SUGGESTION_ANGLES, SUGGESTION_SCALES, predict_multiscale, usable_angles
from posenb.infer.suggest_model import newest_label_model
from posenb.project.config import read_config

__all__ = [
    "LabelSuggester",
    "label_suggestions",
    "suggest_frames",
    "SUGGEST_METHODS",
    "flip_disagreement",
    "animals_to_slots",
]

SUGGEST_METHODS = ("combined", "uncertainty", "flip", "diversity")
_THUMB_W = 32


def _try_predictor(cfg: dict, shuffle: int, trainingsetindex: int, required: bool):
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    try:
        return load_predictor(cfg, shuffle, trainingsetindex)[0]
    except (ModelError, FileNotFoundError, IndexError) as exc:
        if required:
            raise ModelError(
                f"{exc} Train a model first (posenb.train_network), or use method='diversity'."
            ) from None
        return None


def _scoring_model(cfg: dict, shuffle: int, trainingsetindex: int, required: bool):
    """``(predictor, model)`` that :func:`suggest_frames` scores with, or ``(None, None)`` (``required``:
    :class:`ModelError` instead). Single-animal projects: the newest model, as the labeler's suggestions
    (:func:`~posenb.infer.suggest_model.newest_label_model`, one pass per frame); multi-animal projects: the
    shuffle's snapshot. ``model``: ``{"source", "snapshot", "iteration"}``."""
    if not cfg.get("multianimalproject"):
        predictor, model = newest_label_model(cfg, shuffle, trainingsetindex)
        if predictor is not None:
            return predictor, model
    predictor = _try_predictor(cfg, shuffle, trainingsetindex, required)  # the shuffle's error message
    if predictor is None:
        return None, None
    return predictor, {"source": f"shuffle {shuffle}", "snapshot": None, "iteration": predictor.iteration}


def animals_to_slots(out: dict, n_individuals: int, n_unique: int, pcutoff: float) -> np.ndarray:
    """One frame of :meth:`posenb.infer.ma_predictor.MAPredictor.predict_animals` output (arrays of batch size 1)
    as ``(n_individuals * P + n_unique, 3)`` suggestions x, y, likelihood: individual ``i``'s P parts, then the
    unique parts (a 4-level label table's column order); NaN x/y where nothing is suggested.

    Which animal goes to which individual: with identity, the assignment of found animals to individuals that
    maximises the product of their identity probabilities (``linear_sum_assignment``); without, the found animals
    by score, best first (the labeler's swap fixes the order). Parts below ``pcutoff`` are not suggested.
    """
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    poses = np.asarray(out["poses"], dtype=float)[0]  # (A, P, 3)
    p = poses.shape[1]
    slots = np.full((n_individuals, p, 3), np.nan)
    found = np.flatnonzero(np.isfinite(np.asarray(out["scores"], dtype=float)[0]))
    identity = out.get("identity")
    if identity is not None and len(found):
        prob = np.asarray(identity, dtype=float)[0][found][:, :n_individuals]
        rows, cols = linear_sum_assignment(-np.log(np.clip(prob, 1e-9, 1.0)))
        pairs = [(int(found[r]), int(c)) for r, c in zip(rows, cols)]
    else:
        pairs = [(int(a), i) for i, a in enumerate(found[:n_individuals])]
    for a, i in pairs:
        slots[i] = poses[a]
    unique = np.full((n_unique, 3), np.nan)
    if out.get("unique") is not None and n_unique:
        unique[:] = np.asarray(out["unique"], dtype=float)[0][:n_unique]
    table = np.concatenate([slots.reshape(-1, 3), unique])
    with np.errstate(invalid="ignore"):
        table[~(table[:, 2] >= pcutoff), :2] = np.nan
    return table


def _read_rgb(path: Path) -> np.ndarray:
    import cv2  # noqa: PLC0415

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ConfigError(f"{path} is missing or not an image.")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class LabelSuggester:
    """Suggested key points for labeled-data images, for the labeler (the model is loaded once, at first use;
    :meth:`reload` looks again, e.g. after :func:`posenb.train.labeling_model.update_labeling_model`).

    The newest model, the labeling model (``<project>/labeling-model``, trained on every label by
    ``update_labeling_model``) or the shuffle's snapshot, whichever was written last
    (:func:`posenb.infer.suggest_model.newest_label_model`; multi-animal projects: their top-down models);
    :attr:`model` says which. With a model, its prediction (``source`` ``"model"``; body parts below config
    ``pcutoff`` are not suggested: NaN rows; multi-animal projects: the top-down model's animals as
    :func:`animals_to_slots` orders them); without one (single-animal projects only), the
    points of the nearest labeled frame of the same folder, at most ``max_gap`` video frames away, carried
    forward by optical flow (``"carried"``, likelihood 1 where tracked, NaN rows where lost).

    ``test_scales``: the single-animal model runs at these input scales (relative to its ``global_scale``) and
    the key points are averaged (:mod:`posenb.infer.multiscale`); ``"default"``:
    :data:`~posenb.infer.multiscale.SUGGESTION_SCALES` (two passes per image, more suggestions within a few
    pixels of where the user would click); None: one pass, as analysis. ``test_angles``: the frame is also rotated
    by these angles (degrees) about the animal and run at each scale (``"default"``:
    :data:`~posenb.infer.multiscale.SUGGESTION_ANGLES`, +-15 deg, six passes in all; only the angles within half
    the model's trained rotation range, :func:`~posenb.infer.multiscale.usable_angles`); None: no rotation.
    """

    def __init__(
        self,
        config: str | os.PathLike,
        shuffle: int = 1,
        trainingsetindex: int = 0,
        max_gap: int = 30,
        test_scales="default",
        test_angles="default",
    ):
        self.cfg = read_config(config)
        self.project = Path(self.cfg["project_path"])
        self.shuffle, self.trainingsetindex, self.max_gap = shuffle, trainingsetindex, max_gap
        self.test_scales = SUGGESTION_SCALES if test_scales == "default" else test_scales
        self.test_angles = SUGGESTION_ANGLES if test_angles == "default" else tuple(test_angles or ())
        self._predictor = None
        self._loaded = False
        self._model: dict | None = None

    @property
    def predictor(self):
        """The predictor of the newest model, or None without a usable snapshot (looked up once)."""
        if not self._loaded:
            self._loaded = True
            self._predictor, self._model = newest_label_model(
                self.cfg, self.shuffle, self.trainingsetindex, self.test_scales
            )
        return self._predictor

    @property
    def model(self) -> dict | None:
        """The model in use: ``{"source": "labeling model" or "shuffle <k>", "snapshot": path, "iteration"}``;
        None without one (then points are carried forward)."""
        _ = self.predictor
        return self._model

    def describe(self) -> str:
        """One line for the user: which model the suggestions come from."""
        model = self.model
        if model is None:
            return "no model yet: points carried from a nearby labeled frame"
        name = Path(model["snapshot"]).stem if model.get("snapshot") else "newest snapshot"
        return f"{model['source']}, {name}"

    def reload(self) -> None:
        """Forget the loaded model: the next suggestion loads the newest one."""
        self._predictor, self._model, self._loaded = None, None, False

    def _path(self, image: str | os.PathLike) -> Path:
        return Path(image) if Path(image).is_absolute() else self.project / image

    def _predict(self, frame: np.ndarray) -> np.ndarray:
        """``(K, 3)`` the single-animal model's key points of one ``(H, W, 3)`` frame, with the test-time rotations
        the model can take."""
        predictor = self.predictor
        angles = usable_angles(self.test_angles, getattr(predictor, "train_rotation", None))
        if not angles:
            return predictor.predict(frame)[0]
        return predict_multiscale(predictor, frame[None], predictor.test_scales or (1.0,), angles)[0]

    def suggest(
        self, image: str | os.PathLike, labeled: dict[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, str] | None:
        """``((K, 3) x, y, likelihood, source)`` for ``image``, or None when there is nothing to suggest.

        ``labeled``: ``{image path: (K, 2) x/y}`` of frames with human labels (for carrying points forward). K: the
        body parts, or for a multi-animal project the label slots (individuals x parts, then unique parts).
        """
        from posenb.frames.carry import carry_points, previous_labeled_frame  # noqa: PLC0415

        path = self._path(image)
        if self.predictor is not None and self.cfg.get("multianimalproject"):
            from posenb.project.config import project_parts  # noqa: PLC0415

            parts = project_parts(self.cfg)
            out = self.predictor.predict_animals(_read_rgb(path)[None])
            pcutoff = float(self.cfg.get("pcutoff", 0.6))
            slots = animals_to_slots(out, len(parts.individuals), len(parts.unique_bodyparts), pcutoff)
            return slots, "model"
        if self.cfg.get("multianimalproject"):
            return None  # no model yet: the labeler's "copy previous" carries a multi-animal frame's points
        if self.predictor is not None:
            pred = self._predict(_read_rgb(path))
            pred[pred[:, 2] < float(self.cfg.get("pcutoff", 0.6)), :2] = np.nan
            return pred, "model"
        known = {str(self._path(k)): np.asarray(v, float) for k, v in (labeled or {}).items()}
        known = {k: v for k, v in known.items() if np.isfinite(v).any()}
        source = previous_labeled_frame(path, list(known), max_gap=self.max_gap)
        if source is None:
            return None
        pts = carry_points(_read_rgb(source), _read_rgb(path), known[str(source)][:, :2])
        if not np.isfinite(pts).any():
            return None
        like = np.where(np.isfinite(pts[:, :1]), 1.0, np.nan)
        return np.concatenate([pts, like], axis=1), "carried"


def label_suggestions(
    config: str | os.PathLike,
    images: Iterable[str | os.PathLike],
    shuffle: int = 1,
    trainingsetindex: int = 0,
    labeled: dict[str, np.ndarray] | None = None,
    max_gap: int = 30,
) -> dict[str, tuple[np.ndarray, str]]:
    """Suggested key points for several labeled-data images (see :class:`LabelSuggester`).

    ``images``: paths (absolute, or relative to the project folder). Returns ``{image (as given): ((K, 3),
    source)}``; images with no suggestion are left out.
    """
    suggester = LabelSuggester(config, shuffle, trainingsetindex, max_gap)
    out = {}
    for image in images:
        got = suggester.suggest(image, labeled)
        if got is not None:
            out[str(image)] = got
    return out


def flip_disagreement(
    predictor, frames: np.ndarray, pairs: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of ``frames`` (n, H, W, 3) and, per frame, the mean distance (px) to the prediction on the
    horizontally mirrored frame mapped back (x -> W - 1 - x, left/right ``pairs`` swapped). ``(pred, dist)``."""
    pred = predictor.predict(frames)
    mirrored = predictor.predict(np.ascontiguousarray(frames[:, :, ::-1]))
    width = frames.shape[2]
    back = mirrored.copy()
    back[..., 0] = width - 1 - mirrored[..., 0]
    for i, j in pairs:
        back[:, [i, j]] = back[:, [j, i]]
    dist = np.hypot(pred[..., 0] - back[..., 0], pred[..., 1] - back[..., 1])
    return pred, np.nanmean(dist, axis=1)


def _rank01(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties share the mean rank); all equal -> 0.5."""
    values = np.asarray(values, float)
    if len(values) < 2 or np.nanmax(values) == np.nanmin(values):
        return np.full(len(values), 0.5)
    return pd.Series(values).rank(method="average").to_numpy() / len(values)


def _thumbs(frames: np.ndarray) -> np.ndarray:
    import cv2  # noqa: PLC0415

    h, w = frames.shape[1:3]
    size = (_THUMB_W, max(1, round(_THUMB_W * h / w)))
    small = [
        cv2.resize(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA) for f in frames
    ]
    x = np.stack(small).reshape(len(frames), -1).astype(np.float32)
    return x - x.mean(axis=1, keepdims=True)


def _novelty(cand: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Distance of each candidate thumbnail to the nearest known (labeled) one; inf when none is known."""
    if not len(known):
        return np.full(len(cand), np.inf)
    d = (cand**2).sum(1)[:, None] - 2 * cand @ known.T + (known**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d.min(axis=1), 0))


def _pick(score: np.ndarray, thumbs: np.ndarray, n: int) -> list[int]:
    """Greedy: best score first, each next pick's score damped by its similarity to the picks so far."""
    chosen: list[int] = []
    free = np.ones(len(score), bool)
    scale = float(np.median(_novelty(thumbs, thumbs[:1]))) or 1.0
    for _ in range(min(n, len(score))):
        damp = 1.0 - np.exp(-_novelty(thumbs, thumbs[chosen]) / scale) if chosen else np.ones(len(score))
        j = int(np.argmax(np.where(free, score * damp, -np.inf)))
        chosen.append(j)
        free[j] = False
    return chosen


def _video_scores(cfg, video, predictor, method, n_candidates, pairs, rng):
    """Candidate frames of one video with their scores (a DataFrame) and thumbnails."""
    from posenb.frames.extract import read_exact_frames, taken_frames  # noqa: PLC0415
    from posenb.frames.select import uniform_indices  # noqa: PLC0415
    from posenb.io.video import open_video  # noqa: PLC0415
    from posenb.project.paths import video_stem  # noqa: PLC0415

    folder = Path(cfg["project_path"]) / "labeled-data" / video_stem(video)
    taken = taken_frames(folder)
    with open_video(video) as reader:
        n_frames = reader.n_frames
    idx = uniform_indices(n_frames, n_candidates, cfg.get("start", 0), cfg.get("stop", 1), rng, exclude=taken)
    idx = np.sort(np.asarray(idx, dtype=np.int64))
    frames = (
        np.stack([f for _, f in read_exact_frames(video, idx)])
        if len(idx)
        else np.zeros((0, 1, 1, 3), np.uint8)
    )
    table = pd.DataFrame({"video": str(video), "frame": idx})
    if predictor is not None and method != "diversity" and len(idx):
        pcutoff = float(cfg.get("pcutoff", 0.6))
        preds, dis = [], []
        for k in range(0, len(frames), 16):
            p, d = flip_disagreement(predictor, frames[k : k + 16], pairs)
            preds.append(p)
            dis.append(d)
        pred = np.concatenate(preds)
        table["uncertainty"] = 1.0 - np.nanmean(np.clip(pred[..., 2], 0, 1), axis=1)
        table["below_pcutoff"] = (pred[..., 2] < pcutoff).sum(axis=1)
        table["flip_px"] = np.concatenate(dis)
    known = [f for f in sorted(folder.glob("*.png"))] if folder.is_dir() else []
    thumbs = _thumbs(frames) if len(frames) else np.zeros((0, 1), np.float32)
    known_thumbs = (
        _thumbs(np.stack([_read_rgb(p) for p in known])) if known and len(frames) else np.zeros((0, 1))
    )
    if known_thumbs.shape[1:] != thumbs.shape[1:]:
        known_thumbs = np.zeros((0, thumbs.shape[1]), np.float32)
    table["novelty"] = _novelty(thumbs, known_thumbs) if len(frames) else []
    return table, thumbs, n_frames, folder


def _score_and_pick(table: pd.DataFrame, thumbs: np.ndarray, method: str, with_model: bool, n: int) -> list:
    """Set ``table["score"]`` (mean rank of the method's columns, in [0, 1]) and ``table["rank"]`` (1..n for the
    greedy picks, 0 for the others); returns the picked row labels in pick order."""
    parts = {"uncertainty": ["uncertainty"], "flip": ["flip_px"], "diversity": ["novelty"]}.get(method)
    if parts is None:  # combined
        parts = ["uncertainty", "flip_px", "novelty"] if with_model else ["novelty"]
    novelty = table["novelty"].to_numpy(float)
    if "novelty" in parts and np.isinf(novelty).all():
        table["novelty"] = novelty = np.ones(
            len(table)
        )  # nothing labeled yet: diversity comes from the greedy picks
    table["score"] = np.mean([_rank01(table[c].to_numpy(float)) for c in parts], axis=0) if len(table) else []
    picks = _pick(table["score"].to_numpy(float), thumbs, n) if len(table) else []
    table["rank"] = 0
    table.loc[picks, "rank"] = np.arange(1, len(picks) + 1)
    return picks


def _video_paths(cfg: dict, videos, config) -> list:
    """The videos of :func:`suggest_frames` (``videos``, or the project's ``video_sets``); ConfigError if none."""
    from posenb.project.paths import list_videos, resolve_video  # noqa: PLC0415

    if videos is None:
        paths = [resolve_video(cfg, v) for v in (cfg.get("video_sets") or {})]
        paths = [p for p in paths if p is not None]
    else:
        paths = list_videos(videos)
    if not paths:
        raise ConfigError(f"suggest_frames: no video found ({videos or 'video_sets of ' + str(config)}).")
    return paths


def suggest_frames(
    config: str | os.PathLike,
    videos: Iterable[str | os.PathLike] | str | os.PathLike | None = None,
    n: int = 10,
    method: str = "combined",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    n_candidates: int = 200,
    extract: bool = True,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Rank not-yet-extracted frames by what a label there would teach the model; extract the best ``n``.

    Parameters
    ----------
    config : path of config.yaml.
    videos : videos to draw from (paths; default: the project's ``video_sets``).
    n : frames to suggest in total (spread over the videos by score).
    method : ``"uncertainty"`` (1 - mean likelihood of the body parts), ``"flip"`` (mean pixel distance between
        the prediction and the prediction on the mirrored frame mapped back: a model that is sure and right
        agrees with itself), ``"diversity"`` (thumbnail distance to the frames already in ``labeled-data``;
        needs no model), or ``"combined"`` (the mean of the ranks of the three; ``"diversity"`` alone with a
        warning when there is no model). Picks are greedy: each next pick is damped by its similarity
        to the picks so far, so ``n`` near-identical frames are never suggested together.
    shuffle, trainingsetindex : the model used. Single-animal projects: the newest model, as for the labeler's
        suggestions (:class:`LabelSuggester`): the labeling model (``<project>/labeling-model``, trained on every
        label by :func:`~posenb.train.labeling_model.update_labeling_model`) or this shuffle's snapshot (config
        ``snapshotindex``), whichever file was written last. Multi-animal projects: the shuffle's snapshot.
    n_candidates : frames sampled uniformly (within config ``start``/``stop``) per video and scored.
    extract : save the picks as ``labeled-data/<video>/img<N>.png`` (never overwriting) to label next.
    seed : for the candidate sample.

    Returns
    -------
    DataFrame of every scored candidate, best first: ``video``, ``frame``, ``uncertainty``, ``below_pcutoff``
    (body parts under ``pcutoff``), ``flip_px`` (model columns only with a model), ``novelty``, ``score`` and
    ``rank`` (1..n for the picks, 0 for the others), ``extracted`` (bool). ``table.attrs["model"]``: the model
    that scored the frames, ``{"source": "labeling model" or "shuffle <k>", "snapshot": path, "iteration"}``, or
    None (ranked without a model).
    """
    from posenb.data.augment import find_symmetric_pairs  # noqa: PLC0415
    from posenb.frames.extract import save_frames  # noqa: PLC0415

    if method not in SUGGEST_METHODS:
        raise ConfigError(f"suggest_frames: method must be one of {SUGGEST_METHODS}, got {method!r}.")
    if n < 1:
        raise ConfigError(f"suggest_frames: n must be >= 1, got {n}.")
    cfg = read_config(config)
    paths = _video_paths(cfg, videos, config)
    predictor, model = None, None
    if method != "diversity":
        predictor, model = _scoring_model(cfg, shuffle, trainingsetindex, required=method != "combined")
        if predictor is None:
            warnings.warn(
                "suggest_frames: no trained model (shuffle or labeling model); ranking by diversity only.",
                stacklevel=2,
            )
    pairs = find_symmetric_pairs(list(cfg["bodyparts"]))
    rng = np.random.default_rng(seed)
    tables, thumbs, meta = [], [], {}
    for path in paths:
        table, th, n_frames, folder = _video_scores(cfg, path, predictor, method, n_candidates, pairs, rng)
        tables.append(table)
        thumbs.append(th)
        meta[str(path)] = (n_frames, folder)
    table = pd.concat(tables, ignore_index=True)
    all_thumbs = np.concatenate([t for t in thumbs if len(t)]) if len(table) else np.zeros((0, 1))
    picks = _score_and_pick(table, all_thumbs, method, predictor is not None, n)
    table["extracted"] = False
    if extract:
        for video, group in table.loc[picks].groupby("video"):
            n_frames, folder = meta[video]
            saved = save_frames(video, group["frame"].tolist(), folder, n_frames, progress=False)
            table.loc[group.index[group["frame"].isin(saved)], "extracted"] = True
    order = np.lexsort((-table["score"].to_numpy(float), np.where(table["rank"] > 0, table["rank"], 10**9)))
    table = table.iloc[order].reset_index(drop=True)
    table.attrs["model"] = model
    return table
