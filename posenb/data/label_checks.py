"""Checks of the labels that go into a training set: nothing bad passes silently, nothing is dropped unsaid.

Used by :func:`posenb.data.trainingset.create_training_dataset` (and ``merge_annotated_datasets``):

- :func:`check_net_type`: an unknown ``net_type`` is refused when the training set is made, with the list of
  networks posenb can build (not at train time, after the files were written);
- :func:`resolve_duplicates`: the same image in several rows: identical rows are merged with a warning naming
  them; rows that disagree are an error naming the images and the files (never one silently kept);
- :func:`check_missing_parts`: a CSV label file with no columns for a body part that other label files do label
  (a hand-edited CSV lost its columns) is an error naming the file and the part; an older .h5 without a part
  that newer files label, or a part no file has yet (just added to config.yaml), is a warning naming them;
- :func:`check_usable`: points outside their image are left out of training (as DeepLabCut does) with a warning
  naming the rows; when no training image keeps a point, the training set is refused (0 usable entries).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from posenb.errors import ConfigError, LabelError
from posenb.io.labels import duplicate_rows

__all__ = ["check_net_type", "resolve_duplicates", "check_missing_parts", "check_usable"]


def check_net_type(net_type: str) -> str:
    """``net_type`` if posenb can build it, else :class:`ConfigError` listing the known networks."""
    from posenb.nn import list_backbones  # noqa: PLC0415 - torch is only needed here

    known = list_backbones()
    if net_type not in known:
        raise ConfigError(
            f"Unknown net_type {net_type!r}. posenb can train: {', '.join(known)} (efficientnet-lite0 is the fast "
            "default that works offline). Pass one of them as net_type=, or fix default_net_type in config.yaml."
        )
    return net_type


def resolve_duplicates(data: pd.DataFrame, sources: dict[str, str]) -> pd.DataFrame:
    """``data`` with one row per image: identical duplicate rows merged (warning), disagreeing ones refused.

    ``sources`` maps a label folder (row level 1) to the file it came from, for the messages.
    """
    identical, conflicting = duplicate_rows(data)
    if conflicting:
        files = sorted({sources.get(name.split("/")[-2] if "/" in name else name, "?") for name in conflicting})
        raise LabelError(
            f"{len(conflicting)} image(s) are labeled twice with different coordinates: {conflicting[:5]} (in "
            f"{files}). Keep one row per image (posenb.dropduplicatesinannotatinfiles keeps the first), then "
            "create the training set again."
        )
    if identical:
        warnings.warn(
            f"{len(identical)} image(s) appear twice with identical labels and are used once: {identical[:5]}.",
            stacklevel=3,
        )
        data = data[~data.index.duplicated(keep="first")]
    return data


def check_missing_parts(columns_by_file: dict[str, set[str]], bodyparts: Sequence[str]) -> None:
    """Body parts of config.yaml without columns in a label file (see the module docstring)."""
    labeled_somewhere = set().union(*columns_by_file.values()) if columns_by_file else set()
    new_parts = [b for b in bodyparts if b not in labeled_somewhere]
    for path, have in columns_by_file.items():
        lost = [b for b in bodyparts if b not in have and b in labeled_somewhere]
        if lost and str(path).lower().endswith(".csv"):
            raise LabelError(
                f"{path} has no columns for body part(s) {lost}, which config.yaml lists and other label files "
                "label. Was the file edited by hand? Restore the columns (empty cells = not labeled) and convert "
                "it again (posenb.convertcsv2h5)."
            )
        if lost:  # an older .h5 from before the part was added to config.yaml (as DeepLabCut allows)
            warnings.warn(
                f"{path} has no columns for body part(s) {lost}: they count as not labeled in its images. Label "
                "them there (posenb.label_frames) if they are visible.",
                stacklevel=3,
            )
    if new_parts:
        warnings.warn(
            f"No label file has columns for body part(s) {new_parts} of config.yaml yet; they count as not "
            "labeled in every image. Label them (posenb.label_frames) for the network to learn them.",
            stacklevel=3,
        )


def check_usable(n_entries: int, n_labeled: int, outside: list[tuple[str, str]], shuffle: int, fraction: float):
    """Refuse a shuffle with no usable training entry; warn about labels outside their images.

    ``n_entries``: training images that keep at least one point; ``n_labeled``: training images with any
    label; ``outside``: ``(image, "x, y in WxH")`` of points outside their image.
    """
    where = f"shuffle {shuffle} (TrainingFraction {fraction})"
    if n_entries == 0:
        if outside:
            raise LabelError(
                f"0 usable training entries in {where}: every labeled point of its {n_labeled} labeled training "
                f"image(s) lies outside the image, e.g. {outside[0][0]} at {outside[0][1]}. Coordinates are pixels "
                "of the labeled PNG (origin top-left): were the labels scaled or made on another frame size?"
            )
        raise LabelError(
            f"0 usable training entries in {where}: no training image holds a labeled point (the labeled images "
            "all went to the test set). Label more frames or choose a larger TrainingFraction."
        )
    if outside:
        rows = sorted({image for image, _ in outside})
        warnings.warn(
            f"{len(outside)} labeled point(s) in {len(rows)} image(s) lie outside their image and are left out of "
            f"training ({where}): e.g. {outside[0][0]} at {outside[0][1]}; rows {rows[:5]}.",
            stacklevel=3,
        )
