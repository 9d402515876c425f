"""Loading scenario files: YAML (safe_load only) into a validated Scenario, with readable errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bposim.scenario.centre import Scenario


class ScenarioError(Exception):
    """A scenario file that cannot be used, with one line per problem naming the file and field."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping, with file-level errors as ScenarioError."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(path), ["file not found"]) from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), [f"cannot read the file ({exc.__class__.__name__})"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(str(path), [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(str(path), ["the file must hold a mapping of fields (name:, horizon:, ...)"])
    return data


def format_validation_error(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One readable line per pydantic error: the field path and what is allowed."""
    from bposim.distributions import DISTRIBUTION_NAMES

    lines = []
    for item in error.errors(include_url=False):
        loc = list(item["loc"])
        shown = [part for part in loc if part not in DISTRIBUTION_NAMES]
        path = _render_loc(shown)
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


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; problems raise ScenarioError naming the file and field path."""
    data = load_yaml_mapping(path)
    try:
        return Scenario.model_validate(data, context={"base_dir": str(Path(path).parent)})
    except ValidationError as exc:
        raise ScenarioError(str(path), format_validation_error(exc, Scenario)) from None
