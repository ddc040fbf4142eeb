"""Shared fixtures: tiny synthetic videos and demo projects (built once per session), path to ../shared/data."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: spinning OpenMP threads crawl on a shared machine

import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
OPENFIELD = SHARED_DATA / "openfield-Pranav-2018-10-30"


@pytest.fixture(scope="session")
def openfield_dir() -> Path:
    """The read-only DLC openfield demo project in ../shared/data (skips if absent)."""
    if not (OPENFIELD / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5").exists():
        pytest.skip("../shared/data/openfield-Pranav-2018-10-30 is not available")
    return OPENFIELD


@pytest.fixture
def tiny_video(tmp_path) -> Path:
    """A 40-frame 64x48 H.264 video whose frame i has mean brightness ~ 5*i."""
    from posenb.io.video import write_video

    frames = [np.full((48, 64, 3), 5 * i, np.uint8) for i in range(40)]
    for i, f in enumerate(frames):
        f[10:20, (i % 50) : (i % 50) + 10] = 255
    return Path(write_video(tmp_path / "tiny.mp4", frames, fps=20))


@pytest.fixture(scope="session")
def _demo_project_session(tmp_path_factory) -> str:
    from posenb.demo import make_demo_project

    return make_demo_project(tmp_path_factory.mktemp("demo-session"), n_frames=60, n_labeled=12, width=128, height=96)


@pytest.fixture
def demo_project(_demo_project_session, tmp_path) -> str:
    """A fresh copy of a tiny demo project (60 frames, 128x96, 12 labeled frames); returns config.yaml's path."""
    src = Path(_demo_project_session).parent
    dst = tmp_path / src.name
    shutil.copytree(src, dst, symlinks=True)
    from posenb.project.config import read_config

    read_config(dst / "config.yaml")  # repairs project_path
    return str(dst / "config.yaml")


@pytest.fixture(scope="session")
def _ma_demo_project_session(tmp_path_factory) -> str:
    from posenb.demo import make_demo_project

    return make_demo_project(
        tmp_path_factory.mktemp("ma-demo-session"), n_frames=60, n_labeled=16, width=128, height=96, animals=2
    )


@pytest.fixture
def ma_demo_project(_ma_demo_project_session, tmp_path) -> str:
    """A fresh copy of a tiny two-animal demo project (60 frames, 128x96, about 16 labeled frames, individuals
    mouse1/mouse2 touching and crossing; truth: posenb.demo.project_ma.read_ma_ground_truth); returns config.yaml."""
    src = Path(_ma_demo_project_session).parent
    dst = tmp_path / src.name
    shutil.copytree(src, dst, symlinks=True)
    from posenb.project.config import read_config

    read_config(dst / "config.yaml")  # repairs project_path
    return str(dst / "config.yaml")
