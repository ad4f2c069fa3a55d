"""Is a claimed step count possible on a Number Line problem? The oracle behind every paper claim
the reports check (exact: the solver's optimum, then reachability in exactly that many moves)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hrrl.problem import Problem
from hrrl.solvers.numberline import solve


@dataclass(frozen=True)
class ClaimCheck:
    """A claimed step count for one problem, judged by the solver."""

    problem: Problem
    claimed_steps: int
    optimal_steps: int
    possible: bool
    reason: str

    @property
    def implied_efficiency(self) -> float:
        return self.optimal_steps / self.claimed_steps


def path_of_length_exists(problem: Problem, length: int) -> bool:
    """Whether a valid path of exactly ``length`` moves reaches the target (monotone actions)."""
    lo, hi = sorted((problem.start, problem.target))
    free = np.ones(hi - lo + 1, dtype=bool)
    blocked = [f - lo for f in problem.forbidden if lo <= f <= hi]
    free[blocked] = False
    reach = np.zeros_like(free)
    reach[problem.start - lo] = True
    for _ in range(length):
        nxt = np.zeros_like(reach)
        for move in problem.actions:
            shifted = np.flatnonzero(reach) + move
            shifted = shifted[(shifted >= 0) & (shifted < reach.size)]
            nxt[shifted] = True
        reach = nxt & free
    return bool(reach[problem.target - lo])


def check_claim(problem: Problem, claimed: int) -> ClaimCheck:
    """Is a path of exactly ``claimed`` steps possible? Explains parity when that is the reason."""
    optimum = solve(problem).steps
    assert optimum is not None
    if claimed < optimum:
        return ClaimCheck(problem, claimed, optimum, False, f"below the optimum {optimum}")
    possible = problem.monotone and path_of_length_exists(problem, claimed)
    if possible:
        return ClaimCheck(problem, claimed, optimum, True, "a path of that length exists")
    odd = all(a % 2 for a in problem.actions)
    gap = problem.target - problem.start
    if odd and (claimed - gap) % 2:
        reason = (
            f"impossible by parity: every move in {set(problem.actions)} is odd, so after "
            f"{claimed} moves the position has the parity of {claimed}, never {problem.target}"
        )
    else:
        reason = f"no valid path of exactly {claimed} moves exists"
    return ClaimCheck(problem, claimed, optimum, False, reason)
