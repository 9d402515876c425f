"""The one kind of SimPy event the engine schedules."""

from __future__ import annotations

import simpy
from simpy.events import NORMAL, Event


class Later(Event):
    """A SimPy event already triggered with `value`, processed after `delay` by `callback` (a cheap Timeout)."""

    def __init__(self, env: simpy.Environment, delay: float, value, callback) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)
