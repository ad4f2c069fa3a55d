import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hrrl.errors import InputError
from hrrl.problem import make_problem
from hrrl.solvers.checker import check_path, check_trajectory
from hrrl.solvers.numberline import solve, window
from hrrl.suites.builtin import PAPER_CLAIMED_STEPS, PAPER_PROBLEMS
from numberline_brute import brute_force_steps


@st.composite
def small_problems(draw, mixed: bool):
    pool = [-4, -3, -2, -1, 1, 2, 3, 4, 5] if mixed else [1, 2, 3, 4, 5, 7]
    actions = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    target = draw(st.integers(-25, 40).filter(lambda t: t != 0))
    forbidden = draw(st.sets(st.integers(-30, 45), max_size=12)) - {0, target}
    budget = draw(st.one_of(st.none(), st.integers(1, 30)))
    return make_problem(target, forbidden, actions, max_steps=budget)


@given(small_problems(mixed=False))
def test_solver_equals_brute_force_positive_actions(problem):
    assert_matches_brute_force(problem)


@given(small_problems(mixed=True))
def test_solver_equals_brute_force_with_negative_actions(problem):
    assert_matches_brute_force(problem)


def assert_matches_brute_force(problem):
    expected = brute_force_steps(problem)
    solution = solve(problem)
    if expected is None:
        assert not solution.feasible
        assert solution.reason
    else:
        assert solution.feasible, solution.reason
        assert solution.steps == expected
        assert check_path(problem, solution.path)
        assert len(solution.path) - 1 == expected


def test_paper_problems_have_optima_25_56_87_not_the_claimed_28_61_94():
    steps = {p.id: solve(p).steps for p in PAPER_PROBLEMS}
    assert steps == {"paper-123": 25, "paper-278": 56, "paper-431": 87}
    for problem in PAPER_PROBLEMS:
        claimed = PAPER_CLAIMED_STEPS[problem.id]
        # every move of {1,3,5} flips parity, so a path's length has the target's parity
        assert claimed % 2 != problem.target % 2


@pytest.mark.parametrize(
    ("problem", "reason"),
    [
        (make_problem(20, [15, 17, 19]), "every predecessor of the target 20"),
        (make_problem(20, [10, 11, 12, 13, 14]), "wall of 5 consecutive forbidden states (10..14)"),
        (make_problem(100, [], max_steps=10), "needs 20 steps, budget is 10"),
        (make_problem(431, [78, 156, 234, 312, 389], max_steps=80), "needs 87 steps, budget is 80"),
        (make_problem(7, [], actions=[2, 4]), "multiple of 2"),
        (make_problem(-5, [], actions=[1, 3]), "left of the start"),
        (make_problem(2, [], actions=[3, 5]), "no combination of moves"),
        (make_problem(1, [], actions=[5, -3], max_steps=3), "needs 5 steps, budget is 3"),
    ],
)
def test_infeasible_problems_get_a_readable_reason(problem, reason):
    solution = solve(problem)
    assert not solution.feasible
    assert reason in solution.reason


def test_negative_actions_can_leave_the_start_target_interval():
    solution = solve(make_problem(1, [5], actions=[5, -3]))
    assert solution.feasible
    assert min(solution.path) < 0
    assert solution.steps == brute_force_steps(make_problem(1, [5], actions=[5, -3]))


def test_mixed_window_contains_every_budgeted_path():
    problem = make_problem(4, [], actions=[3, -2], max_steps=6)
    lo, hi = window(problem)
    assert lo <= -12 + 12 and hi >= 4
    assert lo == max(0 - 6 * 2, 4 - 6 * 3)
    assert hi == min(0 + 6 * 3, 4 + 6 * 2)


def test_absurd_windows_are_refused_before_allocating():
    with pytest.raises(InputError, match="search window"):
        solve(make_problem(500_000_000))


def test_million_scale_solve_is_fast_and_valid():
    rng = np.random.default_rng(0)
    forbidden = rng.choice(np.arange(1, 10**6), 1000, replace=False).tolist()
    problem = make_problem(10**6, forbidden)
    started = time.perf_counter()
    solution = solve(problem)
    assert time.perf_counter() - started < 10  # the benchmark measures speed; this guards hangs
    assert solution.feasible
    assert check_path(problem, solution.path)
    assert solution.steps >= 200_000


def test_checker_rejects_every_kind_of_bad_path():
    problem = make_problem(10, [4], max_steps=5)
    assert check_path(problem, [0, 5, 10])
    assert "not at the start" in check_path(problem, [1, 6, 10]).reason
    assert "not an action" in check_path(problem, [0, 2, 7, 10]).reason
    assert "forbidden state 4" in check_path(problem, [0, 1, 4, 5, 10]).reason
    assert "budget is 5" in check_path(problem, [0, 1, 2, 3, 4 + 1, 6, 7, 10]).reason
    assert "not at the target" in check_path(problem, [0, 5]).reason
    assert "goes on" in check_path(make_problem(6, [], [3, -3]), [0, 3, 6, 9, 6]).reason
    assert "empty" in check_path(problem, []).reason
    assert check_trajectory(problem, [0, 1, 4])  # a failed run may end on a forbidden state
