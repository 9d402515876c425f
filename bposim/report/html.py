"""The report's page: sections (a heading, a few sentences, a table, a plotly figure) in one HTML file that opens
offline, plotly.js inlined once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from bposim.files import write_text_atomically

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid
#ddd; padding-bottom: .2rem; } p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; display: block; max-width: 100%;
        overflow-x: auto; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; } th { text-align: left; background: #f6f6f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.num, td.lines { white-space: nowrap; }
tr.meets td:first-child { border-left: 4px solid #2ca02c; } tr.misses td:first-child { border-left: 4px solid #ddd; }
.figure { min-height: 450px; }
h3 { font-size: 1rem; margin: 1rem 0 .2rem; }
p.note { background: #fff4e5; border-left: 4px solid #f0a030; padding: .4rem .6rem; }
"""


@dataclass
class Section:
    """One part of the report: a heading, a few sentences, a table and/or a figure."""

    title: str
    text: str = ""
    table: str = ""
    figure: go.Figure | None = None
    note: str = ""


def render(title: str, sections: list[Section]) -> str:
    """The whole HTML page: plotly.js inlined once, then each section's text, table and figure."""
    from bposim import __version__

    parts = []
    for number, section in enumerate(sections):
        parts.append(f"<section><h2>{escape(section.title)}</h2>")
        if section.text:
            parts.append(f"<p>{escape(section.text)}</p>")
        if section.note:
            parts.append(f'<p class="note">{escape(section.note)}</p>')
        parts.append(section.table)
        if section.figure is not None:
            figure = pio.to_html(
                section.figure,
                full_html=False,
                include_plotlyjs=False,
                div_id=f"figure-{number}",
                config={"displaylogo": False, "responsive": True},
            )
            parts.append(f'<div class="figure">{figure}</div>')
        parts.append("</section>")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f'<h1>{escape(title)}</h1><p class="meta">bposim {__version__}, written {stamp}</p>'
        + "\n".join(parts)
        + "</body></html>\n"
    )


def write_page(path: str | Path, title: str, sections: list[Section]) -> Path:
    """Render the page to `path` (its folder made if need be, the old page kept until the new one is whole)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, render(title, sections))
    return path


def html_table(
    header: list[str],
    rows: list[list[str]],
    meets: list[bool | None] | None,
    numeric_from: int,
    numeric_to: int | None = None,
) -> str:
    """Columns numeric_from up to numeric_to (exclusive; None: to the end) are numbers: right-aligned, unwrapped.
    `meets` marks each row as meeting its target (a green edge) or not (a grey one), a row None in it as neither;
    None marks none. A line break in a cell's text starts a new line; a header may break after a dot (a factor's
    dotted path)."""

    def cell(tag: str, i: int, text: str) -> str:
        kind = ' class="num"' if numeric_from <= i < (len(header) if numeric_to is None else numeric_to) else ""
        html = escape(text)
        if "\n" in text:  # a list, an item a line: each kept whole
            kind, html = kind or ' class="lines"', html.replace("\n", "<br>")
        if tag == "th":
            html = html.replace(".", ".<wbr>")
        return f"<{tag}{kind}>{html}</{tag}>"

    head = "<tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr>"
    body = []
    for n, row in enumerate(rows):
        mark = "" if meets is None or meets[n] is None else (' class="meets"' if meets[n] else ' class="misses"')
        body.append(f"<tr{mark}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
