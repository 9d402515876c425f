"""Charts: figure data is checked against the tables it was built from."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import bposim
from bposim import charts, formatting
from bposim.analytic import erlang_table
from bposim.run import simulate_replication

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run() -> bposim.Run:
    """One day of the outage-prone site."""
    return bposim.simulate(bposim.load_scenario(ROOT / "models" / "outage_prone_site.yaml"), seed=1)


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    """The cell summary of the multiskill / AI-assist sweep."""
    experiment = bposim.Experiment.from_file(ROOT / "experiments" / "multiskill_agents_ai.yaml")
    return bposim.cell_summary(experiment.run(workers=2, progress=False))


def _dominated(cost: np.ndarray, service: np.ndarray, i: int) -> bool:
    """Brute force: is point i dominated by any other point?"""
    return any(
        cost[j] <= cost[i] and service[j] >= service[i] and (cost[j] < cost[i] or service[j] > service[i])
        for j in range(len(cost))
        if j != i
    )


def _check_frontier(table: pd.DataFrame) -> None:
    """Frontier rows are non-dominated and every other row is dominated."""
    frontier = charts.pareto_frontier(table)
    cost, service = table["total_cost"].to_numpy(float), table["service_level"].to_numpy(float)
    on = set(frontier.index)
    assert on, "a non-empty table has a frontier"
    for position, index in enumerate(table.index):
        assert _dominated(cost, service, position) == (index not in on)
    assert frontier["total_cost"].is_monotonic_increasing


def _titled(fig: go.Figure) -> None:
    """The figure has a title and its x and y axes a label (a shared x axis once, under the bottom panel)."""
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert [axis.title.text for axis in fig.select_xaxes() if axis.title.text]
    assert fig.layout.yaxis.title.text


def test_pareto_frontier_on_sweep(cells: pd.DataFrame) -> None:
    _check_frontier(cells)


@pytest.mark.parametrize("seed", range(5))
def test_pareto_frontier_random_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {"total_cost": rng.integers(0, 6, 30).astype(float), "service_level": rng.integers(0, 6, 30) / 5}
    )
    _check_frontier(table)


def test_pareto_frontier_ignores_missing() -> None:
    table = pd.DataFrame({"total_cost": [1.0, np.nan, 2.0], "service_level": [0.5, 0.9, 0.8]})
    assert list(charts.pareto_frontier(table).index) == [0, 2]


def test_service_level_vs_cost_points_and_error_bars(cells: pd.DataFrame) -> None:
    fig = charts.service_level_vs_cost(cells, color_by="ai_assist")
    _titled(fig)
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == cells["ai_assist"].nunique()
    by_cell = cells.set_index("cell")
    seen = []
    for trace in points:
        rows = by_cell.loc[list(trace.customdata)]
        np.testing.assert_allclose(trace.x, rows["total_cost"])
        np.testing.assert_allclose(trace.y, rows["service_level"])
        np.testing.assert_allclose(trace.error_x.array, rows["total_cost_ci"])
        np.testing.assert_allclose(trace.error_y.array, rows["service_level_ci"])
        assert all("staffing_scale:" in text and "ai_assist:" in text for text in trace.text)
        seen += list(trace.customdata)
    assert sorted(seen) == sorted(cells["cell"])
    (line,) = [t for t in fig.data if t.name == "Pareto frontier"]
    frontier = charts.pareto_frontier(cells)
    np.testing.assert_allclose(line.x, frontier["total_cost"])
    np.testing.assert_allclose(line.y, frontier["service_level"])
    assert [s.y0 for s in fig.layout.shapes] == [pytest.approx(cells["service_level_target"].iloc[0])]


def test_cost_axes_name_the_currency_and_the_day(cells: pd.DataFrame, run: bposim.Run) -> None:
    """USD from the cell summary and the run's scenario, per day (one-day replications); "currency units" and per
    replication only when the data do not tell, and an explicit currency wins."""
    assert set(cells["currency"]) == {"USD"} and set(cells["horizon_days"]) == {1}
    assert charts.service_level_vs_cost(cells).layout.xaxis.title.text == "Mean total cost (USD per day)"
    assert charts.cost_breakdown(cells, currency="EUR").layout.yaxis.title.text == "Cost (EUR per day)"
    assert charts.cost_breakdown(run).layout.yaxis.title.text == "Cost (USD per day)"
    bare = cells.drop(columns=["currency", "horizon_days"])
    assert charts.cost_breakdown(bare).layout.yaxis.title.text == "Cost (currency units per replication)"
    loaded = dataclasses.replace(run, scenario=None)
    assert charts.cost_breakdown(loaded).layout.yaxis.title.text == "Cost (currency units per day)"


def test_service_level_vs_cost_explicit_target_and_bad_colour(cells: pd.DataFrame) -> None:
    fig = charts.service_level_vs_cost(cells, target=0.9)
    assert [s.y0 for s in fig.layout.shapes] == [0.9]
    with pytest.raises(ValueError, match="color_by"):
        charts.service_level_vs_cost(cells, color_by="nope")


def test_day_profile_matches_intervals_and_staffing(run: bposim.Run) -> None:
    fig = charts.day_profile(run)
    _titled(fig)
    assert fig.layout.yaxis2.title.text and fig.layout.yaxis3.title.text
    (bars,) = [t for t in fig.data if isinstance(t, go.Bar)]
    offered = run.intervals.groupby(["day", "interval"])["offered"].sum()
    np.testing.assert_array_equal(bars.y, offered.to_numpy())
    assert sum(bars.y) == run.intervals["offered"].sum()
    staff = run.staffing.groupby(["day", "interval"])[["scheduled", "on_phone"]].sum()
    traces = {t.name: t for t in fig.data}
    np.testing.assert_allclose(traces["scheduled agents"].y, staff["scheduled"])
    np.testing.assert_allclose(traces["on-phone agents"].y, staff["on_phone"])
    assert traces["service level"].yaxis == "y2"
    level = fig.layout.yaxis2
    assert (level.tickformat, level.dtick, tuple(level.range), level.showgrid) == (".0%", 0.2, (0, 1.05), False)
    assert fig.layout.xaxis.title.text is None and fig.layout.xaxis2.title.text == "Interval start (HH:MM)"


def test_day_profile_one_call_type(run: bposim.Run) -> None:
    fig = charts.day_profile(run, call_type="tech")
    (bars,) = [t for t in fig.data if isinstance(t, go.Bar)]
    tech = run.intervals[run.intervals["call_type"] == "tech"]
    assert sum(bars.y) == tech["offered"].sum()
    sl = {t.name: t for t in fig.data}["service level"].y
    np.testing.assert_allclose(sl, tech.sort_values(["day", "interval"])["service_level"])


def test_day_profile_of_several_replications_is_per_replication() -> None:
    """A cell's profile: mean offered calls and agents per replication, service level pooled over them."""
    scenario = bposim.load_scenario(ROOT / "models" / "helpdesk.yaml")
    runs = [simulate_replication(scenario, 5, r) for r in range(3)]
    pooled = charts.interval_profile(bposim.simulate(scenario, seed=5, replications=3))
    offered = np.mean([r.intervals["offered"].to_numpy() for r in runs], axis=0)
    np.testing.assert_allclose(pooled["offered"], offered)
    np.testing.assert_allclose(pooled["scheduled"], runs[0].staffing["scheduled"])
    within = sum(r.intervals["service_level"].fillna(0).to_numpy() * r.intervals["offered"].to_numpy() for r in runs)
    np.testing.assert_allclose(pooled["service_level"], within / (offered * 3))


def test_occupancy_heatmap(run: bposim.Run) -> None:
    fig = charts.occupancy_heatmap(run)
    _titled(fig)
    (heat,) = fig.data
    assert list(heat.y) == sorted(run.staffing["group"].unique())
    grid = run.staffing.pivot_table(index="group", columns="interval", values="occupancy")
    np.testing.assert_allclose(np.array(heat.z, dtype=float), grid.to_numpy(float), equal_nan=True)


def test_cost_breakdown_run(run: bposim.Run) -> None:
    fig = charts.cost_breakdown(run)
    _titled(fig)
    assert fig.layout.barmode == "stack"
    assert {t.name for t in fig.data} == set(run.costs["component"])
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(run.costs["amount"].sum())
    assert sum(sum(t.y) for t in fig.data) == pytest.approx(run.summary["total_cost"])


def test_cost_breakdown_cells(cells: pd.DataFrame) -> None:
    fig = charts.cost_breakdown(cells)
    _titled(fig)
    totals = np.sum([np.array(t.y, dtype=float) for t in fig.data], axis=0)
    np.testing.assert_allclose(totals, cells["total_cost"], rtol=1e-9)


def test_outage_timeline(run: bposim.Run) -> None:
    fig = charts.outage_timeline(run)
    _titled(fig)
    bars = [t for t in fig.data if isinstance(t, go.Bar)]
    assert sum(len(t.y) for t in bars) == len(run.outages)
    opening = run.scenario.horizon.start_seconds
    starts = sorted(b for t in bars for b in t.base)
    np.testing.assert_allclose(starts, sorted((opening + run.outages["start"]) / 3600))
    assert all("offered during" in text for t in bars for text in t.hovertext)
    labels = [
        (tool, round(base * 3600 - opening, 3), text)
        for t in bars
        for tool, base, text in zip(t.y, t.base, t.text, strict=True)
    ]
    expected = [
        (
            row.tool,
            round(row.start, 3),
            f"{row.offered_during:,} calls"
            + (f", {row.dropped:,} dropped" if row.dropped else "")
            + (f", {row.blocked_during:,} blocked" if row.blocked_during else ""),
        )
        for row in run.outages.itertuples()
    ]
    assert any(", " in label for *_, label in labels), "some outage dropped or blocked calls"
    assert sorted(labels) == sorted(expected)
    axis = fig.layout.xaxis
    assert axis.title.text == "Time of day (HH:MM)" and len(axis.ticktext) == len(axis.tickvals) > 1
    assert all(re.fullmatch(r"\d\d:\d\d", text) for text in axis.ticktext)
    assert axis.ticktext[0] <= formatting.clock(opening + run.outages["start"].min()) <= axis.ticktext[1]


def test_outage_timeline_over_several_days_prefixes_the_day() -> None:
    scenario = bposim.load_scenario(ROOT / "models" / "outage_prone_site.yaml")
    run = bposim.simulate(scenario.updated({"horizon.days": 2}), seed=1)
    assert run.outages["start"].max() > 86_400, "some outage on day 1"
    ticks = charts.outage_timeline(run).layout.xaxis.ticktext
    assert all(re.fullmatch(r"day [01] \d\d:\d\d", text) for text in ticks) and ticks[-1].startswith("day 1")


def test_outage_timeline_empty(run: bposim.Run) -> None:
    quiet = dataclasses.replace(run, outages=run.outages.iloc[0:0])
    fig = charts.outage_timeline(quiet)
    _titled(fig)
    assert not [t for t in fig.data if isinstance(t, go.Bar)]


def test_staffing_curve() -> None:
    erlang = erlang_table(0.05, 180.0, 20.0, range(10, 16))
    sim = pd.DataFrame(
        {"agents": [14, 12, 10], "service_level": [0.9, 0.8, 0.5], "service_level_ci": [0.01, 0.02, 0.05]}
    )
    fig = charts.staffing_curve(sim, erlang)
    _titled(fig)
    traces = {t.name: t for t in fig.data}
    np.testing.assert_allclose(traces["Erlang (analytic)"].y, erlang["service_level"])
    np.testing.assert_array_equal(traces["simulation"].x, [10, 12, 14])
    np.testing.assert_allclose(traces["simulation"].error_y.array, [0.05, 0.02, 0.01])


def test_staffing_curve_from_runs() -> None:
    scenario = bposim.load_scenario(ROOT / "models" / "helpdesk.yaml")
    runs = {1: bposim.simulate(scenario, seed=2)}
    fig = charts.staffing_curve(runs, erlang_table(0.01, 300.0, 20.0, range(1, 4)))
    assert list({t.name: t for t in fig.data}["simulation"].y) == [runs[1].summary["service_level"]]


def test_queue_and_busy_match_the_tables(run: bposim.Run) -> None:
    """Averaged over whole intervals, busy agents equal the staffing table's, and waiting integrates to the waits."""
    minutes = run.scenario.horizon.interval_minutes
    table = charts.queue_and_busy(run, bin_minutes=minutes)
    staffing = run.staffing[run.staffing["day"] == 0].groupby("interval")["busy"].sum().to_numpy()
    assert np.allclose(table["busy"].to_numpy()[: len(staffing)], staffing)
    calls = run.calls[(run.calls["day"] == 0) & ~run.calls["outcome"].isin(["blocked", "contained"])]
    assert table["waiting"].sum() * minutes * 60 == pytest.approx(calls["wait"].sum(), rel=1e-9)
    assert (table["waiting"] >= 0).all() and (table["busy"] <= table["on_phone"] + 1e-9).all()
    on_phone = run.staffing[run.staffing["day"] == 0].groupby("interval")["on_phone"].sum().to_numpy()
    assert np.allclose(table["on_phone"].to_numpy()[: len(on_phone)], on_phone)


def test_queue_and_agents_figure(run: bposim.Run) -> None:
    fig = charts.queue_and_agents(run, bin_minutes=10)
    table = charts.queue_and_busy(run, bin_minutes=10)
    _titled(fig)
    waiting, busy, on_phone = fig.data
    assert list(waiting.y) == pytest.approx(table["waiting"].tolist())
    assert list(busy.y) == pytest.approx(table["busy"].tolist())
    assert list(on_phone.x) == table["clock"].tolist() and on_phone.x[0] == run.scenario.horizon.start
    assert fig.layout.xaxis.title.text is None and fig.layout.xaxis2.title.text == "Time of day (HH:MM)"
