"""YAML text with comments: a small block-style emitter for plain data (mappings, lists, scalars), with comment lines
before the keys a path names. Scalars are written by PyYAML's safe dumper, so `yaml.safe_load` reads back exactly
the data given; short mappings and lists of scalars are written in flow style (`{distribution: gamma, ...}`), long
lists of numbers wrapped ten to a line."""

from __future__ import annotations

import datetime
import textwrap
from typing import Any

import yaml

Path = tuple[str | int, ...]
FLOW_WIDTH = 100
PER_LINE = 10
WIDTH = 118  # comment lines are wrapped to this width
LINE_BREAKS = "\r\n\x85\u2028\u2029"  # what YAML reads as the end of a line: never inside a comment


def _comment(lines: list[str], pad: str) -> list[str]:
    """Comment lines at `pad`, each wrapped to WIDTH."""
    wrapped = []
    for line in lines:
        line = "".join(" " if character in LINE_BREAKS else character for character in line)
        wrapped += [f"{pad}# {part}" for part in textwrap.wrap(line, WIDTH - len(pad) - 2, break_on_hyphens=False)]
        wrapped += [f"{pad}#"] if not line else []
    return wrapped


CONTEXTS = {"key": "{}: 0", "value": "k: {}", "item": "- {}", "flow": "[{}]"}


def _reads_back(text: str, value: Any, where: str) -> bool:
    """Whether `text` reads back as `value` as a key, a value or inside [...]."""
    try:
        loaded = yaml.safe_load(CONTEXTS[where].format(text))
    except yaml.YAMLError:
        return False
    expected = {value: 0} if where == "key" else {"k": value} if where == "value" else [value]  # item, flow: [v]
    return loaded == expected


def scalar(value: Any, where: str = "value") -> str:
    """One scalar as YAML writes it: plain where a plain one reads back as it is in that place (a key, a value,
    inside [...] or {...}), else double-quoted with escapes."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = yaml.safe_dump(value, default_flow_style=True, width=10**9, allow_unicode=True).strip()
    text = text.removesuffix("\n...").removesuffix("...").strip()
    if isinstance(value, str) and not _reads_back(text, value, where):
        text = yaml.safe_dump(value, default_style='"', width=10**9).strip()
    return text


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k, 'flow')}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value, "flow")


def _flowable(value: Any) -> bool:
    if _is_scalar(value) or not value:
        return True
    children = list(value.values() if isinstance(value, dict) else value)
    if any(_numbers(v) for v in children):
        return False
    return all(_is_scalar(v) or (isinstance(v, list) and all(map(_is_scalar, v))) for v in children) and (
        len(_flow(value)) <= FLOW_WIDTH
    )


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and len(value) > PER_LINE and all(isinstance(v, int | float) for v in value)


def _wrapped(values: list, pad: str) -> list[str]:
    """A long list of numbers in flow style, PER_LINE to a line, the lines indented under their key."""
    rows = [", ".join(scalar(v) for v in values[i : i + PER_LINE]) for i in range(0, len(values), PER_LINE)]
    return ["[", *(f"{pad}  {row}," for row in rows), f"{pad}]"]


def _block(value: Any, indent: int, path: Path, comments: dict[Path, list[str]]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            lines += _comment(comments.get((*path, key), []), pad)
            lines += _entry(f"{pad}{scalar(key, 'key')}:", item, indent, (*path, key), comments)
        return lines
    for number, item in enumerate(value):
        lines += _comment(comments.get((*path, number), []), pad)
        if _is_scalar(item):
            lines.append(f"{pad}- {scalar(item, 'item')}")
            continue
        if _flowable(item):
            lines.append(f"{pad}- {_flow(item)}")
            continue
        inner = _block(item, indent + 2, (*path, number), comments)
        first = next(i for i, line in enumerate(inner) if not line.lstrip().startswith("#"))
        inner[first] = f"{pad}- {inner[first][indent + 2 :]}"
        lines += inner
    return lines


def _folded(head: str, value: Any, indent: int) -> list[str]:
    """`key: value`, a long plain string folded over lines indented under the key (YAML joins them with a space)
    when it reads back the same, else on one line."""
    text = scalar(value)
    if not isinstance(value, str) or len(head) + len(text) < WIDTH or text[0] in "'\"":
        return [f"{head} {text}"]
    wrapper = textwrap.TextWrapper(
        WIDTH, initial_indent=f"{head} ", subsequent_indent=" " * (indent + 2), break_long_words=False
    )
    wrapper.break_on_hyphens = False
    folded = wrapper.wrap(text)
    if yaml.safe_load("k: " + "\n".join(folded)[len(head) + 1 :]) == {"k": value}:
        return folded
    return [f"{head} {text}"]


def _entry(head: str, item: Any, indent: int, path: Path, comments: dict[Path, list[str]]) -> list[str]:
    if _is_scalar(item):
        return _folded(head, item, indent)
    if _numbers(item):
        wrapped = _wrapped(item, " " * indent)
        return [f"{head} {wrapped[0]}", *wrapped[1:]]
    if _flowable(item):
        return [f"{head} {_flow(item)}"]
    return [head, *_block(item, indent + 2, path, comments)]


def dump(data: dict, comments: dict[Path, list[str]] | None = None, header: list[str] | None = None) -> str:
    """`data` as YAML text: `header` as comment lines on top, `comments[path]` as lines before the key (or list
    item) at that path (keys and list indices, e.g. ("call_types", 0, "arrivals"))."""
    lines = _comment(header or [], "")
    lines += _block(data, 0, (), comments or {}) if data else ["{}"]
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != data:
        raise AssertionError("the YAML written does not read back as the data given")
    return text
