"""Shuffles of a project, and training sets that compare networks on one split (DeepLabCut's helpers).

- :func:`existing_shuffle_indices`, :func:`get_largestshuffle_index`: which shuffles the current iteration has;
- :func:`create_training_model_comparison`: one frozen split, one shuffle per (network, augmenter) pair.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from posenb.data.trainingset import (
    create_training_dataset,
    merge_annotated_datasets,
    split_seed,
    split_trials,
)
from posenb.errors import ConfigError
from posenb.project import paths
from posenb.project.config import read_config

__all__ = ["existing_shuffle_indices", "get_largestshuffle_index", "create_training_model_comparison"]


def existing_shuffle_indices(config: str | os.PathLike | dict) -> list[int]:
    """Sorted shuffle indices of the current iteration (any train fraction).

    A shuffle exists if its ``Documentation_data-<Task>_<pct>shuffle<k>.pickle`` is in the training-set folder or
    its model folder ``<Task><date>-trainset<pct>shuffle<k>`` is in ``dlc-models/iteration-N`` (or
    ``dlc-models-pytorch/iteration-N``, DLC 3's).
    """
    cfg = config if isinstance(config, dict) else read_config(config)
    project = Path(cfg["project_path"])
    found: set[int] = set()
    tset = project / paths.get_training_set_folder(cfg)
    if tset.is_dir():
        for f in tset.iterdir():
            m = paths.parse_training_set_file(f.name)
            if m and m[0] == cfg["Task"]:
                found.add(m[2])
    prefix = f"{cfg['Task']}{cfg['date']}-trainset"
    for root in ("dlc-models", "dlc-models-pytorch"):
        folder = project / root / f"iteration-{cfg['iteration']}"
        if folder.is_dir():
            for f in folder.iterdir():
                m = paths.parse_model_folder(f.name)
                if m and f.is_dir() and f.name.startswith(prefix):
                    found.add(m[1])
    return sorted(found)


def get_largestshuffle_index(config: str | os.PathLike) -> int | None:
    """The largest shuffle index of the current iteration, ``None`` when there is none (DeepLabCut 3.0.1's meaning).

    DeepLabCut 2.3 returned the largest index *plus one* (the next free one; 0 when ``dlc-models/iteration-N`` is
    missing, and it crashed on an empty folder) despite the name. posenb follows 3.0.1: the name means what it
    says, and ``None`` cannot be mistaken for shuffle 0. The next free index is ``(get_largestshuffle_index(c) or
    0) + 1``. Shuffles are found as in :func:`existing_shuffle_indices` (training-set files and model folders).
    """
    found = existing_shuffle_indices(config)
    return found[-1] if found else None


def _log_line(path: Path, message: str) -> None:
    import datetime as _dt  # noqa: PLC0415

    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp} INFO {message}\n")


def _comparison_pairs(net_types, augmenter_types, num_shuffles) -> tuple[list[str], list[str]]:
    """The net types and augmenters as lists (a single name allowed); ConfigError when nothing is to be made."""
    net_types = [net_types] if isinstance(net_types, str) else list(net_types)
    augmenter_types = [augmenter_types] if isinstance(augmenter_types, str) else list(augmenter_types)
    if not net_types or not augmenter_types:
        raise ConfigError(
            "create_training_model_comparison: give at least one net type and one augmenter type."
        )
    if int(num_shuffles) < 1:
        raise ConfigError(f"create_training_model_comparison: num_shuffles must be >= 1, got {num_shuffles}.")
    return net_types, augmenter_types


def create_training_model_comparison(
    config: str | os.PathLike,
    trainindex: int = 0,
    num_shuffles: int = 1,
    net_types: Sequence[str] = ("resnet_50",),
    augmenter_types: Sequence[str] = ("imgaug",),
    userfeedback: bool = False,
    windows2linux: bool = False,
) -> list[int]:
    """Training sets to compare networks / augmenters on identical data (DeepLabCut's helper).

    For each of ``num_shuffles`` frozen splits (fraction ``TrainingFraction[trainindex]``, padded with ``-1`` as
    :func:`mergeandsplit` does; frozen split 0 is exactly ``mergeandsplit(config, trainindex)``'s), one shuffle is
    created per (net type, augmenter) pair with :func:`create_training_dataset` (``trainIndices``/``testIndices``
    and ``Shuffles``), so all of them train and test on the same images.

    Shuffles are numbered consecutively as in DeepLabCut 2.3 / 3.0: shuffle
    ``start + i_aug + i_net * len(augmenter_types) + i_split * len(augmenter_types) * len(net_types)`` where
    ``start`` is one more than the largest existing shuffle (:func:`get_largestshuffle_index`). Deviation: in a
    project without any shuffle DeepLabCut starts at 0; posenb starts at 1, like ``create_training_dataset``.

    Parameters
    ----------
    config : path of config.yaml.
    trainindex : index into ``TrainingFraction``.
    num_shuffles : number of different frozen splits.
    net_types : backbones (posenb's registry: e.g. ``"resnet_50"``, ``"efficientnet-lite0"``, ``"mobilenet_v2_1.0"``).
    augmenter_types : written as ``dataset_type`` in ``pose_cfg.yaml``.
    userfeedback : ask before overwriting an existing shuffle (passed to ``create_training_dataset``).
    windows2linux : accepted for DeepLabCut compatibility; no effect.

    Each shuffle made is logged (``<time> INFO Shuffle index:<k>, net_type:<net>, augmenter_type:<aug>,
    trainsetindex:<i>, frozen shuffle ID:<s>``, DeepLabCut's line) to
    ``training-datasets/iteration-N/training_model_comparison.log`` (DeepLabCut logs to the project folder).
    Returns the list of shuffle indices made (in creation order).
    """
    del windows2linux
    from tqdm.auto import tqdm  # noqa: PLC0415

    net_types, augmenter_types = _comparison_pairs(net_types, augmenter_types, num_shuffles)
    cfg = read_config(config)
    fractions = cfg["TrainingFraction"]
    if not 0 <= int(trainindex) < len(fractions):
        raise ConfigError(
            f"trainindex={trainindex} is out of range: {config} has TrainingFraction {fractions}."
        )
    fraction = fractions[int(trainindex)]
    n = len(merge_annotated_datasets(cfg, quiet=True))  # the table create_training_dataset writes (same rows)
    largest = get_largestshuffle_index(config)
    start = 1 if largest is None else largest + 1
    log = Path(cfg["project_path"]) / "training-datasets" / f"iteration-{cfg['iteration']}"
    log = log / "training_model_comparison.log"
    n_pairs = len(net_types) * len(augmenter_types)
    made: list[int] = []
    with tqdm(total=int(num_shuffles) * n_pairs, desc="model comparison", unit="shuffle") as bar:
        for frozen in range(int(num_shuffles)):
            train, test = split_trials(n, fraction, split_seed(fraction, frozen), enforce_train_fraction=True)
            for i_net, net in enumerate(net_types):
                for i_aug, aug in enumerate(augmenter_types):
                    shuffle = start + i_aug + i_net * len(augmenter_types) + frozen * n_pairs
                    done = create_training_dataset(
                        config, Shuffles=[shuffle], trainIndices=[train], testIndices=[test], net_type=net,
                        augmenter_type=aug, userfeedback=userfeedback,
                    )  # fmt: skip
                    bar.update(1)
                    if not done:  # the user declined to overwrite it
                        continue
                    made.append(shuffle)
                    _log_line(
                        log,
                        f"Shuffle index:{shuffle}, net_type:{net}, augmenter_type:{aug}, "
                        f"trainsetindex:{trainindex}, frozen shuffle ID:{frozen}",
                    )
    return made
