"""First-contact resolution and repeat contacts, as relations: what the calls table, the summary, the printout and the
sweep columns must show for a call type with `resolution`, and what stays the same without it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from cli_runner import assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bposim import Scenario, simulate
from bposim.experiment.tables import kpi_row
from bposim.resolution import KPIS

OPEN_SECONDS = 4 * 3600  # the centre's day: 09:00-13:00
SUPPORT = {
    "name": "support",
    "arrivals": {"per_hour": 120},
    "handle_time": {"distribution": "exponential", "mean_seconds": 180},
    "patience": {"distribution": "exponential", "mean_seconds": 600},
}


def centre(resolution: dict | None = None, days: int = 1, agents: int = 8, **changes) -> Scenario:
    """A single-skill centre open 09:00-13:00 for `days` days, its call type with `resolution` (none: left out)."""
    call_type = dict(SUPPORT, **({"resolution": resolution} if resolution is not None else {}))
    data = {
        "name": "resolution centre",
        "horizon": {"start": "09:00", "end": "13:00", "interval_minutes": 30, "days": days},
        "call_types": [call_type],
        "agent_groups": [{"name": "team", "skills": ["support"], "agents": agents}],
    }
    data.update(changes)
    return Scenario.model_validate(data)


def rule(probability: float, repeat_probability: float = 1.0, **more) -> dict:
    delay = more.pop("repeat_delay", {"distribution": "exponential", "mean_hours": 1})
    return {
        "probability": probability,
        "repeat_probability": repeat_probability,
        "repeat_delay": delay,
        "max_repeats": 50,
        **more,
    }


def binomial_close(count: float, n: float, p: float, sigmas: float = 4.0) -> bool:
    """Whether `count` is within `sigmas` standard deviations of a Binomial(n, p)'s mean (at least one)."""
    return abs(count - n * p) <= sigmas * max(math.sqrt(n * p * (1 - p)), 1.0)


def first_attempts(calls: pd.DataFrame) -> pd.DataFrame:
    return calls[calls["attempt"] == 1]


# --- without resolution, and with certain resolution: nothing changes ------------------------------------------


def test_without_resolution_the_calls_table_has_no_resolution_columns_and_the_summary_no_kpis():
    run = simulate(centre(), seed=3)
    assert "resolved" not in run.calls and "repeat_of" not in run.calls
    assert not set(KPIS) & set(run.summary)
    assert not any(key.endswith((".fcr", "repeats_per_day")) for key in kpi_row(run))


def test_certain_resolution_makes_no_repeat_and_leaves_every_other_column_as_without_it():
    """Resolution draws from streams of its own: with probability 1 the tables are those of the scenario without
    resolution, plus resolved (True on answered rows) and repeat_of (−1)."""
    plain = simulate(centre(), seed=5)
    certain = simulate(centre(rule(1.0)), seed=5)
    calls = certain.calls
    assert (calls["repeat_of"] == -1).all()
    answered = calls["outcome"] == "answered"
    assert calls.loc[answered, "resolved"].eq(True).all()
    assert calls.loc[~answered, "resolved"].isna().all()
    pd.testing.assert_frame_equal(calls.drop(columns=["resolved", "repeat_of"]), plain.calls)
    for name in ("intervals", "agents", "staffing"):
        pd.testing.assert_frame_equal(getattr(certain, name), getattr(plain, name))
    assert certain.summary["fcr"] == 1.0 and certain.summary["repeats"] == 0
    assert certain.summary["service_level"] == plain.summary["service_level"]


# --- repeats are conserved -----------------------------------------------------------------------------------


def assert_repeats_conserved(calls: pd.DataFrame) -> None:
    """Each repeat points to an earlier, answered, unresolved contact of its call type that ended before it
    arrived, and no contact is repeated twice; resolved is set on answered rows only."""
    answered = calls["outcome"] == "answered"
    assert calls.loc[~answered, "resolved"].isna().all()
    repeats = first_attempts(calls)[first_attempts(calls)["repeat_of"] >= 0]
    assert repeats["repeat_of"].is_unique
    originals = calls[answered].set_index("call_id")
    assert repeats["repeat_of"].isin(originals.index).all()
    source = originals.loc[repeats["repeat_of"].to_numpy()]
    assert (source["resolved"] == False).all()  # noqa: E712  (a nullable boolean column)
    assert (source["call_type"].to_numpy() == repeats["call_type"].to_numpy()).all()
    assert (repeats["call_id"].to_numpy() > repeats["repeat_of"].to_numpy()).all()
    assert (repeats["arrival"].to_numpy() >= source["end"].to_numpy()).all()
    assert (repeats["arrival"].to_numpy() % 86_400 < OPEN_SECONDS).all()  # repeats come in opening hours
    # every row of a repeat contact (its retrials too) names the same original
    assert (calls.groupby("call_id")["repeat_of"].nunique() == 1).all()


def test_repeats_point_to_earlier_unresolved_contacts_and_number_unresolved_times_repeat_probability():
    run = simulate(centre(rule(0.6, repeat_probability=0.7), days=3), seed=11)
    calls = run.calls
    assert_repeats_conserved(calls)
    unresolved = int((calls["resolved"] == False).sum())  # noqa: E712
    made = int((first_attempts(calls)["repeat_of"] >= 0).sum())
    carried = run.summary["repeats_carried_out"]
    assert unresolved > 300 and made > 100 and carried > 0
    assert binomial_close(made + carried, unresolved, 0.7)
    answered_first = calls[(calls["outcome"] == "answered") & (calls["repeat_of"] < 0)]
    assert binomial_close(int(answered_first["resolved"].sum()), len(answered_first), 0.6)
    assert run.summary["fcr"] == pytest.approx(answered_first["resolved"].mean())
    assert run.summary["repeats"] == made
    assert run.summary["repeats_per_day"] == pytest.approx(made / 3)


def test_a_repeat_due_after_the_last_closing_is_carried_out_of_the_horizon():
    """One day, repeats a day later: none is made, every unresolved contact's repeat is carried out."""
    day_later = {"distribution": "fixed", "value_days": 1}
    run = simulate(centre(rule(0.5, repeat_delay=day_later)), seed=2)
    unresolved = int((run.calls["resolved"] == False).sum())  # noqa: E712
    assert unresolved > 50
    assert run.summary["repeats"] == 0
    assert run.summary["repeats_carried_out"] == unresolved


def test_max_repeats_ends_a_chain():
    run = simulate(centre(rule(0.0, max_repeats=2), days=4), seed=4)
    calls = first_attempts(run.calls).set_index("call_id")
    depth = {}
    for call_id, of in calls["repeat_of"].items():
        depth[call_id] = 0 if of < 0 else depth[of] + 1
    assert max(depth.values()) == 2
    assert any(value == 2 for value in depth.values())


def test_later_days_have_more_arrivals_than_the_base_rate_by_the_repeat_load():
    """Repeats come back a day later, once (max_repeats 1), every answered contact is unresolved with 1 − p: day 0
    has the base arrivals only, each later day about base × (1 + (1 − p))."""
    p = 0.6
    spec = rule(p, repeat_delay={"distribution": "fixed", "value_hours": 24}, max_repeats=1)
    scenario = centre(spec, days=4, agents=14, call_types=[dict(SUPPORT, patience=None, resolution=spec)])
    run = simulate(scenario, seed=8)
    per_day = first_attempts(run.calls).groupby("day").size()
    repeats_per_day = first_attempts(run.calls).groupby("day")["repeat_of"].apply(lambda s: int((s >= 0).sum()))
    base = 120 * 4  # per hour × open hours
    assert repeats_per_day[0] == 0
    assert abs(per_day[0] - base) <= 4 * math.sqrt(base)
    later = per_day[1:].mean()
    expected = base * (1 + (1 - p))
    assert abs(later - expected) <= 4 * math.sqrt(expected / 3) + 0.02 * base
    assert later > per_day[0]


# --- what moves resolution ------------------------------------------------------------------------------------


def two_groups(resolution: dict, days: int = 1, **skills) -> Scenario:
    return centre(
        resolution,
        days=days,
        agent_groups=[
            {"name": "tier1", "skills": [{"call_type": "support", **skills}], "agents": 4},
            {"name": "tier2", "skills": ["support"], "agents": 4},
        ],
    )


def test_by_group_gives_each_group_its_own_chance():
    run = simulate(two_groups(rule(0.5, repeat_probability=0.0, by_group={"tier2": 0.9})), seed=6)
    answered = run.calls[run.calls["outcome"] == "answered"]
    for group, chance in (("tier1", 0.5), ("tier2", 0.9)):
        own = answered[answered["group"] == group]["resolved"]
        assert len(own) > 100
        assert binomial_close(int(own.sum()), len(own), chance)


def test_follows_proficiency_leaves_more_unresolved_for_slower_agents():
    """A group twice as slow leaves twice as many contacts unresolved: 1 − 2 × (1 − 0.8) = 0.6."""
    spec = rule(0.8, repeat_probability=0.0, follows_proficiency=True)
    run = simulate(two_groups(spec, days=2, proficiency=2.0), seed=9)
    answered = run.calls[run.calls["outcome"] == "answered"]
    for group, chance in (("tier1", 0.6), ("tier2", 0.8)):
        own = answered[answered["group"] == group]["resolved"]
        assert binomial_close(int(own.sum()), len(own), chance)
    ignored = simulate(two_groups(dict(spec, follows_proficiency=False), days=2, proficiency=2.0), seed=9).calls
    slow = ignored[(ignored["outcome"] == "answered") & (ignored["group"] == "tier1")]["resolved"]
    assert binomial_close(int(slow.sum()), len(slow), 0.8)


def assisted(uplift: float, adoption: float = 1.0) -> Scenario:
    return centre(
        rule(0.6, repeat_probability=0.0),
        technology={"ai_assist": {"adoption": adoption, "handle_time_multiplier": 1.0, "resolution_uplift": uplift}},
    )


def test_ai_assist_uplift_resolves_every_contact_resolved_without_it_and_more():
    """Same seed, assist that leaves handle time alone and no repeats: the same contacts reach the same agents, and
    the uplift only raises each one's threshold on the same draw."""
    without = simulate(assisted(0.0), seed=12).calls
    with_uplift = simulate(assisted(0.25), seed=12).calls
    answered = without["outcome"] == "answered"
    before, after = without.loc[answered, "resolved"], with_uplift.loc[answered, "resolved"]
    assert not (before & ~after).any()
    assert binomial_close(int(after.sum()), len(after), 0.85)
    lowered = simulate(assisted(-0.3), seed=12).calls.loc[answered, "resolved"]
    assert binomial_close(int(lowered.sum()), len(lowered), 0.3)


def test_assist_moves_only_the_agents_who_use_it():
    calls = simulate(assisted(0.4, adoption=0.0), seed=12).calls
    answered = calls[calls["outcome"] == "answered"]["resolved"]
    assert binomial_close(int(answered.sum()), len(answered), 0.6)


# --- channels, costs, the door ---------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    channel=st.sampled_from(["voice", "chat", "email"]),
    probability=st.floats(0.0, 1.0),
    repeat_probability=st.floats(0.0, 1.0),
    seed=st.integers(0, 10_000),
)
def test_repeats_are_conserved_on_every_channel(channel, probability, repeat_probability, seed):
    call_type = dict(SUPPORT, channel=channel, arrivals={"per_hour": 60})
    if channel == "email":
        call_type.pop("patience")
    call_type["resolution"] = rule(probability, repeat_probability, max_repeats=2)
    run = simulate(centre(call_types=[call_type], days=2, agents=3), seed=seed)
    assert_repeats_conserved(run.calls)
    made = int((first_attempts(run.calls)["repeat_of"] >= 0).sum())
    assert run.summary["repeats"] == made  # no warm-up: the summary counts every repeat


def test_cost_of_repeats_is_the_handle_time_of_answered_repeats_at_the_groups_rates():
    costs = {"groups": [{"group": "tier1", "per_paid_hour": 20}, {"group": "tier2", "per_paid_hour": 32}]}
    data = two_groups(rule(0.5)).model_dump(mode="json", exclude_none=True)
    scenario = Scenario.model_validate({**data, "costs": costs})
    run = simulate(scenario, seed=13)
    repeats = run.calls[(run.calls["outcome"] == "answered") & (run.calls["repeat_of"] >= 0)]
    rate = repeats["group"].astype(str).map({"tier1": 20, "tier2": 32})
    expected = ((repeats["handle_seconds"] + repeats["wrap_seconds"]) / 3600 * rate).sum()
    assert len(repeats) > 20
    assert run.summary["cost_of_repeats"] == pytest.approx(expected)
    assert run.summary["by_call_type"]["support"]["cost_of_repeats"] == pytest.approx(expected)


def test_delay_in_hours_or_days_is_the_same_delay_in_seconds():
    hours = Scenario.model_validate(
        centre(
            rule(0.5, repeat_delay={"distribution": "lognormal", "mean_hours": 20, "cv": 0.5, "max_days": 3})
        ).model_dump(mode="json", exclude_none=True)
    )
    delay = hours.call_types[0].resolution.repeat_delay
    assert delay.mean_seconds == 72_000 and delay.max_seconds == 259_200


def test_sweep_columns_and_pooled_replications_carry_fcr():
    run = simulate(centre(rule(0.7), days=2), seed=1, replications=2)
    assert {"fcr", "fcr_ci", "repeats_per_day", "repeats_per_day_ci"} <= set(run.summary)
    row = kpi_row(simulate(centre(rule(0.7), days=2), seed=1))
    assert 0 < row["support.fcr"] < 1 and row["repeats_per_day"] > 0
    assert isinstance(row["repeats"], int)


def test_run_prints_first_contact_resolution_and_reports_it(tmp_path):
    path = tmp_path / "centre.yaml"
    scenario = centre(rule(0.7), days=2)
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True)), encoding="utf-8")
    result = bposim("run", path, "--out", tmp_path / "out", "--report")
    assert result.returncode == 0, result.stderr
    assert "First-contact resolution" in result.stdout and "Carried out of" in result.stdout
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "First-contact resolution" in page and "Contacts offered per day" in page
    calls = pd.read_csv(tmp_path / "out" / "calls.csv")
    assert {"resolved", "repeat_of"} <= set(calls.columns)
    csv = bposim("run", path, "--format", "csv")
    assert "fcr" in csv.stdout.splitlines()[0].split(",")


@pytest.mark.parametrize(
    ("change", "pieces"),
    [
        (
            {"by_group": {"night": 0.9}},
            ["call_types[0].resolution.by_group.night", "agent group 'night' does not answer 'support'"],
        ),
        ({"probability": 1.2}, ["call_types[0].resolution.probability"]),
        (
            {"repeat_delay": {"distribution": "exponential", "mean_days": 1, "mean_seconds": 60}},
            ["call_types[0].resolution.repeat_delay", "mean_days and mean_seconds give the same parameter"],
        ),
    ],
)
def test_bad_resolution_is_refused_naming_the_field(tmp_path, change, pieces):
    data = centre(rule(0.7)).model_dump(mode="json", exclude_none=True)
    data["call_types"][0]["resolution"].update(change)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert_refused(bposim("validate", path), *pieces)


def test_assist_uplift_without_any_resolution_is_refused(tmp_path):
    data = centre().model_dump(mode="json", exclude_none=True)
    data["technology"] = {"ai_assist": {"resolution_uplift": 0.1}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert_refused(bposim("validate", path), "technology.ai_assist.resolution_uplift", "no call type has a resolution")


def test_the_resolution_streams_leave_arrivals_unchanged():
    """First contacts arrive as without resolution (their own stream): the same first-contact arrival times."""
    plain = first_attempts(simulate(centre(), seed=21).calls)
    with_repeats = first_attempts(simulate(centre(rule(0.3)), seed=21).calls)
    firsts = with_repeats[with_repeats["repeat_of"] < 0]
    np.testing.assert_array_equal(np.sort(firsts["arrival"].to_numpy()), np.sort(plain["arrival"].to_numpy()))


def test_a_scenario_whose_repeats_could_pass_the_limits_is_refused_naming_max_repeats(tmp_path):
    """The workload counts the repeats of a customer never resolved: 41 contacts each at repeat_probability 1."""
    data = centre(rule(0.9, max_repeats=40)).model_dump(mode="json", exclude_none=True)
    data["call_types"][0]["arrivals"] = {"per_hour": 100_000}  # 400,000 first contacts: within the limits alone
    path = tmp_path / "busy.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert_refused(bposim("run", path), "call_types[0].resolution.max_repeats", "lower")
    data["call_types"][0]["resolution"]["max_repeats"] = 1
    data["call_types"][0]["arrivals"] = {"per_hour": 10}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert bposim("run", path).returncode == 0


def test_same_seed_same_tables_with_repeats():
    scenario = centre(rule(0.5, repeat_probability=0.9), days=2)
    first, second = simulate(scenario, seed=17), simulate(scenario, seed=17)
    for name in ("calls", "intervals", "agents"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
