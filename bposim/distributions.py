"""Duration distributions for handle time, wrap-up, patience and retrial delays.

Each is a pydantic model, written in a scenario file as ``{distribution: NAME, ...}`` with its
parameters in seconds, and draws vectors of samples from a ``numpy.random.Generator``.

The unbounded ones (exponential, lognormal, gamma, weibull) take an optional ``max_seconds``: the distribution
is then truncated there, i.e. conditioned on a duration ≤ max_seconds (drawn by inversion of the truncated
distribution function), and ``mean`` is the truncated mean. Use it for handle times fitted to data whose long
tail is handled elsewhere (escalated, transferred); mean_seconds and cv stay those of the untruncated law.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bposim.fields import FiniteFloat


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @property
    def mean(self) -> float:
        """Mean in seconds."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent durations in seconds."""
        raise NotImplementedError


MIN_KEPT = 0.01  # max_seconds must keep at least 1% of the distribution


class _Truncatable(_Distribution):
    """An unbounded distribution, optionally truncated at max_seconds."""

    distribution: str  # each kind narrows it to its Literal name; declared here so it comes first
    mean_seconds: FiniteFloat = Field(gt=0)
    max_seconds: FiniteFloat | None = Field(
        None, gt=0, description="truncate here: durations are conditioned on ≤ max_seconds (mean is then lower)"
    )

    @model_validator(mode="after")
    def _keeps_enough(self) -> _Truncatable:
        if self.max_seconds is not None and self._law().cdf(self.max_seconds) < MIN_KEPT:
            raise ValueError(
                f"max_seconds {self.max_seconds:g} keeps less than {MIN_KEPT:.0%} of the "
                f"distribution (mean {self.mean_seconds:g} s); raise it or change the distribution"
            )
        return self

    def _law(self) -> Any:
        """The untruncated law as a frozen scipy.stats distribution."""
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        if self.max_seconds is None:
            return self.mean_seconds
        return _truncated_mean(self)

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.max_seconds is None:
            return self._draw(rng, size)
        law = self._law()
        return np.minimum(law.ppf(rng.uniform(0.0, law.cdf(self.max_seconds), size)), self.max_seconds)


@lru_cache(maxsize=256)
def _truncated_mean(distribution: _Truncatable) -> float:
    return float(distribution._law().expect(lambda x: x, lb=0.0, ub=distribution.max_seconds, conditional=True))


class Exponential(_Truncatable):
    """Memoryless durations: the Erlang C/A assumption."""

    distribution: Literal["exponential"]

    def _law(self) -> Any:
        from scipy import stats

        return stats.expon(scale=self.mean_seconds)

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_seconds, size)


class Lognormal(_Truncatable):
    """Right-skewed durations given by their mean and coefficient of variation (typical of handle times)."""

    distribution: Literal["lognormal"]
    cv: FiniteFloat = Field(gt=0, description="standard deviation / mean")

    def _parameters(self) -> tuple[float, float]:
        sigma2 = math.log1p(self.cv**2)
        return math.log(self.mean_seconds) - sigma2 / 2, math.sqrt(sigma2)

    def _law(self) -> Any:
        from scipy import stats

        mu, sigma = self._parameters()
        return stats.lognorm(s=sigma, scale=math.exp(mu))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(*self._parameters(), size)


class Gamma(_Truncatable):
    """Gamma durations given by their mean and coefficient of variation."""

    distribution: Literal["gamma"]
    cv: FiniteFloat = Field(gt=0, description="standard deviation / mean")

    def _law(self) -> Any:
        from scipy import stats

        shape = 1.0 / self.cv**2
        return stats.gamma(shape, scale=self.mean_seconds / shape)

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_seconds / shape, size)


class Weibull(_Truncatable):
    """Weibull durations given by their mean and shape (shape < 1: heavy early abandonment)."""

    distribution: Literal["weibull"]
    shape: FiniteFloat = Field(gt=0)

    def _scale(self) -> float:
        return self.mean_seconds / math.gamma(1.0 + 1.0 / self.shape)

    def _law(self) -> Any:
        from scipy import stats

        return stats.weibull_min(self.shape, scale=self._scale())

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return self._scale() * rng.weibull(self.shape, size)


class Fixed(_Distribution):
    """The same duration every time."""

    distribution: Literal["fixed"]
    value_seconds: FiniteFloat = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.value_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.value_seconds))


class Uniform(_Distribution):
    """Durations spread evenly between two bounds."""

    distribution: Literal["uniform"]
    low_seconds: FiniteFloat = Field(ge=0)
    high_seconds: FiniteFloat = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_seconds < self.low_seconds:
            raise ValueError(f"high_seconds ({self.high_seconds}) must be at least low_seconds ({self.low_seconds})")
        return self

    @property
    def mean(self) -> float:
        return (self.low_seconds + self.high_seconds) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low_seconds, self.high_seconds, size)


class Empirical(_Distribution):
    """Durations resampled from observed values (e.g. last month's handle times)."""

    distribution: Literal["empirical"]
    values_seconds: list[Annotated[FiniteFloat, Field(ge=0)]] = Field(min_length=1)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values_seconds))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values_seconds, dtype=float), size)


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Weibull | Fixed | Uniform | Empirical,
    Field(discriminator="distribution"),
]
DISTRIBUTION_NAMES = ("exponential", "lognormal", "gamma", "weibull", "fixed", "uniform", "empirical")
