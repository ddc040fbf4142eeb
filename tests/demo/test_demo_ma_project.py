"""The two-animal demo: simulation, rendering and the multi-animal project it writes (seconds)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.demo import DEMO_BODYPARTS, make_demo_project, read_ground_truth
from posenb.demo.project_ma import read_ma_ground_truth
from posenb.demo.synthetic_multi import make_synthetic_ma_video, simulate_animals
from posenb.io.labels import read_labels
from posenb.io.video import open_video
from posenb.project.config import project_parts, read_config
from posenb.project.paths import frame_index


def test_two_animals_touch_cross_and_differ():
    sim = simulate_animals(300, 320, 240, n_animals=2, seed=0)
    kp, L = sim["keypoints"], sim["body_length"]
    assert kp.shape == (300, 2, 4, 2) and sim["center"].shape == (300, 2, 2)
    assert L[0] > L[1]  # animal 0 is the larger one (identity from appearance)
    gap = np.linalg.norm(sim["center"][:, 0] - sim["center"][:, 1], axis=1)
    closest = np.linalg.norm(kp[:, 0, :, None] - kp[:, 1, None], axis=-1).min(axis=(1, 2))
    assert (closest < 0.2 * L.mean()).sum() >= 5  # touching: a part of one within a few pixels of the other
    assert (gap < 0.5 * L.mean()).sum() >= 3  # on top of each other (crossing)
    assert (gap > 1.5 * L.mean()).mean() > 0.4  # and apart most of the time
    np.testing.assert_array_equal(kp, simulate_animals(300, 320, 240, n_animals=2, seed=0)["keypoints"])


def test_rendered_animals_sit_on_their_keypoints(tmp_path):
    path, sim = make_synthetic_ma_video(tmp_path / "m.mp4", n_frames=30, width=160, height=120, seed=1)
    reader = open_video(path)
    assert (reader.n_frames, reader.width, reader.height) == (30, 160, 120)
    gap = np.linalg.norm(sim["center"][:, 0] - sim["center"][:, 1], axis=1)
    t = int(np.argmax(gap))  # a frame where they are apart
    frame = reader.read(t).astype(int)
    body = []
    for a in range(2):
        x, y = np.round(sim["keypoints"][t, a, 0]).astype(int)  # snout: reddish marker
        patch = frame[y - 1 : y + 2, x - 1 : x + 2]
        assert (patch[..., 0] - patch[..., 2]).mean() > 40
        cx, cy = np.round(sim["center"][t, a]).astype(int)
        body.append(frame[cy - 1 : cy + 2, cx - 1 : cx + 2].mean())
    assert body[0] < body[1] - 15  # animal 0 is darker
    reader.close()


@pytest.fixture(scope="module")
def ma_demo(tmp_path_factory):
    wd = tmp_path_factory.mktemp("ma-demo")
    return make_demo_project(wd, n_frames=40, n_labeled=8, width=128, height=96, animals=2, unique=True)


def test_ma_demo_project_config_and_labels(ma_demo):
    cfg = read_config(ma_demo)
    parts = project_parts(cfg)
    assert cfg["multianimalproject"] and cfg["bodyparts"] == "MULTI!" and cfg["identity"] is False
    assert parts.individuals == ("mouse1", "mouse2") and parts.bodyparts == tuple(DEMO_BODYPARTS)
    assert parts.unique_bodyparts == ("food",) and len(cfg["skeleton"]) == 4
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mice"
    df = read_labels(folder / "CollectedData_posenb.h5")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values("individuals"))) == parts.table_individuals
    assert set(df.xs("single", level="individuals", axis=1).columns.get_level_values("bodyparts")) == {"food"}
    assert 6 <= len(df) <= 8 and df.notna().all().all()
    # the CSV twin: DeepLabCut's 4 header rows
    head = (folder / "CollectedData_posenb.csv").read_text().splitlines()[:4]
    assert [h.split(",")[0] for h in head] == ["scorer", "individuals", "bodyparts", "coords"]
    csv = pd.read_csv(folder / "CollectedData_posenb.csv", header=[0, 1, 2, 3], index_col=[0, 1, 2])
    np.testing.assert_allclose(csv.to_numpy(), df.to_numpy())
    for name in df.index.get_level_values(2):
        assert (folder / name).is_file()


def test_ma_demo_labels_are_the_ground_truth_with_identities(ma_demo):
    cfg = read_config(ma_demo)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mice"
    df = read_labels(folder / "CollectedData_posenb.h5")
    truth, food = read_ma_ground_truth(ma_demo)
    assert truth.shape == (40, 2, 4, 2) and food.shape == (40, 1, 2)
    np.testing.assert_array_equal(read_ground_truth(ma_demo), truth)
    idx = [frame_index(i[2]) for i in df.index]
    for a, ind in enumerate(["mouse1", "mouse2"]):
        for p, bp in enumerate(DEMO_BODYPARTS):
            np.testing.assert_allclose(df[("posenb", ind, bp, "x")], truth[idx, a, p, 0])
            np.testing.assert_allclose(df[("posenb", ind, bp, "y")], truth[idx, a, p, 1])
    np.testing.assert_allclose(df[("posenb", "single", "food", "x")], food[idx, 0, 0])
    # the closest approach of the two animals is among the labeled frames
    gap = np.linalg.norm(truth[:, 0].mean(axis=1) - truth[:, 1].mean(axis=1), axis=1)
    assert int(np.argmin(gap)) in idx


def test_ma_demo_is_not_rebuilt_and_single_demo_is_unchanged(ma_demo, tmp_path):
    labels = Path(ma_demo).parent / "labeled-data" / "demo_mice" / "CollectedData_posenb.h5"
    mtime = labels.stat().st_mtime_ns
    wd = Path(ma_demo).parent.parent
    again = make_demo_project(wd, n_frames=40, n_labeled=8, width=128, height=96, animals=2, unique=True)
    assert again == ma_demo and labels.stat().st_mtime_ns == mtime
    single = make_demo_project(wd, n_frames=20, n_labeled=4, width=64, height=48)
    assert (
        Path(single).parent.name.startswith("demo-posenb-")
        and read_config(single)["bodyparts"] == DEMO_BODYPARTS
    )
    assert read_ground_truth(single).shape == (20, 4, 2)


def test_cli_demo_animals_2_no_train_makes_the_project_and_says_what_next(tmp_path, capsys):
    from posenb.cli import main

    assert main(["demo", "--workdir", str(tmp_path), "--animals", "2", "--no-serve", "--no-train"]) == 0
    out = capsys.readouterr().out
    config = next(Path(tmp_path).glob("demo_ma-posenb-*/config.yaml"))
    assert f"Multi-animal demo project: {config}" in out
    assert "individuals: mouse1, mouse2" in out and f"posenb train {config}" in out
    cfg = read_config(config)
    assert project_parts(cfg).individuals == ("mouse1", "mouse2") and not project_parts(cfg).unique_bodyparts
    df = read_labels(Path(cfg["project_path"]) / "labeled-data" / "demo_mice" / "CollectedData_posenb.h5")
    assert f"{len(df)} frames from the ground truth" in out and len(df) >= 30


def test_cli_create_multianimal_project(tmp_path, tiny_video, capsys):
    from posenb.cli import main

    argv = ["create-project", "cli", "ann", str(tiny_video), "--working-directory", str(tmp_path), "--multianimal",
            "--individuals", "f", "m", "--bodyparts", "head", "tail", "--uniquebodyparts", "food"]  # fmt: skip
    assert main(argv) == 0
    cfg = read_config(capsys.readouterr().out.strip().splitlines()[-1])
    parts = project_parts(cfg)
    assert parts.individuals == ("f", "m") and parts.bodyparts == ("head", "tail")
    assert parts.unique_bodyparts == ("food",)
