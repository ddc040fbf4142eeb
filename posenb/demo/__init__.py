"""Synthetic demo data: a video of an animal-like figure with exactly known key points, and a demo project.

- ``synthetic.py``: trajectory simulation and rendering (:func:`make_synthetic_video`).
- ``project.py``: :func:`make_demo_project` builds a labeled DeepLabCut-style project from it.
- ``run.py``: the end-to-end demo that the README's first command runs.
- ``demo_data.py``: :func:`load_demo_data` (DeepLabCut's), for DeepLabCut's bundled demo projects.
"""

from posenb.demo.project import make_demo_project, read_ground_truth
from posenb.demo.synthetic import DEMO_BODYPARTS, DEMO_SKELETON, make_synthetic_video

__all__ = ["make_demo_project", "read_ground_truth", "make_synthetic_video", "DEMO_BODYPARTS", "DEMO_SKELETON"]
