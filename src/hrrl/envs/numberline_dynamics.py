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


_POS_MASK = (1 << _POS_BITS) - 1
PADDED_LIMIT = 20_000_000
"""Largest padded table (rows × width); beyond it the index falls back to one packed array."""


class ForbiddenIndex:
    """Membership of (env index, position) pairs in per-env forbidden sets.

    Keys ``env << 42 | (position + 2^41)`` are kept sorted in one array so a lookup for all envs
    is one ``searchsorted``. Rows live in a padded ``(N, width)`` table (padding is the largest key
    of the row's env, so the flattened table stays sorted) and a reset rewrites only its row; when
    the table would be too large (huge forbidden sets), rows are packed into one array instead.
    """

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs
        self._rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * num_envs
        self._pad = (np.arange(num_envs, dtype=np.int64) << _POS_BITS) | _POS_MASK
        self._table: np.ndarray | None = None
        self._packed: np.ndarray | None = None
        self._dirty: list[int] = []

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
        return (keys & _POS_MASK) - _POS_OFFSET

    def set(self, index: int, forbidden: frozenset[int]) -> None:
        self._rows[index] = self.env_keys(index, forbidden)
        self._dirty.append(index)

    def set_many(self, indices: np.ndarray, forbidden: list[frozenset[int]]) -> None:
        """Replace the rows of several envs at once."""
        lengths = np.fromiter((len(f) for f in forbidden), dtype=np.int64, count=len(forbidden))
        values = np.fromiter(
            (x for f in forbidden for x in f), dtype=np.int64, count=int(lengths.sum())
        )
        self.set_many_arrays(indices, values, lengths)

    def set_many_arrays(self, indices: np.ndarray, values: np.ndarray, lengths: np.ndarray) -> None:
        """Rows of several envs from flat ``values`` (env after env, ``lengths`` each)."""
        indices = np.asarray(indices, dtype=np.int64)
        owners = np.repeat(indices, lengths)
        keys = np.sort((owners << _POS_BITS) | (np.asarray(values, dtype=np.int64) + _POS_OFFSET))
        # sorting by key sorts by env first, so each env's keys are one contiguous segment
        order = np.argsort(indices, kind="stable")
        sorted_lengths = lengths[order]
        bounds = np.concatenate(([0], np.cumsum(sorted_lengths))).tolist()
        for k, j in enumerate(order.tolist()):
            self._rows[int(indices[j])] = keys[bounds[k] : bounds[k + 1]]
        table = self._table
        if table is not None and lengths.size and int(lengths.max()) <= table.shape[1]:
            rows = indices[order]
            table[indices] = self._pad[indices, None]
            row_of_key = np.repeat(rows, sorted_lengths)
            column = np.arange(keys.size) - np.repeat(np.asarray(bounds[:-1]), sorted_lengths)
            table[row_of_key, column] = keys
        else:
            self._dirty.extend(indices.tolist())

    def row(self, index: int) -> np.ndarray:
        """The sorted keys of env ``index``."""
        return self._rows[index]

    def _refresh(self) -> None:
        if not self._dirty and (self._table is not None or self._packed is not None):
            return
        width = max((r.size for r in self._rows), default=0)
        table = self._table
        if table is not None and width <= table.shape[1]:
            for i in set(self._dirty):
                row = self._rows[i]
                table[i, : row.size] = row
                table[i, row.size :] = self._pad[i]
        elif max(width, 1) * self.num_envs <= PADDED_LIMIT:
            width = max(8, 2 * width)
            table = np.repeat(self._pad[:, None], width, axis=1)
            for i, row in enumerate(self._rows):
                table[i, : row.size] = row
            self._table, self._packed = table, None
        else:
            self._table, self._packed = None, np.concatenate(self._rows)
        self._dirty = []
        if self._table is not None:
            self._flat = self._table.reshape(-1)

    def contains(self, env_index: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Boolean array, same shape as ``positions`` (``env_index`` broadcasts against it)."""
        self._refresh()
        keys = self._flat if self._table is not None else self._packed
        assert keys is not None
        if keys.size == 0:
            return np.zeros(np.shape(positions), dtype=bool)
        query = (np.asarray(env_index, dtype=np.int64) << _POS_BITS) | (
            np.asarray(positions, dtype=np.int64) + _POS_OFFSET
        )
        where = np.minimum(np.searchsorted(keys, query), keys.size - 1)
        return keys[where] == query


def classify(
    new: np.ndarray, target: np.ndarray, sign: np.ndarray, forbidden: np.ndarray
) -> np.ndarray:
    """Outcome code of landing on ``new``: success, forbidden, overshoot, or a plain move."""
    overshoot = ((sign > 0) & (new > target)) | ((sign < 0) & (new < target))
    return np.select(
        [new == target, forbidden, overshoot], [SUCCESS, FORBIDDEN, OVERSHOOT], default=MOVE
    ).astype(np.int8)


def outcome_of(problem: Problem, position: int) -> int:
    """:func:`classify` for one landing on ``position`` of ``problem`` (scalar form)."""
    return int(
        classify(
            np.array([position], dtype=np.int64),
            np.array([problem.target], dtype=np.int64),
            np.array([direction(problem)], dtype=np.int64),
            np.array([position in problem.forbidden]),
        )[0]
    )


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
