"""Goal decomposition: the paper's waypoint rule, and our waypoints never on forbidden states."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hrrl.agents.hrrl.decomposition import WaypointTracker, paper_waypoints, soft_waypoints
from hrrl.problem import make_problem


def test_paper_rule_direct_up_to_50_then_evenly_spaced() -> None:
    assert paper_waypoints(0, 50) == [50]
    assert paper_waypoints(0, 100) == [50, 100]  # max(2, 100 // 75) = 2 points in total
    assert paper_waypoints(0, 278) == [92, 184, 278]  # the paper's code (seed 000, l. 120-139)
    assert len(paper_waypoints(0, 1_000_000)) == 1_000_000 // 75
    assert paper_waypoints(10, -290) == [-65, -140, -215, -290]  # 300 // 75 = 4, 75 apart


def _paper_code(current: int, target: int) -> list[int]:
    """``decompose_target`` transcribed from the paper (seed 000, lines 120-139)."""
    gap = abs(target - current)
    if gap <= 50:
        return [target]
    num_subgoals = max(2, gap // 75)
    step_size = gap // num_subgoals
    direction = 1 if target > current else -1
    subgoals = [current + (step_size * i * direction) for i in range(1, num_subgoals)]
    subgoals.append(target)
    return subgoals


@given(st.integers(-5000, 5000), st.integers(-5000, 5000))
def test_paper_waypoints_match_the_papers_code(start: int, target: int) -> None:
    assert paper_waypoints(start, target) == _paper_code(start, target)


@settings(max_examples=60, deadline=None)
@given(
    target=st.integers(51, 5_000),
    seed=st.integers(0, 10_000),
    density=st.floats(0.0, 0.5),
)
def test_soft_waypoints_are_never_forbidden(target: int, seed: int, density: float) -> None:
    rng = np.random.default_rng(seed)
    forbidden = (1 + np.flatnonzero(rng.random(target - 1) < density)).tolist()
    problem = make_problem(target, forbidden)
    points = soft_waypoints(problem)
    assert points[-1] == target
    assert not set(points) & problem.forbidden
    assert len(points) == len(paper_waypoints(0, target))


def test_paper_waypoint_can_be_forbidden_and_exact_tracker_pursues_it() -> None:
    problem = make_problem(150, [50, 75])
    exact = WaypointTracker.for_problems([problem], exact=True)
    soft = WaypointTracker.for_problems([problem], exact=False)
    start = np.array([0])
    assert exact.goals(np.array([0]), start).tolist() == [75]  # a forbidden state
    assert soft.goals(np.array([0]), start).tolist() == [150]  # the low level keeps the goal
    assert exact.goals(np.array([80]), start).tolist() == [150]  # passed 75: moves on
