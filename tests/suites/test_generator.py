import itertools

import pytest

from hrrl.errors import InputError
from hrrl.solvers.numberline import solve
from hrrl.suites.builtin import PAPER_PROBLEMS, builtin_suite, validation_specs
from hrrl.suites.generator import SuiteSpec, generate


def test_same_seed_same_problems_other_seed_other_problems():
    spec = SuiteSpec("x", 20, (10, 500), (2, 10))
    assert generate(spec, 7) == generate(spec, 7)
    assert generate(spec, 7) != generate(spec, 8)


def test_required_feasibility_holds_and_budget_rules_apply():
    problems = generate(SuiteSpec("tight", 30, (20, 300), (2, 20), budget="optimal"), 1)
    for problem in problems:
        verdict = solve(problem)
        assert verdict.feasible
        assert verdict.steps == problem.max_steps
        assert problem.category == "tight"


def test_label_mode_marks_infeasible_problems():
    problems = generate(
        SuiteSpec("inf", 10, (20, 300), (2, 5), budget="optimal-1", feasibility="label"), 0
    )
    assert all(p.extra["feasible"] is False for p in problems)
    assert all(not solve(p).feasible for p in problems)


def test_density_without_walls():
    problems = generate(SuiteSpec("dense", 5, (300, 400), density=0.3), 3)
    for problem in problems:
        forbidden = sorted(problem.forbidden)
        run = longest = 1
        for a, b in itertools.pairwise(forbidden):
            run = run + 1 if b == a + 1 else 1
            longest = max(longest, run)
        assert longest < 5
        assert 0.15 < len(forbidden) / problem.gap < 0.35
        assert solve(problem).feasible


@pytest.mark.parametrize("rule", ["often", "optimal+x", "x0", "x-2"])
def test_bad_budget_rules_are_input_errors(rule):
    with pytest.raises(InputError, match="budget rule"):
        SuiteSpec("x", 1, (10, 20), budget=rule)


def test_builtin_suites():
    assert builtin_suite("paper") == list(PAPER_PROBLEMS)
    assert len(validation_specs()) >= 10
    with pytest.raises(InputError, match="unknown suite"):
        builtin_suite("nope")
