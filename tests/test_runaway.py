"""Runaway inputs: work no laptop could finish is refused at once, naming the field to change and the estimate.

Scenario files and flags go through the real command line in a subprocess held to ~2 GB of address space and a
timeout, so a blow-up fails the test instead of the machine; the same scenarios go through `simulate` and
experiments in process (with the simulation itself stubbed out, so a missed refusal fails rather than runs).
Positive controls: the bundled models and experiments, and scenarios just under a limit, are accepted.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cli_runner import ROOT, assert_refused
from cli_runner import bposim as run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from scenario_texts import helpdesk_data

import bposim
import bposim.run
from bposim import ScenarioError, load_scenario, simulate, workload
from bposim.experiment import Experiment, ExperimentError
from bposim.experiment.runner import scheduler_problem

MEMORY_BYTES = 2 * 1024**3
HELPDESK = ROOT / "models" / "helpdesk.yaml"
SHIFTS = ROOT / "models" / "helpdesk_shifts.yaml"
ZERO = {"distribution": "fixed", "value_seconds": 0}
MICRO = {"distribution": "fixed", "value_seconds": 0.000001}
TINY = {"distribution": "exponential", "mean_seconds": 0.000001}
SHRINKAGE = {"per_hour": 1e12, "duration": {"distribution": "fixed", "value_seconds": 60}}


def bposim_limited(*args: object, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI with ~2 GB of address space and a timeout."""
    return run_cli(*args, timeout=timeout, memory_bytes=MEMORY_BYTES)


def scenario_data(**changes) -> dict:
    """The helpdesk as plain data, with top-level sections replaced and paths (their parts joined by __) set."""
    return helpdesk_data({path.replace("__", "."): value for path, value in changes.items()})


@dataclass(frozen=True)
class Case:
    """A runaway scenario (the helpdesk with changes), the flags it is run with, and what the refusal must say."""

    id: str
    data: dict
    expected: tuple[str, ...]
    flags: tuple[str, ...] = ()


def retrial(**fields) -> dict:
    return {"after_abandon": 1, "delay": ZERO, "max_attempts": 1_000_000_000} | fields


def tool(failures: dict | None = None, maintenance: list | None = None, name: str = "crm") -> dict:
    spec = {"name": name, "effects": [{"type": "slow", "multiplier": 1.5}]}
    if failures is not None:
        spec["failures"] = failures
    if maintenance is not None:
        spec["maintenance"] = maintenance
    return spec


DAY = {"start": "00:00", "end": "24:00", "interval_minutes": 30}
TEN_YEARS = {"start": "08:00", "end": "16:00", "days": 3660}
BOT = {"self_service": [{"call_type": "support", "containment": 0.5, "bot_time": MICRO}]}
CASES = [
    Case(
        "retrials-forever",
        scenario_data(call_types__0__retrial=retrial()),
        (
            "call_types[0].retrial.max_attempts: about 2e12 call attempts over 1 day(s) × 1 replication(s)",
            "at most 1e7 per run",
        ),
    ),
    Case(
        "retrials-nearly-certain",
        scenario_data(call_types__0__retrial=retrial(after_abandon=0.9999)),
        ("call_types[0].retrial.after_abandon: about 2e7 call attempts", "lower call_types[0].retrial.after_abandon"),
    ),
    Case(
        "retrials-after-busy-signal",
        scenario_data(trunk_lines=5, call_types__0__retrial=retrial(after_abandon=0, after_blocked=1)),
        ("call_types[0].retrial.max_attempts: about 2e12 call attempts",),
    ),
    Case(
        "shrinkage-per-hour",
        scenario_data(shrinkage=SHRINKAGE),
        ("shrinkage.per_hour: about 9.6e13 agent records", "at most 5,000,000 per run"),
    ),
    Case(
        "group-shrinkage-per-hour",
        scenario_data(agent_groups__0__shrinkage=SHRINKAGE),
        ("agent_groups[0].shrinkage.per_hour: about 9.6e13 agent records",),
    ),
    Case(
        "tool-fails-every-microsecond",
        scenario_data(tools=[tool({"time_between": MICRO, "repair": MICRO})]),
        ("tools[0].failures.time_between: about 1.4e10 tool outages", "at most 1,000,000 per run"),
    ),
    Case(
        "tool-fails-every-microsecond-on-average",
        scenario_data(tools=[tool({"time_between": TINY, "repair": TINY})]),
        ("tools[0].failures.time_between: about 1.4e10 tool outages",),
    ),
    Case(
        "second-tool-fails-without-pause",
        scenario_data(tools=[tool(name="crm"), tool({"time_between": ZERO, "repair": ZERO}, name="phones")]),
        ("tools[1].failures.time_between: infinitely many tool outages",),
    ),
    Case(
        "maintenance-windows-over-ten-years",
        scenario_data(
            horizon=DAY | {"days": 3660},
            tools=[tool(maintenance=[{"start": "08:00", "minutes": 1}] * 300)],
            call_types__0__arrivals={"per_hour": 1},
        ),
        ("horizon.days: about 1,100,000 tool outages over 3,660 day(s)",),
    ),
    Case(
        "trillion-agents",
        scenario_data(agent_groups__0__agents=10**12),
        ("agent_groups[0].agents: about 1e12 agents at once", "at most 100,000 at once"),
    ),
    Case(
        "more-agents-than-a-float-holds",
        scenario_data(agent_groups__0__agents=10**400),
        ("agent_groups[0].agents: infinitely many agents at once",),
    ),
    Case(
        "trillion-agents-in-one-interval",
        scenario_data(agent_groups__0__agents={"per_interval": [12] * 3 + [10**12] + [12] * 12}),
        ("agent_groups[0].agents.per_interval[3]: about 1e12 agents at once",),
    ),
    Case(
        "trillion-agents-on-a-shift",
        scenario_data(roster=[{"group": "team", "start": "08:00", "end": "16:00", "agents": 10**12}]),
        ("roster[0].agents: about 1e12 agents at once",),
    ),
    Case(
        "arrivals-per-hour",
        scenario_data(call_types__0__arrivals={"per_hour": 1e15}),
        ("call_types[0].arrivals.per_hour: about 8e15 call attempts over 1 day(s) × 1 replication(s)",),
    ),
    Case(
        "arrivals-per-interval",
        scenario_data(call_types__0__arrivals={"per_interval": [252] * 15 + [1e15]}),
        ("call_types[0].arrivals.per_interval: about 5e14 call attempts",),
    ),
    Case(
        "arrivals-into-a-bot",
        scenario_data(call_types__0__arrivals={"per_hour": 1e15}, technology=BOT),
        ("call_types[0].arrivals.per_hour: about 8e15 call attempts",),
    ),
    Case(
        "heavy-day-for-ten-years",
        scenario_data(horizon=TEN_YEARS, call_types__0__arrivals={"per_hour": 2000}),
        ("horizon.days: about 5.9e7 call attempts over 3,660 day(s) × 1 replication(s)",),
    ),
    Case(
        "one-minute-intervals-for-ten-years",
        scenario_data(
            horizon={"start": "00:00", "end": "24:00", "interval_minutes": 1, "days": 3660},
            call_types__0__arrivals={"per_hour": 1},
        ),
        ("horizon.days: about 1.1e7 interval rows over 3,660 day(s)", "raise horizon.interval_minutes"),
    ),
    Case(
        "a-billion-hour-day",
        scenario_data(
            horizon={"start": "00:00", "length_hours": 1e9, "interval_minutes": 1},
            call_types__0__arrivals={"per_hour": 0},
        ),
        ("horizon.length_hours: about 1.2e11 interval rows",),
    ),
    Case(
        "ten-years-of-many-replications",
        scenario_data(horizon=TEN_YEARS, call_types__0__arrivals={"per_hour": 50}),
        ("--replications: about 1.5e7 call attempts over 3,660 day(s) × 10 replication(s)",),
        ("--replications", "10"),
    ),
    Case(
        "a-billion-replications",
        helpdesk_data(),
        ("--replications: 1,000,000,000 replications; bposim runs 1 to 100,000",),
        ("--replications", "1000000000"),
    ),
    Case(
        "too-many-replications-of-a-day",
        helpdesk_data(),
        ("--replications: about 2e8 call attempts over 1 day(s) × 100,000 replication(s)",),
        ("--replications", "100000"),
    ),
]
IN_PROCESS = [case for case in CASES if not case.flags]


def write(data: dict, folder: Path, name: str = "scenario.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- the command line, in a subprocess held to ~2 GB ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_run_refuses_runaway_scenario(case, tmp_path):
    """`bposim run` exits 2 at once with the field and the estimate, whatever would blow up."""
    path = write(case.data, tmp_path)
    assert_refused(bposim_limited("run", path, *case.flags), *case.expected, source=path)


@pytest.mark.parametrize(
    "case", [case for case in IN_PROCESS if "agents" in case.id or "hour" in case.id], ids=lambda case: case.id
)
def test_validate_refuses_runaway_scenario(case, tmp_path):
    """`bposim validate` says what `run` would say: a valid file can still be one bposim will not run."""
    path = write(case.data, tmp_path)
    assert_refused(bposim_limited("validate", path), *case.expected, source=path)


def test_staff_refuses_a_billion_replications():
    """`bposim staff --replications` has the cap of `run`."""
    result = bposim_limited("staff", SHIFTS, "--replications", 1_000_000_000)
    assert_refused(result, "--replications: 1,000,000,000 replications; bposim runs 1 to 100,000", source=SHIFTS)


def test_staff_refuses_a_break_that_could_start_in_a_trillion_places(tmp_path):
    """A break span of a trillion hours would list every possible start before keeping those inside the shift."""
    data = yaml.safe_load(SHIFTS.read_text(encoding="utf-8"))
    data["scheduling"]["shifts"][0]["breaks"][1]["after_hours"] = [3.5, 1e12]
    path = write(data, tmp_path)
    result = bposim_limited("staff", path)
    assert_refused(
        result,
        "scheduling.shifts[0].breaks[1].after_hours: about ",
        "shifts to choose from",
        "at most 200,000",
        source=path,
    )


def test_staff_refuses_a_runaway_scenario(tmp_path):
    """A scenario `run` refuses, `staff` refuses too, before it starts optimising."""
    data = yaml.safe_load(SHIFTS.read_text(encoding="utf-8"))
    data["shrinkage"] = SHRINKAGE
    data["roster"] = [{"group": "team", "start": "08:00", "end": "16:00", "agents": 10}]
    path = write(data, tmp_path)
    assert_refused(bposim_limited("staff", path), "shrinkage.per_hour: about ", "agent records", source=path)


def experiment_file(folder: Path, **fields) -> Path:
    model = write(helpdesk_data(), folder, "model.yaml")
    return write({"model": model.name, "replications": 2} | fields, folder, "sweep.yaml")


SWEEPS = [
    (
        "a-billion-cells",
        {"factors": {f"f{i}": {str(level): {} for level in range(10)} for i in range(9)}},
        ("factors: 1e9 cells (the product of the factors' lengths); bposim sweeps at most 10,000",),
    ),
    (
        "too-many-tasks",
        {"factors": {"agent_groups.team.agents": list(range(1, 101))}, "replications": 10_000},
        ("replications: 100 cells × 10,000 replications = 1,000,000 tasks; bposim sweeps at most 100,000",),
    ),
    (
        "a-cell-with-a-trillion-agents",
        {"factors": {"agent_groups.team.agents": [12, 10**12]}},
        ("factors: cell 1 (agent_groups.team.agents = 1000000000000): agent_groups[0].agents: about 1e12 agents",),
    ),
    (
        "a-heavy-base-in-every-cell",
        {"changes": {"shrinkage": SHRINKAGE}, "factors": {"agent_groups.team.agents": [11, 12]}},
        ("factors: cell 0 (agent_groups.team.agents = 11): shrinkage.per_hour: about ", "(and 1 other cells)"),
    ),
    (
        "too-much-work-in-all",
        {"factors": {"call_types.support.arrivals.per_hour": [100_000.0, 200_000.0]}, "replications": 1_000},
        ("replications: about 2.4e9 call attempts over 2 cell(s) × 1,000 replication(s); a sweep does at most 1e9",),
    ),
]


@pytest.mark.parametrize(("fields", "expected"), [case[1:] for case in SWEEPS], ids=[case[0] for case in SWEEPS])
def test_sweep_refuses_runaway_experiment(fields, expected, tmp_path):
    """`bposim sweep` refuses a grid, a cell or a sweep too large, before building cells or starting a task."""
    path = experiment_file(tmp_path, **fields)
    result = bposim_limited("sweep", path, "--out", tmp_path / "out", "--workers", 1)
    assert_refused(result, *expected, source=path)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("address", ["nonsense", "", "tcp://host:99999", "http://host:8786", "tcp://127.0.0.1:1"])
def test_sweep_refuses_a_scheduler_that_is_not_one(address, tmp_path):
    """--scheduler takes local or a reachable Dask address; anything else exits 2 in seconds, naming the flag."""
    path = experiment_file(tmp_path)
    result = bposim_limited("sweep", path, "--scheduler", address, "--out", tmp_path / "out", timeout=45)
    expected = (
        ("--scheduler: ", "give local", "tcp://host:8786")
        if address != "tcp://127.0.0.1:1"
        else ("--scheduler: cannot reach the Dask scheduler at tcp://127.0.0.1:1", "give local")
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: --scheduler: ")
    for piece in expected:
        assert piece in result.stderr, (piece, result.stderr)


# --- in process: simulate() and Experiment ------------------------------------------------------------------------


@pytest.fixture
def no_simulation(monkeypatch):
    """simulate() fails the test if it gets as far as simulating."""

    def refuse(*args):
        pytest.fail("simulated a scenario that should have been refused")

    monkeypatch.setattr(bposim.run, "Centre", refuse)


@pytest.mark.parametrize("case", IN_PROCESS, ids=lambda case: case.id)
def test_simulate_refuses_runaway_scenario(case, no_simulation, tmp_path):
    """The Python API refuses what the CLI refuses, as a ScenarioError from 'scenario' naming the field."""
    scenario = load_scenario(write(case.data, tmp_path))
    with pytest.raises(ScenarioError) as caught:
        simulate(scenario, seed=1)
    assert caught.value.source == "scenario"
    for piece in case.expected:
        assert piece in str(caught.value)


def test_simulate_refuses_a_billion_replications(no_simulation):
    scenario = load_scenario(HELPDESK)
    with pytest.raises(ScenarioError, match=r"replications: 1,000,000,000 replications; bposim runs 1 to 100,000"):
        simulate(scenario, replications=1_000_000_000)
    with pytest.raises(ScenarioError, match=r"replications: about 2e8 call attempts over 1 day\(s\) × 100,000 "):
        simulate(scenario, replications=100_000)


def test_simulate_replication_refuses_runaway_scenario(no_simulation, tmp_path):
    scenario = load_scenario(write(CASES[0].data, tmp_path))
    with pytest.raises(ScenarioError, match=r"call_types\[0\]\.retrial\.max_attempts: about 2e12"):
        bposim.run.simulate_replication(scenario, 0, 3)


def test_the_optimisers_refuse_a_billion_replications(no_simulation):
    """The roster optimiser and the staffing requirement check their replications like simulate()."""
    from bposim.optimise import optimise_roster, staffing_requirement

    scenario = load_scenario(SHIFTS)
    with pytest.raises(ScenarioError, match=r"^scenario: replications: 1,000,000,000 replications"):
        optimise_roster(scenario, replications=1_000_000_000)
    with pytest.raises(ScenarioError, match=r"^scenario: replications: about 2.4e8 call attempts"):
        staffing_requirement(scenario, replications=100_000)


def test_experiment_refuses_a_billion_cells_before_building_them(monkeypatch):
    """A compact 10^9-cell grid is refused from its factors' lengths: no cell scenario is built."""
    monkeypatch.setattr("bposim.experiment.design._cells", lambda *args: pytest.fail("built the cells"))
    factors = {"agent_groups.team.agents": list(range(10))} | {
        f"f{i}": {str(j): {} for j in range(10)} for i in range(8)
    }
    with pytest.raises(ExperimentError, match=r"factors: 1e9 cells"):
        Experiment(load_scenario(HELPDESK), factors)


def test_experiment_refuses_a_heavy_cell():
    with pytest.raises(ExperimentError, match=r"factors: cell 1 \(agent_groups.team.agents = 1000000000000\): "):
        Experiment(load_scenario(HELPDESK), {"agent_groups.team.agents": [12, 10**12]}, replications=2)


def test_experiment_run_refuses_a_scheduler_that_is_not_one(no_simulation, tmp_path):
    """The Python API checks the address before it creates the results directory or connects."""
    experiment = Experiment(load_scenario(HELPDESK), replications=1)
    with pytest.raises(ExperimentError, match=r"^--scheduler: 'nonsense' is not a Dask scheduler address; give local"):
        experiment.run(out=tmp_path / "out", scheduler="nonsense", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "address", ["local", "tcp://10.0.0.5:8786", "scheduler.internal:8786", "tls://[::1]:8786", "inproc://10.0.0.5/1/1"]
)
def test_scheduler_addresses_with_a_port_are_accepted(address):
    assert scheduler_problem(address) is None


# --- positive controls ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted((ROOT / "models").glob("*.yaml")), ids=lambda path: path.name)
def test_bundled_models_are_within_the_limits(path):
    """Every bundled model runs its 10 replications, and `bposim staff`'s default, without a refusal (email and
    case work included)."""
    scenario = load_scenario(path)
    workload.check(scenario, 10)
    assert workload.staff_problems(scenario, 10) == []


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda path: path.name)
def test_bundled_experiments_are_within_the_limits(path):
    assert Experiment.from_file(path).cells


def test_validate_says_the_calls_a_day():
    result = bposim_limited("validate", HELPDESK)
    assert result.returncode == 0, result.stderr
    assert "about 2,000 calls a day" in result.stdout


def shrinkage_per_hour(per_hour: float) -> dict:
    return {"per_hour": per_hour, "duration": ZERO}


def failing_every(seconds: float) -> list[dict]:
    return [tool({"time_between": {"distribution": "fixed", "value_seconds": seconds}, "repair": ZERO})]


ONE_MINUTE_DAYS = {"start": "00:00", "end": "24:00", "interval_minutes": 1}
# The quantity, the helpdesk just under its limit, and just over (its day: 8 hours, 28,800 s, 12 agents).
LIMITS = [
    (
        "call attempts",
        scenario_data(call_types__0__arrivals={"per_hour": 0.99 * workload.MAX_CALLS / 8}),
        scenario_data(call_types__0__arrivals={"per_hour": 1.01 * workload.MAX_CALLS / 8}),
    ),
    (
        "agents",
        scenario_data(agent_groups__0__agents=workload.MAX_AGENTS),
        scenario_data(agent_groups__0__agents=workload.MAX_AGENTS + 1),
    ),
    (
        "agent records",
        scenario_data(shrinkage=shrinkage_per_hour(0.99 * workload.MAX_AGENT_RECORDS / 96)),
        scenario_data(shrinkage=shrinkage_per_hour(1.01 * workload.MAX_AGENT_RECORDS / 96)),
    ),
    (
        "tool outages",
        scenario_data(tools=failing_every(28_800 / (0.99 * workload.MAX_OUTAGES))),
        scenario_data(tools=failing_every(28_800 / (1.01 * workload.MAX_OUTAGES))),
    ),
    (
        "interval rows",
        scenario_data(
            horizon=ONE_MINUTE_DAYS | {"days": workload.MAX_INTERVAL_ROWS // 2880},
            call_types__0__arrivals={"per_hour": 1},
        ),
        scenario_data(
            horizon=ONE_MINUTE_DAYS | {"days": workload.MAX_INTERVAL_ROWS // 2880 + 1},
            call_types__0__arrivals={"per_hour": 1},
        ),
    ),
]


@pytest.mark.parametrize(("name", "under", "over"), LIMITS, ids=[limit[0] for limit in LIMITS])
def test_just_under_a_limit_is_accepted_and_just_over_is_not(name, under, over, tmp_path):
    """The estimator on either side of a limit: just under passes, just over names the quantity (and only it)."""
    assert workload.run_problems(workload.estimate(load_scenario(write(under, tmp_path))), 1) == []
    problems = workload.run_problems(workload.estimate(load_scenario(write(over, tmp_path))), 1)
    assert len(problems) == 1 and f" {name}" in problems[0], problems


def test_a_scenario_at_the_agents_limit_runs():
    """100,000 agents (the limit) are simulated: the bound on agents is where a run is cheap to check."""
    changes = {
        "agent_groups.team.agents": workload.MAX_AGENTS,
        "call_types.support.arrivals.per_hour": 10.0,
        "horizon.end": "09:00",
    }
    scenario = load_scenario(HELPDESK).updated(changes)
    run = simulate(scenario, seed=0)
    assert len(run.agents) == workload.MAX_AGENTS


def test_the_retrial_estimate_bounds_what_the_engine_does():
    """Expected attempts with retrials at most the worst case the estimate assumes (sales_service retries)."""
    scenario = load_scenario(ROOT / "models" / "sales_service.yaml")
    estimate = workload.estimate(scenario)
    run = simulate(scenario, seed=3, replications=3)
    assert len(run.calls) / 3 <= estimate.calls_per_day


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.4, "0"),
        (12, "12"),
        (12_345, "12,000"),
        (5_000_000, "5,000,000"),
        (1e7, "1e7"),
        (3.2e12, "3.2e12"),
        (math.inf, "infinitely many"),
    ],
)
def test_counts_read_as_a_planner_reads_them(value, text):
    assert workload.about(value) == text


DURATIONS = st.floats(min_value=0.0, max_value=1e300, allow_subnormal=True)
LAWS = st.one_of(
    st.builds(lambda v: {"distribution": "fixed", "value_seconds": v}, DURATIONS),
    st.builds(
        lambda a, b: {"distribution": "uniform", "low_seconds": min(a, b), "high_seconds": max(a, b)},
        DURATIONS,
        DURATIONS,
    ),
    st.builds(
        lambda values: {"distribution": "empirical", "values_seconds": values},
        st.lists(DURATIONS, min_size=1, max_size=4),
    ),
    st.builds(
        lambda mean, shape: {"distribution": "weibull", "mean_seconds": mean, "shape": shape},
        st.floats(1e-300, 1e300),
        st.floats(1e-300, 1e300),
    ),
    st.builds(
        lambda mean, cv: {"distribution": "lognormal", "mean_seconds": mean, "cv": cv},
        st.floats(1e-300, 1e300),
        st.floats(1e-300, 1e6),
    ),
)


@settings(max_examples=150, deadline=None)
@given(delay=LAWS, between=LAWS, repair=LAWS, p=st.floats(0.0, 1.0), attempts=st.integers(1, 10**12))
def test_the_estimate_of_any_valid_scenario_is_a_number_or_infinite(delay, between, repair, p, attempts):
    """Tiny, huge and subnormal durations give an estimate (maybe infinite, never NaN), never an arithmetic error."""
    data = scenario_data(
        call_types__0__retrial={"after_abandon": p, "delay": delay, "max_attempts": attempts},
        tools=[tool(failures={"time_between": between, "repair": repair})],
    )
    try:
        scenario = bposim.Scenario.model_validate(data)
    except ScenarioError:
        return  # e.g. a law whose parameters its own checks refuse
    load = workload.estimate(scenario)
    for name in load.quantities:
        assert not math.isnan(load.per_replication(name)), name
    try:
        workload.check(scenario, 1)
    except ScenarioError as exc:
        assert "about" in str(exc) or "infinitely many" in str(exc)
