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


def _with_arrivals(env: simpy.Environment, gaps: list[int], children: list[list[float]], stream: bool):
    """Arrivals `gaps` apart (whole seconds plus a half, so never at an event's time) and events on quarter
    seconds whose handlers schedule more; the arrivals either as the calendar's stream or, the SimPy way, each
    scheduling the next. The (label, time) pairs in processing order."""
    seen: list[tuple[str, float]] = []
    times = [0.5]
    for gap in gaps:
        times.append(times[-1] + gap)

    def handle(event: Later) -> None:
        number = event._value
        seen.append((f"event {number}", env.now))
        if number < len(children):
            for offset, delay in enumerate(children[number]):
                Later(env, delay, number * 10 + offset + 1, handle)

    def arrive(number: int) -> None:
        seen.append((f"arrival {number}", env.now))

    def arrive_and_schedule_next(event: Later) -> None:
        number = event._value
        arrive(number)
        if number + 1 < len(times):
            Later(env, times[number + 1] - env.now, number + 1, arrive_and_schedule_next)

    Later(env, 0.25, 0, handle)
    if stream:
        env.arrivals(times, range(len(times)), arrive)
    else:
        Later(env, times[0], 0, arrive_and_schedule_next)
    env.run()
    return seen


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 3), max_size=30),
    st.lists(st.lists(st.sampled_from([0, 0.0, 1.0, 2.0, 3.0]), max_size=4), max_size=40),
)
def test_an_arrival_stream_merges_with_the_events_as_chained_arrivals_would(gaps, children):
    expected = _with_arrivals(simpy.Environment(), gaps, children, stream=False)
    assert _with_arrivals(Calendar(), gaps, children, stream=True) == expected


def test_an_arrival_comes_before_events_at_its_time_and_a_new_stream_replaces_the_last():
    env = Calendar()
    seen: list[str] = []

    def note(event: Later) -> None:
        seen.append(event._value)

    def replace(event: Later) -> None:
        note(event)
        env.arrivals([3.0], ["new"], seen.append)

    Later(env, 1.0, "event at 1", note)
    Later(env, 2.75, "event at 2.75", replace)
    env.arrivals([1.0, 2.5, 4.0], ["arrival at 1", "arrival at 2.5", "left out"], seen.append)
    assert env.peek() == 1.0
    env.run()
    assert seen == ["arrival at 1", "event at 1", "arrival at 2.5", "event at 2.75", "new"]
    assert env.now == 3.0 and env.peek() == simpy.core.Infinity
