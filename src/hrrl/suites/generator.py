"""A seeded problem generator. Same spec and seed, same problems.

Forbidden states are drawn between start and target, either a count per problem or a density
(fraction of the states strictly between them). With ``avoid_walls`` no run of consecutive
forbidden states is as long as the largest move (such a run makes the problem infeasible outright).
Feasibility is decided by the exact solver: ``feasibility="require"`` redraws until feasible,
``"label"`` keeps whatever was drawn and records ``feasible`` in the problem's extra keys.

Budget rules: ``default`` (the documented default budget), ``optimal`` (exactly the optimum),
``optimal+K``, ``optimal-K`` (infeasible by construction), ``xF`` (F × optimum, rounded up).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from hrrl.errors import InputError
from hrrl.problem import Problem, make_problem
from hrrl.solvers.numberline import solve

MAX_TRIES = 200
PLAIN_TRIES = 10
"""After this many infeasible draws, forbidden sets are drawn around a carved random path."""


@dataclass(frozen=True)
class SuiteSpec:
    """How to draw ``count`` problems of one category."""

    category: str
    """Copied into every problem's ``category`` key."""
    count: int
    """Number of problems."""
    targets: tuple[int, int]
    """Inclusive range of targets (start is 0 unless ``start`` says otherwise)."""
    forbidden_count: tuple[int, int] | None = (2, 5)
    """Inclusive range of the number of forbidden states (ignored when ``density`` is set)."""
    density: float | None = None
    """Fraction of the states strictly between start and target that are forbidden."""
    actions: tuple[int, ...] = (1, 3, 5)
    """Action set of every problem."""
    budget: str = "default"
    """Budget rule: ``default``, ``optimal``, ``optimal+K``, ``optimal-K`` or ``xF``."""
    feasibility: str = "require"
    """``require`` (redraw until feasible) or ``label``."""
    avoid_walls: bool = True
    """Never draw a run of forbidden states as long as the largest move."""
    start: int = 0
    """Start position."""

    def __post_init__(self) -> None:
        if self.count < 0:
            raise InputError("count must be non-negative")
        lo, hi = self.targets
        if lo > hi:
            raise InputError(f"empty target range {lo}..{hi}")
        if self.density is not None and not 0 <= self.density < 1:
            raise InputError(f"density must be in [0, 1), got {self.density}")
        if self.feasibility not in ("require", "label"):
            raise InputError(f"feasibility must be 'require' or 'label', got {self.feasibility!r}")
        parse_budget(self.budget)


def parse_budget(rule: str) -> tuple[str, float]:
    """``("default", 0)``, ``("plus", K)`` (``optimal±K``) or ``("times", F)``."""
    rule = rule.strip()
    try:
        if rule == "default":
            return ("default", 0)
        if rule == "optimal":
            return ("plus", 0)
        if rule.startswith("optimal+"):
            return ("plus", int(rule[len("optimal+") :]))
        if rule.startswith("optimal-"):
            return ("plus", -int(rule[len("optimal-") :]))
        if rule.startswith("x"):
            factor = float(rule[1:])
            if factor > 0:
                return ("times", factor)
    except ValueError:
        pass
    raise InputError(f"unknown budget rule {rule!r} (default, optimal, optimal+K, optimal-K, xF)")


def _draw_forbidden(
    spec: SuiteSpec, start: int, target: int, rng: np.random.Generator, carve: bool = False
) -> list[int]:
    lo, hi = (start + 1, target - 1) if target > start else (target + 1, start - 1)
    span = hi - lo + 1
    if span <= 0:
        return []
    if spec.density is not None:
        mask = rng.random(span) < spec.density
    else:
        assert spec.forbidden_count is not None
        k = int(rng.integers(spec.forbidden_count[0], spec.forbidden_count[1] + 1))
        mask = np.zeros(span, dtype=bool)
        mask[rng.choice(span, size=min(k, span), replace=False)] = True
    if spec.avoid_walls:
        _break_walls(mask, max(abs(a) for a in spec.actions))
    if carve:
        path = _random_path(start, target, spec.actions, rng)
        inside = path[(path >= lo) & (path <= hi)] - lo
        mask[inside] = False
    return (lo + np.flatnonzero(mask)).tolist()


def _random_path(
    start: int, target: int, actions: Sequence[int], rng: np.random.Generator
) -> np.ndarray:
    """Positions of a random monotone walk from start that ends exactly on target (if it can)."""
    sign = 1 if target > start else -1
    moves = np.array(sorted({abs(a) for a in actions if np.sign(a) == sign}), dtype=np.int64)
    if moves.size == 0:
        return np.array([start], dtype=np.int64)
    gap = abs(target - start)
    steps = rng.choice(moves, size=gap // int(moves.min()) + 1)
    offsets = np.cumsum(steps)
    offsets = offsets[offsets <= gap]
    return start + sign * offsets


def _break_walls(mask: np.ndarray, largest: int) -> None:
    """Free every ``largest``-th state of each forbidden run so no run reaches ``largest``."""
    blocked = mask.astype(np.int8)
    edges = np.diff(np.concatenate(([0], blocked, [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    for s, e in zip(starts, ends, strict=True):
        if e - s >= largest:
            mask[s + largest - 1 : e : largest] = False


def _with_budget(problem: Problem, rule: str) -> Problem | None:
    kind, value = parse_budget(rule)
    if kind == "default":
        return problem
    optimum = solve(problem).unbudgeted_steps
    if optimum is None:
        return None
    budget = optimum + int(value) if kind == "plus" else math.ceil(optimum * value)
    if budget < 1:
        return None
    return replace(problem, max_steps=budget)


def generate(specs: SuiteSpec | Sequence[SuiteSpec], seed: int, prefix: str = "") -> list[Problem]:
    """Problems for each spec in turn, ids ``{prefix}{category}-{i}``, deterministic in ``seed``."""
    if isinstance(specs, SuiteSpec):
        specs = [specs]
    problems: list[Problem] = []
    for spec_index, spec in enumerate(specs):
        rng = np.random.default_rng([seed, spec_index])
        for i in range(spec.count):
            problems.append(_draw_one(spec, rng, f"{prefix}{spec.category}-{i}"))
    return problems


def _draw_one(spec: SuiteSpec, rng: np.random.Generator, problem_id: str) -> Problem:
    for attempt in range(MAX_TRIES):
        target = int(rng.integers(spec.targets[0], spec.targets[1] + 1))
        if target == spec.start:
            continue
        carve = attempt >= PLAIN_TRIES and spec.feasibility == "require"
        forbidden = _draw_forbidden(spec, spec.start, target, rng, carve=carve)
        problem = make_problem(
            target, forbidden, spec.actions, start=spec.start, id=problem_id, category=spec.category
        )
        if spec.feasibility == "label":
            budgeted = _with_budget(problem, spec.budget) or problem
            verdict = solve(budgeted)
            extra = {**budgeted.extra, "feasible": verdict.feasible}
            return replace(budgeted, extra=extra)
        candidate = _with_budget(problem, spec.budget)
        if candidate is not None and solve(candidate).feasible:
            return candidate
    raise InputError(
        f"could not draw a feasible {spec.category!r} problem in {MAX_TRIES} tries; "
        "lower the forbidden density or widen the budget"
    )
