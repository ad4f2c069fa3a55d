"""Hierarchical goal decomposition (§3.2): the paper's fixed waypoints and our soft regions.

The paper: a gap ≤ 50 goes straight to the target; otherwise ``max(2, gap // 75)`` subgoals in
total, ``gap // count`` apart and the target last; the low-level policy pursues one at a time,
hitting each exactly. Hitting a fixed state exactly can cost steps (its residue may be a bad
one) and can be impossible (the waypoint may be forbidden), so "decomposition maintains global
optimality" does not hold in general (measured in ``docs/RESULTS.md``).

Ours (``soft``): the same waypoints, moved off forbidden states, mark *regions*: a waypoint counts
as reached once the position is at or past it, and the low-level goal stays the true target. The
manager tracks progress and regions; the low-level decision is the one it would take without
decomposition, so soft decomposition loses nothing by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrrl.problem import Problem

DIRECT_GAP = 50
"""Gaps up to this go straight to the target."""
SPACING = 75
"""One waypoint per this many states (at least two)."""


def paper_waypoints(start: int, target: int) -> list[int]:
    """The paper's subgoals exactly as its code computes them (seed 000, lines 120–139):
    ``max(2, gap // 75)`` points in total, ``gap // count`` apart, the target last
    (278 → [92, 184, 278])."""
    gap = abs(target - start)
    if gap <= DIRECT_GAP:
        return [target]
    count = max(2, gap // SPACING)
    step = gap // count
    sign = 1 if target > start else -1
    inner = [start + step * i * sign for i in range(1, count)]
    return [*inner, target]


def soft_waypoints(problem: Problem) -> list[int]:
    """The paper's waypoints moved to the nearest state that is not forbidden (target last)."""
    points = paper_waypoints(problem.start, problem.target)
    return [_nearest_free(w, problem.forbidden) for w in points[:-1]] + [points[-1]]


def _nearest_free(point: int, forbidden: frozenset[int]) -> int:
    for shift in range(len(forbidden) + 1):
        for candidate in (point - shift, point + shift):
            if candidate not in forbidden:
                return candidate
    return point  # unreachable: len(forbidden) + 1 shifts always find a free state


@dataclass
class WaypointTracker:
    """Per sub-env waypoint lists and the index of the current one."""

    waypoints: list[list[int]]
    exact: bool
    index: np.ndarray

    @classmethod
    def for_problems(cls, problems: list[Problem], *, exact: bool) -> WaypointTracker:
        make = (lambda p: paper_waypoints(p.start, p.target)) if exact else soft_waypoints
        points = [make(p) for p in problems]
        return cls(points, exact, np.zeros(len(problems), dtype=np.int64))

    def advance(self, positions: np.ndarray, starts: np.ndarray) -> None:
        """Move on from every waypoint that is reached (or passed: it cannot be hit any more)."""
        for i, points in enumerate(self.waypoints):
            k = int(self.index[i])
            sign = 1 if points[-1] >= starts[i] else -1
            while k < len(points) - 1 and sign * (int(positions[i]) - points[k]) >= 0:
                k += 1
            self.index[i] = k

    def goals(self, positions: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The goal each sub-env's low level pursues now (soft: always the target)."""
        if not self.exact:
            return np.array([p[-1] for p in self.waypoints], dtype=np.int64)
        self.advance(positions, starts)
        return np.array(
            [p[int(k)] for p, k in zip(self.waypoints, self.index, strict=True)], dtype=np.int64
        )
