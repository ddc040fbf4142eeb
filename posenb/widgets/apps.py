"""Locate the Voila dashboards (``voila_apps/*.ipynb``) for ``posenb dashboard`` / the demo.

In a source checkout the notebooks of the repository's ``voila_apps/`` are served. An installed package has
no such folder, so an equivalent few-cell notebook is written to ``~/.cache/posenb/voila_apps/`` instead.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["app_path", "APPS"]

REPO_APPS = Path(__file__).resolve().parents[2] / "voila_apps"

# app name -> the code of its single cell (used only when the repository's voila_apps/ is not available)
APPS = {
    "posenb_app": "import os\nimport posenb\nposenb.launch(os.environ.get('POSENB_CONFIG'))",
    "labeler": "import os\nfrom posenb.widgets.labeler import Labeler\nLabeler(os.environ.get('POSENB_CONFIG'))",
    "training_monitor": "import os\nfrom posenb.widgets.training_monitor import TrainingMonitor\n"
    "TrainingMonitor(os.environ.get('POSENB_CONFIG'))",
}


def app_path(name: str = "posenb_app") -> Path:
    """Path of the dashboard notebook ``name`` (repository copy if present, else a generated one)."""
    repo = REPO_APPS / f"{name}.ipynb"
    if repo.is_file():
        return repo
    if name not in APPS:
        raise ValueError(f"unknown dashboard {name!r}; choose one of {sorted(APPS)}")
    cache = Path.home() / ".cache" / "posenb" / "voila_apps"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}.ipynb"
    nb = {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": APPS[name]}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))
    return path
