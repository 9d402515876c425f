"""A self-contained HTML report of a sweep or a run: the key table and the charts, plotly embedded (opens offline).

    from bposim.report import write_report
    write_report("out/multiskill_agents_ai", "out/multiskill_agents_ai/report.html")   # a sweep's results directory
    write_report("out/helpdesk", "out/helpdesk/report.html")   # `bposim run models/helpdesk.yaml --out out/helpdesk`

A sweep's report shows every cell ranked (those meeting the target overall and for every call type first, cheapest
first), service level against cost with the Pareto frontier, the cost breakdown per cell, and the recommended cell
over the day (all its replications pooled, then its first alone: from the kept tables, or simulated again from the
experiment file, which gives the same days). Costs are in the scenario's currency, per day when a replication is
one day.

Modules, by what they render: `sweep` (a sweep's results directory), `run` (a run's tables, and the day sections
a sweep's recommended cell shares), `roster` (an optimised roster), `html` (the page, its sections and tables),
`errors`.
"""

from __future__ import annotations

from pathlib import Path

from bposim.report.errors import ReportError
from bposim.report.html import Section, render, write_page
from bposim.report.roster import roster_report
from bposim.report.run import run_report, run_sections
from bposim.report.sweep import sweep_sections
from bposim.run import Run

__all__ = ["ReportError", "Section", "render", "report_sections", "roster_report", "run_report", "write_report"]


def write_report(results: str | Path, path: str | Path) -> Path:
    """Write the report of a sweep's results directory or a run's tables directory to `path`; return `path`."""
    return write_page(path, *report_sections(Path(results)))


def report_sections(results: Path) -> tuple[str, list[Section]]:
    """The title and sections for a directory: a sweep's (manifest.json) or a run's (summary.json)."""
    if not results.is_dir():
        raise ReportError(str(results), "not a directory; give a sweep's results directory or a run's --out directory")
    import pyarrow

    try:
        if (results / "manifest.json").is_file():
            return sweep_sections(results)
        if (results / "summary.json").is_file() and (results / "calls.parquet").is_file():
            return run_sections(Run.load(results))
    except (OSError, ValueError, KeyError, pyarrow.ArrowException) as exc:
        if isinstance(exc, ReportError):
            raise
        raise ReportError(
            str(results),
            f"cannot read its tables ({type(exc).__name__}: {exc}); was it written by "
            "this version of bposim, and completely?",
        ) from None
    raise ReportError(
        str(results),
        "holds neither a sweep's results (manifest.json, written by `bposim sweep`) nor "
        "a run's tables (summary.json and calls.parquet, written by `bposim run --out`)",
    )
