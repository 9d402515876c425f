"""Bad scenario files and bad flags: exit status 2, one plain line per problem naming file and field, no traceback.

Every case goes through `bposim validate`, and a sample of them through `bposim run`, as real subprocesses, and
through `load_scenario` in process.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import ROOT, assert_refused, bposim
from scenario_texts import HELPDESK as BASE
from scenario_texts import edited, line_of

from bposim import ScenarioError, load_scenario

HELPDESK = ROOT / "models" / "helpdesk.yaml"
SHIFTS = ROOT / "models" / "helpdesk_shifts.yaml"
DISTRIBUTIONS = "exponential, lognormal, gamma, weibull, fixed, uniform, empirical"
MISSING, DIRECTORY = "<no file>", "<a directory>"


@dataclass(frozen=True)
class Case:
    """A bad scenario: its text (or MISSING, DIRECTORY) and the pieces its error message must contain."""

    id: str
    text: str
    expected: tuple[str, ...]


CASES = [
    Case(
        "agents-not-a-number",
        edited(BASE, "agents: 12", 'agents: "twelve"'),
        ("agent_groups[0].agents: must be a whole number of agents", "or {per_interval: [counts]}"),
    ),
    Case(
        "per-hour-not-a-number",
        edited(BASE, "per_hour: 252", 'per_hour: "lots"'),
        ("call_types[0].arrivals.per_hour: ", "valid number"),
    ),
    Case(
        "unknown-top-level-field",
        BASE + "colour: blue\n",
        ("(top level): unknown field 'colour'; allowed: name, description, horizon, ", "call_types, agent_groups"),
    ),
    Case(
        "unknown-horizon-field",
        edited(BASE, "interval_minutes: 30}", "interval_minutes: 30, foo: 1}"),
        ("horizon: unknown field 'foo'; allowed: start, end, length_hours, interval_minutes, days",),
    ),
    Case(
        "misspelt-call-type-field",
        edited(BASE, "handle_time:", "handel_time:"),
        (
            "call_types[0]: unknown field 'handel_time'; allowed: name, channel, priority, arrivals, handle_time, ",
            "call_types[0].handle_time: required field is missing",
        ),
    ),
    Case(
        "unknown-distribution-field",
        edited(BASE, "mean_seconds: 120}", "mean_seconds: 120, sd: 30}"),
        ("call_types[0].handle_time: unknown field 'sd'; allowed: distribution, mean_seconds",),
    ),
    Case(
        "unknown-skill-field",
        edited(BASE, "skills: [support]", "skills: [{call_type: support, prof: 0.9}]"),
        ("agent_groups[0].skills[0]: unknown field 'prof'; allowed: call_type, proficiency, priority",),
    ),
    Case(
        "negative-mean",
        edited(BASE, "mean_seconds: 120", "mean_seconds: -5"),
        ("call_types[0].handle_time.mean_seconds: ", "greater than 0"),
    ),
    Case(
        "unknown-distribution",
        edited(BASE, "exponential, mean_seconds: 120", "triangular, mean_seconds: 120"),
        (f"call_types[0].handle_time: distribution must be one of: {DISTRIBUTIONS}",),
    ),
    Case(
        "lognormal-without-cv",
        edited(BASE, "exponential, mean_seconds: 120", "lognormal, mean_seconds: 120"),
        ("call_types[0].handle_time.cv: required field is missing",),
    ),
    Case(
        "uniform-high-below-low",
        edited(BASE, "exponential, mean_seconds: 120", "uniform, low_seconds: 100, high_seconds: 50"),
        ("call_types[0].handle_time: ", "high_seconds (50.0) must be at least low_seconds (100.0)"),
    ),
    Case(
        "unknown-call-type-in-skills",
        edited(BASE, "skills: [support]", "skills: [support, sales]"),
        ("agent_groups[0].skills[1]: unknown call type 'sales'; known: support",),
    ),
    Case(
        "call-type-nobody-serves",
        edited(
            BASE,
            "agent_groups:",
            "  - name: billing\n    arrivals: {per_hour: 10}\n"
            "    handle_time: {distribution: fixed, value_seconds: 60}\nagent_groups:",
        ),
        ("call_types[1]: no agent group has the skill 'billing'",),
    ),
    Case(
        "duplicate-call-type",
        edited(
            BASE,
            "agent_groups:",
            "  - name: support\n    arrivals: {per_hour: 10}\n"
            "    handle_time: {distribution: fixed, value_seconds: 60}\nagent_groups:",
        ),
        ("call_types[1].name: call type 'support' is defined twice",),
    ),
    Case(
        "staffing-wrong-length",
        edited(BASE, "agents: 12", "agents: {per_interval: [10, 12, 12]}"),
        ("agent_groups[0].agents.per_interval: 3 values given; the horizon has 16 intervals of 30 minutes",),
    ),
    Case(
        "arrivals-wrong-length",
        edited(BASE, "per_hour: 252", "per_interval: [100, 200]"),
        ("call_types[0].arrivals.per_interval: 2 values given; the horizon has 16 intervals of 30 minutes",),
    ),
    Case(
        "end-before-start",
        edited(BASE, 'end: "16:00"', 'end: "07:00"'),
        ("horizon: end 07:00 must be after start 08:00",),
    ),
    Case(
        "not-a-clock-time",
        edited(BASE, 'end: "16:00"', 'end: "25:00"'),
        ("horizon.end: '25:00' is not a clock time; write HH:MM",),
    ),
    Case(
        "open-time-not-whole-intervals",
        edited(BASE, 'end: "16:00"', 'end: "16:10"'),
        ("horizon: the open time (490 minutes) is not a whole number of 30-minute intervals",),
    ),
    Case(
        "target-above-one",
        edited(BASE, "target: 0.80", "target: 80"),
        ("service_level.target: ", "less than or equal to 1"),
    ),
    Case(
        "unknown-routing-choice",
        BASE + "routing: {agent_selection: best}\n",
        ("routing.agent_selection: ", "'longest_idle', 'most_proficient' or 'random'"),
    ),
    Case(
        "retrial-after-blocked-without-trunk-lines",
        edited(
            BASE,
            "    patience:",
            "    retrial: {after_blocked: 0.5, delay: {distribution: fixed, value_seconds: 30}}\n    patience:",
        ),
        ("call_types[0].retrial.after_blocked: callers are only blocked when trunk_lines is set",),
    ),
    Case(
        "yaml-syntax-error",
        edited(BASE, "arrivals: {per_hour: 252}", "arrivals: per_hour: 252"),
        (f"line {line_of(BASE, '    arrivals:')}, column 23: not valid YAML (mapping values are not allowed",),
    ),
    Case("list-not-mapping", "- name: Helpdesk\n- horizon: {}\n", ("the file must hold a mapping of fields",)),
    Case("empty-file", "", ("the file must hold a mapping of fields",)),
    Case("missing-file", MISSING, ("file not found",)),
    Case("directory-not-file", DIRECTORY, ("cannot read the file",)),
]
RUN_TOO = {
    "agents-not-a-number",
    "unknown-horizon-field",
    "unknown-call-type-in-skills",
    "yaml-syntax-error",
    "missing-file",
}
FLAGS = {
    "run-replications-0": (["run", HELPDESK, "--replications", "0"], ("'--replications'",)),
    "run-seed-negative": (["run", HELPDESK, "--seed", "-1"], ("'--seed'",)),
    "run-format-xml": (["run", HELPDESK, "--format", "xml"], ("'--format'", "'xml'", "'json'")),
    "run-out-is-a-file": (["run", HELPDESK, "--out", "{file}"], ("error: --out: cannot create directory",)),
    "staff-workers-0": (["staff", SHIFTS, "--workers", "0", "--out", "{dir}/roster.yaml"], ("'--workers'",)),
    "staff-max-rounds-huge": (
        ["staff", SHIFTS, "--max-rounds", "1000000"],
        ("'--max-rounds'", "less than or equal to 100"),
    ),
    "staff-trim-trials-huge": (["staff", SHIFTS, "--trim-trials", "1000000"], ("'--trim-trials'", "1000")),
    "staff-workers-beyond-the-machine": (
        ["staff", SHIFTS, "--workers", "100000", "--out", "{dir}/roster.yaml"],
        ("error: --workers: 100,000 worker processes on a machine with", "give at most"),
    ),
    "sweep-workers-beyond-the-machine": (
        ["sweep", ROOT / "experiments" / "outage_staffing.yaml", "--workers", "100000", "--out", "{dir}/sweep"],
        ("error: --workers: 100,000 worker processes on a machine with", "or a Dask --scheduler for more"),
    ),
    "erlang-agents-abc": (
        ["erlang", "--calls-per-hour", "252", "--handle-seconds", "120", "--agents", "abc"],
        ("error: --agents: 'abc' is not an agent count or range; write e.g. 12 or 10-20",),
    ),
    "erlang-calls-per-hour-not-a-number": (
        ["erlang", "--calls-per-hour", "many", "--handle-seconds", "120"],
        ("'--calls-per-hour'",),
    ),
}


def place(case: Case, folder: Path) -> Path:
    """Where the case's scenario is, written into folder (a directory, or nothing, for the file-level cases)."""
    path = folder / f"{case.id}.yaml"
    if case.text == DIRECTORY:
        path.mkdir(exist_ok=True)
    elif case.text != MISSING:
        path.write_text(case.text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_validate_rejects_bad_scenario(case, tmp_path):
    """validate: exit 2 and a one-line message per problem with the file, field path and what is allowed."""
    path = place(case, tmp_path)
    assert_refused(bposim("validate", path), *case.expected, source=path)


@pytest.mark.parametrize("case", [case for case in CASES if case.id in RUN_TOO], ids=lambda case: case.id)
def test_run_rejects_bad_scenario(case, tmp_path):
    """run refuses a bad scenario with the same messages as validate."""
    path = place(case, tmp_path)
    assert_refused(bposim("run", path, "--format", "json"), *case.expected, source=path)


@pytest.mark.parametrize("name", FLAGS)
def test_bad_flag_exits_2_without_traceback(name, tmp_path):
    """A bad flag value: exit 2, the flag named on stderr, nothing on stdout, no traceback, nothing written."""
    args, expected = FLAGS[name]
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory\n")
    written = tmp_path / "written"
    written.mkdir()
    paths = [str(arg).replace("{file}", str(a_file)).replace("{dir}", str(written)) for arg in args]
    assert_refused(bposim(*paths), *expected)
    assert list(written.iterdir()) == []


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_load_scenario_raises_scenario_error_with_field_paths(case, tmp_path):
    """load_scenario raises ScenarioError whose problems carry the field path; its text names the file."""
    path = place(case, tmp_path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.source == str(path)
    assert error.problems
    assert str(error).splitlines() == [f"{path}: {problem}" for problem in error.problems]
    for piece in case.expected:
        assert piece in "\n".join(error.problems)


def test_scenario_error_lists_every_problem_on_its_own_line(tmp_path):
    """Several problems in one file give one problem line each, each starting with its own field path."""
    path = tmp_path / "many.yaml"
    path.write_text(
        edited(edited(BASE, "agents: 12", "agents: -3"), "mean_seconds: 60", "mean_seconds: 0") + "foo: 1\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert sorted(problem.split(":")[0] for problem in problems) == [
        "(top level)",
        "agent_groups[0].agents",
        "call_types[0].patience.mean_seconds",
    ]


def test_staff_on_email_and_cases_without_shift_patterns_asks_for_them(tmp_path):
    """bposim staff plans every channel; the omnichannel model with its roster but no scheduling section is refused
    with exit 2 for the missing shift patterns alone, not for its email and case work."""
    scenario = ROOT / "models" / "omnichannel_bpo.yaml"
    result = bposim("staff", scenario, "--out", tmp_path / "roster.yaml")
    message = assert_refused(result, "no scheduling section", source=scenario)
    assert "email_en" not in message and "backoffice_case" not in message
    assert not (tmp_path / "roster.yaml").exists()
