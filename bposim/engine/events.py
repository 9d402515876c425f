"""The one kind of event the engine schedules on SimPy's event queue."""

from __future__ import annotations

import simpy
from simpy.events import NORMAL


class Later:
    """An event already triggered with `value`, processed by SimPy after `delay` by calling `callback(event)`.

    It carries just what `Environment.step` reads of an event (its callbacks, value and success), in slots: a
    lighter stand-in for `simpy.Timeout` plus an appended callback, for the engine's most frequent operation.
    """

    __slots__ = ("callbacks", "_value", "_ok")

    def __init__(self, env: simpy.Environment, delay: float, value, callback) -> None:
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        env.schedule(self, NORMAL, delay)
