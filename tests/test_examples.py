"""The examples people copy run as written: the README's Python blocks and the code examples in bposim's docstrings.

A docstring example is an indented block whose first line is an import (formulas and call signatures, also indented,
are not examples). Examples run in the test's own process, from a working directory that sees the project's models/
and experiments/ as the project root does, so whatever they write (out/...) lands in a temporary directory.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest
from cli_runner import ROOT

PACKAGE = ROOT / "bposim"
# Examples that read what an earlier one wrote run after it, in one shared working directory.
ORDER = [
    "bposim",
    "bposim.experiment",
    "bposim.report",
    "bposim.comparison",
    "bposim.excel",
    "bposim.planning",
    "bposim.capacity",
]


def readme_blocks() -> list[str]:
    """The ```python blocks of README.md, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def docstring_examples() -> dict[str, str]:
    """Module name -> the code examples of its docstrings (module, classes, functions), joined in order."""
    examples: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        blocks = [
            block
            for node in nodes
            for block in _indented_blocks(ast.get_docstring(node) or "")
            if block.startswith(("import ", "from "))
        ]
        if blocks:
            examples[module] = "\n".join(blocks)
    return examples


def _indented_blocks(docstring: str) -> list[str]:
    blocks: list[list[str]] = []
    previous_indented = False
    for line in docstring.splitlines():
        indented = line.startswith("    ")
        if indented:
            if not previous_indented:
                blocks.append([])
            blocks[-1].append(line)
        previous_indented = indented
    return [textwrap.dedent("\n".join(block)) for block in blocks]


EXAMPLES = docstring_examples()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory with the project's models/ and experiments/, shared by the docstring examples."""
    directory = tmp_path_factory.mktemp("examples")
    for name in ("models", "experiments"):
        (directory / name).symlink_to(ROOT / name, target_is_directory=True)
    return directory


def test_the_readme_has_a_python_example() -> None:
    assert readme_blocks(), "README.md has no ```python block"


@pytest.mark.parametrize("index", range(len(readme_blocks())))
def test_readme_python_block_runs(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the README's paths are the project root's (models/helpdesk.yaml)
    exec(compile(readme_blocks()[index], f"README.md python block {index + 1}", "exec"), {})


def test_every_docstring_example_is_run() -> None:
    assert sorted(EXAMPLES) == sorted(ORDER), "add a new docstring example to ORDER, after what it needs"


@pytest.mark.parametrize("module", ORDER)
def test_docstring_example_runs(module: str, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    if module == "bposim.report":  # it reports on the sweep of bposim.experiment's example and on a run's tables
        import bposim

        if not (workspace / "out" / "multiskill_agents_ai").exists():  # this test run alone
            exec(compile(EXAMPLES["bposim.experiment"], "bposim.experiment docstring example", "exec"), {})
        (workspace / "out" / "helpdesk").mkdir(parents=True, exist_ok=True)
        bposim.simulate(bposim.load_scenario("models/helpdesk.yaml"), seed=1).save("out/helpdesk")
    exec(compile(EXAMPLES[module], f"{module} docstring example", "exec"), {})
    if module == "bposim.report":
        assert (workspace / "out" / "multiskill_agents_ai" / "report.html").stat().st_size > 0
        assert (workspace / "out" / "helpdesk" / "report.html").stat().st_size > 0
