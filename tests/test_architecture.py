"""The shape of the house (docs/architecture.md): layers import only downward, no module imports
another round a circle, no module grows past 400 lines.

Every import counts: at the top, inside functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400
# From the bottom up: a module may import its own layer and the layers below.
LAYERS = [
    {"errors", "config", "config_files", "run_config", "version", "resources"},
    {"metrics", "nn", "data"},
    {"models"},
    {"diagnostics"},
    {"training"},
    {"tasks"},
    {"tuning"},
    {"export"},
    {"api"},
    {"serving"},
    {"cli"},
    {""},  # the package root, rnnkit/__init__.py: the public façade
    {"__main__"},  # ``python -m rnnkit``
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}


def module_files() -> dict[str, Path]:
    """Dotted module name → file, for every module of the rnnkit package."""
    modules = {}
    for path in sorted((SOURCE / "rnnkit").rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The rnnkit modules that ``name`` imports (``from p import m`` counts as importing
    ``p.m`` when that is a module, else ``p``)."""

    def known(dotted: str) -> str:
        while dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {known(a.name) for a in node.names if a.name.split(".")[0] == "rnnkit"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if base.split(".")[0] != "rnnkit":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else known(base))
    return found - {name}


def layer(name: str) -> int:
    top = name.split(".")[1] if "." in name else ""
    if top not in LAYER_OF:
        raise AssertionError(f"{name}: in no layer of tests/test_architecture.py LAYERS")
    return LAYER_OF[top]


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    for name in module_files():
        layer(name)


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{name} ({LAYERS[layer(name)]}) imports {other} ({LAYERS[layer(other)]})"
        for name, imported in import_graph().items()
        for other in sorted(imported)
        if layer(other) > layer(name)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_circles():
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_modules_stay_small():
    long = {
        name: count
        for name, path in module_files().items()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_the_checks_see_a_circle_and_an_upward_import():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("rnnkit.tasks.base") > layer("rnnkit.training.trainer")
    assert layer("rnnkit") > layer("rnnkit.cli.app") > layer("rnnkit.api")
    with pytest.raises(AssertionError, match=r"rnnkit\.plugins: in no layer"):
        layer("rnnkit.plugins")


def test_relative_and_function_level_imports_count(tmp_path):
    package = tmp_path / "rnnkit"
    (package / "nn").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "nn" / "__init__.py").write_text("from .layers import X\n")
    (package / "nn" / "layers.py").write_text("def f():\n    from rnnkit.nn import fused\n")
    (package / "nn" / "fused.py").write_text("from rnnkit.nn.layers import f\n")
    modules = {"rnnkit": package / "__init__.py", "rnnkit.nn": package / "nn" / "__init__.py"}
    modules |= {f"rnnkit.nn.{m}": package / "nn" / f"{m}.py" for m in ("layers", "fused")}
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert graph["rnnkit.nn"] == {"rnnkit.nn.layers"}
    assert circles(graph) == [["rnnkit.nn.fused", "rnnkit.nn.layers"]]
