"""The multi-animal pieces of :func:`posenb.train.labeling_model.update_labeling_model` (its rules: that module).

The labeling model of a multi-animal project is the top-down model that ``train_network`` trains
(:mod:`posenb.train.ma_api`), laid out as a shuffle's ``train/`` folder: the pose model's
``labeling-model/train/snapshot-<iter>.pt`` (+ ``pose_cfg.yaml``, ``train.log``, ``learning_stats.csv``) and the
centroid model's ``labeling-model/train/centroid/snapshot-<iter>.pt``, so :mod:`posenb.infer.ma_predictor` reads it
as it reads a shuffle's.

- Labels: the merged 4-level tables (:func:`posenb.data.ma_trainingset.merge_ma_datasets`, read only), the frames
  with at least one labeled point (an animal's part or a unique part), as ``coords`` ``(N, A, P, 2)`` and ``unique``
  ``(N, U, 2)`` frame pixels, NaN = not labeled (A = config individuals, P = ``multianimalbodyparts``, U =
  ``uniquebodyparts``).
- A start: a pose snapshot (of the labeling model or of the shuffle) of the project's ``multianimalbodyparts``, with
  the same identity setting (and individuals when ``identity: true``), and the newest centroid snapshot of its
  ``centroid/`` folder with the project's unique parts.
- From scratch: :func:`posenb.data.ma_trainingset.derive_ma_recipe` on every label.
- Budget: the fine-tune rule with the labeled multi-animal parts and the recipe's pose budget for all frames; the
  centroid model gets the same number of iterations, at most its recipe's budget for all frames
  (``ma_centroid_iters``, at least ``FT_MIN_ITERS``), and the same short cosine from its own iteration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError, ModelError
from posenb.project.config import project_parts
from posenb.train import labeling_rules as lm

__all__ = ["MultiAnimalModel"]


class MultiAnimalModel:
    """The multi-animal pieces of ``update_labeling_model`` (see the module docstring); labels as ``(table, image
    paths, (coords (N, A, P, 2), unique (N, U, 2)))``."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.parts = project_parts(cfg)
        self._derived = None

    def labels(self):
        """``(table, images, (coords, unique))`` of every frame with at least one labeled point."""
        from posenb.data.ma_trainingset import ma_label_arrays, merge_ma_datasets  # noqa: PLC0415

        data = merge_ma_datasets(self.cfg)
        coords, unique = ma_label_arrays(data, self.parts)
        animals = np.isfinite(coords).all(axis=-1).any(axis=(1, 2))
        keep = animals | np.isfinite(unique).all(axis=-1).any(axis=1)
        data, coords, unique = data[keep], coords[keep], unique[keep]
        project = Path(self.cfg["project_path"])
        images = [project.joinpath(*[str(p) for p in i]) for i in data.index]
        return data, images, (coords, unique)

    def check(self, path: Path, state: dict, folder: Path) -> None:
        """ModelError when pose snapshot ``path`` (in ``folder``, with ``folder/centroid/``) cannot start the model."""
        from posenb.nn.snapshots import check_bodyparts, load_snapshot  # noqa: PLC0415

        check_bodyparts(state, list(self.parts.bodyparts), path)
        info = state.get("topdown") or {}
        if info.get("kind") != "instance":
            raise ModelError(f"{path} is not the pose model of posenb's multi-animal (top-down) model.")
        if bool(info.get("identity")) != self.parts.identity or (
            self.parts.identity and list(info.get("individuals") or []) != list(self.parts.individuals)
        ):
            raise ModelError(
                f"{path} was trained with identity={info.get('identity')} for individuals {info.get('individuals')}; "
                f"config.yaml has identity={self.parts.identity}, individuals {list(self.parts.individuals)}."
            )
        centroid = lm.newest_snapshot(folder / "centroid")
        if centroid is None:
            raise ModelError(f"{folder / 'centroid'} holds no centroid snapshot beside {path.name}.")
        cinfo = load_snapshot(centroid).get("topdown") or {}
        if cinfo.get("kind") != "centroid" or list(cinfo.get("unique_bodyparts") or []) != list(
            self.parts.unique_bodyparts
        ):
            raise ModelError(
                f"{centroid} is not a centroid model of config.yaml's unique body parts "
                f"{list(self.parts.unique_bodyparts)}."
            )

    def archive(self, train_dir: Path) -> None:
        """Move both models' snapshots to ``previous-<n>/`` (a start from scratch or from the shuffle)."""
        from posenb.nn.snapshots import archive_snapshots  # noqa: PLC0415

        archive_snapshots(train_dir)
        archive_snapshots(train_dir / "centroid")

    def shuffle_digest(self, shuffle: int, trainingsetindex: int) -> dict[str, str]:
        """Label digest of a shuffle's training split ({} when it cannot be read)."""
        from posenb.data.ma_trainingset import read_ma_training_split  # noqa: PLC0415

        try:
            data, train_idx, _, _ = read_ma_training_split(self.cfg, shuffle, trainingsetindex)
        except (ConfigError, LabelError, OSError, ValueError):
            return {}
        return lm.digest_of_split(data, train_idx)

    def _recipe(self, labels) -> tuple[dict, dict]:
        """:func:`~posenb.data.ma_trainingset.derive_ma_recipe` on every label (computed once)."""
        from posenb.data.ma_trainingset import derive_ma_recipe  # noqa: PLC0415
        from posenb.data.trainingset_files import frame_size  # noqa: PLC0415

        if self._derived is None:
            data, _, (coords, unique) = labels
            size = frame_size(Path(self.cfg["project_path"]), data.index)
            self._derived = derive_ma_recipe(size, coords, self.parts.bodyparts, unique)
        return self._derived

    def scratch_cfg(self, train_dir: Path, labels) -> None:
        """pose_cfg.yaml (train/ and test/) of a from-scratch model: the top-down recipe from every label."""
        from posenb.data.ma_trainingset import ma_pose_cfgs  # noqa: PLC0415
        from posenb.project.config import resolve_net_type  # noqa: PLC0415
        from posenb.project.paths import get_training_set_folder  # noqa: PLC0415

        net_type, _ = resolve_net_type(self.cfg)
        augmenter = self.cfg.get("default_augmenter") or "default"
        folder = Path(self.cfg["project_path"]) / get_training_set_folder(self.cfg)
        cfgs = ma_pose_cfgs(self.cfg, self.parts, 1.0, 0, net_type, augmenter, None, self._recipe(labels), None,
                            folder)  # fmt: skip
        lm.write_scratch_cfgs(train_dir, *cfgs)

    def budget(self, train_dir: Path, labels) -> tuple[int, int]:
        """``(parts, iterations)`` for the fine-tune rule: multi-animal parts labeled at least once, the recipe's
        pose-model budget for all frames."""
        coords = labels[2][0]
        parts = int(np.isfinite(coords).all(axis=-1).any(axis=(0, 1)).sum())
        return parts, int(self._recipe(labels)[0]["max_iters"])

    def _centroid_warm_start(self, plan: dict, labels, lr: float) -> dict:
        """The centroid model's start state (its folder's newest snapshot, short cosine) and its overrides/notes."""
        from posenb.nn.snapshots import load_snapshot  # noqa: PLC0415

        path = lm.newest_snapshot(plan["folder"] / "centroid")
        state = load_snapshot(path)
        if plan["asked"] is not None:
            n, why = int(plan["asked"]), "iterations= of update_labeling_model"
        else:
            full = max(lm.FT_MIN_ITERS, int(self._recipe(labels)[0]["ma_centroid_iters"]))
            n = min(int(plan["iterations"]), full)
            why = (
                f"the pose model's {plan['iterations']}, at most {full} (its recipe's budget for all frames)"
            )
        state, stop = lm.cosine_start(state, n, lr)
        plan["overrides"].update(ma_centroid_iters=stop, ma_centroid_minutes=None)
        plan["notes"]["ma_centroid_iters"] = f"+{n}: {why}"
        plan["notes"]["ma_centroid_start"] = f"warm start from {path} (iteration {int(state['iteration'])})"
        return state

    def train(self, train_dir: Path, plan: dict, labels, run: dict) -> tuple[int, bool]:
        """Train the centroid, then the pose model, as planned; ``(pose model's iterations, stopped)``."""
        from posenb import __version__  # noqa: PLC0415
        from posenb.train.ma_api import train_ma_on_images  # noqa: PLC0415
        from posenb.train.run_config import load_train_config  # noqa: PLC0415

        starts = {}
        if plan["mode"] == "warm start":
            lr = float(load_train_config(train_dir).lr)
            lm.warm_overrides(plan, lr)
            starts = {"instance": plan["state"], "centroid": self._centroid_warm_start(plan, labels, lr)}
        elif plan["asked"] is not None:
            plan["overrides"].update(ma_centroid_iters=int(plan["asked"]), ma_centroid_minutes=None)
        ma = {k: v for k, v in plan["overrides"].items() if k.startswith("ma_")}
        tcfg = load_train_config(train_dir, {k: v for k, v in plan["overrides"].items() if k not in ma})
        tcfg.extra.update(ma)
        n_iter = plan.get("iterations", int(tcfg.max_iters))
        lm.announce(plan, n_iter)
        recipe = (tcfg.extra.get("recipe") or {}) if plan["mode"] == "from scratch" else {}
        run = {**run, "overrides": plan["overrides"], "maxiters": None, "start": starts,
               "notes": {**recipe, **plan["notes"]}}  # fmt: skip
        base = {"bodyparts": list(self.parts.bodyparts), "net_type": tcfg.net_type, "posenb_version": __version__,
                "train_fraction": 1.0, "shuffle": 0, "labeling_model": True, **plan["digests"]}  # fmt: skip
        data, images, (coords, unique) = labels
        result = train_ma_on_images(train_dir, tcfg, (images, coords, unique), self.parts, base, run)
        return n_iter, bool(result["stopped"])
