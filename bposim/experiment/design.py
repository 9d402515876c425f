"""What an experiment is: a base scenario, factors and scales crossed into cells, replications and a base seed.

Changes relative to the base (`bposim.experiment.relative`): scale factors of every group's staffing or every call
type's arrivals (`scale: {staffing: [0.9, 1.0, 1.1]}`), and items added to a list (`costs.technology+: [...]`).

Experiment files are checked at the door like scenario files: the schema by pydantic, every dotted path against
the base scenario (an unknown one names the valid paths near it), and every cell's scenario by the scenario's own
validation, so a sweep never fails half-way on a bad value.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import AfterValidator, Field, ValidationError, field_validator

from bposim import workload
from bposim.experiment.errors import ExperimentError
from bposim.experiment.relative import APPEND, SCALES, scale_column, scaled, with_appends
from bposim.experiment.runner import run_experiment
from bposim.experiment.tables import cell_summary
from bposim.fields import FiniteFloat, PositiveWholeNumber, WholeNumber
from bposim.scenario import Scenario, ScenarioError, format_validation_error, load_scenario, load_yaml_mapping
from bposim.scenario.common import Model

RESERVED = ("cell", "replication", "seed", "service_level_target", "met_target", "scheduled_agent_hours")


_FOLDER_NAME = re.compile(r"\w[\w.-]{0,99}")


def _folder_name(value: str) -> str:
    """An experiment's name names its results folder: one plain path component, never `..`, `/` or `-x`."""
    if not _FOLDER_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} cannot name a results folder; use 1 to 100 letters, digits, '_', '-' and '.', "
            "starting with a letter, digit or '_'"
        )
    return value


FolderName = Annotated[str, AfterValidator(_folder_name)]


class ExperimentSpec(Model):
    """The parts of an experiment besides its base scenario: changes, factors, replications, seed, what to keep."""

    name: FolderName = Field("experiment", description="names the default results directory")
    description: str = ""
    changes: dict[str, Any] = Field({}, description="dotted path: value, changed in the base model for every cell")
    factors: dict[str, list[Any] | dict[str, dict[str, Any]]] = Field(
        {}, description="path: [values], or name: {variant: {path: value}}; all factors are crossed into cells"
    )
    scale: dict[Literal["staffing", "arrivals"], list[Annotated[FiniteFloat, Field(gt=0)]]] = Field(
        {},
        description="staffing: [factors] of every group's agents and roster lines, arrivals: [factors] of every call "
        "type's rates; crossed with the factors into cells",
    )
    replications: PositiveWholeNumber = Field(
        10, le=workload.MAX_REPLICATIONS, description="days simulated per cell, the same in every cell"
    )
    seed: WholeNumber = Field(0, description="replication r of every cell uses this seed: common random numbers")
    keep: Literal["summary", "all"] = Field("summary", description="summary rows only, or every run's tables too")

    @field_validator("factors", mode="before")
    @classmethod
    def _factor_shapes(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for name, levels in value.items():
            if name in RESERVED:
                raise ValueError(f"'{name}' is a column of the results; give the factor another name")
            if isinstance(levels, list):
                if not levels:
                    raise ValueError(f"'{name}': give at least one value")
            elif isinstance(levels, dict) and levels:
                for variant, changes in levels.items():
                    if isinstance(variant, bool):
                        raise ValueError(
                            f"'{name}': a variant is named {str(variant).lower()}: YAML reads on/off and "
                            'yes/no as true/false; quote the name ("off")'
                        )
                    if not isinstance(changes, dict):
                        raise ValueError(
                            f"'{name}.{variant}': a named variant is a mapping of path: value "
                            "({} for the model as it is); to try values of a path, list them: "
                            "path: [value, ...]"
                        )
            else:
                raise ValueError(
                    f"'{name}': a factor is a list of values (path: [v1, v2]) or a mapping of named "
                    "variants (name: {variant: {path: value}})"
                )
        return value

    @field_validator("scale", mode="before")
    @classmethod
    def _scale_shapes(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for name, factors in value.items():
            if name in SCALES and not isinstance(factors, list):
                raise ValueError(f"'{name}': give a list of factors, e.g. {name}: [0.9, 1.0, 1.1]")
            if name in SCALES and not factors:
                raise ValueError(f"'{name}': give at least one factor, e.g. {name}: [0.9, 1.0, 1.1]")
        return value


class ExperimentFile(ExperimentSpec):
    """An experiment file: the spec and the base model's file, relative to the experiment file."""

    name: FolderName | None = Field(None, description="names the results directory; the file's name")
    model: str = Field(description="the base scenario file, relative to this file")


@dataclass(frozen=True)
class Factor:
    """One factor: its results-table column, a label per level and the scenario changes of each level."""

    name: str
    labels: tuple[Any, ...]
    changes: tuple[dict[str, Any], ...]
    scale: str | None = None  # a scale of the base (staffing, arrivals): its labels are the factors


@dataclass(frozen=True)
class Cell:
    """One combination of factor levels: its number, its label per factor, and its scenario."""

    index: int
    labels: dict[str, Any]
    scenario: Scenario


class Experiment:
    """A sweep: every cell (one combination of factor levels) × replication of a base scenario, under CRN.

    Replication r of every cell is `simulate_replication(cell_scenario, seed, r)`: the same random streams, so
    differences between cells are the factors', not the dice's. `scale` ({"staffing": [0.9, 1.0], "arrivals":
    [1.0, 1.2]}) adds sweep dimensions, crossed ahead of the factors and applied to each cell's scenario after the
    factors' changes (`bposim.experiment.relative`). A sweep beyond the limits of `bposim.workload` (too many cells
    or tasks, a cell too heavy to simulate, too much work in all) is refused before it starts.
    """

    def __init__(
        self,
        base: Scenario,
        factors: Mapping[str, Any] | None = None,
        replications: int = 10,
        seed: int = 0,
        keep: str = "summary",
        name: str = "experiment",
        *,
        changes: Mapping[str, Any] | None = None,
        description: str = "",
        source: str = "experiment",
        text: str | None = None,
        scale: Mapping[str, Any] | None = None,
    ) -> None:
        spec = {
            "name": name,
            "description": description,
            "changes": dict(changes or {}),
            "scale": {key: _plain(value) for key, value in (scale or {}).items()},
            "replications": replications,
            "seed": seed,
            "keep": keep,
            "factors": {key: _plain(value) for key, value in (factors or {}).items()},
        }
        try:
            self.spec = ExperimentSpec.model_validate(spec)
        except ValidationError as exc:
            raise ExperimentError(source, format_validation_error(exc, ExperimentSpec)) from None
        self.source = source
        self.base = _changed_base(base, self.spec.changes, source)
        self.factors = [
            *(_scale_factor(scale, factors) for scale, factors in self.spec.scale.items()),
            *(_factor(name, levels) for name, levels in self.spec.factors.items()),
        ]
        _check_names(self.factors, source)
        _check_paths(self.base, _factor_changes(self.factors), source)
        cells = math.prod(len(factor.labels) for factor in self.factors)
        problems = workload.grid_problems(cells, self.spec.replications)
        if problems:
            raise ExperimentError(source, problems)
        self.cells = _cells(self.base, self.factors, source)
        _check_workload(self.cells, self.spec.replications, source)
        definition = self.spec.model_dump(mode="json", exclude=None if self.spec.scale else {"scale"})
        self.text = text if text is not None else json.dumps(definition, indent=2, default=str)
        self.sha256 = _sha256(json.dumps(definition, sort_keys=True, default=str))
        self.model_sha256 = _sha256(base.model_dump_json())

    @classmethod
    def from_file(cls, path: str | Path) -> Experiment:
        """Read and check an experiment file; problems raise ExperimentError (the model's own, ScenarioError)."""
        path = Path(path)
        try:
            data = load_yaml_mapping(path)
        except ScenarioError as exc:
            raise ExperimentError(exc.source, exc.problems) from None
        try:
            spec = ExperimentFile.model_validate(data)
        except ValidationError as exc:
            raise ExperimentError(str(path), format_validation_error(exc, ExperimentFile)) from None
        model = path.parent / spec.model
        if not model.is_file():
            raise ExperimentError(str(path), [f"model: file not found: {model}"])
        fields = spec.model_dump(exclude={"model"})
        fields["name"] = spec.name or re.sub(r"[^\w.-]+", "_", path.stem).lstrip(".-")[:100] or "experiment"
        return cls(load_scenario(model), **fields, source=str(path), text=path.read_text(encoding="utf-8-sig"))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def replications(self) -> int:
        return self.spec.replications

    @property
    def seed(self) -> int:
        return self.spec.seed

    @property
    def keep(self) -> str:
        return self.spec.keep

    @property
    def factor_names(self) -> list[str]:
        return [factor.name for factor in self.factors]

    @property
    def design(self) -> pd.DataFrame:
        """One row per cell: its number and its level of each factor (what `run` will simulate)."""
        return pd.DataFrame([{"cell": cell.index, **cell.labels} for cell in self.cells])

    def scenario(self, cell: int) -> Scenario:
        """The scenario of one cell, e.g. to look into it with `bposim.simulate`."""
        return self.cells[cell].scenario

    def run(
        self,
        out: str | Path | None = None,
        workers: int | None = None,
        scheduler: str | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Run every task not yet in `out`; return the results table (one row per cell × replication).

        workers: processes (default all cores; 1 runs here); scheduler: a Dask address, or "local" for a
        LocalCluster. With `out`, each finished task is saved at once, so a rerun resumes where it stopped.
        """
        return run_experiment(self, out=out, workers=workers, scheduler=scheduler, progress=progress)

    def cell_summary(self, results: pd.DataFrame) -> pd.DataFrame:
        """Per cell: means, 95% CI half-widths and the share of replications meeting the service-level target."""
        return cell_summary(results)


def _plain(levels: Any) -> Any:
    """Factor levels given in code (tuples, ranges, numpy arrays) as the plain lists and dicts of a file."""
    if isinstance(levels, Mapping):
        return {str(key): dict(value) if isinstance(value, Mapping) else value for key, value in levels.items()}
    if isinstance(levels, Sequence | range) and not isinstance(levels, str):
        return list(levels)
    return levels.tolist() if hasattr(levels, "tolist") else levels


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _scale_factor(scale: str, factors: list[float]) -> Factor:
    """A scale of the base as a factor: its column (staffing_scale), the factors as labels, no dotted changes."""
    return Factor(scale_column(scale), tuple(float(factor) for factor in factors), ({},) * len(factors), scale)


def _check_names(factors: list[Factor], source: str) -> None:
    """A factor named as a scale's column would make two columns of one name."""
    scales = {factor.name for factor in factors if factor.scale}
    clashes = [factor.name for factor in factors if not factor.scale and factor.name in scales]
    if clashes:
        raise ExperimentError(
            source,
            [
                f"factors.{name}: '{name}' is the results column of scale.{name.removesuffix('_scale')}; rename the "
                "factor"
                for name in clashes
            ],
        )


def _factor(name: str, levels: list[Any] | dict[str, dict[str, Any]]) -> Factor:
    """A path with values (labelled by value), or named variants (labelled by name)."""
    if isinstance(levels, dict):
        return Factor(name, tuple(levels), tuple(levels.values()))
    return Factor(name, tuple(_labels(levels)), tuple({name: value} for value in levels))


def _labels(values: list[Any]) -> list[Any]:
    """Values as one results-table column: numbers, flags and names as they are, anything else as JSON text."""
    if all(isinstance(v, bool) for v in values) or all(isinstance(v, str) for v in values):
        return values
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        return [int(v) for v in values]
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return [json.dumps(v, sort_keys=True, default=str) for v in values]


def _changed_base(base: Scenario, changes: dict[str, Any], source: str) -> Scenario:
    """The base scenario with the experiment's `changes`, made in every cell."""
    if not changes:
        return base
    _check_paths(base, [("changes", "changes", changes)], source)
    try:
        return base.updated(_expanded(base, changes))
    except ScenarioError as exc:
        raise ExperimentError(source, [f"changes: {line}" for line in exc.problems]) from None


def scenario_paths(scenario: Scenario) -> tuple[dict[str, Any], set[str]]:
    """Every dotted path a factor can set, with its value, list items by name; and the index forms also accepted."""
    paths: dict[str, Any] = {}
    aliases: set[str] = set()

    def walk(node: Any, prefix: str, alias: bool) -> None:
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
            items = [(str(item.get("name", index)), item) for index, item in enumerate(node)]
            for index, item in enumerate(node):
                if "name" in item:
                    aliases.add(f"{prefix}.{index}")
                    walk(item, f"{prefix}.{index}", True)
        else:
            return
        for key, item in items:
            path = f"{prefix}.{key}" if prefix else key
            (aliases.add(path) if alias else paths.__setitem__(path, item))
            walk(item, path, alias)

    walk(scenario.model_dump(mode="python"), "", False)
    return paths, aliases


def _factor_changes(factors: list[Factor]) -> list[tuple[str, str, dict[str, Any]]]:
    """Where each level's changes are written in the file (factors.<path>, or factors.<name>.<variant>)."""
    entries = []
    for factor in factors:
        named = any(changes.keys() != {factor.name} for changes in factor.changes)
        for label, changes in zip(factor.labels, factor.changes, strict=True):
            entries.append((f"factors.{factor.name}" + (f".{label}" if named else ""), factor.name, changes))
    return entries


def _expanded(scenario: Scenario, changes: dict[str, Any]) -> dict[str, Any]:
    """`changes` with every `path+: items` made the list at the path in `scenario` with the items added."""
    if not any(path.endswith(APPEND) for path in changes):
        return changes
    data = scenario.model_dump(mode="python", exclude_none=True)
    try:
        return with_appends(changes, lambda path: _value_at(data, path))
    except ValueError as exc:
        raise ScenarioError("", [str(exc)]) from None


def _value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of a scenario's plain data (list items by name or index); None where there is
    none."""
    node = data
    for part in path.split("."):
        if isinstance(node, list):
            names = [item.get("name") if isinstance(item, dict) else None for item in node]
            if part in names:
                node = node[names.index(part)]
            elif part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return None
    return node


def _check_paths(base: Scenario, entries: list[tuple[str, str, dict[str, Any]]], source: str) -> None:
    """Every path set must exist in the base scenario; an unknown one names the valid paths near it. A path adding
    to a list (ending in `+`) must lead to a list."""
    paths, aliases = scenario_paths(base)
    data = base.model_dump(mode="python", exclude_none=True)
    setter: dict[str, str] = {}
    problems = []
    for where, factor, changes in entries:
        for path in changes:
            target = path.removesuffix(APPEND)
            if target not in paths and target not in aliases:
                problems.append(f"{where}: {_unknown_path(target, paths, data)}")
            elif path.endswith(APPEND) and not isinstance(_value_at(data, target), list):
                problems.append(
                    f"{where}: {path}: {target} is not a list; '+' adds items to a list (e.g. roster+, "
                    "costs.technology+)"
                )
            elif setter.setdefault(path, factor) != factor:
                problems.append(f"{where}: {path} is also set by factor '{setter[path]}'; set it in one factor only")
    if problems:
        raise ExperimentError(source, list(dict.fromkeys(problems)))


def _unknown_path(path: str, paths: dict[str, Any], data: dict[str, Any]) -> str:
    """What is wrong with a path: an unset optional part, a near miss, an item of a list it does not hold (naming
    those it does, after a near miss too), or the names known where it goes astray."""
    parts = path.split(".")
    for depth in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:depth])
        if prefix in paths and paths[prefix] is None:
            return f"unknown path '{path}': {prefix} is not set in the model; set it whole ({prefix}: {{...}}) instead"
    near = _near(path, [p for p in paths if p.count(".") == path.count(".")]) or _near(path, list(paths))
    item = _unknown_item(parts, data)
    if near:
        return f"unknown path '{path}'; did you mean {' or '.join(near)}?" + (f" ({item})" if item else "")
    if item:
        return f"unknown path '{path}': {item}"
    for depth in range(len(parts) - 1, -1, -1):
        prefix = ".".join(parts[:depth])
        if depth and prefix not in paths:
            continue
        children = [
            p.rsplit(".", 1)[-1] for p in paths if p.count(".") == depth and (not depth or p.startswith(prefix + "."))
        ]
        if children:
            return f"unknown path '{path}'; known under {prefix or 'the scenario'}: {', '.join(children)}"
    return f"unknown path '{path}'"


def _unknown_item(parts: list[str], data: dict[str, Any]) -> str:
    """When a path names an item a list does not hold: the names it holds, or how to address unnamed items; ""
    otherwise."""
    for depth in range(1, len(parts)):
        where = ".".join(parts[:depth])
        items = _value_at(data, where)
        if not (isinstance(items, list) and items and all(isinstance(item, dict) for item in items)):
            continue
        if _value_at(data, ".".join(parts[: depth + 1])) is not None:
            continue
        names = [str(item["name"]) for item in items if "name" in item]
        last = len(items) - 1
        if not names:
            return (
                f"the items of {where} have no names; give each a name ({where}[].name) or address them by index "
                f"(0{f' to {last}' if last else ''})"
            )
        unnamed = [str(i) for i, item in enumerate(items) if "name" not in item]
        return f"no item '{parts[depth]}' in {where}; known: {', '.join(names)}" + (
            f"; the others by index ({', '.join(unnamed)})" if unnamed else ""
        )
    return ""


def _near(path: str, candidates: list[str]) -> list[str]:
    """The closest paths (difflib), keeping only those about as close as the best."""
    near = difflib.get_close_matches(path, candidates, n=3, cutoff=0.6)
    ratios = [difflib.SequenceMatcher(None, path, other).ratio() for other in near]
    return [other for other, ratio in zip(near, ratios, strict=True) if ratio >= ratios[0] - 0.03]


def _cells(base: Scenario, factors: list[Factor], source: str) -> list[Cell]:
    """Every combination of factor levels as a validated scenario; bad values name the cell and the field."""
    for factor in factors:
        twice = [label for i, label in enumerate(factor.labels) if label in factor.labels[:i]]
        if twice:
            raise ExperimentError(source, [f"factors.{factor.name}: the level {twice[0]!r} is given twice"])
    cells, problems = [], {}
    for index, levels in enumerate(itertools.product(*(range(len(f.labels)) for f in factors))):
        labels = {f.name: f.labels[level] for f, level in zip(factors, levels, strict=True)}
        changes = {
            path: value for f, level in zip(factors, levels, strict=True) for path, value in f.changes[level].items()
        }
        scales = {f.scale: f.labels[level] for f, level in zip(factors, levels, strict=True) if f.scale}
        try:
            cells.append(Cell(index, labels, scaled(base.updated(_expanded(base, changes)), scales)))
        except ScenarioError as exc:
            for line in exc.problems:
                problems.setdefault(line, []).append((index, labels))
    if problems:
        lines = []
        for line, where in problems.items():
            (index, labels), others = where[0], [str(i) for i, _ in where[1:]]
            shown = ", ".join(f"{name} = {label}" for name, label in labels.items())
            also = f" (also cells {', '.join(others[:10])}{', ...' if len(others) > 10 else ''})" if others else ""
            lines.append(f"factors: cell {index} ({shown}): {line}{also}")
        raise ExperimentError(source, lines)
    return cells


def _check_workload(cells: list[Cell], replications: int, source: str) -> None:
    """Every cell's task within the limits of a run, and the whole sweep within the limits of a sweep."""
    labels = [
        f"factors: cell {cell.index} ({', '.join(f'{name} = {label}' for name, label in cell.labels.items())}): "
        if cell.labels
        else ""
        for cell in cells
    ]
    problems = workload.sweep_problems([workload.estimate(cell.scenario) for cell in cells], replications, labels)
    if problems:
        raise ExperimentError(source, problems)
