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

The calling list (`engine.calling_lists`): the `records` of the start, plus records arriving at `rate_per_hour` (a
Poisson stream of its own, `outbound/<name>/arrivals`, through the campaign's hours each day), plus, with `retry`,
records whose dial ended with a result it names coming back `after_minutes` later (none scheduled past the last
closing: left on the list), until a record has had `max_attempts` dials. A record due again is dialled before a
fresh one (oldest due first); one due outside the hours waits for them.

The threshold (a choice, after ContactCenters' `ThresholdDialerPolicy` as its Blend example uses it): Blend
counts the free agents of a test set of groups (there, every group: inbound-only and blended) against its
threshold and dials for the free agents of a target set (the blended agents). Here `threshold_groups` is the test
set (by default the campaign's own groups, each counted only while no live contact of its skills waits) and the
campaign's groups the target set. Blend then dials for every free blended agent, leaving it free until a customer
answers (it has no ringing); here a dial holds its agent while it rings, so the dialer takes only the free agents
beyond the threshold, and `threshold` agents of the test set stay free for inbound.

Technology (`engine.technology` reports each tool going down and up through `tool_switched`; what each tool does
to outbound work is in `engine.outbound_tools`): while a tool whose effects shut the front door for every call
type (`arrivals_blocked` with no call_types: the telephony) is down, no dial is placed (dials in flight run on; a
preview ending meanwhile waits, its agent held, for the lines); a `slow` effect with no call_types multiplies the
talk of outbound calls starting meanwhile for the groups it covers, as it does inbound talk; a `down` effect keeps
its groups' agents from being taken (they are not idle), and with `in_progress: drop` cuts off their outbound
talk in progress (the row's talk_end and free_at are the cut, `cut_off` set).

Each dial is one `DialRow`; an agent's stretch on outbound work (from being held to free again) is on exactly
one row, the dial it ended with. Dials stop at closing (those in flight run on).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bposim.engine.calling_lists import CallingList, ListRow, Record
from bposim.engine.events import Calendar
from bposim.engine.outbound_tools import OutboundTools
from bposim.engine.routing import Agent, Group, Router
from bposim.scenario import SECONDS_PER_DAY, Scenario
from bposim.scenario.outbound import Campaign

RIGHT_PARTY, WRONG_PARTY, NO_ANSWER, NUISANCE = 0, 1, 2, 3
RESULTS = ("right_party", "wrong_party", "no_answer", "nuisance")
ROOM = 1e-9  # rounding room in the nuisance budget


class DialRow(NamedTuple):
    """One dial of a campaign: `held_from` when its agent was taken (NaN: no agent ended on it), `dialed`, `ended`
    (answered or given up), the `result` (one of RESULTS), the agent (−1: none), its talk and when it was free,
    the record dialled and its attempt (1, 2, ...), and `cut_off` (1: an outage cut the talk off)."""

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
    record: int
    attempt: int
    cut_off: int


DIAL_FIELDS = DialRow._fields


class Dial:
    """A dial in flight: its campaign, number, the result drawn, when it was placed, its held agent (or None), and
    the record it dials."""

    __slots__ = ("campaign", "dial_id", "result", "dialed", "agent", "record")

    def __init__(
        self, campaign: CampaignRun, dial_id: int, result: int, dialed: float, agent: Agent | None, record: Record
    ):
        self.campaign = campaign
        self.dial_id = dial_id
        self.result = result
        self.dialed = dialed
        self.agent = agent
        self.record = record


class CampaignRun:
    """A campaign at run time: its groups, calling list left, hours today, and its dials and held agents."""

    def __init__(
        self,
        index: int,
        spec: Campaign,
        groups: list[Group],
        counted: list[Group] | None,
        rng: np.random.Generator,
        arrivals: np.random.Generator | None,
    ):
        self.index = index
        self.spec = spec
        self.groups = groups
        self.counted = counted  # the groups counted against the threshold (None: the free ones of `groups`)
        self.rng = rng
        self.arrivals = arrivals  # the stream of records arriving (rate_per_hour), or None
        self.list = CallingList(spec)
        self.dialing_seconds = 0.0
        self.counted_seconds = 0.0
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
        self.warmup = scenario.horizon.warmup_minutes * 60.0
        self.last_close = (scenario.horizon.days - 1) * SECONDS_PER_DAY + scenario.horizon.open_seconds
        by_name = {group.name: group for group in router.groups}
        self.campaigns = [
            CampaignRun(
                i,
                spec,
                [by_name[name] for name in spec.groups],
                None if spec.threshold_groups is None else [by_name[name] for name in spec.threshold_groups],
                rng(f"outbound/{spec.name}"),
                rng(f"outbound/{spec.name}/arrivals") if spec.rate_per_hour is not None else None,
            )
            for i, spec in enumerate(scenario.outbound)
        ]
        self.of_group: dict[Group, list[CampaignRun]] = {}  # the campaigns an agent of the group freed may start
        for campaign in self.campaigns:
            for group in {*campaign.groups, *(campaign.counted or ())}:
                self.of_group.setdefault(group, []).append(campaign)
        self.rows: list[DialRow] = []
        self.tools = OutboundTools(scenario, router.groups) if scenario.outage_tools else None
        self.talking: dict[Agent, int] = {}  # the row of each agent's outbound talk (or its after-call work)
        self.waiting_for_lines: list[tuple[CampaignRun, Agent, Record]] = []  # previews done while lines are down

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
                campaign.dialing_seconds += end - start
                campaign.counted_seconds += max(0.0, end - max(start, now + self.warmup))
                self.env.at(start - now, self._start, (campaign, end))

    def _start(self, campaign_end: tuple[CampaignRun, float]) -> None:
        campaign, end = campaign_end
        campaign.open_until = end
        if campaign.arrivals is not None:
            self._next_arrival(campaign)
        self._dial(campaign, self.env.now)

    def _next_arrival(self, campaign: CampaignRun) -> None:
        """The next record arriving to the list within today's hours (none after them)."""
        gap = float(campaign.arrivals.exponential(3600.0 / campaign.spec.rate_per_hour))
        if self.env.now + gap < campaign.open_until:
            self.env.at(gap, self._arrive, campaign)

    def _arrive(self, campaign: CampaignRun) -> None:
        """A record arrives to the list: dialled at once if an agent is free for it."""
        campaign.list.arrive()
        self._next_arrival(campaign)
        self._dial(campaign, self.env.now)

    def _due_again(self, campaign_record: tuple[CampaignRun, Record]) -> None:
        """A record's retry delay has passed: it is due (dialled within the hours, before fresh records)."""
        campaign, record = campaign_record
        campaign.list.come_due(record)
        self._dial(campaign, self.env.now)

    def list_rows(self) -> list[ListRow]:
        """Each campaign's calling list at the end, and its dialling hours."""
        return [
            ListRow(
                c.index,
                c.list.arrived,
                c.list.fresh,
                c.list.left(),
                c.dialing_seconds,
                c.counted_seconds,
            )
            for c in self.campaigns
        ]

    # --- agents ---------------------------------------------------------------------------------------

    def ready(self, agent: Agent) -> None:
        """The centre's ready handler, then: an agent left idle may be taken by its campaigns' dialers (or let a
        campaign counting its group against the threshold dial)."""
        if self.talking:
            row = self.talking.get(agent)
            if row is not None and self.rows[row].free_at <= self.env.now:
                del self.talking[agent]
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
        if (
            now >= campaign.open_until
            or self.closing()
            or (self.tools is not None and self.tools.lines_down)
            or not campaign.list.has_record()
        ):
            return
        groups = self._free_agents(campaign, now)
        if campaign.counted is None:
            free = sum(len(group.idle) for group in groups)
        else:
            free = sum(len(group.idle) for group in campaign.counted if not group.down_outages)
        spare = free - campaign.spec.threshold
        if spare <= 0:
            return
        spec = campaign.spec
        taken = 0
        for group in groups:
            while group.idle and taken < spare and campaign.list.has_record():
                agent = group.idle.popitem(last=False)[0]
                taken += 1
                record = campaign.list.take()
                if spec.dialer == "preview":
                    campaign.held[agent] = now
                    preview = float(spec.preview_time.sample(campaign.rng, 1)[0])
                    self.env.at(preview, self._previewed, (campaign, agent, record))
                else:
                    self._place(campaign, now, agent, record)
        if spec.dialer == "predictive" and taken:
            campaign.owed += (spec.dials_per_free_agent - 1.0) * taken
            extra = math.floor(campaign.owed + ROOM)
            campaign.owed = max(0.0, campaign.owed - extra)  # what the cap or the list holds back is dropped
            for _ in range(min(extra, self._budget(campaign))):
                if not campaign.list.has_record():
                    break
                self._place(campaign, now, None, campaign.list.take())

    def _budget(self, campaign: CampaignRun) -> int:
        """How many more dials with no agent held the nuisance cap allows now: the most U with
        N + (D − H) + U ≤ cap × (A + D + U)."""
        cap = campaign.spec.nuisance_cap
        unheld = campaign.in_flight - len(campaign.held)
        room = cap * (campaign.answered + campaign.in_flight) - campaign.nuisances - unheld
        return max(0, math.floor(room / (1.0 - cap) + ROOM))

    def _previewed(self, campaign_agent: tuple[CampaignRun, Agent, Record]) -> None:
        """The agent has reviewed its record (taken from the list when the preview began): it dials it, or with the
        telephony down waits, still held, until it is back."""
        campaign, agent, record = campaign_agent
        if self.tools is not None and self.tools.lines_down:
            self.waiting_for_lines.append(campaign_agent)
            return
        self._place(campaign, self.env.now, agent, record)

    def _place(self, campaign: CampaignRun, now: float, agent: Agent | None, record: Record) -> None:
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
        dial = Dial(campaign, campaign.next_id, result, now, agent, record)
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
        if self.tools is not None:
            talk *= self.tools.talk_factor.get(agent.group, 1.0)
            self.talking[agent] = len(self.rows)
        self._record(dial, now, dial.result, agent, held_from, now, now + talk, now + (talk + wrap))
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
        """Record the dial, and bring its record back for a retry when its result is one the campaign retries."""
        campaign, record = dial.campaign, dial.record
        self.rows.append(
            DialRow(
                campaign.index,
                dial.dial_id,
                held_from,
                dial.dialed,
                now,
                result,
                -1 if agent is None else agent.index,
                talk_start,
                talk_end,
                free_at,
                record.record_id,
                record.attempt,
                0,
            )
        )
        again = campaign.list.after_dial(record, RESULTS[result])
        if again is not None:
            delay = campaign.spec.retry.after_minutes * 60.0
            if now + delay < self.last_close:  # else it is left on the list at the end
                self.env.at(delay, self._due_again, (campaign, again))

    # --- technology: the tools' outages ---------------------------------------------------------------

    def tool_switched(self, tool: int, down: bool) -> None:
        """A tool went down (`down`) or came back up (`engine.outbound_tools`): a down effect that drops calls cuts
        outbound talk off; the telephony back, the dialers dial again."""
        if self.tools is None:
            return
        if self.tools.switch(tool, down):
            waiting, self.waiting_for_lines = self.waiting_for_lines, []
            for campaign, agent, record in waiting:
                self._place(campaign, self.env.now, agent, record)
            for campaign in self.campaigns:
                self._dial(campaign, self.env.now)
        if down:
            for groups in self.tools.dropped_groups(tool):
                self._cut_talks(groups)

    def _cut_talks(self, groups: list[str] | None) -> None:
        """Cut off the outbound talks in progress of the groups' agents (None: every group): each ends now, with
        no after-call work, and the agent is free (its ready event then is stale)."""
        now = self.env.now
        for agent, index in list(self.talking.items()):
            row = self.rows[index]
            if groups is not None and agent.group.name not in groups:
                continue
            if row.talk_start <= now < row.talk_end:
                self.rows[index] = row._replace(talk_end=now, free_at=now, cut_off=1)
                agent.stale_ready_times.append(row.free_at)
                del self.talking[agent]
                self.env.at(0.0, self.ready, agent)
