"""The clients' figures as a planner reads them (`summary["clients"]`, `bposim.contracts`): a table of revenue,
credits, bonuses, cost and margin per client and for the provider, and one line per service-level clause with the
chance a period owes a credit; and the clients' restrictions (`restrict_to`: which groups may serve them, which
lose call types), for `bposim validate`. Plain rows of text, rendered by `bposim run` and by the run report."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from bposim.formatting import estimate, missing, share
from bposim.scenario.residency import requirement, withdrawn_skills

if TYPE_CHECKING:
    from bposim.scenario import Scenario

FIGURES = (
    ("revenue", "Revenue"),
    ("credits", "Credits"),
    ("bonuses", "Bonuses"),
    ("net_revenue", "Net revenue"),
    ("cost", "Cost"),
    ("margin", "Margin"),
)
HEADER = [
    "Client",
    *(label for _, label in FIGURES),
    "Margin %",
    "Service level",
    "P(credit)",
]
CLAUSE_HEADER = [
    "Client",
    "Clause",
    "Periods",
    "Periods below each tier",
    "P(credit) (95% interval)",
    "Expected credit",
]


class ClientRow(NamedTuple):
    """One client's (or the provider's) figures as text, and whether its margin is positive (None: no cost)."""

    cells: list[str]
    positive: bool | None


def has_clients(summary: dict) -> bool:
    """Whether a run's summary has clients."""
    return bool(summary.get("clients", {}).get("by_client"))


def client_rows(summary: dict, pooled: bool) -> list[ClientRow]:
    """A row per client, then the provider's: each figure (± its 95% half-width when `pooled`), the margin as a
    share of net revenue, its service level over its clauses and the
    horizon, P(a period owes a credit)."""
    clients = summary["clients"]
    rows = [_row(name, own, pooled) for name, own in clients["by_client"].items()]
    rows.append(_row("provider (all clients)", clients["provider"], pooled))
    return rows


def _row(name: str, own: dict, pooled: bool) -> ClientRow:
    """One row of `client_rows`."""

    def half(key: str) -> float | None:
        return own.get(f"{key}_ci") if pooled else None

    cells = [name, *(estimate(own[key], half(key)) for key, _ in FIGURES)]
    cells.append(share(own["margin_share"], half("margin_share")))
    cells.append(share(own["service_level"], half("service_level")) if "service_level" in own else "")
    cells.append(_probability(own, "p_penalty") if "p_penalty" in own else "")
    margin = own["margin"]
    return ClientRow(cells, None if missing(margin) else margin > 0)


def clause_rows(summary: dict) -> list[list[str]]:
    """A row per service-level clause of each client: what it asks, the periods measured (a mean per
    replication), how many fell below each tier, P(a period owes a credit) and the expected credit."""
    return [
        [
            name,
            asked(clause),
            f"{clause['periods']:g}",
            below(clause),
            _probability(clause, "p_trigger"),
            credit(clause),
        ]
        for name, own in summary["clients"]["by_client"].items()
        for clause in own["clauses"]
    ]


def asked(clause: dict) -> str:
    """What a clause asks: "voice_b: 90% within 30 s per day"."""
    return (
        f"{', '.join(clause['call_types'])}: {clause['target']:.0%} within {clause['threshold_seconds']:g} s "
        f"per {clause['period']}"
    )


def below(clause: dict) -> str:
    """The periods below each tier (a mean per replication): "< 80%: 1; < 70%: 0"."""
    return "; ".join(f"< {float(level):.0%}: {count:.3g}" for level, count in clause["periods_below"].items()) or (
        "no tiers"
    )


def credit(clause: dict) -> str:
    """A clause's expected credit per run, with its half-width."""
    return estimate(clause["expected_credit"], clause.get("expected_credit_ci"))


def client_tables(summary: dict, pooled: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """A (title, rows of label and value) table per client, then the provider's: the figures of `client_rows`
    down the rows, the units billed, and per clause what it asks, the periods below each tier, P(credit) and the
    expected credit."""
    rows = client_rows(summary, pooled)
    labels = HEADER[1:]
    tables = []
    for (name, own), row in zip(summary["clients"]["by_client"].items(), rows, strict=False):
        lines = [(label, value) for label, value in zip(labels, row.cells[1:], strict=True)]
        if "billed_units" in own:
            lines.insert(
                0,
                (
                    "Billed",
                    f"{estimate(own['billed_units'], own.get('billed_units_ci'), ',.1f')} "
                    f"{own.get('unit', '')}".rstrip(),
                ),
            )
        for clause in own["clauses"]:
            lines.append((f"Clause {asked(clause)}", f"periods below {below(clause)}"))
            lines.append(("  P(credit), expected credit", f"{_probability(clause, 'p_trigger')}, {credit(clause)}"))
        tables.append((f"Client {name}", lines))
    provider = rows[-1]
    lines = [(label, value) for label, value in zip(labels, provider.cells[1:], strict=True) if value]
    tables.append(("Provider (all clients)", lines))
    return tables


def _probability(own: dict, key: str) -> str:
    """A probability with its 95% Wilson interval, e.g. "40% (17-69%)"."""
    if missing(own[key]):
        return "—"
    return f"{own[key]:.0%} ({own[f'{key}_low']:.0%}-{own[f'{key}_high']:.0%})"


def explanation(currency: str) -> str:
    """What the clients' figures mean, in a few sentences."""
    unit = f" ({currency})" if currency else ""
    return (
        f"Revenue{unit} is what each client's billing model bills over the horizon; credits are owed for each "
        "period (day, week, month) whose pooled service level falls below a tier of a clause (the worst tier "
        "applies), bonuses earned for periods reaching a clause's bonus level. Cost is each group's pay shared "
        "out by the client's share of that group's busy time (onshore work bears onshore wages), technology by its "
        "share of the busy time (a site's tool: of the site's agents), plus the penalties of its call types; "
        "margin = net revenue - cost. A client's service level pools its clauses' contacts within their thresholds "
        "over the horizon. P(credit) is the share of measured periods, over all replications, that owed a credit, "
        "with its 95% Wilson interval."
    )


def residency_lines(scenario: Scenario) -> list[str]:
    """One line per client with a restriction (who may serve it), then one per group that loses call types
    under them (it keeps its other skills; the restricted call types are not routed to it)."""
    lines = []
    for client in scenario.clients or ():
        residency = client.restriction
        if residency is None:
            continue
        names = ", ".join(residency.call_types or client.call_types)
        eligible = ", ".join(g.name for g in scenario.agent_groups if residency.admits(g)) or "none"
        lines.append(f"  {client.name} ({names}): agents {requirement(residency)} only; eligible groups: {eligible}")
    lost = withdrawn_skills(scenario)
    for group in scenario.agent_groups:
        if group.name in lost:
            kept = [s.call_type for s in group.skills if s.call_type not in lost[group.name]]
            serves = f"serves {', '.join(kept)}" if kept else "serves nothing: its agents sit idle"
            lines.append(f"  {group.name} loses {', '.join(lost[group.name])} under the restriction; {serves}")
    return ["Restrictions (clients[].contract.restrict_to):", *lines] if lines else []
