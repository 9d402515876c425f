"""Workbooks for Excel: one sheet per table, as a planner opens it.

    import pandas as pd
    from bposim.excel import write_workbook
    kpis = pd.DataFrame({"call_type": ["sales"], "service_level": [0.873], "asa_seconds": [14.2], "total_cost": [980]})
    write_workbook("kpis.xlsx", {"KPIs": kpis}, currency="EUR")   # "Service level" 87.3%, "Total cost (EUR)"

Each sheet has a bold header row frozen at the top with a filter on it, and columns wide enough for what they
hold. Headers read as words with their units: `asa_seconds` is "ASA (s)", `oldest_age_hours` "Oldest age (h)",
`total_cost` "Total cost (EUR)" (the scenario's currency; revenue, credits, bonuses and margin too),
`service_level_ci` "Service level ± 95% CI", a probability `p_penalty` "P(penalty)", a sweep's
`sales.service_level` "sales: Service level". Values stay numbers (never text): shares (service level,
occupancy, rates, targets) in a percent format, seconds with a decimal, money with two; pandas datetimes are dates
and times ("Mon 2027-03-01 08:30"), `datetime.time` values clock times, time spans hours ("32:30:00"); NaN is an
empty cell. The caller chooses what the sheets hold (`bposim.workbooks` for the commands); this module only writes.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import numpy as np
import pandas as pd

from bposim.files import write_atomically

SUFFIX = ".xlsx"
MAX_ROWS = 1_048_575  # Excel's rows a sheet, less the header
MAX_WIDTH = 48  # characters: a wider column (a list of breaks) wraps in Excel rather than pushing the rest away
_SAMPLE_ROWS = 500  # rows looked at to size a column
_WORDS = {"asa": "ASA", "aht": "AHT", "fcr": "FCR", "id": "ID", "ci": "CI", "kpi": "KPI"}
_UNITS = {"seconds": "s", "hours": "h", "minutes": "min"}
_SHARES = ("service_level", "occupancy", "target", "fcr", "share", "rate", "level_excluding_exempt")
_MONEY = ("cost", "amount", "unit_cost", "revenue", "net_revenue", "credits", "bonuses", "margin")
_BAD_SHEET_CHARACTERS = str.maketrans({character: " " for character in "[]:*?/\\"})


def xlsx_problem(path: str | Path) -> str | None:
    """What is wrong with `path` as a workbook to write, or None: it must end in .xlsx and its directory exist."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        return f"{path}: a workbook's name ends in {SUFFIX} (e.g. {path.with_suffix(SUFFIX).name})"
    if not path.parent.is_dir():
        return f"{path}: directory {path.parent} does not exist; create it first or give another path"
    return None


def write_workbook(path: str | Path, sheets: dict[str, pd.DataFrame], *, currency: str | None = None) -> Path:
    """Write one sheet per table of `sheets` (in its order; a name cut to Excel's 31 characters) to `path`, whole or
    not at all; money headers carry `currency`. Returns `path`; raises ValueError for a path that is not .xlsx in an
    existing directory, no sheets or a table longer than a sheet (MAX_ROWS), and a `bposim.files.WriteError` when
    the file cannot be written."""
    from openpyxl import Workbook

    problem = xlsx_problem(path)
    if problem is not None:
        raise ValueError(problem)
    if not sheets:
        raise ValueError(f"{path}: no tables to write")
    for title, table in sheets.items():
        if len(table) > MAX_ROWS:
            raise ValueError(
                f"{path}: table '{title}' has {len(table):,} rows; a sheet holds {MAX_ROWS:,} below its header "
                "(the CSV and Parquet files hold any number)"
            )
    book = Workbook()
    book.remove(book.active)
    for title, table in sheets.items():
        _fill(book.create_sheet(_sheet_title(title, book.sheetnames)), table, currency)
    return write_atomically(path, book.save)


def header(column: str, currency: str | None = None) -> str:
    """The header of a column: its words and unit, e.g. "ASA (s)", "Total cost (EUR)", "sales: Service level"."""
    owner, dot, key = str(column).rpartition(".")
    if dot:
        return f"{owner}: {header(key, currency)}"
    ci = key.endswith("_ci")
    key = key.removesuffix("_ci")
    words = key.split("_")
    unit = _UNITS.get(words[-1]) if len(words) > 1 else None
    if unit:
        words = words[:-1]
    elif _money(key) and currency:
        unit = currency
    text = " ".join(_WORDS.get(word, word) for word in words)
    text = f"P({text[2:]})" if words[0] == "p" and len(words) > 1 else text[:1].upper() + text[1:]
    return text + (f" ({unit})" if unit else "") + (" ± 95% CI" if ci else "")


def _money(key: str) -> bool:
    return key in _MONEY or key.startswith("cost_") or key.endswith("_cost") or "cost_per" in key


def _share(key: str) -> bool:
    key = key.rpartition(".")[2].removesuffix("_ci")
    return key.endswith(_SHARES) or key.startswith(("service_level", "p_"))


def _number_format(column: str, values: pd.Series) -> str | None:
    """The Excel number format of a column, from its name and dtype (None: Excel's general format)."""
    key = str(column).rpartition(".")[2].removesuffix("_ci")
    if pd.api.types.is_datetime64_any_dtype(values):
        times = values.dropna()
        midnight = bool(len(times)) and bool((times == times.dt.normalize()).all())
        return "ddd yyyy-mm-dd" if midnight else "ddd yyyy-mm-dd hh:mm"
    if pd.api.types.is_timedelta64_dtype(values):
        return "[h]:mm:ss"
    if len(values) and isinstance(values.dropna().iloc[0] if values.notna().any() else None, datetime.time):
        return "hh:mm"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    if _share(str(column)):
        return "0.0%"
    if _money(key):
        return "#,##0.00"
    if pd.api.types.is_integer_dtype(values):
        return "#,##0"
    if key.endswith(("_seconds", "_hours", "_minutes")) or key in ("wait", "arrival", "answer", "end", "start"):
        return "#,##0.0"
    return "#,##0.00"


def _fill(sheet, table: pd.DataFrame, currency: str | None) -> None:
    """The table on `sheet`: bold frozen header with a filter, typed values, number formats, column widths."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    labels = [header(column, currency) for column in table.columns]
    sheet.append(labels)
    for cell in sheet[1]:
        cell.font = bold
    columns = [_cells(table[column]) for column in table.columns] if len(table.columns) else []
    for row in zip(*columns, strict=True):
        sheet.append(row)
    for index, column in enumerate(table.columns, start=1):
        letter = get_column_letter(index)
        spec = _number_format(column, table[column])
        if spec is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = spec
        sheet.column_dimensions[letter].width = _width(labels[index - 1], table[column], spec)
    sheet.freeze_panes = "A2"
    if len(table.columns):
        sheet.auto_filter.ref = sheet.dimensions


def _cells(values: pd.Series) -> list:
    """A column's values as Excel takes them: Python numbers, booleans, text, datetimes; None for missing."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return [None if pd.isna(value) else value.to_pydatetime() for value in values]
    if pd.api.types.is_timedelta64_dtype(values):
        return [None if pd.isna(value) else value.to_pytimedelta() for value in values]
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return [_plain(value) for value in values.tolist()]


def _plain(value: object) -> object:
    """One value as Excel takes it (NaN, NA and None empty; numpy scalars plain; other objects as text)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, bool | int | str | datetime.datetime | datetime.date | datetime.time):
        return value
    return str(value)


def _width(label: str, values: pd.Series, spec: str | None) -> float:
    """Characters wide enough for the header and the widest of the first rows as shown, within MAX_WIDTH."""
    sample = values.iloc[:_SAMPLE_ROWS]
    if spec is not None and spec.startswith("ddd"):
        shown = len("Mon 2027-03-01 08:30") if "hh" in spec else len("Mon 2027-03-01")
    elif spec in ("hh:mm", "[h]:mm:ss"):
        shown = len(spec) + 1
    elif spec is not None:
        numbers = pd.to_numeric(sample, errors="coerce").dropna().abs()
        biggest = float(numbers.max()) if len(numbers) else 0.0
        shown = len(f"{biggest * (100 if '%' in spec else 1):,.2f}") + 2
    else:
        shown = max((len(str(value)) for value in sample.tolist()), default=0)
    return float(min(max(len(label), shown) + 2, MAX_WIDTH))


def _sheet_title(title: str, taken: list[str]) -> str:
    """A sheet name Excel accepts: none of []:*?/\\, at most 31 characters, not one already taken."""
    text = (str(title).translate(_BAD_SHEET_CHARACTERS).strip() or "Sheet")[:31]
    candidate, number = text, 2
    while candidate.lower() in (name.lower() for name in taken):
        suffix = f" {number}"
        candidate, number = text[: 31 - len(suffix)] + suffix, number + 1
    return candidate
