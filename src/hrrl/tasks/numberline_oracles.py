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


def cost_to_go(problem: Problem, lo: int, hi: int) -> np.ndarray:
    """Exact fewest moves from every position in ``[lo, hi]`` to the target (``inf`` where the
    target cannot be reached; the budget ignored; a position past the target is a dead end
    when every move goes one way): breadth-first search backwards from the target, one numpy
    step per depth."""
    n = hi - lo + 1
    dist = np.full(n, np.inf)
    free = np.ones(n, dtype=bool)
    if problem.forbidden:
        f = np.fromiter(problem.forbidden, dtype=np.int64) - lo
        free[f[(f >= 0) & (f < n)]] = False
    if problem.monotone:
        sign = 1 if problem.target > problem.start else -1
        cells = np.arange(lo, hi + 1)
        free &= (cells - problem.target) * sign <= 0
    t = problem.target - lo
    if not 0 <= t < n:
        return dist
    dist[t] = 0
    frontier = np.array([t])
    depth = 0
    while frontier.size:
        depth += 1
        found = []
        for a in problem.actions:
            x = frontier - a  # predecessors: x + a lands on the frontier
            x = x[(x >= 0) & (x < n)]
            x = x[free[x] & np.isinf(dist[x])]
            dist[x] = depth
            found.append(x)
        frontier = np.unique(np.concatenate(found)) if found else np.array([], dtype=np.int64)
    return dist
