from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# torch must be loaded before decord: decord2 3.4 dlopens every nvidia/*/lib/*.so with RTLD_GLOBAL, including
# libnvblas, whose sgemm_ then replaces torch's own CPU BLAS and segfaults small convolutions (batch 1-2).
import torch  # noqa: E402, F401
from trained_demo import make_tiny_project, trained_project  # noqa: E402


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict:
    """The shared trained tiny demo project (read-only: copy it before changing anything)."""
    return trained_project(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def _tiny_session(tmp_path_factory) -> str:
    return make_tiny_project(tmp_path_factory.mktemp("tiny-untrained"))


@pytest.fixture
def tiny_project(_tiny_session, tmp_path) -> str:
    """A fresh copy of the untrained tiny project (training set created); returns config.yaml's path."""
    from posenb.project.config import read_config

    src = Path(_tiny_session).parent
    dst = tmp_path / src.name
    shutil.copytree(src, dst, symlinks=True)
    read_config(dst / "config.yaml")
    return str(dst / "config.yaml")
