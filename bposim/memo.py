"""What depends on a scenario alone, worked out once per scenario object.

A sweep runs many replications of each cell's scenario, and a scenario is frozen, so what a task derives from the
scenario only (its workload estimate, its scheduled hours, the periods of its horizon) is the same every time:
`per_scenario` keeps the last few results by the scenario object they came from (held weakly, compared by
identity: an equal scenario built anew is worked out again, which is only slower). Results are shared: callers
treat them as read-only (arrays are made read-only).
"""

from __future__ import annotations

import functools
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

KEPT = 16  # scenario objects remembered per function: a sweep's tasks meet one cell's scenario at a time
Value = TypeVar("Value")


def per_scenario(function: Callable[..., Value]) -> Callable[..., Value]:
    """`function(owner, *args)` remembered per `owner` object (a scenario, or a part of one such as its horizon) and
    hashable `args`, for the last KEPT owners."""
    found: OrderedDict[int, tuple[weakref.ref, dict[tuple, Any]]] = OrderedDict()

    @functools.wraps(function)
    def remembered(owner: Any, *args: Any) -> Value:
        key = id(owner)
        entry = found.get(key)
        if entry is None or entry[0]() is not owner:
            entry = (weakref.ref(owner), {})
            found[key] = entry
            while len(found) > KEPT:
                found.popitem(last=False)
        else:
            found.move_to_end(key)
        values = entry[1]
        if args not in values:
            values[args] = _read_only(function(owner, *args))
        return values[args]

    return remembered


def _read_only(value: Any) -> Any:
    """The value, its arrays (alone or in a tuple) made read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple):
        for item in value:
            _read_only(item)
    return value
