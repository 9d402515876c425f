"""Data residency: a client's `restrict_to` is never broken by routing (every contact of its restricted call types
served by an eligible group, whatever path it took), `bposim validate` says which groups lose which call types,
bad restrictions are refused, and on the two-client model the restriction costs the bank service level."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from cli_runner import ROOT, assert_refused, bposim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bposim.contract_views import residency_lines
from bposim.run import simulate
from bposim.scenario import Scenario, load_scenario
from bposim.scenario.residency import resident_centre, withdrawn_skills

MODEL = ROOT / "models" / "bpo_two_clients.yaml"
SITES = ("onshore", "offshore")
CLEARANCES = ("pci", "vetted")
CALL_TYPES = {"voice_a": "voice", "voice_b": "voice", "chat_b": "chat", "case_b": "case"}


def call_type(name: str, channel: str, per_hour: float) -> dict:
    spec = {
        "name": name,
        "arrivals": {"per_hour": per_hour},
        "handle_time": {"distribution": "exponential", "mean_seconds": 240 if channel != "case" else 600},
    }
    if channel != "voice":
        spec["channel"] = channel
    if channel != "case":
        spec["patience"] = {"distribution": "exponential", "mean_seconds": 150}
    return spec


def group(name: str, site: str | None, clearances: list[str], skills: list) -> dict:
    spec: dict = {"name": name, "skills": skills, "agents": 2}
    if site is not None:
        spec["site"] = site
    if clearances:
        spec["clearances"] = clearances
    if any(CALL_TYPES.get(s if isinstance(s, str) else s["call_type"]) == "chat" for s in skills):
        spec["max_concurrency"] = 2
    return spec


def centre(groups: list[dict], restrict_to: dict | None, callbacks: bool = False, transfer: float = 0.0) -> dict:
    """Two hours of a provider on two sites: client a's voice, client b's voice, chat and cases (restricted by
    `restrict_to`), optionally callbacks and a transfer of a's callers to b's voice line."""
    types = [call_type(name, channel, 40 if channel == "voice" else 12) for name, channel in CALL_TYPES.items()]
    if transfer:
        types[0]["transfers"] = [{"to": "voice_b", "probability": transfer}]
    contract_b: dict = {"billing": {"model": "per_handled_contact", "rate": 2}}
    if restrict_to is not None:
        contract_b["restrict_to"] = restrict_to
    data = {
        "name": "residency",
        "horizon": {"start": "09:00", "end": "11:00", "interval_minutes": 30},
        "call_types": types,
        "agent_groups": groups,
        "sites": [{"name": name} for name in SITES],
        "clients": [
            {
                "name": "a",
                "call_types": ["voice_a"],
                "contract": {"billing": {"model": "per_handled_contact", "rate": 1}},
            },
            {"name": "b", "call_types": ["voice_b", "chat_b", "case_b"], "contract": contract_b},
        ],
    }
    if callbacks:
        data["technology"] = {"callbacks": {"offer_when_wait_over_seconds": 20, "acceptance": 0.5}}
    return data


@st.composite
def restricted_centres(draw) -> dict:
    """A random provider: an eligible group serving everything, and 1-3 more of random sites, clearances and
    skills (overflow delays included), so some lose call types under b's restriction; with callbacks and
    transfers sometimes."""
    sites = draw(st.sets(st.sampled_from(SITES), min_size=1))
    clearances = draw(st.sets(st.sampled_from(CLEARANCES)))
    restrict_to: dict = {}
    if draw(st.booleans()) or not clearances:
        restrict_to["sites"] = sorted(sites)
    if clearances:
        restrict_to["clearances"] = sorted(clearances)
    home = sorted(sites)[0]
    groups = [group("cleared", home, list(CLEARANCES), list(CALL_TYPES))]
    for g in range(draw(st.integers(1, 3))):
        skills = draw(st.lists(st.sampled_from(list(CALL_TYPES)), min_size=1, max_size=4, unique=True))
        delays = [draw(st.sampled_from([0, 0, 15])) for _ in skills]
        listed = [
            {"call_type": name, "delay_seconds": delay} if delay and CALL_TYPES[name] == "voice" else name
            for name, delay in zip(skills, delays, strict=True)
        ]
        site = draw(st.sampled_from([*SITES, None]))
        held = sorted(draw(st.sets(st.sampled_from(CLEARANCES))))
        groups.append(group(f"team_{g}", site, held, listed))
    callbacks = draw(st.booleans())
    transfer = draw(st.sampled_from([0.0, 0.3]))
    return centre(groups, restrict_to, callbacks, transfer)


def eligible_groups(scenario: Scenario) -> set[str]:
    residency = scenario.clients[1].contract.restrict_to
    return {g.name for g in scenario.agent_groups if residency.admits(g)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=restricted_centres(), seed=st.integers(0, 2**16))
def test_no_contact_of_a_restricted_client_reaches_an_ineligible_group(data, seed):
    scenario = Scenario.model_validate(data)
    calls = simulate(scenario, seed=seed).calls
    restricted = calls[calls["call_type"].astype(str).isin(["voice_b", "chat_b", "case_b"])]
    served = restricted[restricted["group"].notna() & (restricted["group"].astype(str) != "")]
    assert set(served["group"].astype(str)) <= eligible_groups(scenario)


def test_without_the_restriction_the_same_groups_do_serve_the_clients_calls():
    """The negative control: lift the restriction and the uncleared offshore team answers bank calls."""
    scenario = load_scenario(MODEL)
    open_scenario = scenario.updated({"clients.bank.contract.restrict_to": None})
    served = {}
    for label, model in (("restricted", scenario), ("open", open_scenario)):
        calls = simulate(model, seed=3).calls
        answered = calls[(calls["outcome"] == "answered") & (calls["call_type"].astype(str) == "bank_voice")]
        served[label] = set(answered["group"].astype(str))
    assert "shared_offshore" in served["open"]
    assert "shared_offshore" not in served["restricted"]
    assert served["restricted"] <= eligible_groups(scenario)


def test_the_centre_runs_each_group_with_its_eligible_skills_only():
    data = centre(
        [
            group("cleared", "onshore", ["pci"], ["voice_a", "voice_b", "chat_b", "case_b"]),
            group("offshore_mixed", "offshore", [], [{"call_type": "voice_a", "proficiency": 0.8}, "chat_b"]),
            group("offshore_bank", "offshore", [], ["voice_b", "case_b"]),
        ],
        {"sites": ["onshore"]},
    )
    data["agent_groups"][2]["deferred_reserve"] = 1
    scenario = Scenario.model_validate(data)
    assert withdrawn_skills(scenario) == {"offshore_mixed": ["chat_b"], "offshore_bank": ["voice_b", "case_b"]}
    resident = resident_centre(scenario)
    by_name = {g.name: g for g in resident.agent_groups}
    assert [(s.call_type, s.proficiency) for s in by_name["offshore_mixed"].skills] == [("voice_a", 0.8)]
    assert by_name["offshore_mixed"].max_concurrency == 1  # no chat skill left
    assert by_name["offshore_bank"].skills == [] and by_name["offshore_bank"].deferred_reserve is None
    assert by_name["cleared"] == scenario.agent_groups[0]
    assert scenario.agent_groups[2].skills  # the scenario given is left as it is
    assert "  offshore_bank loses voice_b, case_b under the restriction; serves nothing: its agents sit idle" in (
        residency_lines(scenario)
    )
    calls = simulate(scenario, seed=1).calls
    assert "offshore_bank" not in set(calls["group"].dropna().astype(str))  # its agents sit idle


def test_a_scenario_without_restrictions_is_run_as_it_is():
    data = centre([group("everyone", "offshore", [], list(CALL_TYPES))], None)
    scenario = Scenario.model_validate(data)
    assert resident_centre(scenario) is scenario
    assert withdrawn_skills(scenario) == {}


def test_validate_says_which_groups_lose_which_call_types():
    result = bposim("validate", MODEL)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "bank (bank_voice, bank_case): agents holding pci only" in text
    assert "eligible groups: bank_onshore, bank_offshore_pci, shared_onshore" in text
    assert "shared_offshore loses bank_voice under the restriction; serves telco_voice" in text


def bad_model(tmp_path, change) -> object:
    data = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def restrict(value: dict):
    def change(data: dict) -> None:
        data["clients"][1]["contract"]["restrict_to"] = value

    return change


def strip_pci(data: dict) -> None:
    restrict({"sites": ["glasgow"]})(data)
    for spec in data["agent_groups"]:
        if spec["name"] in ("bank_onshore", "shared_onshore"):
            spec["site"] = "cape_town"


@pytest.mark.parametrize(
    ("change", "pieces"),
    [
        (
            restrict({"sites": ["lisbon"]}),
            ["clients[1].contract.restrict_to.sites[0]", "unknown site 'lisbon'", "known: glasgow, cape_town"],
        ),
        (
            restrict({"clearances": ["pcii"]}),
            [
                "clients[1].contract.restrict_to.clearances[0]",
                "no agent group holds the clearance 'pcii'",
                "held: pci, background_checked",
            ],
        ),
        (
            restrict({"clearances": ["pci"], "call_types": ["telco_voice"]}),
            ["clients[1].contract.restrict_to.call_types[0]", "call type 'telco_voice' is not the client's"],
        ),
        (
            restrict({}),
            ["clients[1].contract.restrict_to", "give sites, clearances or both"],
        ),
        (
            strip_pci,
            [
                "clients[1].contract.restrict_to",
                "no agent group allowed to serve 'bank_voice' holds the skill (at glasgow",
                "no agent group is eligible",
            ],
        ),
    ],
    ids=["unknown site", "clearance nobody holds", "not the client's call type", "empty", "no eligible group"],
)
def test_a_bad_restriction_is_refused_by_the_command_line(tmp_path, change, pieces):
    path = bad_model(tmp_path, change)
    assert_refused(bposim("validate", path), *pieces, source=path)
    assert_refused(bposim("run", path), *pieces, source=path)


def test_the_restriction_costs_the_bank_service_level_at_equal_staffing():
    scenario = load_scenario(MODEL)
    open_scenario = scenario.updated({"clients.bank.contract.restrict_to": None})
    restricted = simulate(scenario, seed=5, replications=2).summary["clients"]["by_client"]
    unrestricted = simulate(open_scenario, seed=5, replications=2).summary["clients"]["by_client"]
    assert restricted["bank"]["service_level"] < unrestricted["bank"]["service_level"]
    # the offshore team's time goes back to the telecom
    assert restricted["telecom"]["service_level"] > unrestricted["telecom"]["service_level"]
    assert restricted["bank"]["p_penalty"] >= unrestricted["bank"]["p_penalty"]


def test_the_residency_sweep_runs_and_reports_each_client(tmp_path):
    out = tmp_path / "out"
    result = bposim("sweep", ROOT / "experiments" / "residency_cost.yaml", "--workers", "1", "--out", out, "--report")
    assert result.returncode == 0, result.stderr
    cells = pd.read_parquet(out / "cells.parquet")
    assert set(cells["residency"]) == {"restricted", "unrestricted"}
    level = cells.pivot(
        index="agent_groups.bank_onshore.agents.count", columns="residency", values="client.bank.service_level"
    )
    assert (level["restricted"] < level["unrestricted"]).all()  # the pooling lost, at every onshore team size
    for key in ("service_level", "margin", "p_penalty"):
        assert cells[f"client.bank.{key}"].notna().all() and f"client.telecom.{key}" in cells
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Client service level against margin" in report


def test_the_bank_team_sweep_still_runs(tmp_path):
    experiment = yaml.safe_load((ROOT / "experiments" / "two_clients_bank_team.yaml").read_text(encoding="utf-8"))
    experiment |= {"replications": 1, "model": str(MODEL)}
    path = tmp_path / "bank_team.yaml"
    path.write_text(yaml.safe_dump(experiment), encoding="utf-8")
    result = bposim("sweep", path, "--workers", "1", "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr


def offshore_bank_centre() -> Scenario:
    """A cleared onshore group serving everything, an offshore group on a's and b's voice, and an offshore group
    of b's work only; b restricted to the onshore site."""
    data = centre(
        [
            group("cleared", "onshore", ["pci"], list(CALL_TYPES)),
            group("offshore_a", "offshore", [], ["voice_a", "voice_b"]),
            group("offshore_bank", "offshore", [], ["voice_b", "case_b"]),
        ],
        {"sites": ["onshore"]},
    )
    return Scenario.model_validate(data)


def test_a_call_types_occupancy_counts_the_agents_allowed_to_serve_it():
    run = simulate(offshore_bank_centre(), seed=2)
    agents = run.agents
    allowed = agents[agents["group"].astype(str) == "cleared"]
    available = allowed["logged_in_seconds"].sum() - allowed["off_phone_seconds"].sum()
    expected = allowed["busy_seconds"].sum() / available
    assert run.summary["by_call_type"]["voice_b"]["occupancy"] == pytest.approx(expected)


def test_the_erlang_requirement_staffs_only_the_groups_allowed():
    from bposim.planning import requirement

    scenario = offshore_bank_centre()
    restricted = requirement(scenario, method="erlang").groupby("group")["erlang"].sum()
    lifted = requirement(scenario.updated({"clients.b.contract.restrict_to": None}), method="erlang")
    lifted = lifted.groupby("group")["erlang"].sum()
    assert restricted["offshore_bank"] == 0 < lifted["offshore_bank"]
    assert restricted["cleared"] > lifted["cleared"]  # b's work falls to the onshore group


def test_a_sweep_tries_several_restrictions_as_a_list_of_values():
    import bposim

    factor = "clients.bank.contract.restrict_to"
    experiment = bposim.Experiment(
        load_scenario(MODEL), factors={factor: [None, {"sites": ["glasgow"]}]}, replications=1, seed=4
    )
    cells = bposim.cell_summary(experiment.run(workers=1, progress=False)).set_index(factor)
    onshore_only = cells.loc['{"sites": ["glasgow"]}', "client.bank.service_level"]
    assert onshore_only < cells.loc["null", "client.bank.service_level"]  # the offshore teams may not help
