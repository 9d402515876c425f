"""Loading scenario files: YAML into a validated Scenario, with readable errors.

Every YAML file bposim reads (scenarios, experiments, a run's scenario.yaml) goes through `load_yaml_mapping`:
`yaml.safe_load` semantics (plain data, never Python objects), the libyaml C parser where it is installed, and
the data built from the stream of parse events with its limits checked as they come, so that a hostile file
(deep nesting, an alias bomb, a duplicated key) is refused at once, in little memory, with the line it is on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bposim.scenario.centre import Scenario
from bposim.scenario.common import read_text_file
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


_NO_KEY = object()
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "timestamp")}


@dataclass
class _Collection:
    """A list or mapping being read from the events: its data so far, and what the checks need."""

    anchor: str | None
    nodes_before: int
    data: dict | list
    key: Any = _NO_KEY  # a mapping's key waiting for its value
    keys: dict[str, int] = field(default_factory=dict)  # each key's text and line, to find one given twice


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping, with file-level problems raised as ScenarioError."""
    path = Path(path)
    text = _read_text(path)
    try:
        built, data = _read_events(text)
        if not built:
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
    except ValueError as exc:  # a value PyYAML's constructors refuse, such as the date 2024-13-45
        raise ScenarioError(str(path), [f"not valid YAML ({exc})"]) from None
    if not isinstance(data, dict):
        held = "it is empty" if data is None else "it holds a list" if isinstance(data, list) else "it holds one value"
        raise ScenarioError(str(path), [f"the file must hold {_MAPPING}; {held}"])
    return data


def _read_text(path: Path) -> str:
    """The file's text: at most MAX_FILE_BYTES of UTF-8 (a byte-order mark is dropped)."""
    try:
        return read_text_file(path, "scenario and experiment files are plain text of a few kB")
    except FileNotFoundError:
        raise ScenarioError(str(path), ["file not found"]) from None
    except OSError as exc:
        raise ScenarioError(str(path), [f"cannot read the file ({exc.__class__.__name__})"]) from None
    except ValueError as exc:
        raise ScenarioError(str(path), [str(exc)]) from None


def _read_events(text: str) -> tuple[bool, Any]:
    """(built, data): the file's data built straight from the parse events, checked on the way for nesting depth,
    alias expansion and keys given twice, so nothing is built beyond the limits.

    The parser is iterative, so this is safe on any input; each alias counts as the size of the node it names.
    A file with explicit tags, merge keys (`<<`) or several documents is checked all the same but returned
    unbuilt (built False), for `yaml.load` to build with the same safe rules. Plain scalars are resolved once
    per distinct text, which keeps large files quick.
    """
    resolver, constructor = yaml.resolver.Resolver(), yaml.constructor.SafeConstructor()
    scalars: dict[tuple[str, str], Any] = {}
    anchors: dict[str, Any] = {}
    sizes: dict[str, int] = {}
    stack: list[_Collection] = []
    nodes, documents, built, root = 0, 0, True, None
    for event in yaml.parse(text, Loader=_LOADER):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            built = built and documents == 1
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            done = stack.pop()
            if done.anchor is not None:
                sizes[done.anchor], anchors[done.anchor] = nodes - done.nodes_before, done.data
            value: Any = done.data
        elif isinstance(event, yaml.NodeEvent):
            parent = stack[-1] if stack else None
            if (
                parent is not None
                and isinstance(parent.data, dict)
                and parent.key is _NO_KEY
                and isinstance(event, yaml.ScalarEvent)
            ):
                _check_key(parent, event.value, line)
            if isinstance(event, yaml.AliasEvent):
                if any(collection.anchor == event.anchor for collection in stack):
                    raise _Refused(
                        f"line {line}: the alias *{event.anchor} is inside the node &{event.anchor} it names"
                    )
                nodes += sizes.get(event.anchor, 1)
                built = built and event.anchor in anchors
                value = anchors.get(event.anchor)
            else:
                nodes += 1
            if nodes > MAX_NODES:
                raise _Refused(
                    f"line {line}: the file holds more than {MAX_NODES:,} values once its aliases (*name) are expanded"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(f"line {line}: lists and mappings are nested more than {MAX_DEPTH} levels deep")
                mapping = isinstance(event, yaml.MappingStartEvent)
                built = built and event.tag in (None, "!", _CORE + ("map" if mapping else "seq"))
                stack.append(_Collection(event.anchor, nodes - 1, {} if mapping else []))
                continue
            if isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag in (None, "!"):
                    tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag not in _SCALAR_TAGS:
                    built, value = False, None
                elif (tag, event.value) in scalars:
                    value = scalars[tag, event.value]
                else:
                    value = scalars[tag, event.value] = _construct(constructor, tag, event.value, line)
                if event.anchor is not None:
                    sizes[event.anchor], anchors[event.anchor] = 1, value
        else:
            continue
        if not stack:
            root = value
        elif isinstance(stack[-1].data, list):
            stack[-1].data.append(value)
        elif stack[-1].key is _NO_KEY:
            built = built and not isinstance(value, dict | list)
            stack[-1].key = value if built else None
        else:
            stack[-1].data[stack[-1].key] = value
            stack[-1].key = _NO_KEY
    return built, (root if built else None)


def _construct(constructor: yaml.constructor.SafeConstructor, tag: str, text: str, line: int) -> Any:
    """A scalar's value by PyYAML's safe constructor for its tag (int, float, bool, null, timestamp, str)."""
    try:
        return constructor.yaml_constructors[tag](constructor, yaml.ScalarNode(tag, text))
    except (ValueError, yaml.YAMLError) as exc:
        raise _Refused(f"line {line}: '{text}' is not a valid {tag.removeprefix(_CORE)} ({exc})") from None


def _check_key(mapping: _Collection, key: str, line: int) -> None:
    """A key given twice in one mapping is refused (keys that merge keys `<<` bring in may repeat one given in the
    mapping itself, which wins)."""
    if key in mapping.keys:
        raise _Refused(f"line {line}: key '{key}' is given twice (first on line {mapping.keys[key]})")
    mapping.keys[key] = line


def scenario_text(scenario: Scenario, drop: tuple[str, ...] = ()) -> str:
    """The scenario as the text of a scenario file that `load_scenario` reads back (fields in `drop` left out)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    for name in drop:
        data.pop(name, None)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=None, width=112)


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; problems raise ScenarioError naming the file and field path."""
    data = load_yaml_mapping(path)
    try:
        return Scenario.model_validate(data, context={"base_dir": str(Path(path).parent)})
    except ScenarioError as exc:
        raise ScenarioError(str(path), exc.problems) from None
