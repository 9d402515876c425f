"""The chart of repeat contacts: contacts offered each day, first contacts and the repeats of unresolved ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bposim.charts import styled

if TYPE_CHECKING:
    from bposim.run import Run


def daily_contacts(calls: pd.DataFrame) -> pd.DataFrame:
    """Per day (of the horizon, by arrival): first contacts and repeat contacts offered (their first attempts' first
    legs, callbacks left out), over every replication, with a column each; days before the first opening (an
    initial backlog) are left out."""
    offered = (calls["attempt"].to_numpy() == 1) & (calls["leg"].to_numpy() == 1) & (calls["path"] != "callback")
    first_attempts = calls[offered & (calls["day"].to_numpy() >= 0)]
    kind = np.where(first_attempts["repeat_of"].to_numpy() >= 0, "repeats", "first_contacts")
    table = pd.crosstab(first_attempts["day"].to_numpy(), kind)
    table.index.name = "day"
    return table.reindex(columns=["first_contacts", "repeats"], fill_value=0)


def repeat_contacts(run: Run) -> go.Figure:
    """Stacked bars of each day's contacts offered: first contacts, then repeats (means per replication)."""
    table = daily_contacts(run.calls) / max(run.replications, 1)
    fig = go.Figure()
    for column, label in (("first_contacts", "first contacts"), ("repeats", "repeat contacts")):
        fig.add_bar(x=table.index, y=table[column], name=label)
    return styled(fig, "Contacts offered per day: first and repeat", barmode="stack", xaxis_title="day")
