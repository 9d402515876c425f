"""Reading a planner's files: an interval history (what the ACD reports per interval) and a call-level log.

Headers are matched case-insensitively, ignoring spaces, underscores and punctuation, against a few usual names per
column ("Calls Offered", "offered", "OFFERED" are one column); `Recognised.lines()` says which header became
which column. Values are checked row by row: a date that does not parse, a negative or fractional count, an
interval not on a clock time, an unknown outcome is refused naming the file, the row (as a spreadsheet numbers it:
the header is row 1) and the column, and what is allowed. CSV and Excel (.xlsx, first sheet) are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from bposim.fitting.errors import FitError

MAX_PROBLEMS = 10  # problems listed per file; the count of the rest follows


class Column(NamedTuple):
    """A column a file may hold: its name here, the headers accepted for it, whether it must be there."""

    name: str
    headers: tuple[str, ...]
    required: bool = True


CALL_TYPE = ("call type", "calltype", "queue", "skill", "split", "service", "application", "line")
HISTORY_COLUMNS = (
    Column("date", ("date", "day", "report date", "calendar date")),
    Column("interval_start", ("interval start", "interval", "start", "time", "period start", "interval time")),
    Column("call_type", CALL_TYPE),
    Column("offered", ("offered", "calls offered", "contacts offered", "volume", "received", "calls")),
    Column("handled", ("handled", "answered", "calls handled", "calls answered")),
    Column("abandoned", ("abandoned", "abandons", "calls abandoned", "aband")),
    Column(
        "aht_seconds",
        ("average handle time", "avg handle time", "aht", "aht seconds", "aht s", "handle time", "aht sec"),
    ),
    Column(
        "average_wait_seconds",
        ("average wait", "avg wait", "asa", "average speed of answer", "avg wait time", "average wait seconds"),
        required=False,
    ),
    Column("service_level", ("service level", "sl", "service level percent", "svl"), required=False),
)
CALL_LOG_COLUMNS = (
    Column("arrival", ("arrival", "arrival time", "arrived", "call start", "start time", "timestamp"), False),
    Column("call_type", CALL_TYPE),
    Column("wait_seconds", ("wait", "wait seconds", "wait time", "queue time", "time in queue", "queue seconds")),
    Column("outcome", ("outcome", "result", "disposition", "status")),
    Column("talk_seconds", ("talk", "talk seconds", "talk time", "talk duration")),
    Column("wrap_seconds", ("wrap", "wrap seconds", "wrap up", "wrapup", "acw", "after call work", "wrap time")),
)
OUTCOMES = {
    "answered": "answered",
    "handled": "answered",
    "abandoned": "abandoned",
    "abandon": "abandoned",
    "balked": "balked",
}


@dataclass
class Recognised:
    """Which header of a file became which column, and the headers left unused."""

    path: Path
    matched: dict[str, str] = field(default_factory=dict)  # column -> header as written
    unused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """ "Date → date", one per column found, then the headers not used."""
        found = [f"{header!r} → {name}" for name, header in self.matched.items()]
        tail = [f"not used: {', '.join(map(repr, self.unused))}"] if self.unused else []
        return [f"{self.path.name}: {', '.join(found)}", *tail]


def _key(header: object) -> str:
    """A header reduced for matching: lower case, letters and digits, single spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", str(header).lower()).split())


def _read_table(path: Path) -> pd.DataFrame:
    """The first sheet of an .xlsx, or a CSV, as text and numbers; a missing or unreadable file is a FitError."""
    if not path.is_file():
        raise FitError(str(path), ["no such file"])
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            table = pd.read_excel(path, sheet_name=0)
        else:
            table = pd.read_csv(path, skipinitialspace=True)
    except ImportError as exc:
        raise FitError(str(path), [f"cannot read Excel files here ({exc}); save the sheet as CSV"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FitError(
            str(path), [f"cannot read this file as a table (CSV with a header row, or .xlsx): {reason}"]
        ) from None
    if table.empty:
        raise FitError(str(path), ["no rows under the header"])
    return table


def _recognise(table: pd.DataFrame, path: Path, columns: tuple[Column, ...]) -> tuple[pd.DataFrame, Recognised]:
    """The table with its columns renamed to ours, and what was recognised; missing required columns refused."""
    recognised = Recognised(path)
    by_key = {_key(header): header for header in table.columns}
    for column in columns:
        header = next((by_key[key] for key in map(_key, column.headers) if key in by_key), None)
        if header is not None:
            recognised.matched[column.name] = str(header)
    missing = [column for column in columns if column.required and column.name not in recognised.matched]
    if missing:
        problems = [
            f"missing column {column.name!r}; headers accepted for it (any case): {', '.join(column.headers)}"
            for column in missing
        ]
        raise FitError(str(path), [*problems, f"headers in the file: {', '.join(map(str, table.columns))}"])
    used = set(recognised.matched.values())
    recognised.unused = [str(header) for header in table.columns if str(header) not in used]
    renamed = table[[recognised.matched[name] for name in recognised.matched]].copy()
    renamed.columns = list(recognised.matched)
    return renamed, recognised


def _shown(value: object) -> str:
    """A cell's value for a message: 'blank', a quoted text, or the number."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "blank"
    return repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float | int) else str(value)


def _row_problems(mask: pd.Series, values: pd.Series, header: str, allowed: str) -> list[str]:
    """One problem per bad row (at most MAX_PROBLEMS, then a count): 'row N, column 'H': 'value'; allowed'."""
    rows = list(mask[mask].index)
    problems = [f"row {row + 2}, column {header!r}: {_shown(values[row])}; {allowed}" for row in rows[:MAX_PROBLEMS]]
    if len(rows) > MAX_PROBLEMS:
        problems.append(f"... and {len(rows) - MAX_PROBLEMS} more rows like these in column {header!r}")
    return problems


def _numbers(table: pd.DataFrame, name: str, header: str, problems: list[str], *, whole: bool) -> pd.Series:
    """A column of numbers ≥ 0 (whole numbers for counts); blanks and text are problems."""
    values = pd.to_numeric(table[name], errors="coerce")
    allowed = "counts must be whole numbers ≥ 0" if whole else "a number of seconds ≥ 0 is allowed"
    bad = values.isna() | (values < 0) | ~np.isfinite(values.fillna(0))
    if whole:
        bad |= values.fillna(0) % 1 != 0
    problems += _row_problems(bad, table[name], header, allowed)
    return values


def _seconds(table: pd.DataFrame, name: str, header: str, problems: list[str], *, blank_ok: bool) -> pd.Series:
    """Durations in seconds, written as numbers or as [hh:]mm:ss; blanks allowed where `blank_ok`."""
    raw = table[name]
    values = pd.to_numeric(raw, errors="coerce")
    text = raw.astype(str).str.strip()
    clock = text.str.fullmatch(r"(\d+:)?\d{1,2}:\d{2}(\.\d+)?")
    if clock.any():
        padded = text[clock].where(text[clock].str.count(":") == 2, "0:" + text[clock])
        values[clock] = pd.to_timedelta(padded, errors="coerce").dt.total_seconds()
    blank = raw.isna() | (text == "")
    bad = (values.isna() & ~(blank & blank_ok)) | (values < 0)
    problems += _row_problems(bad, raw, header, "seconds ≥ 0, as a number or [hh:]mm:ss")
    return values


def _dates(table: pd.DataFrame, header: str, problems: list[str]) -> pd.Series:
    """Dates (YYYY-MM-DD, or dates Excel stored), at midnight."""
    raw = table["date"]
    dates = pd.to_datetime(raw, errors="coerce", format="ISO8601") if raw.dtype == object else raw
    dates = pd.to_datetime(dates, errors="coerce")
    problems += _row_problems(dates.isna(), raw, header, "a date is YYYY-MM-DD")
    return dates.dt.normalize()


def _clock_seconds(table: pd.DataFrame, header: str, problems: list[str]) -> pd.Series:
    """Interval starts as seconds after midnight, from HH:MM[:SS] (or a time Excel stored)."""
    raw = table["interval_start"]
    text = raw.astype(str).str.strip().str.extract(r"(?:^|\s)(\d{1,2}):(\d{2})(?::(\d{2}))?$")
    seconds = text[0].astype(float) * 3600 + text[1].astype(float) * 60 + text[2].astype(float).fillna(0.0)
    bad = seconds.isna() | (seconds >= 86400) | (text[1].astype(float) >= 60)
    problems += _row_problems(bad, raw, header, "an interval start is a clock time HH:MM (00:00 to 23:59)")
    return seconds


def _share(table: pd.DataFrame, header: str, problems: list[str]) -> pd.Series:
    """Service level as a share: 0.85, 85% or 85 (a column with a value above 1 is read as per cent)."""
    text = table["service_level"].astype(str).str.strip()
    percent = text.str.endswith("%")
    values = pd.to_numeric(text.str.rstrip("%"), errors="coerce")
    if percent.any() or (values > 1).any():
        values = values / 100
    blank = table["service_level"].isna() | (text == "")
    bad = (values.isna() & ~blank) | (values < 0) | (values > 1)
    problems += _row_problems(bad, table["service_level"], header, "a share from 0 to 1, or a per cent to 100%")
    return values


def _raise_if(path: Path, problems: list[str]) -> None:
    if problems:
        raise FitError(str(path), problems)


def read_history(path: str | Path) -> tuple[pd.DataFrame, Recognised]:
    """An interval history: one row per date × interval × call type with `date` (datetime64, midnight),
    `interval_start` (seconds after midnight), `call_type`, `offered`, `handled`, `abandoned` (whole numbers),
    `aht_seconds`, and `average_wait_seconds`, `service_level` when the file has them; `row` is the file's row."""
    path = Path(path)
    table, recognised = _recognise(_read_table(path), path, HISTORY_COLUMNS)
    header = recognised.matched
    problems: list[str] = []
    history = pd.DataFrame({"row": table.index + 2, "date": _dates(table, header["date"], problems)})
    history["interval_start"] = _clock_seconds(table, header["interval_start"], problems)
    history["call_type"] = table["call_type"].astype(str).str.strip()
    problems += _row_problems(table["call_type"].isna(), table["call_type"], header["call_type"], "name the call type")
    for name in ("offered", "handled", "abandoned"):
        history[name] = _numbers(table, name, header[name], problems, whole=True)
    history["aht_seconds"] = _seconds(table, "aht_seconds", header["aht_seconds"], problems, blank_ok=True)
    if "average_wait_seconds" in table:
        wait_header = header["average_wait_seconds"]
        history["average_wait_seconds"] = _seconds(table, "average_wait_seconds", wait_header, problems, blank_ok=True)
    if "service_level" in table:
        history["service_level"] = _share(table, header["service_level"], problems)
    _raise_if(path, problems)
    over = history["handled"] + history["abandoned"] > history["offered"]
    problems += [
        f"row {row}: handled + abandoned ({handled:g} + {abandoned:g}) exceed offered ({offered:g}); "
        "offered counts every call that reached the queue"
        for row, handled, abandoned, offered in history.loc[over, ["row", "handled", "abandoned", "offered"]]
        .head(MAX_PROBLEMS)
        .itertuples(index=False)
    ]
    for name in ("offered", "handled", "abandoned"):
        history[name] = history[name].astype(np.int64)
    _raise_if(path, problems)
    return history, recognised


def read_call_log(path: str | Path) -> tuple[pd.DataFrame, Recognised]:
    """A call-level log: one row per call with `call_type`, `wait_seconds`, `outcome` (answered, abandoned or
    balked), `talk_seconds` and `wrap_seconds` (blank unless answered), and `arrival` when the file has it."""
    path = Path(path)
    table, recognised = _recognise(_read_table(path), path, CALL_LOG_COLUMNS)
    header = recognised.matched
    problems: list[str] = []
    log = pd.DataFrame({"row": table.index + 2, "call_type": table["call_type"].astype(str).str.strip()})
    outcome = table["outcome"].astype(str).str.strip().str.lower()
    log["outcome"] = outcome.map(OUTCOMES)
    problems += _row_problems(
        log["outcome"].isna(), table["outcome"], header["outcome"], "outcomes are answered, abandoned or balked"
    )
    log["wait_seconds"] = _seconds(table, "wait_seconds", header["wait_seconds"], problems, blank_ok=False)
    for name in ("talk_seconds", "wrap_seconds"):
        log[name] = _seconds(table, name, header[name], problems, blank_ok=True)
    answered = log["outcome"] == "answered"
    problems += _row_problems(
        answered & log["talk_seconds"].isna(),
        table["talk_seconds"],
        header["talk_seconds"],
        "an answered call needs its talk seconds",
    )
    if "arrival" in table:
        log["arrival"] = pd.to_datetime(table["arrival"], errors="coerce", format="mixed")
        problems += _row_problems(
            log["arrival"].isna(),
            table["arrival"],
            header["arrival"],
            "an arrival is a date and time, YYYY-MM-DD HH:MM:SS",
        )
    _raise_if(path, problems)
    log["wrap_seconds"] = log["wrap_seconds"].where(~answered | log["wrap_seconds"].notna(), 0.0)
    return log, recognised
