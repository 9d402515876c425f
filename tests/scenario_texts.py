"""Scenario texts shared by the tests, written as a planner writes a scenario file."""

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
