"""Sweeps stated relative to the base: scale factors of staffing and arrivals, roster lines by name, items added to
a list with `path+`; what `bposim sweep` prints when no cell meets the target; `bposim run`'s cost lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim import Experiment, load_scenario
from bposim.experiment.relative import scaled
from bposim.scenario import Scenario


def centre() -> dict:
    """Two teams 08:00-10:00 in half hours: one by plan per interval, one by a count and two named roster lines."""
    return {
        "name": "two teams",
        "horizon": {"start": "08:00", "end": "10:00", "interval_minutes": 30},
        "service_level": {"threshold_seconds": 20, "target": 0.8},
        "call_types": [
            {
                "name": "billing",
                "arrivals": {"per_interval": [40, 80, 90, 50]},
                "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            },
            {
                "name": "sales",
                "arrivals": {"per_hour": 30},
                "handle_time": {"distribution": "exponential", "mean_seconds": 200},
            },
        ],
        "agent_groups": [
            {"name": "billing_team", "skills": ["billing"], "agents": {"per_interval": [3, 5, 7, 4]}},
            {"name": "sales_team", "skills": ["sales"], "agents": 1},
        ],
        "roster": [
            {"name": "early", "group": "sales_team", "start": "08:00", "end": "09:00", "agents": 3},
            {"name": "late", "group": "sales_team", "start": "09:00", "end": "10:00", "agents": 5},
        ],
        "costs": {
            "currency": "EUR",
            "groups": [{"group": "billing_team", "per_paid_hour": 20}, {"group": "sales_team", "per_paid_hour": 22}],
            "technology": [{"name": "crm", "per_seat_per_day": 3}],
        },
    }


def experiment_file(tmp_path: Path, spec: dict, model: dict | None = None) -> Path:
    """An experiment file and its model file, written in tmp_path."""
    (tmp_path / "centre.yaml").write_text(yaml.safe_dump(model or centre(), sort_keys=False), encoding="utf-8")
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump({"model": "centre.yaml", "replications": 2, **spec}, sort_keys=False))
    return path


def test_scale_factors_scale_every_group_and_call_type(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, {"scale": {"staffing": [0.5, 1.0, 1.5], "arrivals": [1.0, 1.2]}})
    experiment = Experiment.from_file(path)
    base = experiment.base
    assert list(experiment.design.columns) == ["cell", "staffing_scale", "arrivals_scale"]
    assert len(experiment.cells) == 6
    for cell in experiment.cells:
        staffing, arrivals = cell.labels["staffing_scale"], cell.labels["arrivals_scale"]
        scenario = cell.scenario
        billing, sales = scenario.agent_groups
        assert billing.agents.per_interval == [round(n * staffing) for n in [3, 5, 7, 4]]
        assert sales.agents.count == round(1 * staffing)
        assert [shift.agents for shift in scenario.roster] == [round(3 * staffing), round(5 * staffing)]
        assert [shift.name for shift in scenario.roster] == ["early", "late"]
        assert scenario.call_types[0].arrivals.per_interval == pytest.approx([r * arrivals for r in [40, 80, 90, 50]])
        assert scenario.call_types[1].arrivals.per_hour == pytest.approx(30 * arrivals)
        if staffing == 1.0 and arrivals == 1.0:
            assert scenario.model_dump() == base.model_dump()
    # half to even: 0.5 × 5 = 2.5 → 2, 0.5 × 3 = 1.5 → 2, 1.5 × 3 = 4.5 → 4, 1.5 × 5 = 7.5 → 8
    assert experiment.scenario(0).agent_groups[0].agents.per_interval == [2, 2, 4, 2]
    assert [s.agents for s in experiment.scenario(4).roster] == [4, 8]


@settings(max_examples=25, deadline=None)
@given(
    counts=st.lists(st.integers(0, 60), min_size=4, max_size=4),
    factor=st.floats(0.05, 3.0, allow_nan=False),
)
def test_scaled_staffing_is_each_count_rounded(counts: list[int], factor: float) -> None:
    data = centre()
    data["agent_groups"][0]["agents"] = {"per_interval": counts}
    scenario = Scenario.model_validate(data)
    grown = scaled(scenario, {"staffing": factor})
    assert grown.agent_groups[0].agents.per_interval == [round(n * factor) for n in counts]
    assert grown.call_types == scenario.call_types  # arrivals untouched
    assert scaled(scenario, {"staffing": 1.0, "arrivals": 1.0}) is scenario


def test_scales_apply_after_the_factors(tmp_path: Path) -> None:
    spec = {"scale": {"staffing": [2.0]}, "factors": {"agent_groups.sales_team.agents": [1, 3]}}
    experiment = Experiment.from_file(experiment_file(tmp_path, spec))
    assert [cell.scenario.agent_groups[1].agents.count for cell in experiment.cells] == [2, 6]


def test_roster_lines_by_name(tmp_path: Path) -> None:
    spec = {"factors": {"roster.early.agents": [2, 6], "roster.late.end": ["09:30", "10:00"]}}
    experiment = Experiment.from_file(experiment_file(tmp_path, spec))
    assert [(c.scenario.roster[0].agents, c.scenario.roster[1].end) for c in experiment.cells] == [
        (2, "09:30"),
        (2, "10:00"),
        (6, "09:30"),
        (6, "10:00"),
    ]


def test_an_unknown_roster_name_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    path = experiment_file(tmp_path, {"factors": {"roster.weekend_cover.agents": [2, 3]}})
    assert_refused(
        bposim("sweep", path, "--out", tmp_path / "out"),
        "factors.roster.weekend_cover.agents",
        "no item 'weekend_cover' in roster; known: early, late",
        source=path,
    )
    model = centre()
    for shift in model["roster"]:
        shift.pop("name")
    unnamed = experiment_file(tmp_path, {"factors": {"roster.early.agents": [2, 3]}}, model)
    assert_refused(
        bposim("sweep", unnamed, "--out", tmp_path / "out"),
        "the items of roster have no names",
        "roster[].name",
        "index (0 to 1)",
        source=unnamed,
    )


@pytest.mark.parametrize(
    ("scale", "pieces"),
    [
        ({"staffing": [0.9, -1]}, ["scale.staffing[1]", "greater than 0"]),
        ({"staffing": [0.9, ".nan"]}, ["scale.staffing[1]", "finite number"]),
        ({"staffing": []}, ["scale", "at least one factor"]),
        ({"staffing": 0.9}, ["scale", "a list of factors"]),
        ({"agents": [1.0]}, ["scale.agents", "staffing", "arrivals"]),
    ],
    ids=["negative", "nan", "empty", "not_a_list", "unknown"],
)
def test_invalid_scales_are_refused(tmp_path: Path, scale: dict, pieces: list[str]) -> None:
    path = experiment_file(tmp_path, {"scale": scale})
    if scale.get("staffing") == [0.9, ".nan"]:
        path.write_text(path.read_text().replace("'.nan'", ".nan"))
    assert_refused(bposim("sweep", path, "--out", tmp_path / "out"), *pieces, source=path)


def test_a_factor_named_as_a_scale_column_is_refused(tmp_path: Path) -> None:
    spec = {"scale": {"staffing": [1.0]}, "factors": {"staffing_scale": {"a": {}, "b": {}}}}
    path = experiment_file(tmp_path, spec)
    assert_refused(bposim("sweep", path), "factors.staffing_scale", "scale.staffing", source=path)


def test_items_added_to_a_list(tmp_path: Path) -> None:
    bot = {"name": "bot", "per_contact": 0.2}
    spec = {
        "changes": {
            "roster+": [{"name": "mid", "group": "billing_team", "start": "08:30", "end": "09:30", "agents": 2}]
        },
        "factors": {"licence": {"none": {}, "bot": {"costs.technology+": [bot]}}},
    }
    experiment = Experiment.from_file(experiment_file(tmp_path, spec))
    assert [shift.name for shift in experiment.base.roster] == ["early", "late", "mid"]
    assert [tool.name for tool in experiment.scenario(0).costs.technology] == ["crm"]
    assert [tool.name for tool in experiment.scenario(1).costs.technology] == ["crm", "bot"]
    not_a_list = experiment_file(tmp_path, {"changes": {"costs.currency+": "USD"}})
    assert_refused(bposim("sweep", not_a_list), "changes: costs.currency+", "is not a list", source=not_a_list)


def test_sweep_prints_every_cell_when_none_meets(tmp_path: Path) -> None:
    model = centre()
    model["agent_groups"][0]["agents"] = {"per_interval": [1, 1, 1, 1]}  # far too few for billing
    path = experiment_file(tmp_path, {"scale": {"staffing": [1.0, 1.5]}}, model)
    result = bposim("sweep", path, "--workers", 1, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "no cell meets" in text and "all 2 cells" in text and "the closest to the targets first" in text
    rows = [line for line in result.stdout.splitlines() if line.startswith("│")]
    assert {line.split("│")[2].strip() for line in rows} == {"1.0", "1.5"}  # staffing_scale of both cells


def test_run_prints_the_costs(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(yaml.safe_dump(centre(), sort_keys=False), encoding="utf-8")
    summary = json.loads(bposim("run", path, "--replications", 3, "--format", "json").stdout)
    table = bposim("run", path, "--replications", 3)
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if line.startswith("Cost ("))
    assert "EUR, per day; mean of 3 replications" in line
    assert f"total {summary['total_cost']:,.0f} ± {summary['total_cost_ci']:,.0f}" in line
    assert f"agents {summary['cost_agents']:,.0f}" in line
    costless = centre()
    del costless["costs"]
    path.write_text(yaml.safe_dump(costless, sort_keys=False), encoding="utf-8")
    assert "Cost (" not in bposim("run", path).stdout


def test_run_prints_counts_whole(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(yaml.safe_dump(centre(), sort_keys=False), encoding="utf-8")
    summary = json.loads(bposim("run", path, "--replications", 3, "--format", "json").stdout)
    table = bposim("run", path, "--replications", 3).stdout
    offered = summary["offered"], summary["offered_ci"]
    assert f"{offered[0]:,.0f} ± {offered[1]:,.0f}" in " ".join(table.split())


def test_the_bundled_sweep_scales_the_models_staffing() -> None:
    from cli_runner import ROOT

    experiment = Experiment.from_file(ROOT / "experiments" / "multiskill_agents_ai.yaml")
    model = load_scenario(ROOT / "models" / "bpo_multiskill.yaml")
    for cell in experiment.cells:
        factor = cell.labels["staffing_scale"]
        for planned, group in zip(model.agent_groups, cell.scenario.agent_groups, strict=True):
            assert group.agents.per_interval == [round(n * factor) for n in planned.agents.per_interval]


def test_roster_csv_lines_by_name(tmp_path: Path) -> None:
    model = centre()
    model["roster_file"] = "shifts.csv"
    (tmp_path / "shifts.csv").write_text(
        "group,start,end,agents,name\nbilling_team,08:00,10:00,2,all_morning\nbilling_team,08:30,09:30,1,\n",
        encoding="utf-8",
    )
    spec = {"factors": {"roster.all_morning.agents": [4, 6]}}
    experiment = Experiment.from_file(experiment_file(tmp_path, spec, model))
    assert [shift.name for shift in experiment.base.roster] == ["early", "late", "all_morning", None]
    assert [cell.scenario.roster[2].agents for cell in experiment.cells] == [4, 6]
