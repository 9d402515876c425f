"""The engine's calendar processes events in SimPy's order: by time, then by scheduling order."""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from bposim.engine.events import Calendar, Later

# Few distinct delays, zero among them, so that many events fall due at the very same time.
DELAYS = st.sampled_from([0, 0.0, 0.5, 1.0, 2.5])


def _order(env: simpy.Environment, children: list[list[float]], by_step: bool = False) -> list[tuple[int, float]]:
    """Process events whose handlers schedule further events (with `run`, or `step` by `step`); the (event, time)
    pairs in processing order."""
    seen: list[tuple[int, float]] = []

    def handle(event: Later) -> None:
        number = event._value
        seen.append((number, env.now))
        if number < len(children):
            for offset, delay in enumerate(children[number]):
                Later(env, delay, number * 10 + offset + 1, handle)

    Later(env, 0, 0, handle)
    Later(env, 0.0, 1, handle)
    if not by_step:
        env.run()
        return seen
    while env.peek() < simpy.core.Infinity:
        env.step()
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()
    return seen


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(DELAYS, max_size=4), max_size=60))
def test_events_run_in_simpys_order(children):
    expected = _order(simpy.Environment(), children)
    seen = _order(Calendar(), children)
    assert seen == expected
    assert [type(time) for _, time in seen] == [type(time) for _, time in expected]
    assert _order(Calendar(), children, by_step=True) == expected


def test_an_event_due_now_comes_after_those_already_due_now():
    env = Calendar()
    seen: list[str] = []

    def note(event: Later) -> None:
        seen.append(event._value)

    def note_and_schedule_now(event: Later) -> None:
        note(event)
        Later(env, 0.0, "now", note)

    Later(env, 1.0, "first", note_and_schedule_now)
    Later(env, 1.0, "second", note)
    env.run()
    assert seen == ["first", "second", "now"]
    assert env.now == 1.0
