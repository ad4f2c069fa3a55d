"""Built-in suites: the paper's three test problems, and our broad validation suite."""

from __future__ import annotations

from collections.abc import Callable

from hrrl.errors import InputError
from hrrl.problem import Problem, make_problem
from hrrl.suites.generator import SuiteSpec, generate
from hrrl.suites.hard import FAMILIES, generate_hard, hard_quick_suite, hard_suite

PAPER_PROBLEMS: tuple[Problem, ...] = (
    make_problem(123, [23, 45, 67, 89], id="paper-123", category="paper"),
    make_problem(278, [51, 102, 177, 203, 234], id="paper-278", category="paper"),
    make_problem(431, [78, 156, 234, 312, 389], id="paper-431", category="paper"),
)
"""The paper's test problems; it reports 28, 61 and 94 steps, the optima are 25, 56 and 87."""

PAPER_CLAIMED_STEPS = {"paper-123": 28, "paper-278": 61, "paper-431": 94}


def validation_specs(scale: float = 1.0) -> list[SuiteSpec]:
    """The broad validation suite: every category a learner must handle (``scale`` × counts)."""

    def n(count: int) -> int:
        return max(1, round(count * scale))

    return [
        SuiteSpec("in-distribution", n(200), (5, 100), (2, 5)),
        SuiteSpec("t1e3", n(100), (500, 1_000), (5, 20)),
        SuiteSpec("t1e4", n(50), (5_000, 10_000), (20, 100)),
        SuiteSpec("t1e5", n(20), (50_000, 100_000), (100, 1_000)),
        SuiteSpec("t1e6", 1, (1_000_000, 1_000_000), (1_000, 1_000)),
        SuiteSpec("dense", n(200), (50, 1_000), density=0.10),
        SuiteSpec("dense-25", n(200), (50, 1_000), density=0.25),
        SuiteSpec("dense-1e5", n(5), (100_000, 100_000), density=0.15),
        SuiteSpec("tight-budget", n(200), (20, 2_000), (2, 40), budget="optimal"),
        SuiteSpec("infeasible", n(50), (20, 500), (2, 10), budget="optimal-1", feasibility="label"),
        SuiteSpec("actions-2-7", n(100), (20, 2_000), (2, 40), actions=(2, 7)),
        SuiteSpec("actions-1-4-9", n(100), (20, 2_000), (2, 40), actions=(1, 4, 9)),
        SuiteSpec("actions-mixed", n(100), (20, 500), (2, 20), actions=(-2, 3, 5)),
    ]


def paper_suite(seed: int = 0) -> list[Problem]:
    del seed
    return list(PAPER_PROBLEMS)


HARD_IN_VALIDATION = 10
"""Problems per hard family in the validation suite (the 10^6-dense family is in ``hard`` only)."""


def hard_validation(seed: int, count: int) -> list[Problem]:
    """The hard families (``suites/hard.py``) as validation categories, 10^6-dense left out."""
    counts = {family: count for family in FAMILIES} | {"hard-1e6": 0}
    return generate_hard(seed, counts)


def validation_suite(seed: int = 0) -> list[Problem]:
    return (
        list(PAPER_PROBLEMS)
        + generate(validation_specs(), seed)
        + hard_validation(seed, HARD_IN_VALIDATION)
    )


def quick_suite(seed: int = 0) -> list[Problem]:
    """A smaller validation suite (for demos and tests)."""
    return list(PAPER_PROBLEMS) + generate(validation_specs(scale=0.1), seed)


SUITES: dict[str, Callable[[int], list[Problem]]] = {
    "paper": paper_suite,
    "validation": validation_suite,
    "quick": quick_suite,
    "hard": hard_suite,
    "hard-quick": hard_quick_suite,
}


def builtin_suite(name: str, seed: int = 0) -> list[Problem]:
    if name not in SUITES:
        raise InputError(f"unknown suite {name!r}; known: {', '.join(SUITES)}")
    return SUITES[name](seed)
