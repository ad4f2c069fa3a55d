"""A path checker that shares no code with the environment or the solver.

It judges any path (a list of positions, start first) against a problem, so that every path
reported anywhere (solver, agent, baseline) can be validated independently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hrrl.problem import Problem


@dataclass(frozen=True)
class PathVerdict:
    valid: bool
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.valid


def check_path(problem: Problem, path: Sequence[int]) -> PathVerdict:
    """Is ``path`` a solution: start → target, legal moves, no forbidden state, within budget?"""
    verdict = check_trajectory(problem, path)
    if not verdict:
        return verdict
    if path[-1] != problem.target:
        return PathVerdict(False, f"path ends at {path[-1]}, not at the target {problem.target}")
    return PathVerdict(True)


def check_trajectory(problem: Problem, path: Sequence[int]) -> PathVerdict:
    """Is ``path`` a legal run (possibly unfinished)? Only its last position may be forbidden."""
    if len(path) == 0:
        return PathVerdict(False, "path is empty")
    if any(isinstance(p, bool) or not isinstance(p, int) for p in path):
        return PathVerdict(False, "path holds a position that is not an integer")
    if path[0] != problem.start:
        return PathVerdict(False, f"path starts at {path[0]}, not at the start {problem.start}")
    steps = len(path) - 1
    if steps > problem.max_steps:
        return PathVerdict(False, f"path takes {steps} steps, budget is {problem.max_steps}")
    allowed = set(problem.actions)
    for i in range(steps):
        move = path[i + 1] - path[i]
        if move not in allowed:
            return PathVerdict(False, f"step {i + 1} moves by {move}, not an action")
    for i, position in enumerate(path[:-1]):
        if position in problem.forbidden:
            return PathVerdict(False, f"step {i} lands on the forbidden state {position}")
        if i > 0 and position == problem.target:
            return PathVerdict(False, f"path reaches the target at step {i} and goes on")
    if path[-1] in problem.forbidden and len(path) > 1 and path[-1] == problem.target:
        return PathVerdict(False, "target is forbidden")
    return PathVerdict(True)


def landed_forbidden(problem: Problem, path: Sequence[int]) -> bool:
    """Does the run end on a forbidden state?"""
    return len(path) > 0 and path[-1] in problem.forbidden
