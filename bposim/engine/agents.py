"""Agents logging in and out as each group's staffing plan changes from interval to interval.

A group's `staffed` count is the agents logged in and staying. When the plan falls, idle agents leave at
once (the most recently idle first) and busy agents leave when their call and wrap-up end; when it rises,
agents on their way out stay on before anyone new logs in. Each logged-in stretch is one session record.
"""

from __future__ import annotations

from bposim.engine.routing import Agent, Group


def set_staff(group: Group, target: int, now: float, sessions: list[tuple], everyone: list[Agent]) -> list[Agent]:
    """Move the group to `target` agents; returns the agents who just logged in (to be given work).

    New agents are numbered in `everyone`, the centre's list of all agents ever logged in.
    """
    change = target - group.staffed
    arrived: list[Agent] = []
    if change > 0:
        for agent in group.agents:
            if change and agent.logged_in and agent.leaving:
                agent.leaving = False
                group.staffed += 1
                change -= 1
        for agent in group.agents:
            if change and not agent.logged_in:
                arrived.append(agent)
                change -= 1
        while change:
            agent = Agent(len(everyone), f"{group.name}-{len(group.agents) + 1:03d}", group)
            group.agents.append(agent)
            everyone.append(agent)
            arrived.append(agent)
            change -= 1
        for agent in arrived:
            agent.logged_in = True
            agent.leaving = False
            agent.login_time = now
            group.staffed += 1
            for queue in group.queues:
                queue.staffed += 1
    elif change < 0:
        leaving = -change
        while leaving and group.idle:
            agent, _ = group.idle.popitem()
            log_out(agent, now, sessions)
            leaving -= 1
        for agent in reversed(group.agents):
            if leaving and agent.logged_in and not agent.leaving:
                agent.leaving = True
                group.staffed -= 1
                leaving -= 1
    return arrived


def log_out(agent: Agent, now: float, sessions: list[tuple]) -> None:
    """End an agent's session (the agent must not be idle-listed or busy)."""
    if not agent.leaving:
        agent.group.staffed -= 1
    agent.logged_in = False
    agent.leaving = False
    for queue in agent.group.queues:
        queue.staffed -= 1
    sessions.append((agent.index, agent.login_time, now))
