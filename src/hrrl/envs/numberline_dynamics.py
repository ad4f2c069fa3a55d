"""The number-line transition rule, vectorized: the single source of truth for both envs.

A move adds ``actions[a]`` to the position. The episode *terminates* on reaching the target
(success), on landing on a forbidden state (failure) and, when every action moves the same way,
on passing the target (overshoot: it can no longer be reached). It is *truncated* when the budget
is spent without terminating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrrl.envs.rewards import FORBIDDEN, MOVE, OVERSHOOT, SUCCESS
from hrrl.problem import Problem

_POS_BITS = 42
_POS_OFFSET = 1 << (_POS_BITS - 1)


def direction(problem: Problem) -> int:
    """+1 when every action is positive, −1 when every action is negative, 0 when mixed."""
    if all(a > 0 for a in problem.actions):
        return 1
    if all(a < 0 for a in problem.actions):
        return -1
    return 0


@dataclass
class ForbiddenIndex:
    """Membership of (env index, position) pairs in per-env forbidden sets, in one sorted array."""

    keys: np.ndarray

    @staticmethod
    def env_keys(index: int, forbidden: frozenset[int]) -> np.ndarray:
        values = np.fromiter(forbidden, dtype=np.int64, count=len(forbidden))
        values.sort()
        return (np.int64(index) << _POS_BITS) | (values + _POS_OFFSET)

    @staticmethod
    def key(index: int, position: int) -> np.int64:
        return (np.int64(index) << _POS_BITS) | np.int64(position + _POS_OFFSET)

    @staticmethod
    def positions(keys: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`env_keys` for the position part."""
        return (keys & ((np.int64(1) << _POS_BITS) - 1)) - _POS_OFFSET

    @classmethod
    def build(cls, per_env: list[np.ndarray]) -> ForbiddenIndex:
        keys = np.concatenate(per_env) if per_env else np.zeros(0, dtype=np.int64)
        return cls(keys)

    def contains(self, env_index: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Boolean array, same shape as ``positions`` (``env_index`` broadcasts against it)."""
        if self.keys.size == 0:
            return np.zeros(np.shape(positions), dtype=bool)
        query = (np.asarray(env_index, dtype=np.int64) << _POS_BITS) | (
            np.asarray(positions, dtype=np.int64) + _POS_OFFSET
        )
        where = np.searchsorted(self.keys, query)
        where = np.minimum(where, self.keys.size - 1)
        return self.keys[where] == query


def classify(
    new: np.ndarray, target: np.ndarray, sign: np.ndarray, forbidden: np.ndarray
) -> np.ndarray:
    """Outcome code of landing on ``new``: success, forbidden, overshoot, or a plain move."""
    overshoot = ((sign > 0) & (new > target)) | ((sign < 0) & (new < target))
    return np.select(
        [new == target, forbidden, overshoot], [SUCCESS, FORBIDDEN, OVERSHOOT], default=MOVE
    ).astype(np.int8)


@dataclass(frozen=True)
class StepResult:
    new: np.ndarray
    steps: np.ndarray
    outcome: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


def advance(
    position: np.ndarray,
    steps: np.ndarray,
    move: np.ndarray,
    target: np.ndarray,
    budget: np.ndarray,
    sign: np.ndarray,
    is_forbidden: np.ndarray,
) -> StepResult:
    """Apply ``move``; ``is_forbidden`` tells whether ``position + move`` is forbidden."""
    new = position + move
    steps = steps + 1
    outcome = classify(new, target, sign, is_forbidden)
    terminated = outcome != MOVE
    truncated = ~terminated & (steps >= budget)
    return StepResult(new, steps, outcome, terminated, truncated)
