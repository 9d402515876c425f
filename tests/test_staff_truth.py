"""`bposim staff` tells the truth about the fresh days: a roster clearly below target there is reported as such,
on the last line, in the exit status and in the report; trunk lines that keep a target out of reach are named."""

from __future__ import annotations

import html
from pathlib import Path

from cli_runner import ROOT
from cli_runner import bposim as cli
from strategies import fix_requirement

import bposim
from bposim.optimise import optimise_roster
from bposim.optimise.roster import VERIFICATION_SEED_OFFSET, interval_service_levels
from bposim.optimise.trunks import trunk_limits

SHIFTS = ROOT / "models" / "helpdesk_shifts.yaml"


def with_lines(tmp_path: Path, lines: int) -> Path:
    """helpdesk_shifts.yaml with `trunk_lines` set."""
    model = tmp_path / f"lines_{lines}.yaml"
    model.write_text(SHIFTS.read_text() + f"trunk_lines: {lines}\n")
    return model


def test_staff_says_on_its_last_line_which_intervals_miss_on_the_fresh_days(tmp_path):
    """One search day and one fresh day per seed: the loop meets every target on its search day, and whatever the
    fresh day shows, the command says it. The intervals below target on the roster's fresh day (simulated again
    from the written roster) are exactly those the last line and the report list, with exit status 1; with none,
    the last line says every interval met its target and the status is 0."""
    missed_somewhere = False
    for seed in (1, 3):
        roster, report = tmp_path / f"roster_{seed}.yaml", tmp_path / f"roster_{seed}.html"
        result = cli(
            "staff",
            SHIFTS,
            "--replications",
            1,
            "--trim-trials",
            0,
            "--seed",
            seed,
            "--out",
            roster,
            "--report",
            report,
        )
        assert "Traceback" not in result.stderr + result.stdout
        last = result.stdout.rstrip("\n").splitlines()[-1]
        page = html.unescape(report.read_text(encoding="utf-8"))
        fresh = interval_service_levels(
            bposim.simulate(bposim.load_scenario(roster), seed=seed + VERIFICATION_SEED_OFFSET)
        )
        short = fresh[~fresh["met"]].sort_values("service_level")
        if short.empty:
            assert result.returncode == 0, result.stdout
            assert last.startswith("Every interval met its target: on the search days in round ")
            assert "Below target on the fresh days" not in page
            continue
        missed_somewhere = True
        assert result.returncode == 1, result.stdout
        assert last.startswith(
            "Not every interval meets its target on the fresh days (the search days met every target in round "
        ), last
        assert f"on 1 fresh day (seed {seed + VERIFICATION_SEED_OFFSET}), {len(short)} interval(s) are below" in last
        for row in short.head(6).itertuples(index=False):
            assert f"{row.call_type} {row.interval_start} {row.service_level:.1%} < {row.target:.0%}" in last
        assert "Every interval met its target" not in result.stdout and "Every interval met" not in page
        assert "Not every interval meets its target on the fresh days" in page
        section = page[page.index("<h2>Below target on the fresh days</h2>") :]
        for row in short.itertuples(index=False):
            gap = f"{100 * (row.target - row.service_level):.1f}"
            assert f"<td>{row.call_type}</td><td>{row.interval_start}</td>" in section
            assert f'<td class="num">{gap}</td>' in section
    assert missed_somewhere, "neither seed's fresh day fell below target: pick seeds that do"


def test_a_roster_the_search_days_pass_and_the_fresh_days_fail_is_not_verified(monkeypatch, tmp_path):
    """Fresh days 30% busier than the search days (the verification run is given more callers): the loop
    converges, yet the plan is not verified, its fresh shortfall lists the intervals with their 95% confidence
    intervals, and the report leads with the warning and a table of them."""
    from bposim import run as run_module
    from bposim.cli.staff import _roster_verdict
    from bposim.report import roster_report

    simulate = run_module.simulate
    scenario = bposim.load_scenario(SHIFTS)
    verification = 5 + VERIFICATION_SEED_OFFSET

    def busier_fresh_days(roster, seed=0, replications=1, **tables):
        if seed == verification:
            rates = [1.3 * rate for rate in roster.call_types[0].arrivals.per_interval]
            roster = roster.updated({"call_types.support.arrivals.per_interval": rates})
        return simulate(roster, seed=seed, replications=replications, **tables)

    monkeypatch.setattr(run_module, "simulate", busier_fresh_days)
    plan = optimise_roster(scenario, seed=5, replications=3, trim_trials=0)
    assert plan.converged and not plan.verified and not plan.fresh_misses.empty
    assert plan.fresh_shortfall.startswith(f"on 3 fresh days (seed {verification}), ")
    assert "interval(s) are below target beyond the 95% CI: support " in plan.fresh_shortfall
    worst = plan.fresh_misses.iloc[0]
    assert (
        f"support {worst.interval_start} {worst.service_level:.1%} ± {worst.service_level_ci:.1%} < 80% "
        f"({100 * worst.gap:.1f} points short)"
    ) in plan.fresh_shortfall
    assert (plan.fresh_misses["service_level"] + plan.fresh_misses["service_level_ci"] < 0.8).all()
    verdict = _roster_verdict(plan, 3)
    assert verdict[-1] == (
        "Not every interval meets its target on the fresh days (the search days met every "
        f"target in round {plan.rounds}): {plan.fresh_shortfall}"
    )
    page = html.unescape(roster_report(plan, tmp_path / "roster.html").read_text(encoding="utf-8"))
    note = page.index('<p class="note">Not every interval meets its target on the fresh days: ')
    assert note < page.index("<h2>Service level on fresh days</h2>") < page.index("<h2>Below target on the fresh")
    assert f"<td>support</td><td>{worst.interval_start}</td>" in page and "Every interval met" not in page


def test_staff_with_too_few_trunk_lines_says_they_are_the_cause_and_exits_2(tmp_path):
    """8 lines for a peak of 10.7 Erlangs of talk: with every caller answered at once, a third get a busy signal,
    so no staffing reaches 80% at the peak. The command says so up front and exits 2; a run with 80 agents on the
    phones confirms the peak stays clearly below 80%. From 11 lines on, the bound no longer rules the target out."""
    model = with_lines(tmp_path, 8)
    result = cli("staff", model)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    assert result.stderr.splitlines()[-1].startswith(
        f"error: {model}: trunk_lines: 8 lines allow at most 8 calls in the system; the target 80% within 20 s for "
        "support at 10:00 needs at least 11 lines (with every caller answered at once, 8 lines turn away "
    )
    scenario = bposim.load_scenario(model)
    ample = scenario.updated({"agent_groups.team.agents": 80, "scheduling": None})
    levels = interval_service_levels(bposim.simulate(ample, seed=3, replications=5)).set_index("interval_start")
    assert levels.loc["10:00", "service_level"] + levels.loc["10:00", "service_level_ci"] < 0.8
    assert [limit.needed for limit in trunk_limits(scenario.updated({"trunk_lines": 10}))][:1] == [11]
    assert trunk_limits(scenario.updated({"trunk_lines": 11})) == []
    assert trunk_limits(scenario.updated({"service_level.definition": "answered"})) == []


def test_trunk_lines_the_bound_cannot_judge_are_named_when_the_search_finds_them(tmp_path):
    """Callers of a call type with a bot hold a line in it, which the up-front bound leaves out: 6 lines, a minute
    in the bot each. The requirement's search finds the target out of reach with every group at its bound and
    says the busy signals alone keep it there; the command exits 2."""
    model = tmp_path / "bot.yaml"
    model.write_text(
        SHIFTS.read_text() + "trunk_lines: 6\ntechnology:\n  self_service:\n    - {call_type: support, "
        "containment: 0.0, bot_time: {distribution: fixed, value_seconds: 60}}\n"
    )
    assert trunk_limits(bposim.load_scenario(model)) == []
    result = cli("staff", model, "--replications", 2)
    assert result.returncode == 2 and "Traceback" not in result.stderr + result.stdout
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: {model}: call type 'support' in interval ") and "cannot meet its target" in last
    assert "; trunk_lines: 6 lines allow at most 6 calls in the system, and " in last
    assert "of the attempts there got a busy signal (they alone keep it below target: " in last


def test_a_shortfall_where_trunk_lines_bind_names_the_busy_signals(monkeypatch, tmp_path):
    """11 lines pass the up-front bound; a requirement far too low (5 agents) stops after one round short of
    target, and both the loop's shortfall and the fresh days' say what share of the attempts got a busy signal."""
    scenario = bposim.load_scenario(with_lines(tmp_path, 11))
    fix_requirement(monkeypatch, [5] * 24)
    plan = optimise_roster(scenario, seed=2, replications=2, max_rounds=1, trim_trials=0)
    assert not plan.converged and not plan.verified
    for text in (plan.shortfall, plan.fresh_shortfall):
        assert "; trunk_lines: 11 lines allow at most 11 calls in the system, and " in text
        assert "of the attempts in these intervals got a busy signal" in text


def test_busy_signals_that_alone_keep_the_target_out_of_reach_are_called_the_cause(tmp_path):
    """With 8 lines and 80 agents, the peak intervals miss 80% because of the callers turned away: the shortfall
    text says more lines are needed there, not more agents."""
    from bposim.optimise.roster.shortfall import busy_signals_text

    scenario = bposim.load_scenario(with_lines(tmp_path, 8)).updated(
        {"agent_groups.team.agents": 80, "scheduling": None}
    )
    run = bposim.simulate(scenario, seed=4, replications=3)
    levels = interval_service_levels(run)
    text = busy_signals_text(scenario, run.intervals, levels[~levels["met"]])
    assert text.startswith("; trunk_lines: 8 lines allow at most 8 calls in the system, and ")
    assert "more lines are needed there, not more agents" in text
