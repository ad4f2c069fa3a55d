"""The mazes of hiro-point-maze: boxes in free space, a finite geodesic start distance, and
environments that draw starts and goals from their boxes."""

from __future__ import annotations

import numpy as np
import pytest

from hrrl.envs.point_maze import inside_wall
from hrrl.experiments._hiro_mazes import MAZES, env_makers
from hrrl.experiments.hiro_point_maze import EXPERIMENT
from hrrl.tasks.point_maze import geodesic_distance_map


def test_every_maze_is_a_protocol_and_the_default_is_the_s_maze() -> None:
    assert EXPERIMENT.protocols == tuple(MAZES)
    assert EXPERIMENT.protocols[0] == "s-maze"


@pytest.mark.parametrize("name", list(MAZES))
def test_starts_and_goals_come_from_their_boxes(name: str) -> None:
    setting = MAZES[name]
    make_train, make_eval = env_makers(name)
    env = make_eval()
    env.reset(seed=0)
    for _ in range(30):
        obs, _ = env.reset()
        for point, (x0, y0, x1, y1) in ((obs["observation"], setting.start_box),
                                        (obs["desired_goal"], setting.goal_box)):  # fmt: skip
            assert x0 <= point[0] <= x1 and y0 <= point[1] <= y1
            assert not inside_wall(point, env.walls)
    train = make_train()
    train.reset(seed=1)
    goals = np.array([train.reset()[0]["desired_goal"] for _ in range(50)])
    assert np.ptp(goals, axis=0).min() > 1.0  # spread over the maze, not a box


@pytest.mark.parametrize("name", list(MAZES))
def test_the_goal_box_lies_behind_the_walls(name: str) -> None:
    """The geodesic start-to-goal distance is finite and longer than the straight line."""
    setting = MAZES[name]
    distances = geodesic_distance_map(setting.eval_env(), target=setting.goal_centre)
    geodesic = float(distances[setting.start_cell])
    x0, y0, x1, y1 = setting.start_box
    straight = float(np.hypot(setting.goal_centre[0] - (x0 + x1) / 2,
                              setting.goal_centre[1] - (y0 + y1) / 2))  # fmt: skip
    assert np.isfinite(geodesic) and geodesic > 1.5 * straight
