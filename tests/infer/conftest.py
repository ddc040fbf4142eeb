from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# torch must be loaded before decord: decord2 3.4 dlopens every nvidia/*/lib/*.so with RTLD_GLOBAL, including
# libnvblas, whose sgemm_ then replaces torch's own CPU BLAS and segfaults small convolutions (batch 1-2).
import torch  # noqa: E402, F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from trained_demo import trained_copy_of, trained_project  # noqa: E402


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> dict:
    """The shared trained tiny demo project (read-only: use ``trained_copy`` to change anything)."""
    return trained_project(tmp_path_factory.getbasetemp())


@pytest.fixture
def trained_copy(trained, tmp_path) -> str:
    """A private copy of the trained project; returns its config.yaml path."""
    return trained_copy_of(trained, tmp_path)
