"""Outbound campaigns on the engine: dialers that give blended agents outbound calls in their idle time.

An agent of a campaign's groups who becomes idle (`Dialers.ready`, wrapped around the centre's ready handler) is
first offered inbound work as usual; only an agent left idle may be taken by the dialer, and only while no live
contact of its group's skills waits (one waiting for an overflow delay included: the dialer then looks again when
that delay passes). So an inbound caller waiting is always served before a dial starts.

A dial the dialer places for a free agent holds that agent (off the idle list, as if busy) from the moment it is
taken (the start of the preview, or the dial) until the dial ends: with no answer the agent is free again; when a
person answers, the agent talks (right party: talk then after-call work; wrong party: a short talk). A
predictive dialer places extra dials with no agent held for them, `dials_per_free_agent` − 1 per agent it takes
(the fraction carried on to the next agent, so agents freeing one at a time get them too): a person answering
one takes a held agent whose own dial is still ringing (that dial then has none), or, with none left, is a
nuisance call, dropped.

Nuisance cap, kept whatever happens: with N nuisance calls and A live answers so far, D dials in flight and H
agents held, the worst the campaign can come to is every dial in flight answered: (N + D − H) / (A + D). That holds
because a held agent whose dial is not answered waits on a ringing dial with no agent (if any) instead of
going free: an agent is let go only when every ringing dial has one. An extra dial is placed only while that
worst stays within the cap, so the nuisance rate N / A never exceeds it.

Each dial is one `DialRow`; an agent's stretch on outbound work (from being held to free again) is on exactly
one row, the dial it ended with. Outbound talk is not cut by outages, and dials stop at closing (those in
flight run on).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bposim.engine.events import Calendar
from bposim.engine.routing import Agent, Group, Router
from bposim.scenario import Scenario
from bposim.scenario.outbound import Campaign

RIGHT_PARTY, WRONG_PARTY, NO_ANSWER, NUISANCE = 0, 1, 2, 3
RESULTS = ("right_party", "wrong_party", "no_answer", "nuisance")
ROOM = 1e-9  # rounding room in the nuisance budget


class DialRow(NamedTuple):
    """One dial of a campaign: `held_from` when its agent was taken (NaN: no agent ended on it), `dialed`, `ended`
    (answered or given up), the `result` (one of RESULTS), the agent (−1: none), its talk and when it was free."""

    campaign: int
    dial_id: int
    held_from: float
    dialed: float
    ended: float
    result: int
    agent: int
    talk_start: float
    talk_end: float
    free_at: float


DIAL_FIELDS = DialRow._fields


class Dial:
    """A dial in flight: its campaign, number, the result drawn, when it was placed, and its held agent (or None)."""

    __slots__ = ("campaign", "dial_id", "result", "dialed", "agent")

    def __init__(self, campaign: CampaignRun, dial_id: int, result: int, dialed: float, agent: Agent | None):
        self.campaign = campaign
        self.dial_id = dial_id
        self.result = result
        self.dialed = dialed
        self.agent = agent


class CampaignRun:
    """A campaign at run time: its groups, calling list left, hours today, and its dials and held agents."""

    def __init__(self, index: int, spec: Campaign, groups: list[Group], rng: np.random.Generator):
        self.index = index
        self.spec = spec
        self.groups = groups
        self.rng = rng
        self.records_left = math.inf if spec.records is None else spec.records
        self.open_until = -math.inf  # the dialer runs until then today (minus infinity: not running)
        self.next_id = 0
        self.in_flight = 0  # D: dials ringing
        self.held: OrderedDict[Agent, float] = OrderedDict()  # H: agents waiting on a ringing dial, since when
        self.own_dial: dict[Agent, Dial] = {}  # the dial each held agent waits on, while it rings
        self.unheld: dict[Dial, None] = {}  # the dials ringing with no agent held for them, oldest first
        self.answered = 0  # A: live answers (right party, wrong party, nuisance)
        self.nuisances = 0  # N
        self.recheck_at = math.inf
        self.owed = 0.0  # predictive: the fraction of an extra dial carried to the next free agent


class Dialers:
    """Every campaign of a centre: places dials, resolves them, and records them (`rows`)."""

    def __init__(
        self,
        scenario: Scenario,
        router: Router,
        env: Calendar,
        rng: Callable[[str], np.random.Generator],
        base_ready: Callable[[Agent], None],
        closing: Callable[[], bool],
    ):
        self.env = env
        self.router = router
        self.base_ready = base_ready
        self.closing = closing
        self.grid_start = scenario.horizon.start_seconds
        by_name = {group.name: group for group in router.groups}
        self.campaigns = [
            CampaignRun(i, spec, [by_name[name] for name in spec.groups], rng(f"outbound/{spec.name}"))
            for i, spec in enumerate(scenario.outbound)
        ]
        self.of_group: dict[Group, list[CampaignRun]] = {}
        for campaign in self.campaigns:
            for group in campaign.groups:
                self.of_group.setdefault(group, []).append(campaign)
        self.rows: list[DialRow] = []

    # --- the day: each campaign's hours ---------------------------------------------------------------

    def open_day(self, now: float, close: float, origin: float) -> None:
        """The day opens at `now` (its grid starting at `origin`) and closes at `close`: each campaign runs over its
        hours cut to the day's."""
        for campaign in self.campaigns:
            window = campaign.spec.window
            start, end = now, close
            if window is not None:
                start = max(now, origin + window.open - self.grid_start)
                end = min(close, origin + window.close - self.grid_start)
            if start < end:
                self.env.at(start - now, self._start, (campaign, end))

    def _start(self, campaign_end: tuple[CampaignRun, float]) -> None:
        campaign, end = campaign_end
        campaign.open_until = end
        self._dial(campaign, self.env.now)

    # --- agents ---------------------------------------------------------------------------------------

    def ready(self, agent: Agent) -> None:
        """The centre's ready handler, then: an agent left idle may be taken by its campaigns' dialers."""
        self.base_ready(agent)
        group = agent.group
        if agent in group.idle:
            for campaign in self.of_group.get(group, ()):
                self._dial(campaign, self.env.now)

    def _free_agents(self, campaign: CampaignRun, now: float) -> list[Group]:
        """The campaign's groups whose idle agents the dialer may take now: no live contact of their skills waits (a
        group with one waiting only for its overflow delay is looked at again when that passes)."""
        free = []
        for group in campaign.groups:
            if not group.idle or group.down_outages:
                continue
            until = self.router.live_wait(group, now)
            if until is None:
                free.append(group)
            elif until > now and until < campaign.recheck_at:
                campaign.recheck_at = until
                self.env.at(until - now, self._recheck, (campaign, until))
        return free

    def _recheck(self, campaign_at: tuple[CampaignRun, float]) -> None:
        campaign, at = campaign_at
        if at == campaign.recheck_at:
            campaign.recheck_at = math.inf
            self._dial(campaign, self.env.now)

    # --- dialling -------------------------------------------------------------------------------------

    def _dial(self, campaign: CampaignRun, now: float) -> None:
        """Take the campaign's free agents beyond its threshold, one record each, and (predictive) the extra dials
        the nuisance budget allows."""
        if now >= campaign.open_until or self.closing() or campaign.records_left <= 0:
            return
        groups = self._free_agents(campaign, now)
        spare = sum(len(group.idle) for group in groups) - campaign.spec.threshold
        if spare <= 0:
            return
        spec = campaign.spec
        taken = 0
        for group in groups:
            while group.idle and taken < spare and campaign.records_left > 0:
                agent = group.idle.popitem(last=False)[0]
                taken += 1
                campaign.records_left -= 1
                if spec.dialer == "preview":
                    campaign.held[agent] = now
                    preview = float(spec.preview_time.sample(campaign.rng, 1)[0])
                    self.env.at(preview, self._previewed, (campaign, agent))
                else:
                    self._place(campaign, now, agent)
        if spec.dialer == "predictive" and taken:
            campaign.owed += (spec.dials_per_free_agent - 1.0) * taken
            extra = math.floor(campaign.owed + ROOM)
            campaign.owed = max(0.0, campaign.owed - extra)  # what the cap or the list holds back is dropped
            for _ in range(min(extra, self._budget(campaign))):
                if campaign.records_left <= 0:
                    break
                campaign.records_left -= 1
                self._place(campaign, now, None)

    def _budget(self, campaign: CampaignRun) -> int:
        """How many more dials with no agent held the nuisance cap allows now: the most U with
        N + (D − H) + U ≤ cap × (A + D + U)."""
        cap = campaign.spec.nuisance_cap
        unheld = campaign.in_flight - len(campaign.held)
        room = cap * (campaign.answered + campaign.in_flight) - campaign.nuisances - unheld
        return max(0, math.floor(room / (1.0 - cap) + ROOM))

    def _previewed(self, campaign_agent: tuple[CampaignRun, Agent]) -> None:
        """The agent has reviewed its record (taken from the list when the preview began): it dials it."""
        campaign, agent = campaign_agent
        self._place(campaign, self.env.now, agent)

    def _place(self, campaign: CampaignRun, now: float, agent: Agent | None) -> None:
        """Dial a record taken from the list: its result is drawn now, and it ends after the ringing (answered or
        given up); `agent` is held for it (None: an extra dial of a predictive dialer)."""
        spec = campaign.spec
        rng = campaign.rng
        draw = rng.random()
        if draw < spec.right_party:
            result = RIGHT_PARTY
        elif draw < spec.right_party + spec.wrong_party:
            result = WRONG_PARTY
        else:
            result = NO_ANSWER
        ring = (spec.no_answer_time if result == NO_ANSWER else spec.ring_time).sample(rng, 1)[0]
        dial = Dial(campaign, campaign.next_id, result, now, agent)
        campaign.next_id += 1
        campaign.in_flight += 1
        if agent is not None:
            campaign.held.setdefault(agent, now)
            campaign.own_dial[agent] = dial
        else:
            campaign.unheld[dial] = None
        self.env.at(float(ring), self._end_of_ringing, dial)

    def _end_of_ringing(self, dial: Dial) -> None:
        """The dial is answered or given up: its agent talks, is free again, or (answered, no agent) a nuisance."""
        campaign = dial.campaign
        now = self.env.now
        campaign.in_flight -= 1
        agent = dial.agent
        if dial.result == NO_ANSWER:
            campaign.unheld.pop(dial, None)
            if agent is not None and campaign.unheld:  # the agent waits on a dial with none held instead
                other = next(iter(campaign.unheld))
                del campaign.unheld[other]
                other.agent = agent
                campaign.own_dial[agent] = other
                agent = None
            if agent is None:
                self._record(dial, now, NO_ANSWER, None, math.nan, math.nan, math.nan, math.nan)
                self._dial(campaign, now)
                return
            held_from = self._release_hold(campaign, agent)
            self._record(dial, now, NO_ANSWER, agent, held_from, math.nan, math.nan, now)
            self.env.at(0.0, self.ready, agent)
            return
        campaign.answered += 1
        campaign.unheld.pop(dial, None)
        if agent is None and campaign.held:
            agent = next(iter(campaign.held))  # held longest: its own dial rings on without it
            own = campaign.own_dial[agent]
            own.agent = None
            campaign.unheld[own] = None
        if agent is None:
            campaign.nuisances += 1
            self._record(dial, now, NUISANCE, None, math.nan, math.nan, math.nan, math.nan)
            self._dial(campaign, now)
            return
        held_from = self._release_hold(campaign, agent)
        spec, rng = campaign.spec, campaign.rng
        if dial.result == RIGHT_PARTY:
            talk = float(spec.talk_time.sample(rng, 1)[0])
            wrap = float(spec.after_call_work.sample(rng, 1)[0])
        else:
            talk = float(spec.wrong_party_time.sample(rng, 1)[0])
            wrap = 0.0
        self._record(dial, now, dial.result, agent, held_from, now, now + talk, now + talk + wrap)
        self.env.at(talk + wrap, self.ready, agent)

    def _release_hold(self, campaign: CampaignRun, agent: Agent) -> float:
        """The agent no longer waits on a ringing dial; when it was taken."""
        del campaign.own_dial[agent]
        return campaign.held.pop(agent)

    def _record(
        self,
        dial: Dial,
        now: float,
        result: int,
        agent: Agent | None,
        held_from: float,
        talk_start: float,
        talk_end: float,
        free_at: float,
    ) -> None:
        self.rows.append(
            DialRow(
                dial.campaign.index,
                dial.dial_id,
                held_from,
                dial.dialed,
                now,
                result,
                -1 if agent is None else agent.index,
                talk_start,
                talk_end,
                free_at,
            )
        )
