"""The README's scenario reference documents every field a scenario file may hold."""

from __future__ import annotations

import re
import typing

from cli_runner import ROOT
from pydantic import BaseModel

from bposim.scenario import Scenario


def _models(annotation: typing.Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models(arg)]


def _fields(root: type[BaseModel]) -> dict[str, str]:
    """Every field name reachable from a model, with the first path it is found at."""
    found: dict[str, str] = {}
    visited: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        if model in visited:
            return
        visited.add(model)
        for name, field in model.model_fields.items():
            found.setdefault(name, f"{prefix}{name}")
            for inner in _models(field.annotation):
                walk(inner, f"{prefix}{name}.")

    walk(root, "")
    return found


def test_every_scenario_field_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    undocumented = [
        path
        for name, path in _fields(Scenario).items()
        # as a YAML key (`name:`), in backticks, or in a parenthesised list of a distribution's parameters
        if not re.search(rf"\b{name}:|`{name}`|\([^)]*\b{name}\b[^)]*\)", readme)
    ]
    assert not undocumented, f"fields missing from the README's scenario reference: {undocumented}"
