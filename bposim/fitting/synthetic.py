"""Synthetic history from a run: what an ACD would report per interval, and the call log, as a planner's files.

Simulating a scenario whose parameters are known and writing these files gives data to fit back: the round trip
that checks `bposim fit` recovers what it should. The interval history has one row per date × open interval ×
live call type (`Date`, `Interval`, `Queue`, `Offered`, `Handled`, `Abandoned`, `AHT`, `ASA`, `Service Level`);
an ACD counts a caller who hung up at once (balked) as abandoned, so `Abandoned` does too. AHT is talk + wrap-up
of the calls answered, ASA their mean wait, the service level answered within the threshold over offered. The call
log has one row per live call attempt: `Arrival` (date and time), `Queue`, `Wait`, `Outcome` (answered, abandoned,
balked), `Talk` and `Wrap` (seconds; blank unless answered).
"""

from __future__ import annotations

import pandas as pd

from bposim.run import Run

LOGGED = ("answered", "abandoned", "balked")


def interval_history(run: Run) -> pd.DataFrame:
    """The run's live intervals as an ACD's interval report (see the module's docstring)."""
    intervals = run.intervals
    if "open" in intervals:
        intervals = intervals[intervals["open"]]
    horizon = run.scenario.horizon
    balked = intervals.get("balked", 0)
    minutes = (horizon.start_seconds + intervals["interval"] * horizon.interval_seconds) // 60
    return pd.DataFrame(
        {
            "Date": intervals["date"].dt.strftime("%Y-%m-%d"),
            "Interval": (minutes // 60).map("{:02.0f}".format) + ":" + (minutes % 60).map("{:02.0f}".format),
            "Queue": intervals["call_type"].astype(str),
            "Offered": intervals["offered"].astype(int),
            "Handled": intervals["answered"].astype(int),
            "Abandoned": (intervals["abandoned"] + balked).astype(int),
            "AHT": intervals["aht_seconds"].round(1),
            "ASA": intervals["asa_seconds"].round(1),
            "Service Level": intervals["service_level"].round(4),
        }
    ).reset_index(drop=True)


def call_log(run: Run, first_date: str | None = None) -> pd.DataFrame:
    """The run's live calls answered, abandoned or balked as a call log (from `first_date` on, if given)."""
    calls = run.calls[run.calls["outcome"].isin(LOGGED) & run.calls["channel"].isin(("voice", "chat"))]
    if first_date is not None:
        calls = calls[calls["date"] >= pd.Timestamp(first_date)]
    start = run.scenario.horizon.start_seconds
    arrival = calls["date"] + pd.to_timedelta(calls["arrival"] - calls["day"] * 86400 + start, unit="s")
    answered = calls["outcome"] == "answered"
    return pd.DataFrame(
        {
            "Arrival": arrival.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Queue": calls["call_type"].astype(str),
            "Wait": calls["wait"].round(1),
            "Outcome": calls["outcome"].astype(str),
            "Talk": calls["handle_seconds"].where(answered).round(1),
            "Wrap": calls["wrap_seconds"].where(answered).round(1),
        }
    ).reset_index(drop=True)
