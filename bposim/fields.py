"""The number types of every configuration model: finite floats and strict whole numbers.

Every float a planner writes is a `FiniteFloat` (NaN and ±infinity refused, as are true/false), and every count
a `WholeNumber` or `PositiveWholeNumber` (true/false, yes/no and decimals such as 12.0 refused; numpy integers,
as sweeps and notebooks pass them, accepted). Field-level bounds (``Field(gt=0, le=1)``) still apply on top.
"""

from __future__ import annotations

import math
import numbers
from typing import Annotated, Any

from pydantic import AllowInfNan, BeforeValidator, Field, Strict
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

_FLAGS = "YAML reads yes/no, on/off and true/false as flags"


class _Finite:
    """Checks a number is finite before pydantic's own float validation (strings are left to pydantic)."""

    def __call__(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError("finite_number", f"Input should be a number, not {str(value).lower()} ({_FLAGS})")
        if isinstance(value, numbers.Real):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise PydanticCustomError("finite_number", f"Input should be a finite number, not {number}")
            return number
        return value


class _Whole:
    """Checks a count is a Python or numpy integer of at least `minimum`, before pydantic's strict int."""

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def __call__(self, value: Any) -> Any:
        allowed = f"a whole number ≥ {self.minimum}"
        if isinstance(value, bool):
            raise PydanticCustomError("whole_number", f"must be {allowed}, not {str(value).lower()} ({_FLAGS})")
        if isinstance(value, numbers.Integral):
            return int(value)
        raise PydanticCustomError("whole_number", f"must be {allowed}; got {value!r}")


FiniteFloat = Annotated[float, BeforeValidator(_Finite()), AllowInfNan(False)]
"""A float that must be finite: NaN, ±infinity, numbers too large for a float and true/false are refused."""

WholeNumber = Annotated[int, BeforeValidator(_Whole(0)), Strict(), Field(ge=0)]
"""A count ≥ 0: a Python or numpy integer; true/false, decimals (12.0 too) and text are refused."""

PositiveWholeNumber = Annotated[int, BeforeValidator(_Whole(1)), Strict(), Field(ge=1)]
"""A whole number ≥ 1 (priorities, minutes, days, replications), checked like `WholeNumber`."""


class NumberBoundsSchema(GenerateJsonSchema):
    """JSON Schema with the bounds of these types as minimum/maximum: pydantic writes a bound applied after a
    validator function under its own name (ge, gt, le, lt), which JSON Schema does not know."""

    BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}

    def generate(self, schema: core_schema.CoreSchema, mode: Any = "validation") -> JsonSchemaValue:
        return self._rename(super().generate(schema, mode=mode))

    def _rename(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._rename(item) for item in node]
        if not isinstance(node, dict):
            return node
        numeric = node.get("type") in ("number", "integer")
        return {(self.BOUNDS.get(key, key) if numeric else key): self._rename(item) for key, item in node.items()}
