"""Exact number-line measurements (tasks/numberline_oracles.py) against brute force."""

from __future__ import annotations

import dataclasses
from collections import deque

import numpy as np
import pytest

from hrrl.problem import Problem, make_problem
from hrrl.solvers.numberline import solve
from hrrl.tasks.numberline_oracles import bfs_expansions, cost_to_go, local_distances


def test_bfs_on_a_free_unit_line_dequeues_every_position_up_to_the_target() -> None:
    assert bfs_expansions(make_problem(9, [], actions=[1])) == 10


def test_bfs_expansions_never_exceed_the_positions_it_can_reach() -> None:
    problem = make_problem(40, [3, 6, 11, 17], actions=[1, 3, 5])
    expansions = bfs_expansions(problem)
    assert 1 < expansions <= 41 + 5  # the search window reaches a few moves past the target


def _brute(problem: Problem, x: int, sign: int, depth: int, span: int) -> dict[int, int]:
    dist, queue = {0: 0}, deque([0])
    while queue:
        q = queue.popleft()
        if dist[q] == depth:
            continue
        for a in problem.actions:
            r = q + sign * a
            if abs(r) <= span and r not in dist and x + sign * r not in problem.forbidden:
                dist[r] = dist[q] + 1
                queue.append(r)
    return dist


@pytest.mark.parametrize("sign", [1, -1])
def test_local_distances_are_breadth_first_fewest_moves(sign: int) -> None:
    problem = make_problem(60, [4, 9, 10, 22, 31], actions=[2, 3, 7])
    got = local_distances(problem, 20, sign, 6, span=30)
    assert got == _brute(problem, 20, sign, 6, 30)


def test_local_distance_to_the_target_is_the_solvers_optimum() -> None:
    problem = make_problem(23, [5, 10, 15], actions=[1, 3, 5])
    dist = local_distances(problem, 0, 1, 64, span=40)
    assert dist[23] == solve(problem).steps


@pytest.mark.parametrize("actions", [(1, 3, 5), (-1, 3, 5), (2, 7), (-2, 5)])
def test_cost_to_go_matches_the_solver_from_every_start(actions) -> None:
    rng = np.random.default_rng(0)
    forbidden = [int(x) for x in np.flatnonzero(rng.random(200) < 0.2) if 0 < x < 150]
    problem = make_problem(150, forbidden, actions, max_steps=10_000)
    dist = cost_to_go(problem, -30, 200)
    unreachable = 0
    for x in range(-30, 200, 3):
        if x in problem.forbidden or x == problem.target:
            continue
        verdict = solve(dataclasses.replace(problem, start=x))
        expected = (verdict.steps or 0) if verdict.feasible else np.inf
        unreachable += int(np.isinf(expected))
        assert dist[x + 30] == expected, x
    assert unreachable > 0  # dead ends (past the target, or sealed) are part of the check
    assert dist[150 + 30] == 0
