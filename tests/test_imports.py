"""The modules import one way: no import cycle among bposim's modules, at module level or hidden in a function,
and each experiment module imports on its own in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import bposim

PACKAGE = Path(bposim.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _module_level(body: list[ast.stmt], functions: bool = False) -> list[ast.stmt]:
    """The statements run when a module is imported: its body, into if/try/with blocks, but not into functions,
    classes (unless `functions`: then every import a function or method makes too) or `if TYPE_CHECKING:`."""
    statements = []
    for node in body:
        if functions and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            statements += _module_level(node.body, functions)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                statements += _module_level(node.body, functions) + _module_level(node.orelse, functions)
        elif isinstance(node, ast.Try):
            statements += _module_level(node.body + node.orelse + node.finalbody, functions)
            for handler in node.handlers:
                statements += _module_level(handler.body, functions)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            statements += _module_level(node.body, functions)
        else:
            statements.append(node)
    return statements


def imported_modules(name: str, functions: bool = False) -> set[str]:
    """The bposim modules that `name` imports at module level (and in its functions when `functions`; `from
    package import module` names the module)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _module_level(ast.parse(path.read_text()).body, functions):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def import_cycles(functions: bool = False) -> list[list[str]]:
    """Every import cycle (module-level, or counting functions' imports too) found by a depth-first walk."""
    graph = {name: sorted(imported_modules(name, functions)) for name in MODULES}
    cycles, state = [], {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in graph[name]:
            if state.get(target) == "open":
                stack = trail + [name]
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, trail + [name])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [])
    return cycles


def test_no_module_level_import_cycle():
    assert import_cycles() == []


def test_no_import_cycle_hidden_in_a_function():
    """An import inside a function keeps the CLI's start fast or loads the engine only where a task runs; it must
    not hide two modules that need each other."""
    assert import_cycles(functions=True) == []


def test_the_walk_finds_a_cycle(monkeypatch, tmp_path):
    """Negative control: two modules importing each other are reported."""
    (tmp_path / "a.py").write_text("from bposim import b\n")
    (tmp_path / "b.py").write_text("import bposim.a\n")
    monkeypatch.setitem(MODULES, "bposim.a", tmp_path / "a.py")
    monkeypatch.setitem(MODULES, "bposim.b", tmp_path / "b.py")
    assert ["bposim.a", "bposim.b", "bposim.a"] in import_cycles()


def test_the_walk_finds_a_cycle_hidden_in_a_function(monkeypatch, tmp_path):
    """Negative control: an import inside a function is followed when functions count."""
    (tmp_path / "a.py").write_text("from bposim import b\n")
    (tmp_path / "b.py").write_text("def later():\n    import bposim.a\n")
    monkeypatch.setitem(MODULES, "bposim.a", tmp_path / "a.py")
    monkeypatch.setitem(MODULES, "bposim.b", tmp_path / "b.py")
    assert ["bposim.a", "bposim.b", "bposim.a"] not in import_cycles()
    assert ["bposim.a", "bposim.b", "bposim.a"] in import_cycles(functions=True)


@pytest.mark.parametrize("name", [name for name in MODULES if name.startswith("bposim.experiment")])
def test_each_experiment_module_imports_alone(name):
    done = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr
