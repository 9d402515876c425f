"""Charts across the days of a horizon on dates (one with a start_date): each day's demand and service level,
labelled with its date, closed days shown as such. Built from the tidy tables, like `bposim.charts`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bposim.charts import CONTACTS, styled
from bposim.formatting import date_label
from bposim.metrics import daily_profile

if TYPE_CHECKING:
    from bposim.run import Run


def day_labels(run: Run) -> list[str]:
    """One label per day of the run's horizon: its date ("Mon 1 Mar"), with "closed" on a closed day."""
    horizon = run.scenario.horizon
    return [
        date_label(date) + ("" if horizon.open_intervals(day) else " (closed)")
        for day, date in enumerate(horizon.dates())
    ]


def days_profile(run: Run) -> go.Figure:
    """Per date: live contacts offered (bars) and the day's service level against its target."""
    profile = daily_profile(run)
    labels = day_labels(run)
    x = [labels[day] for day in profile["day"]]
    contacts = CONTACTS.get(run.summary.get("channels", ["voice"])[0], "contacts")
    several = len(run.summary.get("channels", ["voice"])) > 1
    contacts = "live contacts" if several else contacts
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=x, y=profile["offered"], name=f"offered {contacts}", marker_color="#9ecae1"))
    fig.add_trace(
        go.Scatter(x=x, y=profile["service_level"], name="service level", mode="lines+markers", line_color="#08519c"),
        secondary_y=True,
    )
    fig.add_trace(
        go.Scatter(x=x, y=profile["target"], name="target", mode="lines", line={"color": "firebrick", "dash": "dash"}),
        secondary_y=True,
    )
    fig.update_yaxes(title_text=f"Offered {contacts} (per day)", secondary_y=False)
    fig.update_yaxes(
        title_text="Service level (%)",
        tickformat=".0%",
        range=[0, 1.05],
        tick0=0,
        dtick=0.2,
        showgrid=False,
        secondary_y=True,
    )
    fig.update_xaxes(title_text="Date", type="category", tickangle=-60)
    return styled(fig, "Day by day: demand and service level", bargap=0.15)
