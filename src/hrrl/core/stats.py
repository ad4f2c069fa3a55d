"""Summary statistics for results over seeds: means with Student-t 95 % confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st


@dataclass(frozen=True)
class MeanCI:
    """A mean with the half-width of its confidence interval (``nan`` half-width for one value)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def format(
        self,
        digits: int = 2,
        scale: float = 1.0,
        suffix: str = "",
        bounds: tuple[float | None, float | None] | None = None,
    ) -> str:
        """``"12.34 ± 0.56"``; a single value prints without the ± part.

        ``bounds`` is the metric's range (e.g. ``(0, 1)`` for a rate, ``(0, None)`` for a count),
        before ``scale``. An interval that leaves it is printed clipped, with the number of
        values, as ``"19.4 % (95 % CI 0.0–100.0 %, n=2)"``: with few seeds a symmetric ± can
        claim impossible values.
        """
        if math.isnan(self.mean):
            return "n/a"
        mean = f"{self.mean * scale:.{digits}f}{suffix}"
        if self.n < 2 or math.isnan(self.half_width):
            return mean
        lo, hi = bounds if bounds is not None else (None, None)
        if (lo is not None and self.low < lo) or (hi is not None and self.high > hi):
            low = self.low if lo is None else max(lo, self.low)
            high = self.high if hi is None else min(hi, self.high)
            return (
                f"{mean} (95 % CI {low * scale:.{digits}f}–{high * scale:.{digits}f}{suffix}, "
                f"n={self.n})"
            )
        return f"{mean} ± {self.half_width * scale:.{digits}f}{suffix}"

    def __str__(self) -> str:
        return self.format()


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> MeanCI:
    """Mean and Student-t confidence half-width of independent values (e.g. one per seed)."""
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        return MeanCI(float("nan"), float("nan"), 0)
    mean = float(arr.mean())
    if n == 1:
        return MeanCI(mean, float("nan"), 1)
    sem = float(arr.std(ddof=1)) / math.sqrt(n)
    quantile = float(_st.t.ppf(0.5 + confidence / 2, df=n - 1))
    return MeanCI(mean, quantile * sem, n)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a success rate (well behaved at 0 % and 100 %)."""
    if trials <= 0:
        return (float("nan"), float("nan"))
    z = float(_st.norm.ppf(0.5 + confidence / 2))
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))
