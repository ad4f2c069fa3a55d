"""Exact solver time against networkx's BFS shortest path on the same graph, same run."""

from __future__ import annotations

import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from hrrl.problem import Problem, make_problem
from hrrl.solvers.numberline import solve

from .timing import best_time


@dataclass(frozen=True)
class SolverTiming:
    target: int
    forbidden: int
    optimal_steps: int
    ours_s: float
    networkx_build_s: float
    networkx_search_s: float

    @property
    def speedup_search(self) -> float:
        return self.networkx_search_s / self.ours_s

    @property
    def speedup_total(self) -> float:
        return (self.networkx_build_s + self.networkx_search_s) / self.ours_s


def problem_of_size(target: int, seed: int = 0) -> Problem:
    """``target / 1000`` random forbidden states (1,000 at 10^6), redrawn until feasible."""
    rng = np.random.default_rng(seed)
    while True:
        forbidden = rng.choice(np.arange(1, target), size=max(1, target // 1000), replace=False)
        problem = make_problem(target, forbidden.tolist())
        if solve(problem).feasible:
            return problem


def networkx_graph(problem: Problem) -> nx.DiGraph:
    graph = nx.DiGraph()
    forbidden = problem.forbidden
    for x in range(problem.start, problem.target + 1):
        if x in forbidden or x == problem.target:
            continue
        for a in problem.actions:
            y = x + a
            if y <= problem.target and y not in forbidden:
                graph.add_edge(x, y)
    return graph


def measure(targets: tuple[int, ...] = (10_000, 100_000, 1_000_000)) -> list[SolverTiming]:
    rows = []
    for target in targets:
        problem = problem_of_size(target)
        solution = solve(problem)
        assert solution.steps is not None
        ours = best_time(lambda p=problem: solve(p))
        started = time.perf_counter()
        graph = networkx_graph(problem)
        build = time.perf_counter() - started
        started = time.perf_counter()
        path = nx.shortest_path(graph, problem.start, problem.target)
        search = time.perf_counter() - started
        assert len(path) - 1 == solution.steps, "networkx disagrees with the solver"
        rows.append(
            SolverTiming(target, len(problem.forbidden), solution.steps, ours, build, search)
        )
    return rows
