"""config.yaml's key set: DeepLabCut's templates (single- and multi-animal), key order and section comments.

One home for *which* keys config.yaml holds and their template values; :mod:`posenb.project.config_validate`
says which values are allowed, :class:`posenb.project.project_config.ProjectConfig` is the typed object over them.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "UNIQUE_INDIVIDUAL",
    "MULTI_SENTINEL",
    "DEFAULT_INDIVIDUALS",
    "TRACK_METHODS",
    "POSENB_DEFAULT_NET_TYPE",
    "DLC_DEFAULT_NET_TYPE",
    "CONFIG_SECTIONS",
    "MULTIANIMAL_KEYS_AFTER",
    "DEFAULT_CONFIG",
    "MULTIANIMAL_TEMPLATE",
    "KNOWN_KEYS",
    "DLC3_KEYS",
    "DEFAULT_SETTINGS",
    "SETTINGS_FILE",
]

#: DeepLabCut's individual name for the unique body parts (scene points) of a multi-animal project
UNIQUE_INDIVIDUAL = "single"
#: DeepLabCut's ``bodyparts`` value in a multi-animal config.yaml
MULTI_SENTINEL = "MULTI!"
#: DeepLabCut's ``individuals`` of a new multi-animal project
DEFAULT_INDIVIDUALS = ["individual1", "individual2", "individual3"]
#: values of ``default_track_method`` DeepLabCut knows (``ctd``: DeepLabCut >= 3.0)
TRACK_METHODS = ("ellipse", "box", "skeleton", "ctd")

#: posenb's own network: fast on a CPU, ImageNet weights shipped with a package (trains offline)
POSENB_DEFAULT_NET_TYPE = "efficientnet-lite0"
#: DeepLabCut's template value of config.yaml's ``default_net_type``
DLC_DEFAULT_NET_TYPE = "resnet_50"

# (section comment, keys) in DeepLabCut 2.3's single-animal template order.
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
    (
        "# Plotting configuration",
        ["skeleton", "skeleton_color", "pcutoff", "dotsize", "alphavalue", "colormap"],
    ),
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

#: DeepLabCut's multi-animal template places these keys right after the key named (when present in a config)
MULTIANIMAL_KEYS_AFTER: dict[str, list[str]] = {
    "video_sets": ["individuals", "uniquebodyparts", "multianimalbodyparts"],
    "default_augmenter": ["default_track_method"],
}

#: DeepLabCut's single-animal template (DLC's create_new_project values)
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

#: what DeepLabCut 3.0.1's ``create_new_project(..., multianimal=True)`` changes in the template
MULTIANIMAL_TEMPLATE: dict[str, Any] = {
    "multianimalproject": True,
    "identity": False,
    "individuals": list(DEFAULT_INDIVIDUALS),
    "uniquebodyparts": [],
    "multianimalbodyparts": ["bodypart1", "bodypart2", "bodypart3"],
    "bodyparts": MULTI_SENTINEL,
    "skeleton": [["bodypart1", "bodypart2"], ["bodypart2", "bodypart3"], ["bodypart1", "bodypart3"]],
    "default_augmenter": "multi-animal-imgaug",  # DeepLabCut 3's PyTorch engine maps any value to albumentations
    "default_track_method": "ellipse",
}

#: keys of DeepLabCut 3.0.1's config schema (it refuses any other key: ../shared/DLC_COMPAT.md §1.3)
DLC3_KEYS = frozenset(DEFAULT_CONFIG) | {
    "config_version",
    "pose_config_path",
    "individuals",
    "uniquebodyparts",
    "multianimalbodyparts",
    "default_track_method",
    "resnet",
    "croppedtraining",
}

# Keys DeepLabCut 2.x / 3.0 know; anything else in config.yaml is reported (DLC 3 would reject it).
KNOWN_KEYS = set(DLC3_KEYS) | {"video_sets_original", "eval_prefix"}

DEFAULT_SETTINGS: dict[str, Any] = {
    # posenb-only settings, stored in <project>/posenb.yaml (DLC 3 rejects unknown keys in config.yaml).
    "mirror_pairs": [],  # [[left_part, right_part], ...] swapped when mirroring during augmentation
    "train": {},  # overrides of the training recipe (see posenb.data / posenb.train)
    "net_type": None,  # the network posenb trains (None: POSENB_DEFAULT_NET_TYPE); see resolve_net_type
}

SETTINGS_FILE = "posenb.yaml"
