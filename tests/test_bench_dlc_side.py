"""The DeepLabCut side of benchmarks/bench_backends.py (--dlc): its summary line, its error on a wrong
environment, and that the script run inside DeepLabCut's environment never imports posenb."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
_spec = importlib.util.spec_from_file_location("_dlc_side", BENCH / "_dlc_side.py")
_dlc_side = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dlc_side)


def test_ratio_line_compares_the_fastest_of_each_side():
    dlc = [("DeepLabCut 3.0.2 cspnext_s", 4, 2), ("DeepLabCut 3.0.2 cspnext_s", 8, 2)]
    medians = {
        ("torch", 8, 2): (40.0, 45.0),
        ("openvino", 8, 2): (80.0, 22.5),
        ("onnxruntime", 8, 2): (float("nan"), float("nan")),  # no timed run: ignored
        dlc[0]: (8.0, 225.0),
        dlc[1]: (10.0, 180.0),
    }
    line = _dlc_side.ratio_line(medians, dlc)
    assert "(openvino, batch 8, 2 threads) 80.0 frames/s" in line
    assert "(DeepLabCut 3.0.2 cspnext_s, batch 8) 10.0 frames/s" in line
    assert "**8.0x** the frames/s, 8.0x less CPU per frame" in line


def test_ratio_line_without_deeplabcut_runs():
    line = _dlc_side.ratio_line({("torch", 8, 2): (40.0, 45.0)}, [("DeepLabCut 3.0.2 x", 8, 2)])
    assert line.startswith("posenb / DeepLabCut: not measured")


def test_dlc_run_row_from_a_result():
    fps, cpu_ms, n = _dlc_side.dlc_run_row({"frames": 200, "wall_s": 25.0, "cpu_s": 46.0})
    assert (fps, cpu_ms, n) == (8.0, 230.0, 200)


def test_run_dlc_names_the_failure_when_python_has_no_deeplabcut(tmp_path):
    """posenb's own python has no deeplabcut: the run stops with the command and DeepLabCut's error."""
    try:
        import deeplabcut  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("deeplabcut is importable here")
    with pytest.raises(SystemExit) as exc:
        _dlc_side.run_dlc(sys.executable, tmp_path, tmp_path / "v.mp4", "cspnext_s", 8, 1, prepare=True)
    message = str(exc.value)
    assert "DeepLabCut run failed" in message and "dlc_analysis.py" in message
    assert "No module named 'deeplabcut'" in message
    assert not list(tmp_path.iterdir())  # nothing was created


def test_dlc_analysis_never_imports_posenb():
    tree = ast.parse((BENCH / "dlc_analysis.py").read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert "deeplabcut" in modules
    assert not [m for m in modules if m.split(".")[0] in ("posenb", "_common", "_dlc_side")]
