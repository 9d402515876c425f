"""The last pieces of sites: `bposim validate`'s headline counts the sites' own tools with the scenario's, and a
sweep's workbook gives each cell's sites and clients (mean ± CI) to a planner."""

from __future__ import annotations

import pytest
import yaml
from cli_runner import bposim
from test_sites import centre


def tool(name: str) -> dict:
    """A tool down from 10:00 to 10:30."""
    return {"name": name, "maintenance": [{"start": "10:00", "minutes": 30}], "effects": [{"type": "down"}]}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        (
            {"tools": [tool("phones")], "manila": {"tools": [tool("crm")]}, "lisbon": {"tools": [tool("crm")]}},
            "3 tools (2 of sites)",
        ),
        ({"manila": {"tools": [tool("crm")]}}, "1 tool (1 of sites)"),
        ({"tools": [tool("phones"), tool("crm")]}, "2 tools;"),
        ({"tools": [tool("phones")]}, "1 tool;"),
    ],
)
def test_validate_counts_the_sites_own_tools_with_the_scenarios(tmp_path, changes, said):
    file = tmp_path / "sites.yaml"
    file.write_text(yaml.safe_dump(centre(**changes)), encoding="utf-8")
    result = bposim("validate", file)
    assert result.returncode == 0, result.stderr
    headline = " ".join(result.stdout.split("Sites (")[0].split())  # the lines before the sites' own
    assert said in headline, headline


def test_validate_says_nothing_of_tools_without_any(tmp_path):
    file = tmp_path / "sites.yaml"
    file.write_text(yaml.safe_dump(centre()), encoding="utf-8")
    result = bposim("validate", file)
    assert result.returncode == 0, result.stderr
    assert " tool" not in result.stdout.split("Sites (")[0]
