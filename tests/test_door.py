"""Hostile input at the door: every bad number, count, YAML trick, roster CSV, experiment name and float flag is
refused with exit status 2 and one line naming the field (or file line), never a traceback, hang or blow-up.

Every case runs in process (`load_scenario`, `Experiment.from_file`); a sample, and every flag and YAML bomb, also
through the real command line in a subprocess. Positive controls show that what is legitimate still loads.
"""

from __future__ import annotations

import copy
import pickle
import re
import subprocess
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from pydantic import BaseModel, BeforeValidator
from scenario_texts import HELPDESK, changed, edited, helpdesk_data, line_of

from bposim import Scenario, ScenarioError, load_scenario
from bposim.experiment import Experiment
from bposim.experiment.design import ExperimentError, ExperimentFile
from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.run import simulate, simulate_replication
from bposim.scenario import load_yaml_mapping

RICH: dict[str, Any] = {
    "name": "door",
    "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 60, "days": 1, "warmup_minutes": 10},
    "service_level": {"threshold_seconds": 20, "target": 0.8},
    "trunk_lines": 40,
    "busyness": {"cv": 0.1},
    "call_types": [
        {
            "name": "support",
            "priority": 1,
            "arrivals": {"per_interval": [100, 120, 110, 90]},
            "handle_time": {"distribution": "lognormal", "mean_seconds": 200, "cv": 0.8, "max_seconds": 1800},
            "after_call_work": {"distribution": "uniform", "low_seconds": 5, "high_seconds": 20},
            "patience": {"distribution": "weibull", "mean_seconds": 90, "shape": 0.8},
            "service_level": {"threshold_seconds": 30, "target": 0.7},
            "retrial": {
                "after_abandon": 0.3,
                "after_blocked": 0.5,
                "max_attempts": 3,
                "delay": {"distribution": "gamma", "mean_seconds": 300, "cv": 0.5},
            },
        },
        {
            "name": "sales",
            "priority": 2,
            "arrivals": {"per_hour": 40},
            "handle_time": {"distribution": "empirical", "values_seconds": [100, 150, 200]},
            "patience": {"distribution": "exponential", "mean_seconds": 60},
        },
    ],
    "agent_groups": [
        {
            "name": "team",
            "skills": [
                {"call_type": "support", "proficiency": 1.0, "priority": 1},
                {"call_type": "sales", "proficiency": 1.2, "priority": 2, "delay_seconds": 15},
            ],
            "agents": {"per_interval": [5, 6, 6, 5]},
            "learning_curve": {"start_multiplier": 1.5, "calls_to_halve": 20},
            "absence": {"probability": 0.05},
            "shrinkage": {"per_hour": 0.2, "duration": {"distribution": "fixed", "value_seconds": 300}},
        },
        {"name": "sellers", "skills": ["sales"], "agents": 2},
    ],
    "roster": [
        {
            "group": "sellers",
            "start": "08:00",
            "end": "12:00",
            "agents": 2,
            "breaks": [{"name": "coffee", "minutes": 10, "window": ["09:00", "11:00"]}],
        }
    ],
    "tools": [
        {
            "name": "crm",
            "failures": {
                "time_between": {"distribution": "exponential", "mean_seconds": 20000},
                "repair": {"distribution": "fixed", "value_seconds": 600},
            },
            "maintenance": [{"start": "11:00", "minutes": 10}],
            "effects": [{"type": "slow", "multiplier": 1.5, "groups": ["team"]}],
        }
    ],
    "technology": {
        "self_service": [
            {
                "call_type": "support",
                "containment": 0.2,
                "bounce_back": 0.1,
                "bot_time": {"distribution": "fixed", "value_seconds": 60},
                "bounce_handle_multiplier": 1.2,
            }
        ],
        "ai_assist": {
            "adoption": 0.5,
            "handle_time_multiplier": 0.9,
            "by_call_type": {"sales": 0.8},
            "novice_multiplier": 0.85,
        },
        "callbacks": {"offer_when_wait_over_seconds": 120, "acceptance": 0.4, "deadline_minutes": 60},
    },
    "costs": {
        "currency": "EUR",
        "groups": [
            {"group": "team", "per_paid_hour": 20, "overtime_premium": 0.5},
            {"group": "sellers", "per_paid_hour": 25},
        ],
        "technology": [{"name": "crm", "per_seat_per_day": 2, "per_contact": 0.1, "fixed_per_day": 50}],
        "abandoned_call": 3,
        "service_level_penalty": 100,
    },
    "scheduling": {
        "shifts": [
            {
                "name": "day",
                "length_hours": 4,
                "starts": {"earliest": "08:00", "every_minutes": 30},
                "breaks": [{"name": "tea", "minutes": 15, "after_hours": [1, 2], "every_minutes": 15}],
            }
        ],
        "max_agents": {"team": 10},
        "occupancy_cap": 0.9,
    },
}
"""A valid scenario using every section, so that hostile values can be put into real field paths."""


@dataclass(frozen=True)
class Raw:
    """A value written into the YAML text as it is (yes, .nan), not as PyYAML would dump it."""

    text: str


def yaml_text(base: dict[str, Any], changes: dict[str, Any]) -> str:
    """The base data with changes, as YAML text; Raw values are written verbatim."""
    raw = {}

    def token(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: token(item) for key, item in value.items()}
        if isinstance(value, list):
            return [token(item) for item in value]
        if isinstance(value, Raw):
            raw[f"rawtoken{len(raw)}x"] = value.text
            return f"rawtoken{len(raw) - 1}x"
        return value

    data = changed(base, {path: token(value) for path, value in changes.items()})
    text = yaml.safe_dump(data, sort_keys=False, width=1000)
    for token, literal in raw.items():
        text = text.replace(token, literal)
    return text


def field_of(path: str) -> str:
    """How an error message writes a dotted path: call_types.0.arrivals -> call_types[0].arrivals."""
    text = ""
    for part in path.split("."):
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class Case:
    """A hostile file: its text (or bytes) and the pieces its one-line error must contain."""

    id: str
    content: str | bytes
    expected: tuple[str, ...]


# --- scenario files: every float finite --------------------------------------------------------------------------

FLOAT_PATHS = [
    "horizon.warmup_minutes",
    "service_level.threshold_seconds",
    "service_level.target",
    "busyness.cv",
    "call_types.0.arrivals.per_interval.2",
    "call_types.1.arrivals.per_hour",
    "call_types.0.handle_time.mean_seconds",
    "call_types.0.handle_time.cv",
    "call_types.0.handle_time.max_seconds",
    "call_types.0.after_call_work.low_seconds",
    "call_types.0.after_call_work.high_seconds",
    "call_types.0.patience.shape",
    "call_types.0.service_level.target",
    "call_types.0.service_level.threshold_seconds",
    "call_types.0.retrial.after_abandon",
    "call_types.0.retrial.delay.mean_seconds",
    "call_types.1.handle_time.values_seconds.1",
    "agent_groups.0.skills.1.proficiency",
    "agent_groups.0.skills.1.delay_seconds",
    "agent_groups.0.learning_curve.start_multiplier",
    "agent_groups.0.learning_curve.calls_to_halve",
    "agent_groups.0.absence.probability",
    "agent_groups.0.shrinkage.per_hour",
    "agent_groups.0.shrinkage.duration.value_seconds",
    "roster.0.breaks.0.minutes",
    "tools.0.failures.time_between.mean_seconds",
    "tools.0.maintenance.0.minutes",
    "tools.0.effects.0.multiplier",
    "technology.self_service.0.containment",
    "technology.self_service.0.bounce_handle_multiplier",
    "technology.ai_assist.by_call_type.sales",
    "technology.ai_assist.novice_multiplier",
    "technology.callbacks.offer_when_wait_over_seconds",
    "technology.callbacks.deadline_minutes",
    "costs.groups.0.per_paid_hour",
    "costs.technology.0.per_contact",
    "costs.abandoned_call",
    "scheduling.shifts.0.length_hours",
    "scheduling.shifts.0.breaks.0.after_hours.1",
    "scheduling.occupancy_cap",
]
NOT_FINITE = {
    "nan": Raw(".nan"),
    "inf": Raw(".inf"),
    "minus-inf": Raw("-.inf"),
    "huge-int": Raw("1" + "0" * 400),
    "huge-float": Raw("1.0e+400"),
}
FLOAT_CASES = [
    Case(f"{path}={label}", yaml_text(RICH, {path: value}), (f"{field_of(path)}: ", "finite number"))
    for path in FLOAT_PATHS
    for label, value in NOT_FINITE.items()
]

# --- scenario files: every count a whole number ------------------------------------------------------------------

INT_PATHS = [
    "horizon.interval_minutes",
    "horizon.days",
    "trunk_lines",
    "call_types.0.priority",
    "call_types.0.retrial.max_attempts",
    "agent_groups.0.skills.0.priority",
    "agent_groups.0.agents.per_interval.1",
    "roster.0.agents",
    "scheduling.max_agents.team",
    "scheduling.shifts.0.starts.every_minutes",
    "scheduling.shifts.0.breaks.0.minutes",
    "scheduling.shifts.0.breaks.0.every_minutes",
]
NOT_WHOLE = {
    "yes": Raw("yes"),
    "true": Raw("true"),
    "off": Raw("off"),
    "decimal": 12.5,
    "whole-float": 12.0,
    "text": "twelve",
}
INT_CASES = [
    Case(f"{path}={label}", yaml_text(RICH, {path: value}), (f"{field_of(path)}: must be a whole number ≥ ",))
    for path in INT_PATHS
    for label, value in NOT_WHOLE.items()
]
COUNT_PATHS = ["trunk_lines", "agent_groups.0.agents.per_interval.1", "roster.0.agents", "scheduling.max_agents.team"]
INT_CASES += [
    Case(f"{path}=-5", yaml_text(RICH, {path: -5}), (f"{field_of(path)}: ", "greater than or equal to 0"))
    for path in COUNT_PATHS
]
AGENTS = "must be a whole number of agents (≥ 0) or {per_interval: [counts]}"
INT_CASES += [
    Case("agents=yes", yaml_text(RICH, {"agent_groups.1.agents": Raw("yes")}), (f"agent_groups[1].agents: {AGENTS}",)),
    Case("agents=12.0", yaml_text(RICH, {"agent_groups.1.agents": 12.0}), (f"agent_groups[1].agents: {AGENTS}",)),
    Case("agents=-5", yaml_text(RICH, {"agent_groups.1.agents": -5}), ("agent_groups[1].agents: ", "got -5")),
    Case(
        "agents.count=-5",
        yaml_text(RICH, {"agent_groups.1.agents": {"count": -5}}),
        ("agent_groups[1].agents.count: ", "greater than or equal to 0"),
    ),
    Case(
        "agents.count=true",
        yaml_text(RICH, {"agent_groups.1.agents": {"count": Raw("true")}}),
        ("agent_groups[1].agents.count: must be a whole number ≥ 0, not true",),
    ),
    Case(
        "agents.count=2.5",
        yaml_text(RICH, {"agent_groups.1.agents": {"count": 2.5}}),
        ("agent_groups[1].agents.count: must be a whole number ≥ 0; got 2.5",),
    ),
]

# --- YAML itself -------------------------------------------------------------------------------------------------

# Where the error messages must point: the first line a case adds after the helpdesk's text, and the lines of the
# helpdesk's name, its calls' arrival rate and its team's headcount.
ADDED = len(HELPDESK.splitlines()) + 1
NAME, PER_HOUR, AGENTS = (line_of(HELPDESK, start) for start in ("name:", "    arrivals: {per_hour", "    agents:"))


def laughs(levels: int = 9, width: int = 10) -> str:
    """A "billion laughs": each anchor a list of `width` aliases of the one before (width ** levels values)."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


YAML_CASES = [
    Case(
        "duplicate-top-level-key",
        HELPDESK + "name: Again\n",
        (f"line {ADDED}: key 'name' is given twice (first on line {NAME})",),
    ),
    Case(
        "duplicate-nested-key",
        HELPDESK + "    agents: 13\n",
        (f"line {ADDED}: key 'agents' is given twice (first on line {AGENTS})",),
    ),
    Case(
        "duplicate-flow-key",
        edited(HELPDESK, "{per_hour: ", "{per_hour: 300, per_hour: "),
        (f"line {PER_HOUR}: key 'per_hour' is given twice (first on line {PER_HOUR})",),
    ),
    Case(
        "duplicate-merge-key",
        edited(HELPDESK, "handle_time: {", "handle_time: &h {") + "    patience: {<<: *h, <<: *h}\n",
        ("key '<<' is given twice",),
    ),
    Case("billion-laughs", HELPDESK + laughs(), ("more than 1,000,000 values once its aliases (*name) are expanded",)),
    Case(
        "quadratic-blowup",
        HELPDESK + "a: &a [" + ", ".join(["x"] * 2000) + "]\nb: [" + ", ".join(["*a"] * 2000) + "]\n",
        ("more than 1,000,000 values",),
    ),
    Case("deep-nesting", HELPDESK + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n", (f"line {ADDED}", "nest")),
    Case(
        "nesting-65-levels",
        HELPDESK + "deep: " + "[" * 65 + "]" * 65 + "\n",
        (f"line {ADDED}: lists and mappings are nested more than 64 levels deep",),
    ),
    Case(
        "deep-block-nesting",
        HELPDESK + "".join(f"{'  ' * i}k{i}:\n" for i in range(100)),
        ("lists and mappings are nested more than 64 levels deep",),
    ),
    Case(
        "recursive-alias",
        HELPDESK + "loop: &loop [*loop]\n",
        (f"line {ADDED}: the alias *loop is inside the node &loop",),
    ),
    Case("unknown-alias", HELPDESK + "x: *nowhere\n", (f"line {ADDED}", "not valid YAML", "alias")),
    Case(
        "python-object-tag",
        HELPDESK + "x: !!python/object/apply:os.system ['echo owned']\n",
        ("not valid YAML", "python/object/apply:os.system"),
    ),
    Case("two-documents", HELPDESK + "---\n" + HELPDESK, ("not valid YAML",)),
    Case(
        "impossible-date",
        HELPDESK + "description: 2024-13-45\n",
        (f"line {ADDED}: '2024-13-45' is not a valid timestamp (month must be in 1..12)",),
    ),
    Case(
        "impossible-date-with-merge-key",
        HELPDESK + "x: &x {a: 1}\ny: {<<: *x, d: 2024-13-45}\n",
        (f"line {ADDED + 1}: '2024-13-45' is not a valid timestamp",),
    ),
    Case("not-utf8", HELPDESK.encode() + b"description: caf\xe9\n", (f"line {ADDED}: byte 0xe9 is not UTF-8 text",)),
    Case("utf16", HELPDESK.encode("utf-16"), ("the file is UTF-16 text; save it as UTF-8",)),
    Case("nul-byte", HELPDESK + "description: a\x00b\n", (f"line {ADDED}: character '\\x00' is not allowed in YAML",)),
    Case("empty", "", ("the file must hold a mapping of fields", "it is empty")),
    Case("only-a-comment", "# nothing here\n", ("the file must hold a mapping of fields", "it is empty")),
    Case("a-list", "- name: x\n- horizon: {}\n", ("the file must hold a mapping of fields", "it holds a list")),
    Case("a-scalar", "just some words\n", ("the file must hold a mapping of fields", "it holds one value")),
    Case("a-number", "42\n", ("it holds one value",)),
    Case("larger-than-10-mb", HELPDESK + "description: '" + "x" * (10 * 2**20) + "'\n", ("larger than 10 MB",)),
]

# --- roster CSVs -------------------------------------------------------------------------------------------------

HEADER = "group,start,end,agents,breaks\n"
ROSTER_CASES = [
    Case("csv-empty", "", ("shifts.csv: the file is empty; its first line must name the columns",)),
    Case(
        "csv-extra-field",
        HEADER + "team,08:00,12:00,3,,surplus\n",
        ("shifts.csv: line 2: 6 fields, but the header names 5 columns",),
    ),
    Case("csv-missing-field", HEADER + "team,08:00,12:00\n", ("shifts.csv: line 2: 3 fields, but the header names 5",)),
    Case(
        "csv-unknown-column",
        "group,start,end,agents,colour\nteam,08:00,12:00,3,red\n",
        ("shifts.csv: line 1: unknown column 'colour'; allowed: group, start, end, agents, breaks",),
    ),
    Case(
        "csv-missing-column",
        "group,start,end\nteam,08:00,12:00\n",
        ("shifts.csv: line 1: column agents missing; the columns are group, start, end, agents, breaks",),
    ),
    Case(
        "csv-column-twice",
        "group,start,end,agents,agents\nteam,08:00,12:00,3,3\n",
        ("shifts.csv: line 1: column 'agents' is given twice",),
    ),
    Case(
        "csv-not-utf8",
        (HEADER + "t\xe9am,08:00,12:00,3,\n").encode("latin-1"),
        ("shifts.csv: line 2: byte 0xe9 is not UTF-8 text; save the file as UTF-8",),
    ),
    Case(
        "csv-agents-yes",
        HEADER + "team,08:00,12:00,yes,\n",
        ("shifts.csv line 2: agents: must be a whole number ≥ 0; got 'yes'",),
    ),
    Case(
        "csv-agents-decimal", HEADER + "team,08:00,12:00,2.5,\n", ("shifts.csv line 2: agents: must be a whole number",)
    ),
    Case(
        "csv-agents-negative", HEADER + "team,08:00,12:00,-1,\n", ("shifts.csv line 2: agents: must be a whole number",)
    ),
    Case(
        "csv-break-nan",
        HEADER + "team,08:00,12:00,3,coffee nan 09:00-10:00\n",
        ("shifts.csv line 2: breaks.0.minutes: Input should be a finite number",),
    ),
    Case(
        "csv-line-after-blank",
        HEADER + "team,08:00,12:00,3,\n\nteam,08:00,07:00,3,\n",
        ("shifts.csv line 4: row: shift end 07:00 must be after its start 08:00",),
    ),
    Case("csv-bad-quote", HEADER + 'team,08:00,12:00,3,"coffee\n', ("shifts.csv: line",)),
]

# --- experiment files --------------------------------------------------------------------------------------------

EXPERIMENT = {
    "name": "door",
    "model": "model.yaml",
    "replications": 2,
    "seed": 1,
    "factors": {"agent_groups.team.agents": [10, 12]},
}
FOLDER = "cannot name a results folder; use 1 to 100 letters, digits, '_', '-' and '.'"
EXPERIMENT_CASES = [
    Case("name-dot-dot", yaml_text(EXPERIMENT, {"name": ".."}), (f"name: '..' {FOLDER}",)),
    Case("name-dot", yaml_text(EXPERIMENT, {"name": "."}), (f"name: '.' {FOLDER}",)),
    Case("name-slash", yaml_text(EXPERIMENT, {"name": "../../etc"}), (f"name: '../../etc' {FOLDER}",)),
    Case("name-backslash", yaml_text(EXPERIMENT, {"name": Raw('"a\\\\b"')}), (f"name: 'a\\\\b' {FOLDER}",)),
    Case("name-empty", yaml_text(EXPERIMENT, {"name": ""}), (f"name: '' {FOLDER}",)),
    Case("name-dash", yaml_text(EXPERIMENT, {"name": "-rf"}), (f"name: '-rf' {FOLDER}",)),
    Case("name-control-character", yaml_text(EXPERIMENT, {"name": Raw('"a\\tb"')}), (f"name: 'a\\tb' {FOLDER}",)),
    Case("name-absolute", yaml_text(EXPERIMENT, {"name": "/tmp/x"}), (f"name: '/tmp/x' {FOLDER}",)),
    Case(
        "replications-yes",
        yaml_text(EXPERIMENT, {"replications": Raw("yes")}),
        ("replications: must be a whole number ≥ 1, not true",),
    ),
    Case(
        "replications-decimal",
        yaml_text(EXPERIMENT, {"replications": 2.5}),
        ("replications: must be a whole number ≥ 1; got 2.5",),
    ),
    Case(
        "replications-whole-float",
        yaml_text(EXPERIMENT, {"replications": 2.0}),
        ("replications: must be a whole number ≥ 1; got 2.0",),
    ),
    Case(
        "replications-0", yaml_text(EXPERIMENT, {"replications": 0}), ("replications: ", "greater than or equal to 1")
    ),
    Case(
        "replications-inf",
        yaml_text(EXPERIMENT, {"replications": Raw(".inf")}),
        ("replications: must be a whole number ≥ 1; got inf",),
    ),
    Case("seed-negative", yaml_text(EXPERIMENT, {"seed": -1}), ("seed: ", "greater than or equal to 0")),
    Case("seed-true", yaml_text(EXPERIMENT, {"seed": Raw("true")}), ("seed: must be a whole number ≥ 0, not true",)),
    Case("seed-nan", yaml_text(EXPERIMENT, {"seed": Raw(".nan")}), ("seed: must be a whole number ≥ 0; got nan",)),
    Case(
        "factor-level-nan",
        yaml_text(EXPERIMENT, {"factors": {"call_types.support.arrivals.per_hour": [100, 1]}}).replace(
            "- 1\n", "- .nan\n"
        ),
        (
            "factors: cell 1 (call_types.support.arrivals.per_hour = nan): call_types[0].arrivals.per_hour: "
            "Input should be a finite number",
        ),
    ),
    Case(
        "factor-level-yes",
        yaml_text(EXPERIMENT, {"factors": {"agent_groups.team.agents": [10, Raw("yes")]}}),
        ("factors: cell 1 (agent_groups.team.agents = true): agent_groups[0].agents: must be a whole number",),
    ),
    Case(
        "changes-count-decimal",
        yaml_text(EXPERIMENT, {"changes": {"horizon.days": 1.5}}),
        ("changes: horizon.days: must be a whole number ≥ 1; got 1.5",),
    ),
    Case("duplicate-key", yaml_text(EXPERIMENT, {}) + "seed: 2\n", ("key 'seed' is given twice (first on line",)),
    Case("bomb", yaml_text(EXPERIMENT, {}) + laughs(), ("more than 1,000,000 values",)),
]

SCENARIO_CASES = FLOAT_CASES + INT_CASES + YAML_CASES
CLI_SAMPLE = (
    {case.id for case in SCENARIO_CASES[::9]}
    | {case.id for case in YAML_CASES}
    | {
        "agents.count=-5",
        "roster.0.agents=yes",
        "trunk_lines=true",
        "horizon.days=whole-float",
    }
)
BOMBS = {"billion-laughs", "quadratic-blowup", "deep-nesting", "larger-than-10-mb", "deep-block-nesting"}


def place(case: Case, folder: Path, name: str | None = None) -> Path:
    """Write the case's content to folder/name (default its id .yaml) and return the path."""
    path = folder / (name or f"{case.id}.yaml")
    if isinstance(case.content, bytes):
        path.write_bytes(case.content)
    else:
        path.write_text(case.content, encoding="utf-8")
    return path


def bposim_limited(*args: object, seconds: float = 20) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess with at most ~1.5 GB of address space and `seconds` to finish."""
    return bposim(*args, timeout=seconds, memory_bytes=1536 * 2**20)


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda case: case.id)
def test_load_scenario_refuses(case, tmp_path):
    """In process: ScenarioError, every line starting with the file, the field or line named."""
    path = place(case, tmp_path)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    for piece in case.expected:
        assert piece in message


@pytest.mark.parametrize("case", [c for c in SCENARIO_CASES if c.id in CLI_SAMPLE], ids=lambda case: case.id)
def test_validate_refuses(case, tmp_path):
    """Through `bposim validate`: exit 2 within seconds and in bounded memory, no traceback, the field named."""
    path = place(case, tmp_path)
    result = bposim_limited("validate", path, seconds=20 if case.id in BOMBS else 60)
    assert_refused(result, f"error: {path}: ", *case.expected)


@pytest.mark.parametrize("case", ROSTER_CASES, ids=lambda case: case.id)
def test_roster_csv_refused(case, tmp_path):
    """A bad roster_file: the scenario's roster_file field, the CSV file and its line named."""
    place(case, tmp_path, "shifts.csv")
    model = tmp_path / "model.yaml"
    model.write_text(HELPDESK + "roster_file: shifts.csv\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(model)
    message = str(caught.value)
    assert message.startswith(f"{model}: roster_file: "), message
    for piece in case.expected:
        assert piece in message


@pytest.mark.parametrize("case_id", ["csv-extra-field", "csv-unknown-column", "csv-agents-yes", "csv-not-utf8"])
def test_roster_csv_refused_by_the_cli(case_id, tmp_path):
    case = next(case for case in ROSTER_CASES if case.id == case_id)
    place(case, tmp_path, "shifts.csv")
    model = tmp_path / "model.yaml"
    model.write_text(HELPDESK + "roster_file: shifts.csv\n", encoding="utf-8")
    assert_refused(bposim("validate", model), f"error: {model}: roster_file: ", *case.expected)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this machine")
def test_endless_files_are_refused_unread(tmp_path):
    """A scenario or roster_file that never ends (a device) is refused after 10 MB, in bounded memory."""
    assert_refused(bposim_limited("validate", "/dev/zero"), "error: /dev/zero: the file is larger than 10 MB")
    model = tmp_path / "model.yaml"
    model.write_text(HELPDESK + "roster_file: /dev/zero\n", encoding="utf-8")
    assert_refused(
        bposim_limited("validate", model), f"error: {model}: roster_file: /dev/zero: the file is larger than 10 MB"
    )


def write_experiment(case: Case, folder: Path) -> Path:
    (folder / "model.yaml").write_text(HELPDESK, encoding="utf-8")
    return place(case, folder, "experiment.yaml")


@pytest.mark.parametrize("case", EXPERIMENT_CASES, ids=lambda case: case.id)
def test_experiment_file_refused(case, tmp_path):
    path = write_experiment(case, tmp_path)
    with pytest.raises(ExperimentError) as caught:
        Experiment.from_file(path)
    message = str(caught.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    for piece in case.expected:
        assert piece in message


@pytest.mark.parametrize("case_id", ["name-dot-dot", "name-slash", "replications-yes", "factor-level-nan", "bomb"])
def test_sweep_refuses(case_id, tmp_path):
    case = next(case for case in EXPERIMENT_CASES if case.id == case_id)
    path = write_experiment(case, tmp_path)
    result = bposim_limited("sweep", path, "--out", tmp_path / "out", seconds=60)
    assert_refused(result, f"error: {path}: ", *case.expected)
    assert not (tmp_path / "out").exists()


ERLANG = ["erlang", "--calls-per-hour", "252", "--handle-seconds", "120"]
FLAGS = {
    "calls-per-hour-inf": (["erlang", "--calls-per-hour", "inf", "--handle-seconds", "120"], "'--calls-per-hour'"),
    "calls-per-hour-nan": (["erlang", "--calls-per-hour", "nan", "--handle-seconds", "120"], "'--calls-per-hour'"),
    "calls-per-hour-huge": (["erlang", "--calls-per-hour", "1e400", "--handle-seconds", "120"], "'--calls-per-hour'"),
    "handle-seconds-inf": (["erlang", "--calls-per-hour", "252", "--handle-seconds", "inf"], "'--handle-seconds'"),
    "handle-seconds-nan": (["erlang", "--calls-per-hour", "252", "--handle-seconds", "NaN"], "'--handle-seconds'"),
    "handle-seconds-0": (["erlang", "--calls-per-hour", "252", "--handle-seconds", "0"], "'--handle-seconds'"),
    "threshold-inf": ([*ERLANG, "--threshold-seconds", "inf"], "'--threshold-seconds'"),
    "threshold-minus-inf": ([*ERLANG, "--threshold-seconds", "-inf"], "'--threshold-seconds'"),
    "target-nan": ([*ERLANG, "--target", "nan"], "'--target'"),
    "target-above-1": ([*ERLANG, "--target", "1.5"], "'--target'"),
    "patience-inf": ([*ERLANG, "--patience-seconds", "inf"], "'--patience-seconds'"),
    "patience-nan": ([*ERLANG, "--patience-seconds", "nan"], "'--patience-seconds'"),
    "staff-target-nan": (["staff", ROOT / "models" / "helpdesk_shifts.yaml", "--target", "nan/20"], "--target"),
    "staff-threshold-inf": (["staff", ROOT / "models" / "helpdesk_shifts.yaml", "--target", "0.8/inf"], "--target"),
    "staff-threshold-nan": (["staff", ROOT / "models" / "helpdesk_shifts.yaml", "--target", "0.8/nan"], "--target"),
    "staff-target-inf": (["staff", ROOT / "models" / "helpdesk_shifts.yaml", "--target", "inf/20"], "--target"),
}


@pytest.mark.parametrize("name", FLAGS)
def test_float_flag_must_be_finite(name):
    args, flag = FLAGS[name]
    assert_refused(bposim(*args), flag)


# --- the shared types cover every number field -------------------------------------------------------------------


def shared_markers() -> tuple[type, ...]:
    """The validator classes behind FiniteFloat, WholeNumber and PositiveWholeNumber."""
    return tuple(
        {
            type(item.func)
            for alias in (FiniteFloat, WholeNumber, PositiveWholeNumber)
            for item in alias.__metadata__
            if isinstance(item, BeforeValidator)
        }
    )


def number_fields(root: type[BaseModel]) -> tuple[list[str], list[str]]:
    """(every float or int field path reachable from root, those not built on the shared types)."""
    markers, seen, numbers, bare = shared_markers(), set(), [], []

    def walk_type(annotation: Any, metadata: list[Any], where: str) -> None:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            walk_type(annotation.__origin__, [*metadata, *annotation.__metadata__], where)
        elif annotation in (int, float):
            numbers.append(where)
            if not any(isinstance(item, BeforeValidator) and isinstance(item.func, markers) for item in metadata):
                bare.append(where)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            walk_model(annotation, where)
        elif origin is not None and origin is not typing.Literal:
            for arg in typing.get_args(annotation):
                walk_type(arg, metadata if origin in (typing.Union, type(int | None)) else [], f"{where}[]")

    def walk_model(model: type[BaseModel], where: str) -> None:
        if model in seen:
            return
        seen.add(model)
        for name, info in model.model_fields.items():
            walk_type(info.annotation, list(info.metadata), f"{model.__name__}.{name}")

    walk_model(root, root.__name__)
    return numbers, bare


@pytest.mark.parametrize("root", [Scenario, ExperimentFile])
def test_every_number_field_uses_the_shared_types(root):
    """A float or int field anywhere in the models that is not FiniteFloat / WholeNumber / PositiveWholeNumber fails."""
    numbers, bare = number_fields(root)
    assert len(numbers) >= (50 if root is Scenario else 2)
    assert bare == []


def test_the_walk_finds_a_bare_field():
    """Negative control: a model with a plain float and a plain int is caught."""

    class Careless(BaseModel):
        rate: float
        counts: list[int]
        fine: FiniteFloat

    assert number_fields(Careless)[1] == ["Careless.rate", "Careless.counts[]"]


# --- what is legitimate still loads ------------------------------------------------------------------------------


def test_anchors_and_merge_keys_still_work(tmp_path):
    """A shared distribution by alias, and a merge key whose explicit key overrides the merged one."""
    path = tmp_path / "anchors.yaml"
    path.write_text(
        edited(
            HELPDESK,
            "handle_time: {distribution: exponential, mean_seconds: 120}\n"
            "    patience: {distribution: exponential, mean_seconds: 60}",
            "handle_time: &talk {distribution: exponential, mean_seconds: 120}\n"
            "    after_call_work: *talk\n"
            "    patience: {<<: *talk, mean_seconds: 60}",
        ),
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    call_type = scenario.call_types[0]
    assert call_type.after_call_work == call_type.handle_time
    assert call_type.patience.mean_seconds == 60 and call_type.patience.distribution == "exponential"


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + HELPDESK.encode())
    assert load_scenario(path).name == helpdesk_data()["name"]


def test_roster_csv_from_excel_and_header_only(tmp_path):
    """Excel's CSV UTF-8 (a byte-order mark, CRLF) loads; a header alone is no shifts."""
    model = tmp_path / "model.yaml"
    model.write_text(HELPDESK + "roster_file: shifts.csv\n", encoding="utf-8")
    (tmp_path / "shifts.csv").write_bytes(b"\xef\xbb\xbf" + b"group,start,end,agents\r\nteam,08:00,12:00,3\r\n")
    assert [shift.agents for shift in load_scenario(model).roster] == [3]
    (tmp_path / "shifts.csv").write_text(HEADER, encoding="utf-8")
    assert load_scenario(model).roster == []


def test_numpy_counts_and_floats_work_through_updated():
    scenario = Scenario.model_validate(RICH)
    changed = scenario.updated(
        {
            "agent_groups.sellers.agents": np.int64(4),
            "trunk_lines": np.int32(50),
            "call_types.sales.arrivals.per_hour": np.float32(30.5),
            "agent_groups.team.agents.per_interval": np.arange(4, 8),
        }
    )
    assert changed.agent_groups[1].agents.count == 4 and type(changed.agent_groups[1].agents.count) is int
    assert changed.trunk_lines == 50 and changed.call_types[1].arrivals.per_hour == 30.5
    assert changed.agent_groups[0].agents.per_interval == [4, 5, 6, 7]


def test_python_api_raises_friendly_scenario_errors():
    """updated and model_validate raise ScenarioError (also a ValueError): one "field path: problem" line each."""
    scenario = Scenario.model_validate(RICH)
    with pytest.raises(ScenarioError) as caught:
        scenario.updated({"agent_groups.team.agents": {"count": -5}, "busyness.cv": float("nan")})
    assert str(caught.value).splitlines() == [
        "busyness.cv: Input should be a finite number, not nan",
        "agent_groups[0].agents.count: Input should be greater than or equal to 0",
    ]
    assert isinstance(caught.value, ValueError) and "pydantic" not in str(caught.value)
    with pytest.raises(ScenarioError, match="no item 'billing' in call_types; known: support, sales"):
        scenario.updated({"call_types.billing.priority": 2})
    with pytest.raises(ScenarioError) as caught:
        Scenario.model_validate({**RICH, "trunk_lines": True})
    assert str(caught.value) == (
        "trunk_lines: must be a whole number ≥ 0, not true (YAML reads yes/no, on/off and true/false as flags)"
    )
    again = pickle.loads(pickle.dumps(caught.value))
    assert (again.source, again.problems) == ("", caught.value.problems)


def test_experiment_api_refuses_unsafe_names_and_flags():
    base = Scenario.model_validate(RICH)
    for name in ("..", "a/b", "", "-x", ".hidden"):
        with pytest.raises(ExperimentError, match="cannot name a results folder"):
            Experiment(base, name=name)
    with pytest.raises(ExperimentError, match="replications: must be a whole number ≥ 1, not true"):
        Experiment(base, replications=True)
    assert Experiment(base, replications=np.int64(2), seed=np.int64(3), name="ok.name-1").replications == 2


def test_default_experiment_name_from_an_awkward_file_name(tmp_path):
    (tmp_path / "model.yaml").write_text(HELPDESK, encoding="utf-8")
    path = tmp_path / "-.my sweep.yaml"
    path.write_text("model: model.yaml\nreplications: 1\n", encoding="utf-8")
    assert Experiment.from_file(path).name == "my_sweep"


def test_json_schema_keeps_the_bounds_of_the_number_types():
    """`bposim schema` writes bounds as JSON Schema's minimum/maximum, not pydantic's ge/le names."""
    definitions = Scenario.model_json_schema()["$defs"]
    assert definitions["Horizon"]["properties"]["days"]["minimum"] == 1
    assert definitions["Horizon"]["properties"]["days"]["maximum"] == 3660
    assert definitions["Shift"]["properties"]["agents"]["minimum"] == 0
    assert {"minimum": 0, "type": "number"} in definitions["Arrivals"]["properties"]["per_hour"]["anyOf"]
    assert '"ge"' not in str(definitions).replace("'", '"')


READABLE = [
    "a: &x 1\nb: *x\n",
    "a: &x [1, 2]\nb: *x\n",
    "&k key: 1\n*k : 2\n",
    "d: 2024-01-02\nt: 2024-01-02 10:00:00\n",
    "a: ~\nb: null\nc:\nd: ''\n",
    "a: '12'\nb: !!str 12\nc: !!int '12'\n",
    "a: yes\nb: No\nc: on\nd: OFF\n",
    "a: 012\nb: 0x1f\nc: 0o12\nd: 1:30\ne: 1_000\n",
    "a: .5\nb: 1e3\nc: 1.0e+3\nd: -.inf\n",
    "a: |\n  line1\n  line2\nb: >\n  folded\n  text\n",
    "base: &b {x: 1, y: 2}\nm: {<<: *b, y: 3}\n",
    "base: &b {x: 1}\nmore: &c {x: 2, z: 3}\nm: {<<: [*b, *c], w: 4}\n",
    "s: !!set {a, b}\n",
    "{a: 1, b: [x, {c: d}]}\n",
    "a: !!float 1\nb: !!bool yes\nc: -0\nd: +12\ne: 0b101\n",
]


@pytest.mark.parametrize("text", READABLE)
def test_the_loader_reads_yaml_as_safe_load_does(text, tmp_path):
    """Positive control: anchors, aliases, merge keys, tags and YAML 1.1 scalars give what yaml.safe_load gives."""
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_yaml_mapping(path) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "path",
    [*sorted((ROOT / "models").glob("*.yaml")), *sorted((ROOT / "experiments").glob("*.yaml"))],
    ids=lambda path: path.name,
)
def test_the_shipped_files_read_as_safe_load_reads_them(path):
    assert load_yaml_mapping(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", YAML_CASES, ids=lambda case: case.id)
def test_yaml_cases_without_libyaml(case, tmp_path, monkeypatch):
    """The same refusals with PyYAML's pure-Python parser, for installs without libyaml."""
    monkeypatch.setattr("bposim.scenario.loading._LOADER", yaml.SafeLoader)
    test_load_scenario_refuses(case, tmp_path)


def test_a_long_list_of_known_names_is_cut_short():
    """An unknown name among thousands of call types gives one short line: the first 20 known, and how many."""
    data = copy.deepcopy(RICH)
    extra = [{**data["call_types"][1], "name": f"type_{i:04d}"} for i in range(2_000)]
    data["call_types"] += extra
    data["agent_groups"][1]["skills"] = ["sales", *(item["name"] for item in extra), "billing"]
    with pytest.raises(ScenarioError) as caught:
        Scenario.model_validate(data)
    (line,) = str(caught.value).splitlines()
    assert line.startswith("agent_groups[1].skills[2001]: unknown call type 'billing'; known: support, sales, ")
    assert line.endswith(", type_0017, ... (2,002 in all)") and len(line) < 400


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"seed": -1}, "seed: must be a whole number ≥ 0; got -1"),
        ({"seed": 1.5}, "seed: must be a whole number ≥ 0; got 1.5"),
        ({"seed": "7"}, "seed: must be a whole number ≥ 0; got '7'"),
        ({"replications": 0}, "replications: must be a whole number ≥ 1; got 0"),
        ({"replications": True}, "replications: must be a whole number ≥ 1; got True"),
        ({"replications": 2.0}, "replications: must be a whole number ≥ 1; got 2.0"),
    ],
)
def test_simulate_refuses_a_bad_seed_or_replication_count(arguments, expected):
    """simulate's own arguments get the same kind of message as a scenario's fields; numpy integers are fine."""
    scenario = load_scenario(ROOT / "models" / "helpdesk.yaml")
    with pytest.raises(ValueError, match=re.escape(expected)):
        simulate(scenario, **arguments)
    with pytest.raises(ValueError, match="seed: must be a whole number"):
        simulate_replication(scenario, -1, 0)
    assert simulate(scenario.updated({"horizon.end": "09:00"}), seed=np.int64(3)).seed == 3
