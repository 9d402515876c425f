"""The HTML report: its content checked against the results it came from, then opened in headless Chromium."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import ROOT
from cli_runner import bposim as cli
from scenario_texts import OMNICHANNEL

import bposim
from bposim.report import run_report, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
COSTS = {"currency": "EUR", "groups": [{"group": "team", "per_paid_hour": 22}], "abandoned_call": 5.0}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small costed sweep of the helpdesk (agents 8..11, 4 days each), its results written to disk."""
    directory = tmp_path_factory.mktemp("sweep")
    experiment_file = directory / "agents.yaml"
    experiment_file.write_text(
        json.dumps(
            {
                "name": "helpdesk_agents",
                "model": str(ROOT / "models" / "helpdesk.yaml"),
                "replications": 4,
                "seed": 3,
                "changes": {"costs": COSTS},
                "factors": {"agent_groups.team.agents": [8, 9, 10, 11]},
            }
        )
    )
    result = cli("sweep", experiment_file, "--out", directory / "results", "--workers", "1", "--report")
    assert result.returncode == 0, result.stderr
    assert f"Report: {directory / 'results' / 'report.html'}" in result.stdout.replace("\n", "")
    return directory / "results"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two replications of the outage-prone site (costs and outages), tables and report written by `run`."""
    directory = tmp_path_factory.mktemp("run")
    result = cli(
        "run",
        ROOT / "models" / "outage_prone_site.yaml",
        "--seed",
        4,
        "--replications",
        2,
        "--out",
        directory,
        "--report",
    )
    assert result.returncode == 0, result.stderr
    return directory


@pytest.fixture(scope="module")
def channels_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of two replications of a voice, chat, email and case centre."""
    directory = tmp_path_factory.mktemp("channels")
    scenario = bposim.Scenario.model_validate(yaml.safe_load(OMNICHANNEL))
    run_report(bposim.simulate(scenario, seed=2, replications=2), directory / "report.html")
    return directory


def _text(page: str) -> str:
    """The visible text of the report's own markup (the inlined plotly.js and figure JSON left out)."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _table_rows(page: str) -> list[list[str]]:
    """The body rows of the report's first table, cell texts."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, flags=re.DOTALL)[1]
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)] for row in body.split("</tr>")[:-1]]


def _table_records(page: str) -> list[dict[str, str]]:
    """The report's first table as one mapping header → text per row."""
    head = re.search(r"<thead>(.*?)</thead>", page, flags=re.DOTALL)[1]
    names = [html.unescape(c) for c in re.findall(r"<th[^>]*>(.*?)</th>", head)]
    return [dict(zip(names, row, strict=True)) for row in _table_rows(page)]


def _values(data: list | dict) -> np.ndarray:
    """A figure's data array as written in the page: a JSON list, or plotly's base64 typed array."""
    if isinstance(data, dict):
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
    return np.asarray(data, dtype=float)


def test_sweep_report_recommends_the_cheapest_cell_meeting_the_target(sweep_dir: Path) -> None:
    page = (sweep_dir / "report.html").read_text(encoding="utf-8")
    cells = pd.read_parquet(sweep_dir / "cells.parquet")
    meeting = cells[cells["meets_target"]].sort_values("total_cost")
    assert 0 < len(meeting) < len(cells), "the sweep spans both sides of the target"
    best = meeting.iloc[0]
    text = _text(page)
    assert (
        f"Cell {int(best['cell'])} (agent_groups.team.agents = {int(best['agent_groups.team.agents'])}) is the "
        f"cheapest of the {len(meeting)} cells meeting the 80% service-level target overall and for every call "
        f"type: service level {best['service_level']:.1%} ± {best['service_level_ci']:.1%} at "
        f"{best['total_cost']:,.0f} ± {best['total_cost_ci']:,.0f} EUR per day" in " ".join(text.split())
    )
    rows = _table_rows(page)
    assert [int(row[0]) for row in rows[: len(meeting)]] == meeting["cell"].astype(int).tolist()
    assert sorted(int(row[0]) for row in rows) == sorted(cells["cell"].astype(int))
    results = pd.read_parquet(sweep_dir / "results.parquet").set_index(["cell", "replication"])
    for row in _table_records(page):
        cell = cells.set_index("cell").loc[int(row["Cell"])]
        assert row["Service level"] == f"{cell['service_level']:.1%} ± {cell['service_level_ci']:.1%}"
        assert row["Cost, EUR per day"] == f"{cell['total_cost']:,.0f} ± {cell['total_cost_ci']:,.0f}"
        paired = results.loc[int(row["Cell"]), "total_cost"] - results.loc[int(best["cell"]), "total_cost"]
        expected = "—" if row["Cell"] == str(int(best["cell"])) else f"{paired.mean():+,.0f} ± "
        assert row[f"Δ cost vs {int(best['cell'])}, EUR"].startswith(expected)
    assert "<script src=" not in page and "<link" not in page, "nothing is fetched: plotly.js is inlined"
    assert len(page) > 3_000_000
    assert page.count('class="plotly-graph-div"') == 7


def test_sweep_report_day_is_the_recommended_cells_first_replication(sweep_dir: Path) -> None:
    """The recommended cell is shown over all its replications (simulated again: offered calls per replication are
    the mean of the results'), then its replication 0 alone (its offered calls match the results row)."""
    page = (sweep_dir / "report.html").read_text(encoding="utf-8")
    results = pd.read_parquet(sweep_dir / "results.parquet")
    cells = pd.read_parquet(sweep_dir / "cells.parquet")
    best = cells[cells["meets_target"]].sort_values("total_cost").iloc[0]
    mine = results[results["cell"] == best["cell"]]
    figures = re.findall(r'Plotly\.newPlot\(\s*"(figure-\d+)",\s*(\[.*?\]),\s*\{', page, flags=re.DOTALL)
    pooled, day = (next(t for t in json.loads(figures[k][1]) if t["type"] == "bar") for k in (2, 3))
    assert _values(pooled["y"]).sum() == pytest.approx(mine["offered"].mean())
    assert _values(day["y"]).sum() == mine[mine["replication"] == 0]["offered"].iloc[0]
    assert f"over its {len(mine)} replications, simulated again from the experiment file" in page


@pytest.fixture(scope="module")
def site_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The outage-prone site with 0 or 2 all-day tech agents, 2 replications: with none, the site reaches 80% but
    its tech calls do not; the results directory (report written) and what `sweep` printed."""
    directory = tmp_path_factory.mktemp("site")
    experiment_file = directory / "tech.yaml"
    experiment_file.write_text(
        json.dumps(
            {
                "name": "site_tech",
                "model": str(ROOT / "models" / "outage_prone_site.yaml"),
                "replications": 2,
                "seed": 3,
                "factors": {"agent_groups.tech_team.agents": [0, 2]},
            }
        )
    )
    result = cli("sweep", experiment_file, "--out", directory / "results", "--workers", "1", "--report")
    assert result.returncode == 0, result.stderr
    return directory / "results", " ".join(result.stdout.split())


def test_a_cell_short_on_one_call_type_does_not_meet_the_target(site_sweep: tuple[Path, str]) -> None:
    """Cell 0 reaches 80% overall but its tech calls fall short of their 80%: it is not recommended although it is
    cheaper, the report and the sweep's print say why, and its table row is marked as missing."""
    directory, printed = site_sweep
    cells = pd.read_parquet(directory / "cells.parquet").set_index("cell")
    types = [c.removesuffix(".service_level") for c in cells if c.endswith(".service_level")]
    assert types == ["accounts", "orders", "tech"]
    short = {
        cell: [ct for ct in types if row[f"{ct}.service_level"] < row[f"{ct}.service_level_target"]]
        for cell, row in cells.iterrows()
    }
    assert short == {0: ["tech"], 1: []} and (cells["service_level"] >= cells["service_level_target"]).all()
    assert cells.loc[0, "total_cost"] < cells.loc[1, "total_cost"]
    assert cells["meets_target"].tolist() == [False, True]
    tech = f"tech {cells.loc[0, 'tech.service_level']:.1%} < 80%"
    page = (directory / "report.html").read_text(encoding="utf-8")
    text = " ".join(_text(page).split())
    assert (
        "Cell 1 (agent_groups.tech_team.agents = 2) is the cheapest of the 1 cells meeting the 80% service-level "
        "target overall and for every call type" in text
    )
    assert f"Cheaper cells reach the target overall but not for every call type: cell 0 ({tech})." in text
    records = _table_records(page)
    assert [(r["Cell"], r["Short call types"]) for r in records] == [("1", "—"), ("0", tech)]
    assert f"<td>{html.escape(tech)}</td>" in page, "the call types short of target are text that may wrap"
    assert re.findall(r'<tr class="(\w+)"><td>', page)[:2] == ["meets", "misses"]
    assert "1 of 2 cells meet the service-level target (80% in 20 s) overall and for every call type" in printed
    assert f"Reach the target overall but not for every call type: cell 0 ({tech})." in printed


def test_costs_are_in_the_scenarios_currency_per_day(site_sweep: tuple[Path, str], run_dir: Path) -> None:
    directory, printed = site_sweep
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "Cost, USD per day" in _table_records(page)[0] and "Cost per day, USD" in printed
    assert '"text":"Mean total cost (USD per day)"' in page and '"text":"Cost (USD per day)"' in page
    summary = json.loads((run_dir / "summary.json").read_text())
    total = f"Total cost {summary['total_cost']:,.0f} ± {summary['total_cost_ci']:,.0f} USD per day."
    assert total in " ".join(_text((run_dir / "report.html").read_text(encoding="utf-8")).split())


def test_few_replications_carry_a_note_on_the_wide_intervals(
    site_sweep: tuple[Path, str], run_dir: Path, sweep_dir: Path
) -> None:
    """Under 5 replications the ± figures are t-intervals over a handful of days: the report says so, visibly."""
    notes = {
        name: re.findall(r'<p class="note">(.*?)</p>', (directory / "report.html").read_text(encoding="utf-8"))
        for name, directory in (("site", site_sweep[0]), ("run", run_dir), ("helpdesk", sweep_dir))
    }
    wide = "the ± figures are 95% Student-t intervals over only {n} replications, so they are wide"
    assert notes["site"] == [f"Only 2 replications per cell: {wide.format(n=2)}; run more replications to narrow them."]
    assert notes["run"] == [f"Only 2 replications: {wide.format(n=2)}; run more replications to narrow them."]
    assert len(notes["helpdesk"]) == 1 and wide.format(n=4) in html.unescape(notes["helpdesk"][0])
    assert "Only 2 replications per cell" in site_sweep[1]


def test_run_report_lists_each_call_type(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = {row[0]: row for row in _table_rows(page)}
    assert set(rows) == {*summary["by_call_type"], "all"}
    for name, kpis in [*summary["by_call_type"].items(), ("all", summary)]:
        assert rows[name][1] == f"{kpis['offered']:,.0f} ± {kpis['offered_ci']:,.0f}"
        assert rows[name][4].startswith(f"{kpis['service_level']:.1%}")
    assert page.count('class="plotly-graph-div"') == 6, "pooled day, day, queue, occupancy, cost and outages"


def test_report_command_rewrites_a_run_directory_report(run_dir: Path, tmp_path: Path) -> None:
    result = cli("report", run_dir, "-o", tmp_path / "again.html")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "again.html").read_text(encoding="utf-8")
    assert _table_rows(page) == _table_rows((run_dir / "report.html").read_text(encoding="utf-8"))


def test_report_of_an_unfinished_sweep_says_so(sweep_dir: Path, tmp_path: Path) -> None:
    """A sweep killed part-way (task files only, no results.parquet) is reported from the tasks done."""
    partial = tmp_path / "partial"
    shutil.copytree(sweep_dir, partial)
    (partial / "results.parquet").unlink()
    (partial / "cells.parquet").unlink()
    manifest = json.loads((partial / "manifest.json").read_text())
    (partial / "manifest.json").write_text(json.dumps({**manifest, "finished": None}))
    rows = partial / "tasks" / "rows.jsonl"
    rows.write_text("".join(rows.read_text().splitlines(keepends=True)[5:]))
    page = write_report(partial, tmp_path / "partial.html").read_text(encoding="utf-8")
    assert f"unfinished: {manifest['tasks'] - 5} of {manifest['tasks']} tasks done" in _text(page)


def test_a_difference_without_an_interval_reads_as_a_dash(sweep_dir: Path, tmp_path: Path) -> None:
    """One day per cell (a sweep stopped after its first replication): each paired difference is one day's, with no
    interval, and the report writes the missing half-width as "—", never "nan"."""
    first_day = tmp_path / "first_day"
    shutil.copytree(sweep_dir, first_day)
    (first_day / "results.parquet").unlink()
    (first_day / "cells.parquet").unlink()
    manifest = json.loads((first_day / "manifest.json").read_text())
    (first_day / "manifest.json").write_text(json.dumps({**manifest, "finished": None}))
    rows = first_day / "tasks" / "rows.jsonl"
    rows.write_text(
        "".join(line for line in rows.read_text().splitlines(keepends=True) if json.loads(line)["replication"] == 0)
    )
    page = write_report(first_day, tmp_path / "first_day.html").read_text(encoding="utf-8")
    assert not re.search(r"\bnan\b", _text(page), flags=re.IGNORECASE)
    records = _table_records(page)
    column = next(name for name in records[0] if name.startswith("Δ service level vs "))
    baseline = re.fullmatch(r"Δ service level vs (\d+), points", column)[1]
    differences = [row[column] for row in records if row["Cell"] != baseline]
    assert differences and all(re.fullmatch(r"[+-]\d+\.\d ± —", text) for text in differences), differences


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "models"], "holds neither a sweep's results"),
        (["report", "no/such/dir"], "not a directory"),
        (["run", "models/helpdesk.yaml", "--report"], "--report: give --out DIRECTORY too"),
    ],
)
def test_report_bad_input_exits_2(args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


# -- in a real browser --------------------------------------------------------------------------------------------

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's chromium where it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.mark.parametrize(("which", "figures"), [("sweep", 7), ("run", 6), ("roster", 1), ("channels", 8)])
def test_report_renders_in_headless_chromium(browser, which: str, figures: int, request, tmp_path: Path) -> None:
    """Offline (every request refused), every chart draws, no JavaScript error, and the page is not blank."""
    directory = request.getfixturevalue(f"{which}_dir")
    page_file = directory[0] / "roster.html" if which == "roster" else directory / "report.html"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.route(re.compile(r"^https?://"), lambda route: route.abort())
    page.goto(page_file.as_uri())
    page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= {figures}", timeout=30_000
    )
    assert errors == []
    plots = page.locator(".js-plotly-plot")
    assert plots.count() == figures
    for i in range(figures):
        box = plots.nth(i).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200
        assert plots.nth(i).locator(".main-svg .trace, .main-svg .hm, .main-svg .bars").count() > 0
    shot = page.screenshot(full_page=True)
    page.close()
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=float)
    assert pixels.std() > 10, "the screenshot is not blank"
    assert (pixels < 128).mean() > 0.005, "there is dark ink (text, lines) on the page"


def test_report_of_damaged_results_is_a_clear_error(run_dir: Path, sweep_dir: Path, tmp_path: Path) -> None:
    """A truncated table or manifest: exit 2 naming the directory or file, no traceback."""
    broken_run = tmp_path / "run"
    shutil.copytree(run_dir, broken_run)
    (broken_run / "calls.parquet").write_bytes((run_dir / "calls.parquet").read_bytes()[:100])
    broken_sweep = tmp_path / "sweep"
    shutil.copytree(sweep_dir, broken_sweep)
    (broken_sweep / "manifest.json").write_text('{"experiment": ')
    for directory, message in ((broken_run, "cannot read its tables"), (broken_sweep, "cannot read the manifest")):
        result = cli("report", directory)
        assert result.returncode == 2
        assert message in result.stderr and str(directory) in result.stderr.replace("\n", "")
        assert "Traceback" not in result.stderr


def test_sweep_report_is_the_same_from_python(sweep_dir: Path, tmp_path: Path) -> None:
    """`bposim.report.write_report` is what the CLI calls: the same tables come out."""
    page = write_report(sweep_dir, tmp_path / "again.html").read_text(encoding="utf-8")
    assert _table_rows(page) == _table_rows((sweep_dir / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def roster_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """`bposim staff` stopped after one round on the shifts helpdesk with 15% day absence: the requirement is
    simulated with plan agents (no absence), so the first roster is clearly short and the loop must go on."""
    directory = tmp_path_factory.mktemp("roster")
    model = directory / "absent.yaml"
    model.write_text((ROOT / "models" / "helpdesk_shifts.yaml").read_text() + "absence: {probability: 0.15}\n")
    result = cli(
        "staff", model, "--max-rounds", 1, "--out", directory / "roster.yaml", "--report", directory / "roster.html"
    )
    return directory, result


def test_staff_that_misses_the_target_exits_1_and_still_writes_the_roster(roster_dir) -> None:
    directory, result = roster_dir
    assert "round 1:" in result.stderr and "0 interval(s) below target" not in result.stderr
    assert result.returncode == 1, result.stderr
    assert "Not every interval meets its target" in result.stdout.replace("\n", " ")
    assert (directory / "roster.yaml").is_file() and (directory / "roster.html").is_file()


def test_roster_report_lists_the_shifts_of_the_written_roster(roster_dir) -> None:
    from bposim.scenario import load_scenario

    directory, _ = roster_dir
    roster = load_scenario(directory / "roster.yaml").roster
    rows = _table_rows((directory / "roster.html").read_text(encoding="utf-8"))
    shifts = [row for row in rows if row[0] != "all"]
    assert sorted((row[2], row[3], int(row[5])) for row in shifts) == sorted(
        (shift.start, shift.end, shift.agents) for shift in roster
    )
    assert int(rows[-1][5]) == sum(shift.agents for shift in roster)


def test_sweep_without_costs_ranks_by_agent_hours(tmp_path: Path) -> None:
    """Without a costs section the report ranks by agent hours and plots service level against them."""
    experiment_file = tmp_path / "agents.yaml"
    experiment_file.write_text(
        json.dumps(
            {
                "name": "no_costs",
                "model": str(ROOT / "models" / "helpdesk.yaml"),
                "replications": 3,
                "factors": {"agent_groups.team.agents": [9, 10, 11]},
            }
        )
    )
    from bposim.experiment import Experiment

    Experiment.from_file(experiment_file).run(out=tmp_path / "results", workers=1, progress=False)
    page = write_report(tmp_path / "results", tmp_path / "report.html").read_text(encoding="utf-8")
    cells = pd.read_parquet(tmp_path / "results" / "cells.parquet")
    meeting = cells[cells["meets_target"]].sort_values("scheduled_agent_hours")
    assert [int(r["Cell"]) for r in _table_records(page)][: len(meeting)] == meeting["cell"].tolist()
    assert "Δ agent hours vs" in page and "Δ cost" not in page and "Cost by component" not in page
    assert "Service level vs agent hours per sweep cell" in page
    assert page.count('class="plotly-graph-div"') == 5


def test_a_run_directory_keeps_its_scenario_and_its_report_names_the_currency(run_dir: Path, tmp_path: Path) -> None:
    """`run --out` writes scenario.yaml beside the tables: it loads back as the scenario simulated, and `bposim
    report DIR` (which only has the directory) still gives costs in USD per day."""
    from bposim import load_scenario

    kept = load_scenario(run_dir / "scenario.yaml")
    assert kept == load_scenario(ROOT / "models" / "outage_prone_site.yaml")
    result = cli("report", run_dir, "-o", tmp_path / "again.html")
    assert result.returncode == 0, result.stderr
    text = " ".join(_text((tmp_path / "again.html").read_text(encoding="utf-8")).split())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert f"Total cost {summary['total_cost']:,.0f} ± {summary['total_cost_ci']:,.0f} USD per day." in text


def test_a_sweep_that_kept_its_tables_shows_the_cell_from_them(tmp_path: Path) -> None:
    """With keep: all the report reads every replication of the recommended cell from the kept tables: the pooled
    day's offered calls per replication are the mean of the results'."""
    from bposim.experiment import Experiment

    experiment_file = tmp_path / "kept.yaml"
    experiment_file.write_text(
        json.dumps(
            {
                "name": "kept",
                "model": str(ROOT / "models" / "helpdesk.yaml"),
                "replications": 3,
                "keep": "all",
                "factors": {"agent_groups.team.agents": [11, 12]},
            }
        )
    )
    Experiment.from_file(experiment_file).run(out=tmp_path / "results", workers=1, progress=False)
    experiment_file.unlink()  # the day cannot be simulated again: it must come from the tables
    page = write_report(tmp_path / "results", tmp_path / "report.html").read_text(encoding="utf-8")
    results = pd.read_parquet(tmp_path / "results" / "results.parquet")
    cells = pd.read_parquet(tmp_path / "results" / "cells.parquet")
    best = cells[cells["meets_target"]].sort_values("scheduled_agent_hours").iloc[0]
    mine = results[results["cell"] == best["cell"]]
    assert "over its 3 replications, from the tables the sweep kept" in page
    figures = re.findall(r'Plotly\.newPlot\(\s*"(figure-\d+)",\s*(\[.*?\]),\s*\{', page, flags=re.DOTALL)
    pooled = next(t for t in json.loads(figures[1][1]) if t["type"] == "bar")
    assert _values(pooled["y"]).sum() == pytest.approx(mine["offered"].mean())
