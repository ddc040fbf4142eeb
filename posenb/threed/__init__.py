"""Multi-camera 3D: calibration with a checkerboard, triangulation, 3D videos (DeepLabCut's 3D toolbox).

DeepLabCut handles two cameras; posenb handles N >= 2 with the same files and names.

Files
-----
- ``config.py``: the 3D project folder and its ``config.yaml`` (``create_new_project_3d``, read/write).
- ``calibration.py``: corner detection per image tuple, keep/drop tuples, ``calibrate_cameras``.
- ``undistortion.py``: ``check_undistortion`` (rectified images, corner plots, triangulated boards).
- ``geometry.py``: camera models in camera 1's frame, undistortion, projection, N-view DLT.
- ``triangulation.py``: ``triangulate`` (2D predictions of N views -> 3D table).
- ``labeled_video_3d.py``: ``create_labeled_video_3d``.
- ``_pickle.py``: DLC-format pickles, written atomically, read with a restricted unpickler.

Workflow: ``create_new_project_3d`` -> copy board images to ``calibration_images/`` -> ``calibrate_cameras``
(check ``corners/``, drop bad tuples) -> ``calibrate_cameras(calibrate=True)`` -> ``check_undistortion`` ->
set ``config_file_<cam>`` to each camera's 2D project -> ``triangulate`` -> ``create_labeled_video_3d``.

cv2, pandas and matplotlib are imported inside the functions that need them.
"""

from posenb.threed.calibration import (
    CalibrationResult,
    CalibrationTuple,
    calibrate_cameras,
    drop_calibration_pair,
    find_calibration_corners,
    keep_calibration_pair,
)
from posenb.threed.config import create_new_project_3d, read_config_3d, write_config_3d
from posenb.threed.geometry import (
    cameras_from_stereo_params,
    project_points,
    triangulate_points,
    undistort_points,
)
from posenb.threed.labeled_video_3d import create_labeled_video_3d
from posenb.threed.triangulation import get_camerawise_videos, read_predictions_3d, triangulate
from posenb.threed.undistortion import check_undistortion

__all__ = [
    "create_new_project_3d",
    "read_config_3d",
    "write_config_3d",
    "calibrate_cameras",
    "find_calibration_corners",
    "drop_calibration_pair",
    "keep_calibration_pair",
    "CalibrationTuple",
    "CalibrationResult",
    "check_undistortion",
    "triangulate",
    "read_predictions_3d",
    "get_camerawise_videos",
    "create_labeled_video_3d",
    "cameras_from_stereo_params",
    "undistort_points",
    "project_points",
    "triangulate_points",
]
