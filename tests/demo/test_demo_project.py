from pathlib import Path

import numpy as np

from posenb.demo import DEMO_BODYPARTS, make_demo_project, make_synthetic_video, read_ground_truth
from posenb.io.labels import labels_to_array, read_labels
from posenb.io.video import open_video
from posenb.project.config import read_config
from posenb.project.paths import frame_index


def test_synthetic_video_known_keypoints(tmp_path):
    path, kp = make_synthetic_video(tmp_path / "v.mp4", n_frames=20, width=96, height=72, seed=3)
    r = open_video(path)
    assert (r.n_frames, r.width, r.height) == (20, 96, 72)
    assert kp.shape == (20, 4, 2)
    assert (kp[..., 0] > 0).all() and (kp[..., 0] < 96).all() and (kp[..., 1] > 0).all() and (kp[..., 1] < 72).all()
    # the snout is drawn in a reddish colour exactly where the key point says
    frame = r.read(10).astype(int)
    x, y = np.round(kp[10, 0]).astype(int)
    patch = frame[y - 1 : y + 2, x - 1 : x + 2]
    assert (patch[..., 0] - patch[..., 2]).mean() > 40
    # deterministic
    _, kp2 = make_synthetic_video(tmp_path / "w.mp4", n_frames=20, width=96, height=72, seed=3)
    np.testing.assert_array_equal(kp, kp2)


def test_demo_project_labels_are_ground_truth(demo_project):
    cfg = read_config(demo_project)
    assert cfg["bodyparts"] == DEMO_BODYPARTS and len(cfg["skeleton"]) == 4
    df = read_labels(Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5")
    assert len(df) == 12
    gt = read_ground_truth(demo_project)
    idx = [frame_index(i[2]) for i in df.index]
    np.testing.assert_allclose(labels_to_array(df), gt[idx])
    for name in df.index.get_level_values(2):
        assert (Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / name).is_file()


def test_demo_project_is_not_rebuilt(tmp_path):
    c1 = make_demo_project(tmp_path, n_frames=20, n_labeled=4, width=64, height=48)
    labels = Path(c1).parent / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    mtime = labels.stat().st_mtime_ns
    assert make_demo_project(tmp_path, n_frames=20, n_labeled=4, width=64, height=48) == c1
    assert labels.stat().st_mtime_ns == mtime


def test_demo_does_not_tell_the_user_to_edit_bodyparts(tmp_path, capsys, tiny_video):
    make_demo_project(tmp_path / "d", n_frames=20, n_labeled=4, width=96, height=72)
    assert "edit bodyparts" not in capsys.readouterr().out  # the demo sets them and carries on
    from posenb.project.create import create_new_project

    create_new_project("given", "me", [str(tiny_video)], working_directory=tmp_path / "g", bodyparts=["a", "b"])
    out = capsys.readouterr().out
    assert "body parts ['a', 'b']. Next: extract_frames." in out and "edit bodyparts" not in out
    create_new_project("plain", "me", [str(tiny_video)], working_directory=tmp_path / "p")
    assert "Next: edit bodyparts in config.yaml, then extract_frames." in capsys.readouterr().out
