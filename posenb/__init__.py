"""posenb: Jupyter-native markerless pose estimation, DeepLabCut-compatible.

The public API keeps DeepLabCut's function names and arguments, so ``import posenb as dlc`` runs a
DeepLabCut notebook. Names are imported lazily: ``import posenb`` is instant, and a dashboard that only reviews
trajectories never waits for torch.

Layers (each imports only those before it; docs/ARCHITECTURE.md, checked by import-linter): ``io`` (video,
labels, predictions, atomic writes) → ``project`` (config, naming) → ``post`` → ``track`` (multi-animal
tracking) → ``frames`` | ``data`` → ``nn`` → ``train`` | ``infer`` → ``threed`` → ``demo`` → ``widgets`` (the only
one that imports Jupyter packages).
"""

from __future__ import annotations

import importlib

# How torch's OpenMP threads wait (sleep at once on a busy machine, spin briefly on an idle one): libgomp reads it
# once, when torch is first imported, so it is set here, before any subpackage can import torch. A choice the user
# made is kept (posenb/_openmp.py).
from posenb._openmp import apply_wait_policy as _apply_wait_policy

_apply_wait_policy()

__version__ = "0.1.0"

# public name -> module that defines it
_API = {
    # project
    "create_new_project": "posenb.project.create",
    "add_new_videos": "posenb.frames.extract",  # the project layer adds, this one also extracts
    "read_config": "posenb.project.config",
    "load_demo_data": "posenb.demo.demo_data",
    "write_config": "posenb.project.config",
    "ProjectConfig": "posenb.project.config",  # the typed object over config.yaml
    # frames
    "extract_frames": "posenb.widgets.modes",  # the core function, or the frame grabber with mode="manual"
    "extract_outlier_frames": "posenb.widgets.modes",  # likewise (outlieralgorithm="manual": a panel)
    # labels
    "check_labels": "posenb.post.check_labels",
    "convertcsv2h5": "posenb.project.label_tools",
    "dropduplicatesinannotatinfiles": "posenb.project.label_tools",
    "dropannotationfileentriesduetodeletedimages": "posenb.project.label_tools",
    "dropunlabeledframes": "posenb.project.label_tools",
    "dropimagesduetolackofannotation": "posenb.project.label_tools",
    "comparevideolistsanddatafolders": "posenb.project.label_tools",
    "adddatasetstovideolistandviceversa": "posenb.project.label_tools",
    # training
    "create_training_dataset": "posenb.data.trainingset",
    "mergeandsplit": "posenb.data.trainingset",
    "create_training_model_comparison": "posenb.data.shuffles",
    "get_largestshuffle_index": "posenb.data.shuffles",
    "return_train_network_path": "posenb.train.api",
    "train_network": "posenb.train.api",
    "evaluate_network": "posenb.infer.evaluate",
    "analyze_videos": "posenb.infer.analyze",
    "analyze_videos_dask": "posenb.infer.analyze",
    "analyze_time_lapse_frames": "posenb.infer.analyze_frames",
    "analyze_videos_converth5_to_csv": "posenb.post.convert",
    "export_model": "posenb.infer.export",
    "load_exported_model": "posenb.infer.export",
    "extract_maps": "posenb.infer.maps",
    "load_ma_predictor": "posenb.infer.ma_predictor",
    "visualize_scoremaps": "posenb.infer.maps",
    "visualize_locrefs": "posenb.infer.maps",
    "extract_save_all_maps": "posenb.infer.maps",
    # model-assisted labeling
    "suggest_frames": "posenb.infer.suggest",
    "update_labeling_model": "posenb.train.labeling_model",
    "check_label_quality": "posenb.infer.label_quality",
    # video helpers (DLC's ffmpeg wrappers, on posenb's reader and H.264 writer)
    "ShortenVideo": "posenb.io.video_tools",
    "CropVideo": "posenb.io.video_tools",
    "DownSampleVideo": "posenb.io.video_tools",
    "check_video_integrity": "posenb.io.video_tools",
    # multi-animal tracking (per-frame animals -> tracks, DeepLabCut's _el.h5)
    "convert_detections2tracklets": "posenb.track.api",
    "stitch_tracklets": "posenb.track.api",
    "load_track_editor": "posenb.track.proofread",
    # after analysis
    "filterpredictions": "posenb.post.filtering",
    "plot_trajectories": "posenb.post.plotting",
    "create_labeled_video": "posenb.post.labeled_video",
    "analyzeskeleton": "posenb.post.skeleton",
    "merge_datasets": "posenb.post.refine",
    # 3D
    "create_new_project_3d": "posenb.threed",
    "calibrate_cameras": "posenb.threed",
    "check_undistortion": "posenb.threed",
    "triangulate": "posenb.threed",
    "create_labeled_video_3d": "posenb.threed",
    # other tools' files (SLEAP, NWB, COCO, Lightning Pose, DeepLabCut)
    "import_labels": "posenb.formats.api",
    "export_labels": "posenb.formats.api",
    "export_predictions": "posenb.formats.api",
    # demo
    "make_demo_project": "posenb.demo",
    # Jupyter panels
    "launch": "posenb.widgets",
    "label_frames": "posenb.widgets",
    "refine_labels": "posenb.widgets",
    "refine_tracks": "posenb.widgets",  # multi-animal track proofreading
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'posenb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
