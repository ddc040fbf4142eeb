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
    exe = shutil.which("lint-imports") or pytest.skip(
        "import-linter is not installed (pip install -e '.[dev]')"
    )
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


def _posenb_modules() -> dict[str, tuple[Path, bool]]:
    """``{"posenb.x.y": (path, is_package)}`` of every module of the package, widgets included."""
    mods = {}
    for path in (REPO / "posenb").rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return mods


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported posenb module: line}}`` from every import statement, at the top or inside a function
    (lazy imports run too, later), ``if TYPE_CHECKING:`` blocks included. ``from posenb.a import b`` is an arrow
    to the submodule ``posenb.a.b`` when there is one, else to ``posenb.a``."""
    mods = _posenb_modules()
    graph: dict[str, dict[str, int]] = {name: {} for name in mods}
    for name, (path, is_package) in mods.items():
        package = name if is_package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in targets:
                if target in mods and target != name:
                    graph[name].setdefault(target, node.lineno)
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan): each holds at least one import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_the_import_cycle_finder_finds_a_lazy_two_module_circle():
    graph = {"a": {"b": 3}, "b": {"c": 9}, "c": {"b": 40}, "d": {"a": 1}}
    assert import_cycles(graph) == [["b", "c"]]
    assert import_cycles({"a": {"b": 1}, "b": {}}) == []
    # the graph is read from the real files: a lazy import inside a function is an arrow
    assert "posenb.infer.evaluate_ma" in import_graph()["posenb.infer.evaluate"]


def test_no_import_circles_among_posenb_modules():
    """Imports run one way: no two posenb modules import each other, directly or around a loop, at the top or
    inside a function (a lazy import still ties the two modules together). A package's ``__init__`` counts as a
    module: a submodule that imports from its own package while the package imports it is a circle too. Break
    one by moving the shared piece into a module below both users, or by letting the entry point dispatch."""
    graph = import_graph()
    found = []
    for group in import_cycles(graph):
        members = set(group)
        arrows = [f"{a} -> {b} (line {graph[a][b]})" for a in group for b in graph[a] if b in members]
        found.append("; ".join(arrows))
    assert not found, "import circles:\n" + "\n".join(found)


def test_core_functions_and_modules_stay_small():
    """One concept per function and per module (docs/ARCHITECTURE.md): outside posenb/widgets, no function over 80
    lines (docstring and signature included) and no module over 500 lines."""
    long_functions, long_modules = [], []
    for path in CORE:
        text = path.read_text()
        if len(text.splitlines()) > 500:
            long_modules.append(f"{path.relative_to(REPO)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > 80:
                    long_functions.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}: {n} lines")
    assert not long_functions and not long_modules, long_functions + long_modules
