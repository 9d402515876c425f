"""Readable errors for configuration: ScenarioError, and pydantic's errors as one "field path: problem" line each."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError


class ScenarioError(ValueError):
    """A scenario that cannot be used, with one line per problem: "field path: what is wrong; what is allowed".

    `source` names the file (each line of the message then starts with it), or is empty for a scenario built in
    code (`Scenario.model_validate`, `Scenario.updated`). A ValueError, so code catching ValueError still works.
    """

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" if source else problem for problem in problems))

    def __reduce__(self) -> tuple:
        return type(self), (self.source, self.problems)


def listed(names: Iterable[Any], limit: int = 20) -> str:
    """Names for an error message, comma-separated; past `limit`, the first ones and how many there are in all."""
    names = [str(name) for name in names]
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, ... ({len(names):,} in all)"


def format_validation_error(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One readable line per pydantic error: the field path and what is allowed."""
    from bposim.distributions import DISTRIBUTION_NAMES

    lines = []
    union_paths = set()
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        shown = [part for part in loc if part not in DISTRIBUTION_NAMES and not _union_member(part)]
        path = _render_loc(shown)
        if len(shown) < len(loc) and any(_union_member(part) for part in loc):
            if path in union_paths:
                continue  # a value fitting no member of a union (a number or a list): its first member's error
            union_paths.add(path)
        kind, message = item["type"], item["msg"]
        if kind == "extra_forbidden":
            allowed = _allowed_fields(root, loc[:-1])
            message = f"unknown field '{loc[-1]}'" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
            path = _render_loc(shown[:-1]) or "(top level)"
        elif kind == "missing":
            message = "required field is missing"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            message = f"distribution must be one of: {', '.join(DISTRIBUTION_NAMES)}"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        lines.append(f"{path}: {message}" if path else message)
    return lines


def _union_member(part: str | int) -> bool:
    """Whether a location part names a member of a union type (pydantic's `list[float]`), not a field."""
    return isinstance(part, str) and "[" in part


def _render_loc(loc: list[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models an annotation may hold (through lists, unions and Annotated)."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _allowed_fields(root: type[BaseModel], loc: list[str | int]) -> list[str]:
    """The field names allowed at a location, found by walking the model types along the path.

    A discriminated union (distributions) appears in the path as its tag, which picks the member.
    """
    candidates: list[type[BaseModel]] = [root]
    for part in loc:
        if isinstance(part, int):
            continue
        tagged = [m for m in candidates if part in _literal_values(m.model_fields.get("distribution"))]
        if tagged:
            candidates = tagged
            continue
        fields = [m.model_fields[part] for m in candidates if part in m.model_fields]
        candidates = [model for field in fields for model in _models_in(field.annotation)]
        if not candidates:
            return []
    return list(candidates[0].model_fields) if len(candidates) == 1 else []


def _literal_values(field: Any) -> tuple:
    """The values of a Literal-typed field (empty for anything else)."""
    import typing

    return typing.get_args(field.annotation) if field is not None else ()
