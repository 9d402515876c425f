"""Callers' behaviour through the command line, as real subprocesses: bad settings refused with exit status 2 (file,
field path and what is allowed), and `bposim run` printing and reporting balks and messages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import assert_refused, bposim
from scenario_texts import HELPDESK, edited

PATIENCE = "    patience: {distribution: exponential, mean_seconds: 60}\n"
EMAIL = """\
  - name: mail
    channel: email
    arrivals: {per_hour: 0}
    handle_time: {distribution: fixed, value_seconds: 240}
"""


def with_fields(fields: str, text: str = HELPDESK) -> str:
    """The helpdesk with lines added to its call type, after its patience."""
    return edited(text, PATIENCE, PATIENCE + fields)


def with_email(text: str) -> str:
    return edited(text, "agent_groups:\n", EMAIL + "agent_groups:\n").replace(
        "skills: [support]", "skills: [support, mail]"
    )


BAD = [
    (
        "factor-length",
        with_fields("    handle_time_factor: [1, 2, 1]\n"),
        "call_types[0].handle_time_factor: 3 values given; expected 16, one per interval of the day's grid",
    ),
    (
        "patience-factor-length",
        with_fields("    patience_factor: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"),
        "call_types[0].patience_factor: 17 values given; expected 16",
    ),
    (
        "factor-zero",
        with_fields("    handle_time_factor: [0" + ", 1" * 15 + "]\n"),
        "handle_time_factor[0]: Input should be greater than 0",
    ),
    (
        "two-balking-forms",
        with_fields("    balking: {probability: 0.1, by_queue_length: [[0, 0.1]]}\n"),
        "call_types[0].balking: give one of probability, by_queue_length or by_expected_wait_seconds",
    ),
    (
        "curve-not-increasing",
        with_fields("    balking: {by_queue_length: [[5, 0.1], [2, 0.2]]}\n"),
        "the x values must increase strictly",
    ),
    (
        "curve-probability",
        with_fields("    balking: {by_expected_wait_seconds: [[0, 0.1], [60, 1.5]]}\n"),
        "a probability must be in [0, 1], got 1.5",
    ),
    (
        "message-without-max-wait",
        with_fields("    message: {then: callback}\n"),
        "message needs max_wait_seconds",
    ),
    (
        "message-then",
        with_fields("    max_wait_seconds: 120\n    message: {then: voicemail}\n"),
        "'voicemail' is not allowed; allowed: none | callback (voice) | deferred:<email or case call type>",
    ),
    (
        "message-to-a-voice-type",
        with_fields("    max_wait_seconds: 120\n    message: {then: 'deferred:support'}\n"),
        "call_types[0].message.then: 'support' is not an email or case call type; known: none",
    ),
    (
        "after-balk-without-balking",
        with_fields("    retrial: {after_balk: 0.5, delay: {distribution: fixed, value_seconds: 60}}\n"),
        "call_types[0].retrial.after_balk: callers only balk when the call type has balking",
    ),
    (
        "balking-on-email",
        with_email(HELPDESK).replace(
            "    handle_time: {distribution: fixed, value_seconds: 240}\n",
            "    handle_time: {distribution: fixed, value_seconds: 240}\n    balking: {probability: 0.1}\n",
        ),
        "call_types[1]: an email call type cannot have balking (voice and chat only)",
    ),
    ("max-wait-negative", with_fields("    max_wait_seconds: -5\n"), "call_types[0].max_wait_seconds"),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD, ids=[case[0] for case in BAD])
def test_bad_behaviour_settings_are_refused(name: str, text: str, expected: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    assert_refused(bposim("validate", path), expected, source=path)


def test_run_refuses_a_factor_of_the_wrong_length(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(with_fields("    patience_factor: [1, 2]\n"), encoding="utf-8")
    assert_refused(bposim("run", path), "call_types[0].patience_factor: 2 values given; expected 16", source=path)


def test_run_prints_and_reports_balks_and_messages(tmp_path: Path) -> None:
    fields = (
        "    balking: {by_queue_length: [[0, 0.0], [10, 0.4]]}\n"
        "    max_wait_seconds: 40\n"
        "    message: {then: callback}\n"
    )
    path = tmp_path / "centre.yaml"
    path.write_text(edited(with_fields(fields), "agents: 12", "agents: 9"), encoding="utf-8")
    out = tmp_path / "out"
    result = bposim("run", path, "--seed", "3", "--out", out, "--report", "--format", "table")
    assert result.returncode == 0, result.stderr
    intervals = pd.read_csv(out / "intervals.csv")
    balked, messages = int(intervals["balked"].sum()), int(intervals["messages"].sum())
    assert balked > 0 and messages > 0
    printed = " ".join(result.stdout.split())
    assert "Balked" in printed and "Messages" in printed and "Balk %" in printed
    assert f"{balked:,}" in printed and f"{messages:,}" in printed
    page = html.unescape(re.sub(r"<[^>]+>", " ", (out / "report.html").read_text(encoding="utf-8")))
    assert "Balk rate" in page and "Messages" in page


def test_without_behaviour_the_printout_has_no_balk_columns(tmp_path: Path) -> None:
    path = tmp_path / "centre.yaml"
    path.write_text(HELPDESK, encoding="utf-8")
    result = bposim("run", path, "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "Balk" not in result.stdout and "Messages" not in result.stdout
