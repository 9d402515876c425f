"""From a planner's own data to a scenario: `bposim fit`.

An interval history (date, interval, call type, offered, handled, abandoned, average handle time; optionally
average wait and service level) gives each call type's arrivals as a forecast per weekday × interval, the
day-to-day busyness and the forecast's error on held-out weeks (`forecast`); a call log gives handle-time and
wrap-up laws by AIC, patience from censored waits and the balking share (`durations`). The base scenario's other
fields are kept, and the scenario is written with a comment on where each fitted number came from (`writing`,
`yaml_text`). `calibration` replays the history's own dates with the fitted model; `synthetic` writes a history from
a run, for the round trip. Modules: `reading` (the files), `forecast`, `durations`, `writing`, `yaml_text`,
`calibration`, `synthetic`, `fit` (the steps in order), `errors`.

README.md ("From your history") has a worked example.
"""

from __future__ import annotations

from bposim.fitting.errors import FitError
from bposim.fitting.fit import FitResult, calibrate, fit

__all__ = ["FitError", "FitResult", "calibrate", "fit"]
