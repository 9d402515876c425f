"""What a planner sees of a centre with several channels: the figures per channel, never averaged across them, in
the command line, the charts and the HTML report; checked against the tables they come from.

The run is a real simulation of a voice, chat, email and case centre (`scenario_texts.OMNICHANNEL`)."""

from __future__ import annotations

import html
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runner import bposim as cli
from scenario_texts import OMNICHANNEL

import bposim
from bposim import channel_charts, channel_kpis, channel_views, charts
from bposim.cli import run as cli_run
from bposim.metrics import queue_and_busy
from bposim.report import run_report
from bposim.report.sweep import _cells_table, _recommendation


@pytest.fixture(scope="module")
def centre_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("centre") / "omnichannel.yaml"
    path.write_text(OMNICHANNEL)
    return path


@pytest.fixture(scope="module")
def run(centre_file: Path) -> bposim.Run:
    """Two replications of two days of voice, chat, email and cases."""
    return bposim.simulate(bposim.load_scenario(centre_file), seed=2, replications=2)


@pytest.fixture(scope="module")
def voice_run() -> bposim.Run:
    """A voice-only centre: its figures stay as they were."""
    scenario = bposim.Scenario.model_validate(
        {
            "name": "voice only",
            "horizon": {"start": "08:00", "end": "12:00", "interval_minutes": 30},
            "call_types": [
                {
                    "name": "support",
                    "arrivals": {"per_hour": 100},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 240},
                },
                {
                    "name": "sales",
                    "arrivals": {"per_hour": 40},
                    "handle_time": {"distribution": "exponential", "mean_seconds": 300},
                },
            ],
            "agent_groups": [{"name": "team", "skills": ["support", "sales"], "agents": 12}],
        }
    )
    return bposim.simulate(scenario, seed=1)


# -- shaped per channel ------------------------------------------------------------------------------------------


def test_channels_are_those_of_the_call_types_in_channel_order(run: bposim.Run, voice_run: bposim.Run) -> None:
    assert channel_views.channels(run) == ["voice", "chat", "email", "case"]
    assert channel_views.several_channels(run)
    assert channel_views.call_types_of(run, "chat") == ["chat_en"]
    assert channel_views.groups_of(run, "email") == ["digital"]
    assert channel_views.groups_of(run, "case") == ["back_office"]
    assert channel_views.channels(voice_run) == ["voice"] and not channel_views.several_channels(voice_run)


def test_a_run_read_back_keeps_its_channels_targets_and_due_times(run: bposim.Run, tmp_path: Path) -> None:
    """A run's tables written and read back carry its scenario, so the channel views read the same."""
    run.save(tmp_path)
    back = bposim.Run.load(tmp_path)
    assert channel_views.channel_of_call_types(back) == channel_views.channel_of_call_types(run)
    goals = channel_views.targets(back)
    assert goals["email_en"] == (4 * 3600, 0.9) and goals["chat_en"] == (60, 0.8)
    assert goals["case_refund"] == (48 * 3600, 0.8)  # a case's default due time, and the centre's target
    pd.testing.assert_frame_equal(channel_views.backlog_days(back), channel_views.backlog_days(run))


def test_a_run_without_its_scenario_reads_as_voice_only(voice_run: bposim.Run, tmp_path: Path) -> None:
    """Tables written before channels (no scenario.yaml beside them) are voice only."""
    voice_run.save(tmp_path)
    (tmp_path / "scenario.yaml").unlink()
    back = bposim.Run.load(tmp_path)
    assert back.scenario is None
    assert channel_views.channels(back) == ["voice"] and not channel_views.several_channels(back)


def test_live_queue_counts_live_contacts_and_agents_busy_once(run: bposim.Run) -> None:
    """Over whole intervals, agents busy equal the staffing table's (a chat agent counts once); the waiting of each
    live channel integrates to its contacts' waits and adds up to queue_and_busy's live waiting; deferred items never
    count as waiting."""
    one = run.replication(0)
    minutes = run.scenario.horizon.interval_minutes
    table = channel_views.live_queue(one, bin_minutes=minutes)
    staffing = one.staffing[one.staffing["day"] == 0].groupby("interval")["busy"].sum().to_numpy()
    assert np.allclose(table["busy"].to_numpy()[: len(staffing)], staffing)
    calls = one.calls[one.calls["day"] == 0]
    for channel in ("voice", "chat"):
        waits = calls.loc[calls["channel"] == channel, "wait"].sum()
        assert table[f"waiting_{channel}"].sum() * minutes * 60 == pytest.approx(waits, rel=1e-9)
    assert "waiting_email" not in table and "waiting_case" not in table
    assert np.allclose(table["waiting_voice"] + table["waiting_chat"], table["waiting"], atol=1e-9)
    shared = queue_and_busy(one, bin_minutes=minutes)
    pd.testing.assert_frame_equal(table[list(shared)], shared)


def test_backlog_by_age_band_adds_up_to_the_open_items_and_bands_by_time_left(run: bposim.Run) -> None:
    ages = channel_views.backlog_ages(run)
    assert set(ages["band"]) == set(channel_views.AGE_BANDS)
    assert ages["label"].iloc[0] == "day 0 opening"  # the initial backlog is there at the first opening
    closings = ages[ages["moment"] > 0].groupby("moment")["items"].sum().to_numpy()
    open_at_end = run.backlog.groupby("day")["open_at_end"].sum().to_numpy() / run.replications
    assert np.allclose(closings, open_at_end)
    # at the first opening the initial backlogs: 30 emails 20 h old (due after 4 h: overdue), 10 cases 30 h old
    # (due after 48 h: due within the day)
    opening = ages[ages["moment"] == 0].set_index(["call_type", "band"])["items"]
    assert opening["email_en", "overdue"] == 30 and opening["email_en"].sum() == 30
    assert opening["case_refund", "due within 24 h"] == 10 and opening["case_refund"].sum() == 10
    # by hand, replication 0, day 0's closing: items waiting, split by the hours left to their due time
    calls = run.calls[(run.calls["replication"] == 0) & (run.calls["call_type"] == "email_en")]
    closing = run.scenario.horizon.open_seconds
    waiting = calls[(calls["arrival"] <= closing) & ~(calls["answer"] <= closing)]
    left = (waiting["arrival"] + 4 * 3600 - closing) / 3600
    one = channel_views.backlog_ages(run.replication(0))
    at_closing = one[(one["moment"] == 1) & (one["call_type"] == "email_en")].set_index("band")["items"]
    assert at_closing["overdue"] == (left < 0).sum()
    assert at_closing["due within 24 h"] == ((left >= 0) & (left <= 24)).sum()
    assert at_closing["due in more than 24 h"] == (left > 24).sum()
    assert at_closing.sum() > 0, "the example has work left at closing to show"


def test_chat_sessions_per_agent_are_sessions_over_agents_on_the_phone(run: bposim.Run) -> None:
    table = channel_views.chat_concurrency(run)
    assert set(table["group"]) == {"digital"}
    digital = run.staffing[run.staffing["group"] == "digital"]
    assert table["sessions"].sum() == pytest.approx(digital["sessions"].sum() / 2)
    assert np.allclose(table["sessions_per_agent"], table["sessions"] / table["on_phone"])
    overall = channel_views.sessions_per_agent(run)
    assert overall == pytest.approx(digital["sessions"].sum() / digital["on_phone"].sum())


def test_misses_name_the_call_types_below_their_target(run: bposim.Run) -> None:
    by_type = run.summary["by_call_type"]
    expected = {n for n, (_, target) in channel_views.targets(run).items() if by_type[n]["service_level"] < target}
    assert {m.call_type for m in channel_views.misses(run)} == expected
    verdicts = channel_views.channel_verdicts(run)
    assert len(verdicts) == 4
    for miss in channel_views.misses(run):
        line = next(v for v in verdicts if v.startswith(miss.channel.capitalize()))
        assert f"misses its target: {miss.call_type} {miss.service_level:.1%} < {miss.target:.0%}" in line


# -- key figures per channel -------------------------------------------------------------------------------------


def test_key_figures_are_one_table_per_channel_with_no_row_across_channels(run: bposim.Run) -> None:
    tables = channel_kpis.channel_tables(run)
    assert [t.title.split()[0] for t in tables] == ["Voice", "Chat", "Email", "Case"]
    voice, chat, email, case = tables
    assert "Service level" in voice.header and "Threshold" in voice.header
    assert "Done within due time" in email.header and "Due time" in email.header and "ASA s" not in email.header
    assert all(row[0] != "all" for t in tables for row in t.rows)
    kpis = run.summary["by_call_type"]["email_en"]
    row = dict(zip(email.header, email.rows[0], strict=True))
    assert row["Due time"] == "4 h" and row["Target"] == "90%"
    assert row["Done within due time"].startswith(f"{kpis['service_level']:.1%}")
    assert row["Oldest open h"].startswith(f"{kpis['oldest_age_hours']:,.1f}")
    assert dict(zip(chat.header, chat.rows[0], strict=True))["Threshold"] == "60 s"
    assert dict(zip(case.header, case.rows[0], strict=True))["Due time"] == "48 h"
    for table in tables:
        for name, meets in zip([r[0] for r in table.rows], table.meets, strict=True):
            missed = {m.call_type for m in channel_views.misses(run)}
            assert meets is (name not in missed)


def test_a_channel_of_several_call_types_shows_its_own_row(run: bposim.Run) -> None:
    """Two chat call types: their rows, then the channel's own figures from the summary's by_channel."""
    import dataclasses

    summary = dict(run.summary)
    summary["by_call_type"] = {**summary["by_call_type"], "chat_es": summary["by_call_type"]["chat_en"]}
    summary["by_channel"] = {
        **summary["by_channel"],
        "chat": {**summary["by_channel"]["chat"], "offered": 12345.0, "offered_ci": 67.0},
    }
    data = run.scenario.model_dump(mode="python", exclude_none=True)
    chat_en = next(ct for ct in data["call_types"] if ct["name"] == "chat_en")
    data["call_types"].insert(2, {**chat_en, "name": "chat_es"})
    data["agent_groups"][1]["skills"].append({"call_type": "chat_es"})
    two = dataclasses.replace(run, scenario=bposim.Scenario.model_validate(data), summary=summary)
    chat = channel_kpis.channel_tables(two)[1]
    assert [row[0] for row in chat.rows] == ["chat_en", "chat_es", "all chat"]
    assert chat.rows[-1][1] == "12,345 ± 67" and chat.meets[-1] is None


def test_run_prints_a_table_per_channel_and_which_misses(run: bposim.Run, capsys) -> None:
    cli_run._print_summary(run)
    printed = capsys.readouterr().out
    for title in ("Voice (live", "Chat (live", "Email (deferred"):
        assert title in printed
    assert re.search(r"│ all\b", printed) is None, "no row averages across channels"
    for miss in channel_views.misses(run):
        assert f"{miss.channel.capitalize()} misses its target: {miss}" in printed
    assert "chat sessions held per agent on the phone" in printed
    assert f"{channel_views.sessions_per_agent(run):.2f}" in printed


def test_run_csv_keeps_each_channel_apart(run: bposim.Run) -> None:
    rows = cli_run._summary_rows(run)
    assert list(rows.columns[:2]) == ["call_type", "channel"]
    assert list(zip(rows["call_type"], rows["channel"], strict=True)) == [
        ("voice_en", "voice"),
        ("all", "voice"),
        ("chat_en", "chat"),
        ("all", "chat"),
        ("email_en", "email"),
        ("all", "email"),
        ("case_refund", "case"),
        ("all", "case"),
    ]
    email = rows[(rows["call_type"] == "all") & (rows["channel"] == "email")].iloc[0]
    assert email["open_at_end"] == run.summary["by_channel"]["email"]["open_at_end"]


def test_voice_only_summary_keeps_its_all_row(voice_run: bposim.Run, capsys) -> None:
    cli_run._print_summary(voice_run)
    printed = capsys.readouterr().out
    assert re.search(r"│ all\b", printed) and "Voice (live" not in printed
    assert list(cli_run._summary_rows(voice_run)["call_type"]) == ["all", "support", "sales"]


# -- charts ------------------------------------------------------------------------------------------------------


def test_day_profile_of_a_channel_keeps_its_contacts_and_its_groups(run: bposim.Run) -> None:
    fig = charts.day_profile(run, channel="chat")
    offered = fig.data[0]
    assert offered.name == "offered chats"
    chat = run.intervals[run.intervals["call_type"] == "chat_en"]
    expected = chat.groupby(["day", "interval"])["offered"].sum().to_numpy() / 2
    assert np.allclose(np.asarray(offered.y, dtype=float), expected)
    on_phone = next(t for t in fig.data if t.name == "on-phone agents")
    digital = run.staffing[run.staffing["group"] == "digital"].groupby(["day", "interval"])["on_phone"].sum() / 2
    assert np.allclose(np.asarray(on_phone.y, dtype=float), digital.to_numpy())
    assert "chat" in fig.layout.title.text


def test_queue_chart_of_several_channels_stacks_live_contacts_only(run: bposim.Run) -> None:
    one = run.replication(0)
    fig = charts.queue_and_agents(one)
    names = [t.name for t in fig.data]
    assert names[:2] == ["calls waiting", "chats waiting"] and not any("email" in n for n in names)
    assert {fig.data[0].stackgroup, fig.data[1].stackgroup} == {"waiting"}
    table = channel_views.live_queue(one)
    assert np.allclose(np.asarray(fig.data[2].y, dtype=float), table["busy"])
    assert fig.layout.yaxis.title.text.startswith("Live contacts waiting")


def test_backlog_chart_stacks_the_age_bands_per_deferred_call_type(run: bposim.Run) -> None:
    fig = channel_charts.backlog_by_age(run)
    ages = channel_views.backlog_ages(run)
    assert [t.name for t in fig.data] == list(channel_views.AGE_BANDS) * 2  # a panel per deferred call type
    assert [t.showlegend for t in fig.data] == [True] * 3 + [False] * 3
    assert fig.layout.barmode == "stack"
    for trace, name in zip(fig.data, ["email_en"] * 3 + ["case_refund"] * 3, strict=True):
        expected = ages[(ages["band"] == trace.name) & (ages["call_type"] == name)]["items"].to_numpy()
        assert np.allclose(np.asarray(trace.y, dtype=float), expected)
    assert [a.text for a in fig.layout.annotations] == [
        "email_en (due 4 h after arrival)",
        "case_refund (due 48 h after arrival)",
    ]


def test_chat_sessions_chart_against_the_groups_cap(run: bposim.Run) -> None:
    fig = channel_charts.chat_sessions(run)
    per_agent, cap = fig.data
    table = channel_views.chat_concurrency(run)
    assert np.allclose(np.asarray(per_agent.y, dtype=float), table["sessions_per_agent"])
    assert set(cap.y) == {3}
    assert fig.layout.yaxis.title.text == "Chat sessions per agent on the phone"


def test_service_level_vs_cost_of_a_channel_sweep_plots_each_channel(cells: pd.DataFrame) -> None:
    fig = charts.service_level_vs_cost(cells)
    assert [t.name for t in fig.data] == ["voice", "email"]
    assert np.allclose(np.asarray(fig.data[1].y, dtype=float), cells["email.service_level"])


# -- the HTML report ---------------------------------------------------------------------------------------------


def _text(page: str) -> str:
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def channels_report(run: bposim.Run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run_report(run, tmp_path_factory.mktemp("report") / "report.html")


def test_report_has_the_channel_sections_and_names_the_channel_short_of_target(
    run: bposim.Run, channels_report: Path
) -> None:
    page = channels_report.read_text()
    text = _text(page)
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings[:3] == ["Key figures", "Backlog of deferred work", "Chat concurrency"]
    for title in ("Over the day, every replication", "The first replication"):
        assert [h for h in headings if h.startswith(title)] == [f"{title} — voice", f"{title} — chat"]
    assert "Queue and agents" in headings and "Occupancy" in headings
    for heading in ("Voice (live, service level within seconds)", "Email (deferred, done within the due time"):
        assert heading in text
    note = html.unescape(re.search(r'<p class="note">(.*?)</p>', page)[1])
    missed = channel_views.misses(run)
    assert missed, "the example misses a target somewhere"
    for channel in channel_views.channels(run):
        mine = [m for m in missed if m.channel == channel]
        assert (f"{channel.capitalize()} misses its target" in note) == bool(mine)
        for miss in mine:
            assert str(miss) in note
    assert "Email meets its target" in text or "Email misses its target" in note


def test_report_backlog_table_is_the_backlog_per_day(run: bposim.Run, channels_report: Path) -> None:
    page = channels_report.read_text()
    section = page[page.index("<h2>Backlog of deferred work</h2>") :]
    body = re.search(r"<tbody>(.*?)</tbody>", section, flags=re.DOTALL)[1]
    rows = [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in body.split("</tr>")[:-1]]
    days = channel_views.backlog_days(run)
    assert len(rows) == len(days) == 4  # two days of email and of cases
    for row, expected in zip(rows, days.itertuples(index=False), strict=True):
        assert row[:2] == [str(expected.day), expected.call_type]
        assert row[5] == f"{expected.open_at_end:,.1f}"
        assert row[8] == ("—" if math.isnan(expected.service_level) else f"{expected.service_level:.1%}")


def test_voice_only_report_has_no_channel_sections(voice_run: bposim.Run, tmp_path: Path) -> None:
    page = run_report(voice_run, tmp_path / "report.html").read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == ["Key figures", "The day", "Queue and agents", "Occupancy"]
    assert "Backlog" not in _text(page) and "channel" not in _text(page).lower()


def test_run_command_prints_channels_and_writes_their_report(centre_file: Path, tmp_path: Path) -> None:
    """End to end from a scenario file: the real command line, tables written and the report beside them."""
    result = cli("run", centre_file, "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    assert "Voice (live" in result.stdout and "Email (deferred" in result.stdout
    assert re.search(r"│ all\b", result.stdout) is None
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>The day — chat</h2>" in page and "<h2>Backlog of deferred work</h2>" in page


# -- a sweep of a centre with channels ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    """The cell summary of a small helpdesk sweep, with per-channel service levels as a sweep of voice and email
    has them (its overall rates NaN, never an average across channels)."""
    from cli_runner import ROOT

    base = bposim.load_scenario(ROOT / "models" / "helpdesk.yaml")
    experiment = bposim.Experiment(base, {"agent_groups.team.agents": [9, 11]}, replications=2, seed=1)
    table = bposim.cell_summary(experiment.run(workers=1, progress=False))
    table["voice.service_level"], table["voice.service_level_ci"] = table["service_level"], table["service_level_ci"]
    table["email.service_level"], table["email.service_level_ci"] = [0.7, 0.95], [0.05, 0.01]
    for key in ("service_level", "asa_seconds", "abandon_rate"):
        table[key] = table[f"{key}_ci"] = math.nan
    table["total_cost"], table["total_cost_ci"] = table["scheduled_agent_hours"] * 20, 0.0
    table["total_cost_diff"] = table["total_cost"] - table["total_cost"].iloc[1]
    table["total_cost_diff_ci"] = 1.0
    return table


def test_sweep_cells_table_shows_each_channels_service_level(cells: pd.DataFrame) -> None:
    page = _cells_table(cells, ["agent_groups.team.agents"], True, 1, "EUR per day")
    header = re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert "Voice service level" in header and "Email service level" in header
    assert "Service level" not in header and "ASA s" not in header
    assert "95.0% ± 1.0%" in page


def test_sweep_recommendation_quotes_each_channel(cells: pd.DataFrame) -> None:
    ranked = cells.iloc[[1]].assign(meets_target=True)
    text = _recommendation(cells, ranked, ["agent_groups.team.agents"], 0.8, True, "EUR per day")
    voice = cells.iloc[1]
    assert f"voice {voice['voice.service_level']:.1%}" in text
    assert "email 95.0% ± 1.0% (done within due time)" in text
    assert "nan" not in text.lower()


@pytest.fixture(scope="module")
def channel_sweep(centre_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of the voice, chat, email and case centre (its tables kept) and its report, by the command line."""
    directory = tmp_path_factory.mktemp("channel_sweep")
    experiment = directory / "digital.yaml"
    experiment.write_text(
        f"name: digital\nmodel: {centre_file}\nreplications: 2\nseed: 5\nkeep: all\n"
        "factors:\n  agent_groups.digital.agents: [4, 7]\n"
    )
    result = cli("sweep", experiment, "--out", directory / "results", "--workers", "1", "--report")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return directory / "results"


def test_sweep_report_of_channels_ranks_by_each_call_types_target_and_names_the_channel(channel_sweep: Path) -> None:
    """No overall service level to sort by: cells with fewer call types short of their own target come first, and
    each short call type is named with its channel, in the recommendation and the cells table."""
    cells = pd.read_parquet(channel_sweep / "cells.parquet")
    assert cells["service_level"].isna().all()
    short = cells.set_index("cell")["short_call_types"].str.split(", ").map(lambda names: len([n for n in names if n]))
    page = (channel_sweep / "report.html").read_text()
    text = _text(page)
    section = page[page.index("<h2>Cells</h2>") :]
    body = re.search(r"<tbody>(.*?)</tbody>", section, flags=re.DOTALL)[1]
    order = [int(re.search(r"<td[^>]*>(\d+)</td>", row)[1]) for row in body.split("</tr>")[:-1]]
    ranked = cells[cells["meets_target"]]["cell"].tolist()
    rest = [c for c in order if c not in ranked]
    assert order[: len(ranked)] == sorted(ranked, key=lambda c: cells.set_index("cell").loc[c, "total_cost"])
    assert [short[c] for c in rest] == sorted(short[c] for c in rest)
    channel_of = {"voice_en": "voice", "chat_en": "chat", "email_en": "email", "case_refund": "case"}
    for name in filter(None, ", ".join(cells["short_call_types"]).split(", ")):
        assert f"{name} ({channel_of[name]})" in text
    assert "Chat service level" in text and "Case service level" in text
    assert re.search(r"\bnan\b", text.lower()) is None
    manifest = json.loads((channel_sweep / "manifest.json").read_text())
    assert manifest["channels"] == channel_of


def test_a_kept_sweep_cell_reads_back_with_its_scenario_and_shows_its_channels(channel_sweep: Path) -> None:
    """The tables a sweep keeps carry the cell's scenario, so the recommended cell's day is drawn per channel."""
    kept = bposim.Run.load(channel_sweep / "tables" / "0" / "0", summary={})
    assert kept.scenario is not None and channel_views.channels(kept) == ["voice", "chat", "email", "case"]
    assert kept.scenario.agent_groups[1].agents.count == 4  # cell 0: four digital agents
    page = (channel_sweep / "report.html").read_text()
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert any(h.endswith("— chat") for h in headings), headings
