"""Hard problem families (issue #10): long-horizon constraints a greedy walker cannot see coming.

Our own generator for the families the issue describes (the held-out instances stay hidden).
Deterministic in the seed; every problem is labelled by the exact solver (``feasible`` key), and
every family except ``hard-infeasible`` only keeps feasible draws.

* ``hard-trap``: lane traps. Bands where only two residues modulo the largest move ``m`` are free;
  the lane a walker cruising with ``+m`` is in gets sealed 5–15 moves into the band, so the lane
  switch must happen in the free gap *before* the band. 2–4 bands, sparse noise elsewhere.
* ``hard-mixed``: mixed-sign moves; overshoot targets (every forward predecessor forbidden) and
  15–25 % dense fields; kept only when every optimal path uses a backward move.
* ``hard-reverse``: target < start (start up to ~60k), negated moves, mirrored traps, some paths
  crossing 0.
* ``hard-exact``: budget = optimum in 15–30 % dense fields, 8 move sets including mixed ones.
* ``hard-wide``: wide move sets, targets 10^3–10^5, lanes and exact budgets.
* ``hard-1e6``: 0 → 10^6 at ~6 % density, and 10^6 → 0 with {-1, -4, -6}.
* ``hard-infeasible``: budget one short, sealed cages (both lanes of a band sealed), residue
  lattices, pockets around the target (labelled by the solver; most are infeasible).
* ``hard-gate`` (in ``EXTRA_FAMILIES``, not in ``FAMILIES``: the validation suite is unchanged):
  mixed-sign moves and 2–3 trap bands whose good lane is only reachable with a backward step
  that must come early: kept only when every optimal path steps back and the cruiser (largest
  safe move first, so a backward move only when it is the sole safe one) fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from hrrl.problem import Problem, make_problem
from hrrl.solvers.numberline import solve

TRAP_SETS: tuple[tuple[int, ...], ...] = ((1, 3, 5), (2, 7), (1, 4, 6), (3, 5, 8))
MIXED_SETS: tuple[tuple[int, ...], ...] = ((-1, 3, 5), (-2, 5), (-3, 4, 7), (-5, 2, 9))
EXACT_SETS: tuple[tuple[int, ...], ...] = (
    (1, 3, 5),
    (2, 7),
    (1, 4, 6),
    (3, 5, 8),
    (1, 2, 5),
    (-1, 3, 5),
    (-2, 5),
    (-3, 4, 7),
)
WIDE_SETS: tuple[tuple[int, ...], ...] = ((1, 4, 9, 16), (5, 7), (2, 3, 11, 13), (6, 10, 15))
FAMILIES = (
    "hard-trap",
    "hard-mixed",
    "hard-reverse",
    "hard-exact",
    "hard-wide",
    "hard-1e6",
    "hard-infeasible",
)
EXTRA_FAMILIES = ("hard-gate",)
"""Families drawn only when asked for (``generate_hard(..., families=...)``); each family's random
stream depends on its place in ``FAMILIES + EXTRA_FAMILIES``, so adding one changes no other."""
DEFAULT_COUNTS = {
    "hard-trap": 40,
    "hard-mixed": 30,
    "hard-reverse": 30,
    "hard-exact": 30,
    "hard-wide": 30,
    "hard-1e6": 2,
    "hard-infeasible": 24,
    "hard-gate": 30,
}
MAX_TRIES = 400


# ---- building blocks ----------------------------------------------------------------------------
def _noise(rng: np.random.Generator, lo: int, hi: int, density: float, largest: int) -> set[int]:
    """Random forbidden states in [lo, hi] at ``density``, no run as long as ``largest``."""
    span = hi - lo + 1
    if span <= 0 or density <= 0:
        return set()
    mask = rng.random(span) < density
    run = 0
    for i in np.flatnonzero(mask).tolist():  # break runs (rare at these densities)
        run = run + 1 if i > 0 and mask[i - 1] else 1
        if run >= largest:
            mask[i], run = False, 0
    return set((lo + np.flatnonzero(mask)).tolist())


def _trap_field(
    rng: np.random.Generator, moves: tuple[int, ...], bands: int, start: int = 0
) -> tuple[int, set[int], list[tuple[int, int]]]:
    """Forward trap field from ``start``: (target, forbidden, band spans)."""
    m = max(moves)
    forbidden: set[int] = set()
    spans: list[tuple[int, int]] = []
    pos = start + int(rng.integers(3, 12)) * m + int(rng.integers(0, m))
    lane = (start - pos) % m  # the lane a +m cruiser from start is in, relative to the band start
    for _ in range(bands):
        depth = int(rng.integers(5, 16))
        length = (depth + int(rng.integers(4, 12))) * m
        other = int(rng.choice([r for r in range(m) if r != lane]))
        for x in range(pos, pos + length):
            if (x - pos) % m not in (lane, other):
                forbidden.add(x)
        forbidden.add(pos + lane + depth * m)  # seal the cruiser's lane
        spans.append((pos, pos + length - 1))
        end = pos + length
        gap = int(rng.integers(2, 6)) * m + int(rng.integers(0, m))
        forbidden |= _noise(rng, end + 1, end + gap - 1, 0.03, m)
        lane = (other + pos - (end + gap)) % m  # the surviving lane, seen from the next band
        pos = end + gap
    target = pos + int(rng.integers(1, 8)) * m + int(rng.integers(0, m))
    forbidden.discard(start)
    forbidden.discard(target)
    return target, forbidden, spans


def _mirror(problem: Problem, pivot: int) -> Problem:
    """The problem reflected around ``pivot`` (x → 2·pivot − x), moves negated."""
    return make_problem(
        2 * pivot - problem.target,
        [2 * pivot - f for f in problem.forbidden],
        tuple(-a for a in problem.actions),
        start=2 * pivot - problem.start,
        max_steps=problem.max_steps or None,
    )


def _dense(
    rng: np.random.Generator, start: int, target: int, moves: tuple[int, ...], density: float
) -> set[int]:
    lo, hi = sorted((start, target))
    margin = max(abs(a) for a in moves) * 4 if min(moves) < 0 < max(moves) else 0
    field = _noise(rng, lo - margin, hi + margin, density, max(abs(a) for a in moves))
    return field - {start, target}


def _uses_backward(problem: Problem, optimum: int) -> bool:
    """Every optimal path uses a backward move (forward-only moves need more steps or fail)."""
    sign = 1 if problem.target > problem.start else -1
    forward = tuple(a for a in problem.actions if a * sign > 0)
    if not forward:
        return True
    fwd = solve(replace(problem, actions=forward, max_steps=max(problem.max_steps, 4 * optimum)))
    return not fwd.feasible or (fwd.steps or 0) > optimum


def cruiser_fails(problem: Problem) -> bool:
    """The walker that always takes the largest safe move (not past the target) fails: the
    trap is only visible long before the forbidden landing."""
    sign = 1 if problem.target > problem.start else -1
    moves = sorted(problem.actions, key=lambda a: -a * sign)
    x, steps = problem.start, 0
    while x != problem.target and steps < problem.max_steps:
        safe = [x + a for a in moves if x + a not in problem.forbidden]
        safe = [y for y in safe if (problem.target - y) * sign >= 0 or not problem.monotone]
        if not safe:
            return True
        x, steps = safe[0], steps + 1
    return x != problem.target


# ---- families -----------------------------------------------------------------------------------
def _trap(rng: np.random.Generator) -> Problem | None:
    moves = TRAP_SETS[int(rng.integers(len(TRAP_SETS)))]
    target, forbidden, _ = _trap_field(rng, moves, int(rng.integers(2, 5)))
    problem = make_problem(target, sorted(forbidden), moves)
    return problem if cruiser_fails(problem) else None


def _mixed(rng: np.random.Generator) -> Problem | None:
    moves = MIXED_SETS[int(rng.integers(len(MIXED_SETS)))]
    target = int(rng.integers(60, 1500))
    kind = int(rng.integers(3))
    if kind == 0:  # overshoot: every forward predecessor of the target forbidden
        forbidden = _dense(rng, 0, target, moves, 0.08)
        forbidden |= {target - a for a in moves if a > 0 and target - a != 0}
    elif kind == 1:  # dense field
        forbidden = _dense(rng, 0, target, moves, float(rng.uniform(0.15, 0.25)))
    else:  # gate: a trap band whose good lane is only reachable with a backward step
        target, trap, _ = _trap_field(rng, tuple(a for a in moves if a > 0), 2)
        forbidden = trap | _dense(rng, 0, target, moves, 0.05)
    forbidden -= {0, target}
    problem = make_problem(target, sorted(forbidden), moves)
    verdict = solve(problem)
    if not verdict.feasible or not _uses_backward(problem, verdict.steps or 0):
        return None
    return problem


def _gate(rng: np.random.Generator) -> Problem | None:
    moves = MIXED_SETS[int(rng.integers(len(MIXED_SETS)))]
    target, forbidden, _ = _trap_field(
        rng, tuple(a for a in moves if a > 0), int(rng.integers(2, 4))
    )
    forbidden = (forbidden | _dense(rng, 0, target, moves, 0.05)) - {0, target}
    problem = make_problem(target, sorted(forbidden), moves)
    verdict = solve(problem)
    if not verdict.feasible or not _uses_backward(problem, verdict.steps or 0):
        return None
    return problem if cruiser_fails(problem) else None


def _reverse(rng: np.random.Generator) -> Problem | None:
    kind = int(rng.integers(3))
    if kind == 0:  # mirrored trap, maybe crossing 0
        moves = TRAP_SETS[int(rng.integers(len(TRAP_SETS)))]
        target, forbidden, _ = _trap_field(rng, moves, int(rng.integers(2, 4)))
        forward = make_problem(target, sorted(forbidden), moves)
        pivot = int(rng.integers(0, 60_000)) if rng.random() < 0.7 else target // 3
        mirrored = _mirror(forward, pivot)
        return mirrored if cruiser_fails(mirrored) else None
    moves = (MIXED_SETS + TRAP_SETS)[int(rng.integers(8))]
    moves = tuple(-a for a in moves)
    start = int(rng.integers(200, 60_000))
    target = start - int(rng.integers(100, 3000))
    density = float(rng.uniform(0.05, 0.2))
    forbidden = _dense(rng, start, target, moves, density)
    return make_problem(target, sorted(forbidden), moves, start=start)


def _exact(rng: np.random.Generator) -> Problem | None:
    moves = EXACT_SETS[int(rng.integers(len(EXACT_SETS)))]
    target = int(rng.integers(100, 3000))
    forbidden = _dense(rng, 0, target, moves, float(rng.uniform(0.15, 0.30)))
    problem = make_problem(target, sorted(forbidden), moves)
    verdict = solve(problem)
    if not verdict.feasible or verdict.steps is None:
        return None
    return replace(problem, max_steps=verdict.steps)


def _wide(rng: np.random.Generator) -> Problem | None:
    moves = WIDE_SETS[int(rng.integers(len(WIDE_SETS)))]
    kind = int(rng.integers(3))
    if kind == 0:
        target, forbidden, _ = _trap_field(rng, moves, int(rng.integers(2, 5)))
        target += int(rng.integers(1_000, 20_000))
        forbidden |= _noise(rng, target - 20_000, target - 1, 0.02, max(moves)) - {0}
        forbidden = {f for f in forbidden if 0 < f < target}
    else:
        target = int(10 ** rng.uniform(3, 5))
        forbidden = _dense(rng, 0, target, moves, float(rng.uniform(0.05, 0.2)))
    problem = make_problem(target, sorted(forbidden), moves)
    if kind == 2:
        verdict = solve(problem)
        if not verdict.feasible or verdict.steps is None:
            return None
        problem = replace(problem, max_steps=verdict.steps)
    return problem


def _million(rng: np.random.Generator, index: int) -> Problem | None:
    if index % 2 == 0:
        moves, start, target = (1, 3, 5), 0, 1_000_000
    else:
        moves, start, target = (-1, -4, -6), 1_000_000, 0
    forbidden = _dense(rng, start, target, moves, 0.06)
    return make_problem(target, sorted(forbidden), moves, start=start)


def _infeasible(rng: np.random.Generator, index: int) -> Problem | None:
    kind = index % 4
    moves = (TRAP_SETS + MIXED_SETS)[int(rng.integers(8))]
    positive = tuple(a for a in moves if a > 0)
    if kind == 0:  # budget one short
        target = int(rng.integers(100, 2000))
        problem = make_problem(target, sorted(_dense(rng, 0, target, moves, 0.2)), moves)
        verdict = solve(problem)
        if not verdict.feasible or (verdict.steps or 0) < 2:
            return None
        return replace(problem, max_steps=(verdict.steps or 0) - 1)
    if kind == 1:  # sealed cage: a trap band with both lanes sealed
        target, forbidden, spans = _trap_field(rng, positive, 2)
        lo, _hi = spans[-1]
        m = max(positive)
        for x in range(lo + 5 * m, lo + 6 * m):
            forbidden.add(x)
        forbidden -= {0, target}
        return make_problem(target, sorted(forbidden), moves)
    if kind == 2:  # residue lattice: every state of residue classes blocking all moves
        m = max(positive)
        target = int(rng.integers(200, 2000))
        lo = int(rng.integers(20, target // 2))
        keep = int(rng.integers(m))
        forbidden = {x for x in range(lo, lo + 4 * m) if (x - lo) % m != keep}
        forbidden |= {lo + keep + 2 * m}
        forbidden |= _dense(rng, 0, target, moves, 0.03)
        forbidden -= {0, target}
        return make_problem(target, sorted(forbidden), moves)
    target = int(rng.integers(100, 2000))  # pocket: everything near the target forbidden
    reach = max(abs(a) for a in moves)
    pocket = {target + d for d in range(-reach, reach + 1) if d != 0}
    spared = target - positive[0] if rng.random() < 0.3 else None
    forbidden = (pocket | _dense(rng, 0, target, moves, 0.05)) - {0, target, spared}
    return make_problem(target, sorted(forbidden), moves)


_FAMILY: dict[str, Callable[[np.random.Generator, int], Problem | None]] = {
    "hard-trap": lambda rng, i: _trap(rng),
    "hard-mixed": lambda rng, i: _mixed(rng),
    "hard-reverse": lambda rng, i: _reverse(rng),
    "hard-exact": lambda rng, i: _exact(rng),
    "hard-wide": lambda rng, i: _wide(rng),
    "hard-1e6": _million,
    "hard-infeasible": _infeasible,
    "hard-gate": lambda rng, i: _gate(rng),
}


def generate_hard(
    seed: int,
    counts: dict[str, int] | None = None,
    families: Sequence[str] = FAMILIES,
) -> list[Problem]:
    """Problems of each family (ids ``{family}-{i}``, ``category`` = family), labelled by the
    solver with ``feasible``; deterministic in ``seed``."""
    counts = {**DEFAULT_COUNTS, **(counts or {})}
    out: list[Problem] = []
    every = FAMILIES + EXTRA_FAMILIES
    for family in families:
        rng = np.random.default_rng([seed, 1010, every.index(family)])
        draw = _FAMILY[family]
        for i in range(counts[family]):
            for _ in range(MAX_TRIES):
                problem = draw(rng, i)
                if problem is None:
                    continue
                verdict = solve(problem)
                if not verdict.feasible and family != "hard-infeasible":
                    continue
                extra = {"category": family, "feasible": verdict.feasible}
                out.append(replace(problem, id=f"{family}-{i}", extra=extra))
                break
            else:  # pragma: no cover - the families are built to be drawable
                raise RuntimeError(f"could not draw a {family} problem")
    return out


def hard_suite(seed: int = 0) -> list[Problem]:
    """The default hard suite (``hrrl problems generate --suite hard``)."""
    return generate_hard(seed)


def hard_quick_suite(seed: int = 0) -> list[Problem]:
    """A small hard suite: 6 per family, one 10^6 problem."""
    counts = {f: 6 for f in FAMILIES} | {"hard-1e6": 1}
    return generate_hard(seed, counts)
