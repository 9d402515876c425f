"""The engine's calendar: a SimPy environment whose queue holds handler calls, and the one kind of event it has.

The engine schedules work as `calendar.at(delay, handler, payload)`: `handler(payload)` is called `delay`
seconds from now. No event object is made: the calendar holds the (handler, payload) pair. `Later` is the same as
a SimPy event (an event already triggered, with one callback that receives the event), for code that wants one.

`Calendar` keeps SimPy's order of events (by time, then by scheduling order) in a heap of bare times instead of
SimPy's heap of (time, priority, id, event) tuples: an agent finishing is an event, so a centre of c agents keeps
about c events waiting, and comparing floats instead of tuples keeps the cost of a heap step low as c grows.

Beside the heap it holds one arrival stream: times already drawn in order (an interval's first attempts) and their
payloads, merged with the heap as it runs. An arrival is thus never an event: no object, no heap push or pop, which
is a third of the events of a day. At exactly equal times an arrival comes before the events on the heap. Each
arrival's time is reached from the one before as an event's would be (`now + (time - now)`, rounded as floats
are), so the times are those of an arrival scheduling the next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from heapq import heappop, heappush

import simpy
from simpy.events import NORMAL

INF = float("inf")


class Later:
    """An event already triggered with `value`, processed by SimPy after `delay` by calling `callback(event)`.

    It carries just what `Environment.step` reads of an event (its callbacks, value and success), in slots: a
    lighter stand-in for `simpy.Timeout` plus an appended callback. On a `Calendar`, `at` is lighter still.
    """

    __slots__ = ("callbacks", "_value", "_ok")

    def __init__(self, env: simpy.Environment, delay: float, value, callback) -> None:
        self.callbacks = (callback,)
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)


def _fire(event) -> None:
    """Process a SimPy event: call its callbacks with it."""
    callbacks = event.callbacks
    event.callbacks = None
    for callback in callbacks:
        callback(event)


class Calendar(simpy.Environment):
    """A SimPy environment that calls its handlers in SimPy's order of events from a heap of times.

    Each time on the heap maps to the (handler, payload) pair due then or, when several fall due at the very same
    time, to a list: the first pair, then (time, pair) pairs in scheduling order. A call scheduled for the current
    time while those due now are made starts a new entry, so it comes after them, as in SimPy. Priorities are not
    kept (calls at one time run in scheduling order), which is all the engine needs; a SimPy event scheduled
    (`schedule`, as `Later` does) is a call that fires it. `run` takes no `until`: it runs until nothing is left
    to happen.

    `arrivals(times, payloads, handler)` sets the arrival stream: `handler(payload)` is called at each time, in
    turn, merged with the heap; `arrival` is the time of the stream's next arrival (infinity when none is left).
    A new stream replaces what is left of the last one.
    """

    def __init__(self) -> None:
        super().__init__()
        self._times: list[float] = []
        self._due: dict[float, tuple | list] = {}
        self.arrival = INF
        self._arrival_times: Iterator[float] = iter(())
        self._payloads: Iterator = iter(())
        self._on_arrival: Callable = print

    def at(self, delay: float, handler: Callable, payload) -> None:
        """Call `handler(payload)` `delay` seconds from now, after every call already due by then."""
        time = self._now + delay
        entry = (handler, payload)
        first = self._due.setdefault(time, entry)
        if first is entry:
            heappush(self._times, time)
        elif type(first) is list:
            first.append((time, entry))
        else:
            self._due[time] = [first, (time, entry)]

    def schedule(self, event, priority=NORMAL, delay=0) -> None:
        """Process SimPy `event` `delay` seconds from now, after every call already due by then."""
        self.at(delay, _fire, event)

    def arrivals(self, times: Iterable[float], payloads: Iterable, handler: Callable) -> None:
        """From now on, call `handler(payload)` at each of `times` (in order, none before now), with `payloads` in
        turn: the arrival stream, replacing the last one."""
        self._arrival_times = iter(times)
        self._payloads = iter(payloads)
        self._on_arrival = handler
        now = self._now
        self.arrival = now + (next(self._arrival_times, INF) - now)

    def peek(self) -> float:
        """The time of the next call or arrival, or infinity when none is left."""
        return min(self._times[0] if self._times else INF, self.arrival)

    def step(self) -> None:
        """Make the next arrival, or the calls due at the next time on the heap."""
        times = self._times
        if self.arrival <= (times[0] if times else INF):
            if self.arrival == INF:
                raise simpy.core.EmptySchedule()
            self._arrive()
        else:
            self._process(heappop(times))

    def _arrive(self) -> None:
        now = self._now = self.arrival
        payload = next(self._payloads)
        self.arrival = now + (next(self._arrival_times, INF) - now)
        self._on_arrival(payload)

    def run(self, until=None) -> None:
        """Make the calls and arrivals until none is left."""
        if until is not None:
            raise ValueError("Calendar.run takes no `until`: it runs until nothing is left to happen")
        times = self._times
        due = self._due
        while True:  # `_process` and `_arrive` written inline: the hot loop, one method call fewer per event
            if not times or self.arrival <= times[0]:
                arrival = self.arrival
                if arrival == INF:
                    return
                self._now = arrival
                payload = next(self._payloads)
                self.arrival = arrival + (next(self._arrival_times, INF) - arrival)
                self._on_arrival(payload)
                continue
            time = heappop(times)
            self._now = time
            entry = due.pop(time)
            if type(entry) is list:
                self._process_tied(entry)
            else:
                entry[0](entry[1])

    def _process(self, time: float) -> None:
        self._now = time
        entry = self._due.pop(time)
        if type(entry) is list:
            self._process_tied(entry)
        else:
            entry[0](entry[1])

    def _process_tied(self, entries: list) -> None:
        """Calls due at one time, in scheduling order: the first, then (time, call) pairs."""
        handler, payload = entries[0]
        handler(payload)
        for time, (handler, payload) in entries[1:]:
            self._now = time
            handler(payload)
