"""The ``posenb`` console script: dispatch, help, errors as messages with exit status 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from posenb.cli import build_parser, main


def test_help_lists_the_subcommands(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for cmd in ("demo", "dashboard", "train", "analyze", "evaluate", "create-training-dataset"):
        assert cmd in out
    args = build_parser().parse_args(["demo", "--workdir", "/tmp/x", "--no-serve"])
    assert (args.workdir, args.no_serve) == ("/tmp/x", True)
    args = build_parser().parse_args(["analyze", "cfg.yaml", "a.mp4", "b.mp4", "--save-as-csv"])
    assert args.videos == ["a.mp4", "b.mp4"] and args.save_as_csv
    assert args.test_scales is None  # the shuffle's pose_cfg.yaml decides (null: one pass)
    assert not args.whole_frames  # a small single animal is followed in a window
    assert build_parser().parse_args(["analyze", "cfg.yaml", "a.mp4", "--whole-frames"]).whole_frames
    args = build_parser().parse_args(["analyze", "cfg.yaml", "a.mp4", "--test-scales", "1.1", "1.25"])
    assert args.videos == ["a.mp4"] and args.test_scales == [1.1, 1.25]
    args = build_parser().parse_args(["evaluate", "cfg.yaml", "--test-scales", "1.25"])
    assert args.test_scales == [1.25]


def test_user_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["train", str(tmp_path / "nowhere" / "config.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("posenb train: No config file at") and "Traceback" not in err


def test_create_training_dataset_command(demo_project, capsys):
    assert main(["create-training-dataset", demo_project]) == 0
    assert "TrainingFraction 0.8 shuffle 1: 9 train / 3 test images" in capsys.readouterr().out


def test_console_script_starts_without_torch():
    code = "import sys; from posenb.cli import main; main(['--version']); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["0.1.0", "False"]


STEPS = (
    "create-project", "add-videos", "extract", "label", "check-labels", "create-training-dataset", "train",
    "evaluate", "analyze", "filter", "plot", "labeled-video", "skeleton", "outliers", "merge", "import", "export",
    "demo", "dashboard",
)  # fmt: skip


def test_every_step_is_a_command_whose_options_have_help_and_defaults(capsys):
    import argparse

    parser = build_parser()
    parser.print_help()
    out = capsys.readouterr().out
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(STEPS) <= set(sub.choices), set(STEPS) - set(sub.choices)
    for step in STEPS:
        assert f"    {step}" in out
        cmd = sub.choices[step]
        assert cmd.formatter_class is argparse.ArgumentDefaultsHelpFormatter
        for action in cmd._actions:
            assert action.help, f"posenb {step}: {action.dest} has no help text"
    text = sub.choices["filter"].format_help()
    assert "(default: median)" in text and "(default: 5)" in text


def _fake_predictions(config: str):
    """A prediction file for the demo video, as analyze_videos names it (ground truth + noise, likelihoods)."""
    import numpy as np

    from posenb.demo.project import ground_truth_path
    from posenb.io.predictions import (
        array_to_predictions,
        predictions_to_array,
        read_predictions,
        write_predictions,
    )
    from posenb.project.config import read_config

    cfg = read_config(config)
    gt = read_predictions(ground_truth_path(config))
    arr = predictions_to_array(gt).copy()
    rng = np.random.default_rng(1)
    arr[..., :2] += rng.normal(0, 0.5, arr[..., :2].shape)
    arr[::7, 0, :2] += 30  # jumps for the outlier search
    arr[..., 2] = rng.uniform(0.7, 1.0, arr.shape[:2])
    scorer = f"DLC_effnetlite0_{cfg['Task']}{cfg['date']}shuffle1_100"
    bodyparts = list(dict.fromkeys(gt.columns.get_level_values(1)))
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    return video, write_predictions(array_to_predictions(arr, scorer, bodyparts), video.parent / f"demo_mouse{scorer}.h5")


def test_project_commands(tmp_path, tiny_video, capsys):
    assert main(["create-project", "cli", "ann", str(tiny_video), "--working-directory", str(tmp_path),
                 "--bodyparts", "nose", "tail"]) == 0  # fmt: skip
    config = capsys.readouterr().out.strip().splitlines()[-1]
    from posenb.project.config import read_config

    cfg = read_config(config)
    assert cfg["bodyparts"] == ["nose", "tail"] and len(cfg["video_sets"]) == 1
    second = tmp_path / "second.mp4"
    second.write_bytes(tiny_video.read_bytes())
    assert main(["add-videos", config, str(second)]) == 0
    assert len(read_config(config)["video_sets"]) == 2
    assert main(["extract", config, "--algo", "uniform", "--seed", "0"]) == 0
    pngs = sorted((Path(config).parent / "labeled-data" / "tiny").glob("*.png"))
    assert len(pngs) == cfg["numframes2pick"]
    assert main(["label", config]) == 0
    assert f"posenb.label_frames({config!r})" in capsys.readouterr().out


def test_labels_and_results_commands(demo_project, tmp_path, capsys):
    project = Path(demo_project).parent
    assert main(["check-labels", demo_project]) == 0
    assert len(list((project / "labeled-data" / "demo_mouse_labeled").glob("*.png"))) == 12
    video, h5 = _fake_predictions(demo_project)
    assert main(["filter", demo_project, str(video)]) == 0
    filtered = h5.with_name(h5.stem + "_filtered.h5")
    assert filtered.is_file() and filtered.with_suffix(".csv").is_file()
    assert main(["skeleton", demo_project, str(video), "--filtered"]) == 0
    assert h5.with_name(filtered.stem + "_skeleton.h5").is_file()
    assert main(["plot", demo_project, str(video)]) == 0
    assert list((video.parent / "plot-poses" / "demo_mouse").glob("*.png"))
    assert main(["labeled-video", demo_project, str(video), "--draw-skeleton"]) == 0
    assert h5.with_name(h5.stem + "_labeled.mp4").is_file()
    before = set((project / "labeled-data" / "demo_mouse").glob("*.png"))
    assert main(["outliers", demo_project, str(video), "--extractionalgorithm", "uniform"]) == 0
    assert set((project / "labeled-data" / "demo_mouse").glob("*.png")) > before
    assert (project / "labeled-data" / "demo_mouse" / "machinelabels-iter0.h5").is_file()


def test_import_and_export_commands(demo_project, tmp_path, tiny_video, capsys):
    assert main(["export", demo_project, str(tmp_path / "labels.slp")]) == 0
    assert (tmp_path / "labels.slp").is_file()
    assert main(["create-project", "imp", "ann", str(tiny_video), "--working-directory", str(tmp_path)]) == 0
    other = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["import", other, str(tmp_path / "labels.slp")]) == 0
    assert "Imported 12 labeled frame(s) into labeled-data/demo_mouse" in capsys.readouterr().out
    assert (Path(other).parent / "labeled-data" / "demo_mouse" / "CollectedData_ann.h5").is_file()
    video, h5 = _fake_predictions(demo_project)
    assert main(["export", demo_project, str(tmp_path / "nwb"), "--videos", str(video), "--format", "nwb"]) == 0
    assert (tmp_path / "nwb" / (h5.stem + ".nwb")).is_file()
    assert main(["export", demo_project]) == 1
    assert "give DEST" in capsys.readouterr().err
    assert main(["merge", demo_project]) == 0
    assert capsys.readouterr().out.strip().endswith("iteration 1")
