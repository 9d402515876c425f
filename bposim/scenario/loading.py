"""Loading scenario files: YAML into a validated Scenario, with readable errors.

Every YAML file bposim reads (scenarios, experiments, a run's scenario.yaml) goes through `load_yaml_mapping`:
`yaml.safe_load` semantics (plain data, never Python objects), the libyaml C parser where it is installed, and
limits checked on the parse events before anything is built, so that a hostile file (deep nesting, an alias
bomb, a duplicated key) is refused at once, in little memory, with the line it is on.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bposim.scenario.centre import Scenario
from bposim.scenario.common import MAX_FILE_BYTES
from bposim.scenario.errors import ScenarioError, format_validation_error

__all__ = ["ScenarioError", "format_validation_error", "load_scenario", "load_yaml_mapping"]

MAX_DEPTH = 64
"""Nesting levels of lists and mappings a file may have."""
MAX_NODES = 1_000_000
"""Values a file may hold once every alias is expanded (an alias counts as the whole node it refers to)."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MAPPING = "a mapping of fields (name:, horizon:, ...)"


class _Refused(Exception):
    """A file the event checks refuse, with the line-located problem."""


@dataclass
class _Collection:
    """An open list or mapping during the event checks."""

    anchor: str | None
    nodes_before: int
    mapping: bool
    expect_key: bool = True
    keys: dict[str, int] = field(default_factory=dict)


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping, with file-level problems raised as ScenarioError."""
    path = Path(path)
    text = _read_text(path)
    try:
        _check_events(text)
        data = yaml.load(text, Loader=_LOADER)  # a SafeLoader: plain data only
    except _Refused as exc:
        raise ScenarioError(str(path), [str(exc)]) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise ScenarioError(str(path), [f"line {line}: character {character!r} is not allowed in YAML"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ScenarioError(str(path), [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        held = "it is empty" if data is None else "it holds a list" if isinstance(data, list) else "it holds one value"
        raise ScenarioError(str(path), [f"the file must hold {_MAPPING}; {held}"])
    return data


def _read_text(path: Path) -> str:
    """The file's text: at most MAX_FILE_BYTES of UTF-8 (a byte-order mark is dropped)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read the file ({exc.__class__.__name__})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(str(path), [f"the file is larger than {MAX_FILE_BYTES // 2**20} MB; scenario and "
                                        "experiment files are plain text of a few kB"])  # fmt: skip
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ScenarioError(str(path), ["the file is UTF-16 text; save it as UTF-8"])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(str(path), [f"line {line}: byte {raw[exc.start]:#04x} is not UTF-8 text; save the file "
                                        "as UTF-8"]) from None  # fmt: skip


def _check_events(text: str) -> None:
    """Refuse deep nesting, alias bombs and duplicated keys, streaming the parse events before anything is built.

    The parser is iterative, so this is safe on any input; each alias counts as the size of the node it names.
    """
    nodes = 0
    sizes: dict[str, int] = {}
    open_collections: list[_Collection] = []
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.CollectionEndEvent):
            done = open_collections.pop()
            if done.anchor is not None:
                sizes[done.anchor] = nodes - done.nodes_before
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if open_collections and open_collections[-1].mapping:
            _check_key(open_collections[-1], event, line)
        if isinstance(event, yaml.AliasEvent):
            if any(collection.anchor == event.anchor for collection in open_collections):
                raise _Refused(f"line {line}: the alias *{event.anchor} is inside the node &{event.anchor} it names")
            nodes += sizes.get(event.anchor, 1)
        else:
            nodes += 1
        if nodes > MAX_NODES:
            raise _Refused(f"line {line}: the file holds more than {MAX_NODES:,} values once its aliases (*name) are "
                           "expanded")  # fmt: skip
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_collections) >= MAX_DEPTH:
                raise _Refused(f"line {line}: lists and mappings are nested more than {MAX_DEPTH} levels deep")
            mapping = isinstance(event, yaml.MappingStartEvent)
            open_collections.append(_Collection(event.anchor, nodes - 1, mapping))
        elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            sizes[event.anchor] = 1


def _check_key(mapping: _Collection, event: yaml.NodeEvent, line: int) -> None:
    """Keys of a mapping alternate with values; a plain key given twice is refused (merge keys `<<` may repeat
    keys they bring in: those given in the mapping itself win)."""
    is_key, mapping.expect_key = mapping.expect_key, not mapping.expect_key
    if not is_key or not isinstance(event, yaml.ScalarEvent):
        return
    if event.value in mapping.keys:
        raise _Refused(f"line {line}: key '{event.value}' is given twice (first on line {mapping.keys[event.value]})")
    mapping.keys[event.value] = line


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; problems raise ScenarioError naming the file and field path."""
    data = load_yaml_mapping(path)
    try:
        return Scenario.model_validate(data, context={"base_dir": str(Path(path).parent)})
    except ScenarioError as exc:
        raise ScenarioError(str(path), exc.problems) from None
