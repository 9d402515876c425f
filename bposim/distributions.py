"""Duration distributions for handle time, wrap-up, patience and retrial delays.

Each is a pydantic model, written in a scenario file as ``{distribution: NAME, ...}`` with its
parameters in seconds, and draws vectors of samples from a ``numpy.random.Generator``.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Distribution(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:
        """Mean in seconds."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Draw ``size`` independent durations in seconds."""
        raise NotImplementedError


class Exponential(_Distribution):
    """Memoryless durations: the Erlang C/A assumption."""

    distribution: Literal["exponential"]
    mean_seconds: float = Field(gt=0)

    @property
    def mean(self) -> float:
        return self.mean_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_seconds, size)


class Lognormal(_Distribution):
    """Right-skewed durations given by their mean and coefficient of variation (typical of handle times)."""

    distribution: Literal["lognormal"]
    mean_seconds: float = Field(gt=0)
    cv: float = Field(gt=0, description="standard deviation / mean")

    @property
    def mean(self) -> float:
        return self.mean_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv**2)
        return rng.lognormal(math.log(self.mean_seconds) - sigma2 / 2, math.sqrt(sigma2), size)


class Gamma(_Distribution):
    """Gamma durations given by their mean and coefficient of variation."""

    distribution: Literal["gamma"]
    mean_seconds: float = Field(gt=0)
    cv: float = Field(gt=0, description="standard deviation / mean")

    @property
    def mean(self) -> float:
        return self.mean_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_seconds / shape, size)


class Weibull(_Distribution):
    """Weibull durations given by their mean and shape (shape < 1: heavy early abandonment)."""

    distribution: Literal["weibull"]
    mean_seconds: float = Field(gt=0)
    shape: float = Field(gt=0)

    @property
    def mean(self) -> float:
        return self.mean_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        scale = self.mean_seconds / math.gamma(1.0 + 1.0 / self.shape)
        return scale * rng.weibull(self.shape, size)


class Fixed(_Distribution):
    """The same duration every time."""

    distribution: Literal["fixed"]
    value_seconds: float = Field(ge=0)

    @property
    def mean(self) -> float:
        return self.value_seconds

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, float(self.value_seconds))


class Uniform(_Distribution):
    """Durations spread evenly between two bounds."""

    distribution: Literal["uniform"]
    low_seconds: float = Field(ge=0)
    high_seconds: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_seconds < self.low_seconds:
            raise ValueError(
                f"high_seconds ({self.high_seconds}) must be at least low_seconds ({self.low_seconds})"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low_seconds + self.high_seconds) / 2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low_seconds, self.high_seconds, size)


class Empirical(_Distribution):
    """Durations resampled from observed values (e.g. last month's handle times)."""

    distribution: Literal["empirical"]
    values_seconds: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)

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
