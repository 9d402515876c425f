"""Scenarios shared by the tests: the helpdesk written as a planner writes a scenario file, and the two ways the tests
vary a scenario (a piece of its text replaced, or fields of its data set by dotted path), so that a change to the
helpdesk is one edit here."""

from __future__ import annotations

import copy
from typing import Any

import yaml

HELPDESK = """\
name: Helpdesk
horizon: {start: "08:00", end: "16:00", interval_minutes: 30}
service_level: {threshold_seconds: 20, target: 0.80}
call_types:
  - name: support
    arrivals: {per_hour: 252}
    handle_time: {distribution: exponential, mean_seconds: 120}
    patience: {distribution: exponential, mean_seconds: 60}
agent_groups:
  - name: team
    skills: [support]
    agents: 12
"""
"""The Erlang-A helpdesk of models/helpdesk.yaml: one call type at 252 calls an hour, 12 agents, one 8-hour day."""


# a voice, chat, email and back-office case centre whose email falls behind: its backlog goes overdue
OMNICHANNEL = """\
name: omnichannel
horizon: {start: "08:00", end: "18:00", interval_minutes: 30, days: 2}
call_types:
  - name: voice_en
    arrivals: {per_hour: 60}
    handle_time: {distribution: exponential, mean_seconds: 300}
    patience: {distribution: exponential, mean_seconds: 180}
  - name: chat_en
    channel: chat
    sequential_share: 0.3
    arrivals: {per_hour: 30}
    handle_time: {distribution: exponential, mean_seconds: 600}
    patience: {distribution: exponential, mean_seconds: 300}
    service_level: {threshold_seconds: 60}
  - name: email_en
    channel: email
    arrivals: {per_hour: 30}
    handle_time: {distribution: exponential, mean_seconds: 480}
    initial_backlog: [{items: 30, age_hours: 20}]
    service_level: {threshold_hours: 4, target: 0.9}
  - name: case_refund
    channel: case
    arrivals: {per_hour: 3}
    handle_time: {distribution: exponential, mean_seconds: 1200}
    initial_backlog: [{items: 10, age_hours: 30}]
agent_groups:
  - name: voice
    skills: [voice_en]
    agents: 6
  - name: digital
    skills: [chat_en, email_en]
    max_concurrency: 3
    deferred_reserve: 1
    agents: 7
  - name: back_office
    skills: [case_refund]
    agents: 1
"""
"""Two days of voice, chat, email and cases: chat sessions held three at a time, an email backlog that goes overdue,
cases due 48 hours after they arrive."""


def edited(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new`; `old` must be in it exactly once, so that a variant never silently stays
    the text it was made from."""
    assert text.count(old) == 1, f"{old!r} is in the text {text.count(old)} times, not once:\n{text}"
    return text.replace(old, new)


def changed(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of scenario data with each dotted path (list items by index) set to its value."""
    data = copy.deepcopy(data)
    for dotted, value in changes.items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def helpdesk_data(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """The helpdesk as plain data (the YAML shape), with the dotted paths of `changes` set."""
    return changed(yaml.safe_load(HELPDESK), changes or {})


def line_of(text: str, start: str) -> int:
    """The number (counted from 1) of the first line of `text` that starts with `start`."""
    return next(number for number, line in enumerate(text.splitlines(), start=1) if line.startswith(start))
