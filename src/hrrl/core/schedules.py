"""Schedules for exploration rates and learning rates: pure functions of progress."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class LinearSchedule:
    """Linear from ``start`` to ``end`` over the first ``fraction`` of training, then constant."""

    start: float
    end: float
    fraction: float = 1.0

    def __call__(self, progress: float) -> float:
        if self.fraction <= 0:
            return self.end
        t = min(max(progress / self.fraction, 0.0), 1.0)
        return self.start + t * (self.end - self.start)


@dataclass(frozen=True)
class ExponentialSchedule:
    """``start * decay**step``, never below ``end``; ``step`` is an episode or update count."""

    start: float
    end: float
    decay: float

    def __call__(self, step: float) -> float:
        return max(self.end, self.start * math.pow(self.decay, step))


@dataclass(frozen=True)
class ConstantSchedule:
    value: float

    def __call__(self, _progress: float) -> float:
        return self.value
