"""`bposim requirement` and `bposim.requirement`: Erlang's count is `bposim erlang`'s, the simulation's meets the
target where one agent fewer does not, and both are grossed up for shrinkage; `bposim erlang --shrinkage`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused, bposim

import bposim as api
from bposim import metrics, simulate
from bposim.planning import group_shrinkage, on_the_phones
from bposim.scenario import Scenario

RATES = [60, 150, 210, 190, 110, 70]  # calls per hour in each half hour: a morning peak


def desk(patience: float | None = None, **extra) -> dict:
    """A single-skill desk, 08:00-11:00 in half hours, its load rising to a peak and falling."""
    call_type = {
        "name": "support",
        "arrivals": {"per_interval": RATES},
        "handle_time": {"distribution": "exponential", "mean_seconds": 240},
    }
    if patience is not None:
        call_type["patience"] = {"distribution": "exponential", "mean_seconds": patience}
    return {
        "name": "desk",
        "horizon": {"start": "08:00", "end": "11:00", "interval_minutes": 30},
        "service_level": {"threshold_seconds": 20, "target": 0.8},
        "call_types": [call_type],
        "agent_groups": [{"name": "team", "skills": ["support"], "agents": 10}],
        **extra,
    }


def write(tmp_path: Path, data: dict, name: str = "desk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def erlang_count(rate: float, patience: float | None) -> int:
    """`bposim erlang`'s agents required for one interval's rate (the real command, JSON out)."""
    flags = ["--calls-per-hour", rate, "--handle-seconds", 240, "--threshold-seconds", 20, "--target", 0.8]
    if patience is not None:
        flags += ["--patience-seconds", patience]
    result = bposim("erlang", *flags, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["required_agents"]


@pytest.mark.parametrize("patience", [None, 90.0], ids=["erlang_c", "erlang_a"])
def test_erlang_requirement_is_bposim_erlang_per_interval(tmp_path: Path, patience: float | None) -> None:
    path = write(tmp_path, desk(patience))
    result = bposim("requirement", path, "--method", "erlang", "--replications", 1, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "out" / "requirement.csv")
    assert list(table.columns) == [
        "interval",
        "interval_start",
        "group",
        "call_types",
        "erlang",
        "shrinkage",
        "erlang_scheduled",
    ]
    assert table["erlang"].tolist() == [erlang_count(rate, patience) for rate in RATES]
    assert ("Erlang A" if patience else "Erlang C") in result.stdout
    assert (tmp_path / "out" / "service_level.csv").is_file()


def levels(scenario: Scenario, counts: list[int], seed: int, replications: int) -> tuple[np.ndarray, np.ndarray]:
    """Pooled service level and its 95% half-width per interval with `counts` agents, on fresh days."""
    staffed = scenario.updated({"agent_groups.team.agents": {"per_interval": [int(n) for n in counts]}})
    intervals = simulate(staffed, seed=seed, replications=replications).intervals
    pooled = metrics.pooled_service_level(intervals, ["interval"], "offered")
    return pooled["service_level"].to_numpy(), pooled["service_level_ci"].to_numpy()


def test_simulation_requirement_meets_the_target_and_one_fewer_does_not() -> None:
    scenario = Scenario.model_validate(desk(patience=120))
    table = api.requirement(scenario, method="simulation", replications=8, seed=3)
    counts = table["simulation"].to_numpy()
    assert list(table.columns[-3:]) == ["simulation", "shrinkage", "simulation_scheduled"]
    level, half = levels(scenario, counts, seed=101, replications=30)
    clearly_short = level + half < 0.8
    assert clearly_short.sum() <= 2, (counts, level, half)  # a few intervals' tolerance: two of six
    fewer, _ = levels(scenario, counts - 1, seed=101, replications=30)
    assert (fewer < 0.8).sum() >= 4, (counts, fewer)


def shrinking(tmp_path: Path) -> Path:
    """The desk with off-phone episodes (2 an hour of 3 minutes: 10% of logged-in time) and 10% absence; a second
    team with its own shrinkage (none)."""
    data = desk(patience=120)
    data["shrinkage"] = {"per_hour": 2, "duration": {"distribution": "exponential", "mean_seconds": 180}}
    data["absence"] = {"probability": 0.1}
    data["call_types"].append(
        {
            "name": "sales",
            "arrivals": {"per_hour": 40},
            "handle_time": {"distribution": "exponential", "mean_seconds": 200},
        }
    )
    data["agent_groups"].append(
        {
            "name": "sellers",
            "skills": ["sales"],
            "agents": 4,
            "shrinkage": {"per_hour": 0, "duration": {"distribution": "exponential", "mean_seconds": 60}},
            "absence": {"probability": 0.0},
        }
    )
    return write(tmp_path, data)


def test_shrinkage_grosses_up_both_figures(tmp_path: Path) -> None:
    path = shrinking(tmp_path)
    result = bposim("requirement", path, "--replications", 2, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(tmp_path / "out" / "requirement.csv")
    team, sellers = table[table["group"] == "team"], table[table["group"] == "sellers"]
    np.testing.assert_allclose(team["shrinkage"], 1 - 0.9 * 0.9)  # 10% off the phones, 10% absent
    np.testing.assert_allclose(sellers["shrinkage"], 0.0)
    for column in ("erlang", "simulation"):
        np.testing.assert_allclose(table[f"{column}_scheduled"], table[column] / (1 - table["shrinkage"]))
    assert (team["call_types"] == "support").all() and (sellers["call_types"] == "sales").all()
    assert "Served by: support: team; sales: sellers." in " ".join(result.stdout.split())
    # both figures are on the phones: the same as for the desk without shrinkage and absence
    net = api.requirement(on_the_phones(api.load_scenario(path)), method="both", replications=2)
    assert table["erlang"].tolist() == net["erlang"].tolist()
    assert table["simulation"].tolist() == net["simulation"].tolist()
    flat = bposim("requirement", path, "--method", "erlang", "--replications", 1, "--shrinkage", 0.3, "--out", tmp_path)
    assert flat.returncode == 0, flat.stderr
    overridden = pd.read_csv(tmp_path / "requirement.csv")
    np.testing.assert_allclose(overridden["erlang_scheduled"], overridden["erlang"] / 0.7)


def test_group_shrinkage_share() -> None:
    data = desk()
    data["shrinkage"] = {"per_hour": 1.5, "duration": {"distribution": "fixed", "value_seconds": 240}}
    scenario = Scenario.model_validate(data)
    assert group_shrinkage(scenario, scenario.agent_groups[0]) == pytest.approx(0.1)
    assert group_shrinkage(Scenario.model_validate(desk()), scenario.agent_groups[0]) == 0.0


def test_requirement_report_and_table(tmp_path: Path) -> None:
    path = write(tmp_path, desk(patience=120))
    page = tmp_path / "report" / "requirement.html"
    book = tmp_path / "requirement.xlsx"
    result = bposim("requirement", path, "--method", "both", "--replications", 2, "--report", page, "--xlsx", book)
    assert result.returncode == 0, result.stderr
    sheets = pd.read_excel(book, sheet_name=None)
    assert list(sheets) == ["Requirement", "Service level"]
    required = api.requirement(api.load_scenario(path), method="both", replications=2)
    assert sheets["Requirement"]["Erlang"].tolist() == required["erlang"].tolist()
    assert len(sheets["Service level"]) == len(RATES)
    text = page.read_text(encoding="utf-8")
    assert "agents required" in text and "Service level on fresh days" in text and "Plotly.newPlot" in text
    assert "Erlang A and simulation" in result.stdout
    assert "peak" in result.stdout and "agent-hours a day" in result.stdout


def test_requirement_refuses_bad_flags(tmp_path: Path) -> None:
    path = write(tmp_path, desk())
    assert_refused(bposim("requirement", path, "--shrinkage", 1), "--shrinkage", "< 1")
    assert_refused(bposim("requirement", path, "--occupancy-cap", 0), "--occupancy-cap", "> 0")
    assert_refused(bposim("requirement", tmp_path / "none.yaml"), "none.yaml")
    assert_refused(bposim("requirement", path, "--xlsx", tmp_path / "book.csv"), "--xlsx", ".xlsx")


def test_erlang_shrinkage_prints_the_scheduled_agents() -> None:
    flags = ("erlang", "--calls-per-hour", 252, "--handle-seconds", 120)
    plain = json.loads(bposim(*flags, "--format", "json").stdout)
    grossed = json.loads(bposim(*flags, "--shrinkage", 0.3, "--format", "json").stdout)
    assert grossed["required_agents"] == plain["required_agents"]
    assert grossed["scheduled_agents"] == pytest.approx(plain["required_agents"] / 0.7)
    table = bposim(*flags, "--shrinkage", 0.3)
    assert table.returncode == 0, table.stderr
    required = plain["required_agents"]
    assert f"Agents required: {required} on the phones; {required / 0.7:,.1f} scheduled" in table.stdout
    assert_refused(bposim(*flags, "--shrinkage", 1.2), "--shrinkage")


def test_shrinkage_leaving_no_time_on_the_phones_is_refused() -> None:
    data = desk()
    data["shrinkage"] = {"per_hour": 12, "duration": {"distribution": "fixed", "value_seconds": 300}}
    with pytest.raises(ValueError, match="team leave no time on the phones"):
        api.requirement(Scenario.model_validate(data), method="erlang", replications=1)
