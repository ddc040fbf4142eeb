"""A skeleton naming unknown parts (DeepLabCut's template bodypart1/2/3 left in config.yaml) warns and blocks nothing.

DeepLabCut's guide tells users to edit ``bodyparts`` and says nothing of ``skeleton``, so many DLC projects keep
the template's ``[[bodypart1, bodypart2], [objectA, bodypart3]]``. posenb reads such a project with one warning
per entry (naming it), keeps the entry in config.yaml, and plots, videos and analyzeskeleton skip it.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config, usable_skeleton, write_config

TEMPLATE = [["bodypart1", "bodypart2"], ["objectA", "bodypart3"]]


def test_openfield_config_with_template_skeleton(openfield_dir, tmp_path):
    """A copy of the openfield config whose skeleton is DLC's template plus one real bone: read, warned, drawn."""
    from posenb.post.check_labels import check_labels

    project = tmp_path / "openfield-Pranav-2018-10-30"
    (project / "labeled-data" / "m4s1").mkdir(parents=True)
    cfg = yaml.safe_load((openfield_dir / "config.yaml").read_text())
    cfg["skeleton"] = [*TEMPLATE, ["snout", "tailbase"]]
    (project / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    labels = read_labels(openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5").iloc[:2]
    for parts in labels.index:
        shutil.copy(openfield_dir.joinpath(*parts), project.joinpath(*parts))
    write_labels(labels, project / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")

    with pytest.warns(UserWarning) as record:
        cfg = read_config(project / "config.yaml")
    messages = [str(w.message) for w in record if "skeleton entry" in str(w.message)]
    assert len(messages) == 2
    assert "['bodypart1', 'bodypart2']" in messages[0] and "unknown body part(s) ['bodypart1', 'bodypart2']" in messages[0]
    assert "['objectA', 'bodypart3']" in messages[1] and "skipped in plots and videos" in messages[1]
    assert cfg["skeleton"] == [*TEMPLATE, ["snout", "tailbase"]]  # nothing dropped from config.yaml
    assert yaml.safe_load((project / "config.yaml").read_text())["skeleton"] == cfg["skeleton"]
    assert usable_skeleton(cfg) == [["snout", "tailbase"]]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folders = check_labels(str(project / "config.yaml"), draw_skeleton=True)
    drawn = sorted(p.name for p in Path(folders[0]).glob("*.png"))
    assert len(drawn) == 2


def test_labeled_video_and_analyzeskeleton_skip_unknown_entries(demo_project):
    from posenb.io.predictions import array_to_predictions, write_predictions
    from posenb.post.labeled_video import create_labeled_video
    from posenb.post.skeleton import analyzeskeleton
    from posenb.project.paths import get_scorer_name

    cfg = read_config(demo_project)
    cfg["skeleton"] = [*TEMPLATE, ["snout", "leftear"]]
    with pytest.warns(UserWarning, match=r"skeleton entry \['bodypart1', 'bodypart2'\]"):
        write_config(demo_project, cfg)
        cfg = read_config(demo_project)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    arr = np.zeros((60, len(cfg["bodyparts"]), 3))
    arr[..., 0], arr[..., 1], arr[..., 2] = 30.0 + 20 * np.arange(len(cfg["bodyparts"])), 40.0, 0.9
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "efficientnet-lite0", 50)
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), video.with_name(video.stem + scorer + ".h5"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = create_labeled_video(demo_project, [str(video)], draw_skeleton=True)
        (skel,) = analyzeskeleton(demo_project, [str(video)])
    assert Path(out[0]).is_file()
    table = pd.read_hdf(skel)
    assert list(dict.fromkeys(table.columns.get_level_values(0))) == ["snout_leftear"]
    assert np.allclose(table[("snout_leftear", "length")], 20.0)
