"""The ``posenb`` console script: dispatch, help, errors as messages with exit status 1."""

from __future__ import annotations

import subprocess
import sys

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
