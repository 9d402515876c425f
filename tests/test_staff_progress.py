"""`bposim staff` on a small site: days shared among worker processes give the serial plan, and the progress bar
shows on a terminal only (news lines without one, nothing with --quiet), stdout the same either way."""

from __future__ import annotations

import os
import pty
import subprocess

import pandas as pd
import yaml
from cli_runner import bposim, command, environment

from bposim.optimise import optimise_roster
from bposim.scenario import Scenario

SITE = {
    "name": "Small shifts",
    "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 30},
    "service_level": {"threshold_seconds": 20, "target": 0.8},
    "call_types": [
        {
            "name": "support",
            "arrivals": {"per_interval": [40, 80, 120, 120, 100, 80, 60, 40]},
            "handle_time": {"distribution": "exponential", "mean_seconds": 180},
            "patience": {"distribution": "exponential", "mean_seconds": 90},
        }
    ],
    "agent_groups": [{"name": "team", "skills": ["support"], "agents": 0}],
    "costs": {"currency": "EUR", "groups": [{"group": "team", "per_paid_hour": 20}]},
    "scheduling": {
        "shifts": [
            {"name": "long", "length_hours": 4, "starts": {"earliest": "08:00"}},
            {"name": "short", "length_hours": 2, "starts": {"earliest": "08:00", "latest": "10:00"}},
        ]
    },
}
FLAGS = ("--replications", "3", "--trim-trials", "1")


def site_file(tmp_path) -> str:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(SITE), encoding="utf-8")
    return str(path)


def test_days_on_two_worker_processes_give_the_serial_plan():
    scenario = Scenario.model_validate(SITE)
    serial = optimise_roster(scenario, replications=3, trim_trials=1, workers=1)
    shared = optimise_roster(scenario, replications=3, trim_trials=1, workers=2)
    assert shared.schedule.patterns == serial.schedule.patterns and shared.schedule.agents == serial.schedule.agents
    assert shared.simulations == serial.simulations and shared.rounds == serial.rounds
    pd.testing.assert_frame_equal(shared.achieved, serial.achieved)
    assert shared.cost == serial.cost and shared.cost_unit == serial.cost_unit == "EUR"  # costs kept on the workers


def test_without_a_terminal_stderr_has_the_news_lines_and_no_bar(tmp_path):
    site = site_file(tmp_path)
    result = bposim("staff", site, *FLAGS)
    assert result.returncode in (0, 1), result.stderr
    assert result.stderr.startswith("requirement: ") and "round 1: " in result.stderr
    assert "days simulated" not in result.stderr and "\r" not in result.stderr
    quiet = bposim("staff", site, *FLAGS, "--quiet", "--workers", "1")
    assert quiet.stderr == "" and quiet.stdout == result.stdout


def test_on_a_terminal_the_bar_shows_phase_days_and_cheapest_roster(tmp_path):
    main, secondary = pty.openpty()
    env = environment() | {"TERM": "xterm", "COLUMNS": "160"}
    with subprocess.Popen(
        command("staff", site_file(tmp_path), *FLAGS), stdout=secondary, stderr=secondary, env=env
    ) as process:
        os.close(secondary)
        seen = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the command has ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        process.wait(timeout=300)
    os.close(main)
    text = seen.decode("utf-8", "replace")
    assert "days simulated" in text and "cheapest roster" in text
    assert "Every interval met its target" in text or "Not every interval" in text
