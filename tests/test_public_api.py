"""The top-level API: DeepLabCut's names, resolved lazily (``import posenb as dlc``)."""

from __future__ import annotations

import inspect
import subprocess
import sys

import posenb

# DeepLabCut 2.x/3.0 single-animal and 3D names a DLC notebook calls (../shared/DLC_COMPAT.md §11 and the API)
DLC_NAMES = [
    "create_new_project", "add_new_videos", "load_demo_data", "extract_frames", "label_frames", "check_labels",
    "create_training_dataset", "create_training_model_comparison", "mergeandsplit", "train_network",
    "return_train_network_path", "get_largestshuffle_index", "evaluate_network", "analyze_videos",
    "analyze_time_lapse_frames", "analyze_videos_converth5_to_csv", "filterpredictions", "plot_trajectories",
    "create_labeled_video", "analyzeskeleton", "extract_outlier_frames", "refine_labels", "merge_datasets",
    "convertcsv2h5", "dropduplicatesinannotatinfiles", "dropannotationfileentriesduetodeletedimages",
    "dropunlabeledframes", "dropimagesduetolackofannotation", "comparevideolistsanddatafolders",
    "adddatasetstovideolistandviceversa", "ShortenVideo", "CropVideo", "DownSampleVideo", "check_video_integrity",
    "create_new_project_3d", "calibrate_cameras", "check_undistortion", "triangulate", "create_labeled_video_3d",
    "export_model", "extract_maps", "visualize_scoremaps", "visualize_locrefs", "extract_save_all_maps",
    "analyze_videos_dask",
]  # fmt: skip


def test_every_dlc_name_resolves_to_a_documented_callable():
    missing = [n for n in DLC_NAMES if n not in posenb.__all__]
    assert not missing, missing
    for name in posenb.__all__:
        if name == "__version__":
            continue
        obj = getattr(posenb, name)
        assert callable(obj), name
        assert (inspect.getdoc(obj) or "").strip(), f"{name} has no docstring"


# posenb's own panels besides DeepLabCut's names (multi-animal track proofreading: issue #17)
POSENB_PANELS = ["launch", "label_frames", "refine_labels", "refine_tracks"]


def test_posenb_panels_are_exported():
    missing = [n for n in POSENB_PANELS if n not in posenb.__all__]
    assert not missing, missing


def test_import_is_lazy():
    code = (
        "import sys, posenb; posenb.create_new_project; posenb.filterpredictions; "
        "print(sorted(m for m in ('torch', 'ipywidgets', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]"]
