"""The layers of docs/ARCHITECTURE.md hold: lint-imports checks the contracts of pyproject.toml
([tool.importlinter]: each layer imports only those below it; the core never imports posenb.widgets or a Jupyter
package), and the two checks below catch what import-linter cannot see."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = [p for p in (REPO / "posenb").rglob("*.py") if "widgets" not in p.relative_to(REPO / "posenb").parts]


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [exe, "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": str(Path(sys.executable).parent)},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "2 kept, 0 broken" in proc.stdout


def test_the_core_names_no_widget_module_and_dispatches_nothing_through_the_public_api():
    """``importlib.import_module("posenb.widgets...")`` or ``getattr(posenb, name)`` would hide an arrow from
    import-linter: the core has neither."""
    found = []
    for path in CORE:
        if path.name == "__init__.py" and path.parent.name == "posenb":
            continue  # the public API table names every layer, widgets included: it is the front door
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith("posenb.widgets.") and " " not in node.value:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: {node.value!r}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "getattr" and node.args:
                if getattr(node.args[0], "id", None) == "posenb":
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}: getattr(posenb, ...)")
    assert not found, found
