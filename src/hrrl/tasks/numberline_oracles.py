"""Exact measurements on a number-line problem that an experiment compares a learner against:
breadth-first expansions up to the target, and exact fewest moves to nearby cells."""

from __future__ import annotations

import numpy as np

from hrrl.problem import Problem
from hrrl.solvers.numberline import _reached, _search, window


def bfs_expansions(problem: Problem) -> int:
    """Positions an early-stopping breadth-first search dequeues up to the target."""
    lo, hi = window(problem)
    search = _search(problem, lo, hi)
    if not _reached(search):
        return int(search.reachable.size)
    where = np.flatnonzero(search.reachable == search.target_index)
    return int(where[0]) + 1


def local_distances(problem: Problem, x: int, sign: int, depth: int, span: int) -> dict[int, int]:
    """Exact fewest moves from ``x`` to every offset in ``[-span, span]`` (toward the target:
    ``sign``) within ``depth`` moves (breadth-first over the problem's field)."""
    rel = [sign * a for a in problem.actions]
    dist, frontier = {0: 0}, [0]
    for d in range(1, depth + 1):
        nxt = []
        for q in frontier:
            for a in rel:
                r = q + a
                if -span <= r <= span and r not in dist and x + sign * r not in problem.forbidden:
                    dist[r] = d
                    nxt.append(r)
        frontier = nxt
    return dist
