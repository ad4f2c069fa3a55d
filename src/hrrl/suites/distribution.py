"""Training distributions that draw many problems at once in numpy.

``ProblemDistribution(targets=(5, 100), forbidden_count=(2, 5))`` is the paper's training
distribution: targets uniform in the range, 2–5 distinct forbidden states uniform strictly between
start and target. ``draw(rng, n)`` makes ``n`` problems with a handful of numpy calls, so a
:class:`~hrrl.envs.numberline_vector.NumberLineVectorEnv` can redraw thousands of finished
episodes per step (``batch_sampler=dist.draw``); ``dist.sampler`` draws one for a single env.
Problems are valid by construction but not checked for feasibility (training can meet a few
infeasible ones, as in the paper's setup).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrrl.errors import InputError
from hrrl.problem import DEFAULT_ACTIONS, Problem


@dataclass(frozen=True)
class ProblemBatch:
    """``n`` problems as arrays (what a vectorized env needs, with no per-problem objects)."""

    targets: np.ndarray
    starts: np.ndarray
    budgets: np.ndarray
    moves: np.ndarray
    """(n, K) action values."""
    forbidden_values: np.ndarray
    """All forbidden states, problem after problem."""
    forbidden_lengths: np.ndarray
    """How many of ``forbidden_values`` belong to each problem."""

    def __len__(self) -> int:
        return int(self.targets.size)

    def problems(self) -> list[Problem]:
        bounds = np.concatenate(([0], np.cumsum(self.forbidden_lengths))).tolist()
        values = self.forbidden_values.tolist()
        moves = [tuple(m) for m in self.moves.tolist()]
        return [
            Problem.trusted(t, frozenset(values[bounds[i] : bounds[i + 1]]), moves[i], s, b)
            for i, (t, s, b) in enumerate(
                zip(self.targets.tolist(), self.starts.tolist(), self.budgets.tolist(), strict=True)
            )
        ]


@dataclass(frozen=True)
class ProblemDistribution:
    targets: tuple[int, int] = (5, 100)
    """Inclusive target range (start is 0)."""
    forbidden_count: tuple[int, int] = (2, 5)
    """Inclusive range of the number of forbidden states."""
    actions: tuple[int, ...] = DEFAULT_ACTIONS
    """Action set (positive moves)."""

    def __post_init__(self) -> None:
        lo, hi = self.targets
        if not 2 <= lo <= hi:
            raise InputError(f"target range must satisfy 2 <= lo <= hi, got {self.targets}")
        if any(a <= 0 for a in self.actions):
            raise InputError("ProblemDistribution draws positive action sets only")
        if self.forbidden_count[0] < 0 or self.forbidden_count[0] > self.forbidden_count[1]:
            raise InputError(f"bad forbidden count range {self.forbidden_count}")

    def draw_batch(self, rng: np.random.Generator, n: int) -> ProblemBatch:
        """``n`` problems as arrays: the fast path for ``NumberLineVectorEnv(batch_sampler=)``."""
        lo, hi = self.targets
        targets = rng.integers(lo, hi + 1, size=n)
        counts = rng.integers(self.forbidden_count[0], self.forbidden_count[1] + 1, size=n)
        counts = np.minimum(counts, targets - 1)
        kmax = int(counts.max()) if n else 0
        # the k smallest of uniform keys over the interior positions 1..target-1: a uniform subset
        keys = rng.random((n, hi - 1))
        keys[np.arange(hi - 1)[None, :] >= (targets - 1)[:, None]] = np.inf
        chosen = np.argpartition(keys, kmax - 1, axis=1)[:, :kmax] + 1 if kmax else keys[:, :0]
        take = np.arange(kmax)[None, :] < counts[:, None]
        moves = np.tile(np.array(self.actions, dtype=np.int64), (n, 1))
        return ProblemBatch(
            targets=targets.astype(np.int64),
            starts=np.zeros(n, dtype=np.int64),
            budgets=2 * -(-targets // max(self.actions)) + 10,
            moves=moves,
            forbidden_values=chosen[take].astype(np.int64),
            forbidden_lengths=counts.astype(np.int64),
        )

    def draw(self, rng: np.random.Generator, n: int) -> list[Problem]:
        return self.draw_batch(rng, n).problems()

    def sampler(self, rng: np.random.Generator) -> Problem:
        return self.draw(rng, 1)[0]
