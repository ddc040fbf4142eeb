"""Shared pieces of the multi-animal format tests: the fly sample's path, a tiny multi-animal project, a folder's
hash (to show that a refused import changed nothing)."""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FLY = (
    Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "fly2-sleap"
    / "fly2_train120.slp"
)
#: the tiny animals' parts and the frames of the tiny video they are labeled on
NODES = ["head", "thorax", "tail"]
FRAMES = (2, 5, 9, 20)


def new_project(tmp_path: Path, name: str, video: Path, multianimal: bool = True, **kw) -> str:
    """A new (multi-animal) project on ``video`` (DeepLabCut's template parts and individuals unless given)."""
    from posenb.project.create import create_new_project

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_new_project(
            name,
            "ann",
            [str(video)],
            working_directory=tmp_path / name,
            copy_videos=True,
            multianimal=multianimal,
            **kw,
        )


def tree_hash(folder: Path) -> str:
    """sha256 over every path and file content below ``folder``."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()
