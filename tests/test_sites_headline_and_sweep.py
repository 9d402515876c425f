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


def two_site_provider() -> dict:
    """A morning of two clients on two sites, priced, each with a daily 80/20 clause; b's calls kept onshore."""
    from test_residency_plans import plan_day

    data = plan_day({"sites": ["onshore"]}).model_dump(mode="json", exclude_none=True)
    data["costs"]["currency"] = "EUR"
    for client in data["clients"]:
        clause = {
            "threshold_seconds": 20,
            "target": 0.8,
            "period": "day",
            "tiers": [{"below": 0.8, "credit_share": 0.1}],
        }
        client["contract"]["service_levels"] = [clause]
    return data


def sheet_rows(book, title: str) -> list[dict]:
    rows = list(book[title].values)
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_a_sweeps_workbook_has_a_row_per_cell_and_site_and_per_cell_and_client(tmp_path):
    """`bposim sweep --xlsx` over a model with sites and clients: Sites and Clients sheets, one row per cell × site
    and cell × client with the cell's factor and each KPI's mean and CI as the cells table has them, money in the
    currency, shares as percentages; more onshore agents show on the onshore site and on the bank's service."""
    import openpyxl
    import pandas as pd

    model, experiment = tmp_path / "provider.yaml", tmp_path / "sweep.yaml"
    model.write_text(yaml.safe_dump(two_site_provider()), encoding="utf-8")
    factor = "agent_groups.onshore.agents.count"
    plan = {"name": "onshore", "model": "provider.yaml", "replications": 3, "seed": 5, "factors": {factor: [4, 9]}}
    experiment.write_text(yaml.safe_dump(plan), encoding="utf-8")
    book_path = tmp_path / "sweep.xlsx"
    result = bposim("sweep", experiment, "--workers", 1, "--out", tmp_path / "out", "--xlsx", book_path)
    assert result.returncode == 0, result.stderr[-2000:]
    book = openpyxl.load_workbook(book_path)
    assert book.sheetnames == ["Cells", "Sites", "Clients", "Replications"]
    cells = pd.read_parquet(tmp_path / "out" / "cells.parquet").set_index("cell")
    factor_header = "agent_groups.onshore.agents: Count"

    sites = sheet_rows(book, "Sites")
    assert [(row["Cell"], row["Site"]) for row in sites] == [
        (0, "onshore"),
        (0, "offshore"),
        (1, "onshore"),
        (1, "offshore"),
    ]
    for row in sites:
        cell = cells.loc[row["Cell"]]
        assert row[factor_header] == cell[factor]
        key = f"site.{row['Site']}."
        assert row["Cost (EUR)"] == pytest.approx(cell[key + "cost"])
        assert row["Cost (EUR) ± 95% CI"] == pytest.approx(cell[key + "cost_ci"])
        assert row["Occupancy"] == pytest.approx(cell[key + "occupancy"])
        assert row["Paid (h)"] == pytest.approx(cell[key + "paid_hours"])
        assert row["Calls handled ± 95% CI"] == pytest.approx(cell[key + "calls_handled_ci"])
    onshore = {row["Cell"]: row for row in sites if row["Site"] == "onshore"}
    assert onshore[1]["Paid (h)"] > onshore[0]["Paid (h)"]  # the factor's agents are paid at their own site
    header = [cell.value for cell in book["Sites"][1]]
    assert book["Sites"].cell(2, header.index("Occupancy") + 1).number_format == "0.0%"

    clients = sheet_rows(book, "Clients")
    assert [(row["Cell"], row["Client"]) for row in clients] == [(0, "a"), (0, "b"), (1, "a"), (1, "b")]
    for row in clients:
        key = f"client.{row['Client']}."
        cell = cells.loc[row["Cell"]]
        assert row["Margin (EUR)"] == pytest.approx(cell[key + "margin"])
        assert row["Service level ± 95% CI"] == pytest.approx(cell[key + "service_level_ci"])
        assert row["P(penalty)"] == pytest.approx(cell[key + "p_penalty"])
        assert row["Revenue (EUR)"] == pytest.approx(cell[key + "revenue"])
    bank = {row["Cell"]: row for row in clients if row["Client"] == "b"}
    assert bank[1]["Service level"] > bank[0]["Service level"]  # only onshore agents may answer the bank
    header = [cell.value for cell in book["Clients"][1]]
    assert book["Clients"].cell(2, header.index("Margin (EUR)") + 1).number_format == "#,##0.00"


def test_a_sweep_without_sites_or_clients_has_no_such_sheets():
    from test_sites import centre as sites_centre

    import bposim
    from bposim.workbooks import sweep_sheets

    data = sites_centre()
    del data["sites"]
    for group in data["agent_groups"]:
        del group["site"]
    scenario = bposim.Scenario.model_validate(data)
    experiment = bposim.Experiment(scenario, factors={"agent_groups.onshore.agents.count": [8, 10]}, replications=2)
    results = experiment.run(workers=1, progress=False)
    assert list(sweep_sheets(bposim.cell_summary(results), results)) == ["Cells", "Replications"]
