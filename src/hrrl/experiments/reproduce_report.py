"""Tables, claim checks and plots of ``hrrl reproduce``, computed from the raw run records.

A *record* is what :func:`hrrl.experiments.reproduce_methods.run_method` returned for one
(method, seed). Every number here is derived from records; nothing is typed by hand except the
paper's claims, which sit in :data:`PAPER_CLAIMS` and are checked against the solver.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from hrrl.core.stats import mean_ci
from hrrl.experiments.reproduce_methods import METHOD_BY_NAME
from hrrl.result import CategorySummary, ResultRow, summary_of
from hrrl.solvers.claims import ClaimCheck, check_claim
from hrrl.solvers.numberline import solve
from hrrl.suites.builtin import PAPER_CLAIMED_STEPS, PAPER_PROBLEMS

Record = dict[str, Any]
HELDOUT_PREFIX = "heldout-"
IN_DISTRIBUTION = "in-distribution"
NOT_STATED = "not stated"
PAPER_SOURCE = "../shared/seeds/000_e576dbdaa08fea51.txt"
"""Our copy of the paper; the claims below cite its lines."""
PAPER_TABLE_5_2 = {
    "hrrl": "100 % / 61.0 / 3 min (l. 262)",
    "tabular-q": "0 % / N/A / N/A (l. 263)",
    "dqn": "23 % / 148.3 / 45 min (l. 264)",
    "options": "67 % / 89.2 / 25 min (l. 265, 'Vanilla Hierarchical RL': options, l. 243)",
    "random": "0 % / N/A / N/A (l. 266)",
}
"""§5.2 of the paper (success / avg steps / training time), lines 258–266 of our copy."""
PAPER_TABLE_5_3 = {
    "hrrl": "100 % (l. 274)",
    "no-decomposition": "33 % (l. 275)",
    "no-relational": "17 % (l. 276)",
    "no-phase-heads": "67 % (l. 277)",
    "no-curriculum": "50 % (l. 278)",
}
"""§5.3 of the paper (success), lines 270–278 of our copy."""
NOT_IN_PAPER = "— (not in the paper)"
PAPER_EXAMPLE_278 = (
    0,
    5,
    10,
    15,
    20,
    25,
    30,
    35,
    40,
    45,
    50,
    53,
    58,
    63,
    68,
    73,
    78,
    81,
    86,
    91,
    96,
    101,
    104,
    109,
    114,
    119,
    124,
    129,
    134,
    139,
    144,
    149,
    154,
    159,
    164,
    169,
    174,
    178,
    183,
    188,
    193,
    198,
    204,
    209,
    214,
    219,
    224,
    229,
    235,
    240,
    245,
    250,
    255,
    260,
    265,
    270,
    275,
    276,
    277,
    278,
)
"""The §5.4 example path for T = 278 (line 291 of our copy)."""
PAPER_EFFICIENCY_CLAIM = "89–93 %"
"""§5.1 of the paper: the efficiency range it reports for its three test problems."""


# ------------------------------------------------------------------------------ statistics
def ci_text(
    values: Sequence[float],
    digits: int = 1,
    scale: float = 1.0,
    suffix: str = "",
    bounds: tuple[float | None, float | None] | None = None,
) -> str:
    """``"m ± h"`` with the Student-t 95 % half-width over ``values`` (nan values dropped).

    An interval leaving the metric's range ``bounds`` (default: [0, 1] for percentages, ≥ 0
    otherwise) is printed clipped, with the number of seeds (:meth:`MeanCI.format`)."""
    if bounds is None:
        bounds = (0.0, 1.0) if suffix.strip() == "%" else (0.0, None)
    return mean_ci(values).format(digits=digits, scale=scale, suffix=suffix, bounds=bounds)


def _summary(rows: Sequence[dict[str, Any]]) -> CategorySummary:
    """:func:`hrrl.result.summary_of` over a record's JSON rows."""
    return summary_of([ResultRow.from_json(r) for r in rows])


def success_rate(rows: Sequence[dict[str, Any]]) -> float:
    """Solved / feasible (nan without feasible rows)."""
    return _summary(rows).success_rate


def efficiency(rows: Sequence[dict[str, Any]]) -> float:
    """Mean optimal / steps over solved rows (nan when none solved)."""
    return _summary(rows).mean_efficiency


def mean_steps(rows: Sequence[dict[str, Any]]) -> float:
    return _summary(rows).mean_steps


def rows_in(record: Record, category: str) -> list[dict[str, Any]]:
    """Rows of one category; ``heldout`` means every held-out category."""
    if category == "heldout":
        return [r for r in record["rows"] if str(r.get("category", "")).startswith(HELDOUT_PREFIX)]
    return [r for r in record["rows"] if r.get("category") == category]


def by_method(records: Sequence[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record["method"]].append(record)
    return grouped


def metric_over_seeds(records: Sequence[Record], metric: Any, category: str) -> list[float]:
    return [metric(rows_in(r, category)) for r in records]


# ------------------------------------------------------------------------------ claims
def paper_claim_checks() -> list[ClaimCheck]:
    return [check_claim(p, PAPER_CLAIMED_STEPS[p.id]) for p in PAPER_PROBLEMS]


def paper_example_check() -> str:
    """§5.4: the paper's example path for T = 278 run through the path checker."""
    from hrrl.solvers.checker import check_path

    problem = next(p for p in PAPER_PROBLEMS if p.target == 278)
    path = list(PAPER_EXAMPLE_278)
    verdict = check_path(problem, path)
    moves = [b - a for a, b in itertools.pairwise(path)]
    illegal = [
        f"{a} → {b} (+{b - a})" for a, b in itertools.pairwise(path) if b - a not in problem.actions
    ]
    landed = [x for x in path if x in problem.forbidden]
    optimum = solve(problem).steps
    return (
        f"The paper's example path for T = 278 ({PAPER_SOURCE}, line 291) has "
        f"{len(moves)} moves (the paper's §5.1 table says 61; the optimum is {optimum}). "
        f"Path checker: **{'valid' if verdict else 'invalid'}**"
        + ("" if verdict else f" ({verdict.reason})")
        + f". Moves not in {{{', '.join(map(str, problem.actions))}}}: {len(illegal)} — "
        + (", ".join(illegal) if illegal else "none")
        + f". Forbidden states landed on: {landed or 'none'}."
    )


# ------------------------------------------------------------------------------ §5.1
def paper_steps(records: Sequence[Record], problem_id: str) -> list[float]:
    """Steps on one paper problem per seed (nan where the run failed)."""
    out = []
    for record in records:
        row = next(r for r in record["rows"] if r["id"] == problem_id)
        out.append(float(row["steps"]) if row["status"] == "solved" else float("nan"))
    return out


def table_5_1(records: Sequence[Record], method: str) -> tuple[list[str], list[list[Any]]]:
    """The paper's three problems: claimed vs measured steps and efficiency of ``method``."""
    headers = [
        "Target",
        "Forbidden",
        "Optimal steps (solver)",
        "Paper: steps",
        "Paper: efficiency",
        f"{METHOD_BY_NAME[method].label}: steps",
        "efficiency (optimal/steps)",
        "solved (seeds)",
    ]
    rows = []
    runs = by_method(records).get(method, [])
    for check in paper_claim_checks():
        p = check.problem
        steps = paper_steps(runs, p.id)
        solved = sum(not math.isnan(s) for s in steps)
        eff = [check.optimal_steps / s for s in steps]
        rows.append(
            [
                p.target,
                ", ".join(str(f) for f in sorted(p.forbidden)),
                check.optimal_steps,
                f"{check.claimed_steps} (impossible)"
                if not check.possible
                else check.claimed_steps,
                PAPER_EFFICIENCY_CLAIM,
                ci_text(steps),
                ci_text(eff, scale=100, suffix=" %"),
                f"{solved}/{len(steps)}",
            ]
        )
    return headers, rows


def table_5_1_methods(
    records: Sequence[Record], methods: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    """Steps of every method on each paper problem (mean ± CI over the seeds that solved it)."""
    problems = list(PAPER_PROBLEMS)
    headers = ["Method", *[f"T={p.target} steps (solved)" for p in problems]]
    grouped = by_method(records)
    rows = []
    for method in methods:
        cells: list[Any] = [METHOD_BY_NAME[method].label]
        for p in problems:
            steps = paper_steps(grouped.get(method, []), p.id)
            solved = sum(not math.isnan(s) for s in steps)
            cells.append(f"{ci_text(steps)} ({solved}/{len(steps)})")
        rows.append(cells)
    return headers, rows


def notes_5_1(records: Sequence[Record], method: str) -> list[str]:
    notes = []
    for check in paper_claim_checks():
        p = check.problem
        if not check.possible:
            notes.append(
                f"Claim for T={p.target} ({check.claimed_steps} steps) is impossible: "
                f"{check.reason}. The optimum is {check.optimal_steps}; the paper's efficiency "
                f"for it equals optimum/claimed = {check.implied_efficiency:.1%}, arithmetic on "
                "an impossible step count."
            )
        steps = paper_steps(by_method(records).get(method, []), p.id)
        measured = mean_ci(steps)
        if math.isnan(measured.mean):
            notes.append(f"T={p.target}: {METHOD_BY_NAME[method].label} solved it in no seed.")
        elif not math.isclose(measured.mean, check.claimed_steps):
            notes.append(
                f"T={p.target}: measured {measured.format(1)} steps vs claimed "
                f"{check.claimed_steps} — claim not reproduced as stated."
            )
    return notes
