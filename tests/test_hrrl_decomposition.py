"""Goal decomposition: the paper's waypoint rule, and our waypoints never on forbidden states."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hrrl.agents.hrrl.decomposition import WaypointTracker, paper_waypoints, soft_waypoints
from hrrl.problem import make_problem


def test_paper_rule_direct_up_to_50_then_evenly_spaced() -> None:
    assert paper_waypoints(0, 50) == [50]
    assert paper_waypoints(0, 100) == [33, 67, 100]  # max(2, 100 // 75) = 2 waypoints
    assert paper_waypoints(0, 278) == [70, 139, 208, 278]  # 278 // 75 = 3
    assert len(paper_waypoints(0, 1_000_000)) == 1_000_000 // 75 + 1
    assert paper_waypoints(10, -290) == [-50, -110, -170, -230, -290]


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
    problem = make_problem(100, [33, 50])
    exact = WaypointTracker.for_problems([problem], exact=True)
    soft = WaypointTracker.for_problems([problem], exact=False)
    start = np.array([0])
    assert exact.goals(np.array([0]), start).tolist() == [33]  # a forbidden state
    assert soft.goals(np.array([0]), start).tolist() == [100]  # the low level keeps the goal
    assert exact.goals(np.array([40]), start).tolist() == [67]  # passed 33: moves on
    assert exact.goals(np.array([67]), start).tolist() == [100]
