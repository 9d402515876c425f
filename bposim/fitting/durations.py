"""Durations from a call log: handle time and wrap-up, patience from censored waits, and the balking share.

- **Handle time and wrap-up.** The talk seconds (and wrap seconds) of answered calls are fitted by maximum
  likelihood (`scipy.stats.<law>.fit`, location fixed at 0) to each of the families bposim draws from: lognormal,
  gamma, Weibull and exponential. The family with the least AIC = 2k − 2 ln L (k: 2 parameters, 1 for the
  exponential) is kept, and written in bposim's terms (mean_seconds with cv or shape). Wrap seconds all 0 give no
  wrap-up; zeros among positive ones are left out of the fit (their share is said).
- **Patience.** A caller's patience is seen only when the caller abandons: the wait of an abandoned call is an
  observed patience, the wait of an answered call a right-censored one (the caller would have waited at least that
  long). The same families are fitted to these censored data (`scipy.stats.CensoredData`), by AIC; the
  Kaplan-Meier estimate (`scipy.stats.ecdf`) is kept for the report's chart. Balked callers left at once and
  take no part. With fewer than MIN_ABANDONED abandons only the exponential is fitted (its mean is then the total
  time waited over the abandons).
- **Balking.** Where the log has outcome `balked`: the share of callers who would have had to queue that hung up
  at once, balked / (balked + answered after a wait + abandoned), the `balking.probability` bposim takes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

FAMILIES = ("lognormal", "gamma", "weibull", "exponential")
MIN_ABANDONED = 30
MIN_CALLS = 10


@dataclass(frozen=True)
class Fitted:
    """A duration law chosen by AIC: its bposim form (`distribution`: a scenario's mapping), the sample size, the
    AIC of every family tried, and the frozen scipy law for charts."""

    distribution: dict
    n: int
    aic: dict[str, float]
    law: object
    censored: int = 0

    @property
    def family(self) -> str:
        return self.distribution["distribution"]


def _law(family: str) -> stats.rv_continuous:
    return {"lognormal": stats.lognorm, "gamma": stats.gamma, "weibull": stats.weibull_min, "exponential": stats.expon}[
        family
    ]


def _bposim_form(family: str, parameters: tuple[float, ...]) -> dict:
    """The scenario mapping of a law fitted with scipy's parameters (location 0)."""
    if family == "exponential":
        return {"distribution": "exponential", "mean_seconds": round(float(parameters[-1]), 1)}
    if family == "lognormal":
        sigma, scale = float(parameters[0]), float(parameters[-1])
        mean = scale * math.exp(sigma**2 / 2)
        return {
            "distribution": "lognormal",
            "mean_seconds": round(mean, 1),
            "cv": round(math.sqrt(math.expm1(sigma**2)), 3),
        }
    if family == "gamma":
        shape, scale = float(parameters[0]), float(parameters[-1])
        return {"distribution": "gamma", "mean_seconds": round(shape * scale, 1), "cv": round(1 / math.sqrt(shape), 3)}
    shape, scale = float(parameters[0]), float(parameters[-1])
    return {
        "distribution": "weibull",
        "mean_seconds": round(scale * math.gamma(1 + 1 / shape), 1),
        "shape": round(shape, 3),
    }


def _fit(family: str, observed: np.ndarray, right: np.ndarray | None = None) -> tuple[tuple[float, ...], float]:
    """Maximum-likelihood parameters (location 0) and the AIC, for observed durations and, if given, durations
    right-censored at `right`."""
    law = _law(family)
    data = observed if right is None else stats.CensoredData(uncensored=observed, right=right)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        parameters = law.fit(data, floc=0)
        loglik = np.sum(law.logpdf(observed, *parameters))
        if right is not None:
            loglik += np.sum(law.logsf(right, *parameters))
    k = 1 if family == "exponential" else 2
    return parameters, float(2 * k - 2 * loglik)


def fit_durations(values: np.ndarray, families: tuple[str, ...] = FAMILIES) -> Fitted:
    """The family of least AIC for positive durations (seconds)."""
    data = np.asarray(values, dtype=float)
    fits = {family: _fit(family, data) for family in families}
    aic = {family: aic for family, (_, aic) in fits.items() if np.isfinite(aic)}
    best = min(aic, key=aic.get)
    parameters = fits[best][0]
    return Fitted(_bposim_form(best, parameters), len(data), aic, _law(best)(*parameters))


def fit_patience(abandoned_waits: np.ndarray, answered_waits: np.ndarray) -> Fitted:
    """Patience from waits: abandoned ones observed, answered ones right-censored (see the module's docstring)."""
    observed = np.asarray(abandoned_waits, dtype=float)
    observed = observed[observed > 0]
    censored = np.asarray(answered_waits, dtype=float)
    if len(observed) < MIN_ABANDONED:
        mean = (observed.sum() + censored.sum()) / max(len(observed), 1)
        law = stats.expon(scale=mean)
        loglik = np.sum(law.logpdf(observed)) + np.sum(law.logsf(censored))
        return Fitted(
            {"distribution": "exponential", "mean_seconds": round(float(mean), 1)},
            len(observed) + len(censored),
            {"exponential": float(2 - 2 * loglik)},
            law,
            len(censored),
        )
    fits = {family: _fit(family, observed, censored) for family in FAMILIES}
    aic = {family: aic for family, (_, aic) in fits.items() if np.isfinite(aic)}
    best = min(aic, key=aic.get)
    parameters = fits[best][0]
    return Fitted(
        _bposim_form(best, parameters), len(observed) + len(censored), aic, _law(best)(*parameters), len(censored)
    )


def kaplan_meier(abandoned_waits: np.ndarray, answered_waits: np.ndarray) -> pd.DataFrame:
    """The Kaplan-Meier survival of patience (`seconds`, `survival`): the share still waiting after so long."""
    observed = np.asarray(abandoned_waits, dtype=float)
    data = stats.CensoredData(uncensored=observed[observed > 0], right=np.asarray(answered_waits, dtype=float))
    survival = stats.ecdf(data).sf
    return pd.DataFrame({"seconds": survival.quantiles, "survival": survival.probabilities})


@dataclass(frozen=True)
class CallTypeFit:
    """What a call log gives for one call type: handle time, wrap-up (None: no wrap-up seen), patience (None: no
    abandons), the balking share (None: no balked outcome in the log), and the samples the fits used."""

    call_type: str
    handle_time: Fitted
    after_call_work: Fitted | None
    wrap_zero_share: float
    patience: Fitted | None
    balking: float | None
    balking_counts: tuple[int, int]
    talk: np.ndarray
    wrap: np.ndarray
    abandoned_waits: np.ndarray
    answered_waits: np.ndarray


def fit_call_type(call_type: str, log: pd.DataFrame, balked_seen: bool) -> CallTypeFit | str:
    """The fits for one call type's rows of a call log, or why they cannot be made."""
    answered = log[log["outcome"] == "answered"]
    abandoned = log[log["outcome"] == "abandoned"]
    talk = answered["talk_seconds"].to_numpy(dtype=float)
    talk = talk[talk > 0]
    if len(talk) < MIN_CALLS:
        return f"{call_type}: {len(talk)} answered calls with talk seconds > 0; at least {MIN_CALLS} are needed"
    wrap_all = answered["wrap_seconds"].to_numpy(dtype=float)
    wrap = wrap_all[wrap_all > 0]
    after_call_work = fit_durations(wrap) if len(wrap) >= MIN_CALLS else None
    abandoned_waits = abandoned["wait_seconds"].to_numpy(dtype=float)
    answered_waits = answered["wait_seconds"].to_numpy(dtype=float)
    patience = fit_patience(abandoned_waits, answered_waits) if (abandoned_waits > 0).any() else None
    balking, counts = None, (0, 0)
    if balked_seen:
        balked = int((log["outcome"] == "balked").sum())
        queued = balked + int((answered["wait_seconds"] > 0).sum()) + len(abandoned)
        counts = (balked, queued)
        balking = balked / queued if queued else None
    return CallTypeFit(
        call_type,
        fit_durations(talk),
        after_call_work,
        float(np.mean(wrap_all == 0)) if len(wrap_all) else 0.0,
        patience,
        balking,
        counts,
        talk,
        wrap,
        abandoned_waits,
        answered_waits,
    )
