"""The continuous point maze: collisions, goal reward, time limits, the Gymnasium contract."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.envs.point_maze import PointMazeEnv, inside_wall, move_with_collision

WALL = PointMazeEnv().walls  # the U-maze wall x ∈ [0, 3], y ∈ [1.5, 2.5], extended past x = 0


def test_check_env_passes_without_warnings() -> None:
    env = gymnasium.make("hrrl/PointMaze-v0")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    assert [str(w.message) for w in caught] == []


def test_moving_into_a_wall_stops_at_its_face() -> None:
    moved = move_with_collision(np.array([1.0, 1.4]), np.array([0.0, 0.25]), WALL, 4.0)
    np.testing.assert_allclose(moved, [1.0, 1.5])
    from_above = move_with_collision(np.array([2.0, 2.6]), np.array([0.1, -0.25]), WALL, 4.0)
    np.testing.assert_allclose(from_above, [2.1, 2.5])
    from_right = move_with_collision(np.array([3.1, 2.0]), np.array([-0.25, 0.0]), WALL, 4.0)
    np.testing.assert_allclose(from_right, [3.0, 2.0])


def test_the_arena_edge_does_not_open_a_gap_in_a_wall_touching_it() -> None:
    along_edge = move_with_collision(np.array([0.05, 1.4]), np.array([-0.25, 0.25]), WALL, 4.0)
    np.testing.assert_allclose(along_edge, [0.0, 1.5])


def test_a_thin_wall_cannot_be_tunnelled_through() -> None:
    thin = ((1.0, 0.0, 1.01, 4.0),)
    moved = move_with_collision(np.array([0.5, 2.0]), np.array([3.0, 0.0]), thin, 4.0)
    np.testing.assert_allclose(moved, [1.0, 2.0])


def test_sliding_along_a_wall_and_clipping_to_the_arena() -> None:
    slide = move_with_collision(np.array([1.0, 1.5]), np.array([0.25, 0.2]), WALL, 4.0)
    np.testing.assert_allclose(slide, [1.25, 1.5])  # x moves, y blocked
    corner = move_with_collision(np.array([3.9, 0.1]), np.array([0.25, -0.25]), WALL, 4.0)
    np.testing.assert_allclose(corner, [4.0, 0.0])


def test_random_walks_never_enter_the_wall_or_cross_it() -> None:
    env = PointMazeEnv(max_steps=100_000)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    below = True
    visited = set()
    for _ in range(5000):
        obs, *_ = env.step(rng.uniform(-1, 1, size=2).astype(np.float32))
        x, y = obs["observation"]
        assert not inside_wall(obs["observation"], env.walls)
        visited.add((int(x), int(y)))
        if x < 3.0:  # left of the wall's end the point stays on its side
            assert (y <= 1.5) if below else (y >= 2.5)
        else:
            below = bool(y < 2.0)
    assert len(visited) >= 6  # the walk moved about


def test_scripted_path_round_the_u_reaches_the_goal() -> None:
    env = PointMazeEnv()
    obs, _ = env.reset(seed=1)
    waypoints = [(3.5, 0.5), (3.5, 3.5), (0.5, 3.5)]
    steps, rewards = 0, []
    terminated = truncated = False
    for waypoint in waypoints:
        while not (terminated or truncated):
            offset = np.asarray(waypoint) - obs["observation"]
            if np.linalg.norm(offset) < 0.05:
                break
            action = np.clip(offset / env.max_step, -1, 1).astype(np.float32)
            obs, reward, terminated, truncated, info = env.step(action)
            rewards.append(reward)
            steps += 1
    assert terminated and not truncated and info["is_success"]
    assert rewards[-1] == 0.0 and set(rewards[:-1]) == {-1.0}
    assert 30 <= steps <= 60  # about 8 units of corridor at 0.25 per step


def test_truncated_at_the_time_limit_against_the_wall() -> None:
    env = PointMazeEnv(max_steps=20)
    env.reset(seed=2)
    for step in range(20):
        obs, reward, terminated, truncated, _ = env.step(np.array([0.0, 1.0], dtype=np.float32))
        assert reward == -1.0 and not terminated
        assert truncated == (step == 19)
    assert obs["observation"][1] == np.float32(1.5)  # pressed against the wall's lower face


def test_reset_is_deterministic_under_a_seed_and_rewards_vectorise() -> None:
    env = PointMazeEnv()
    first, _ = env.reset(seed=7)
    second, _ = env.reset(seed=7)
    np.testing.assert_array_equal(first["observation"], second["observation"])
    achieved = np.array([[0.5, 3.5], [0.5, 3.9], [3.0, 3.5]])
    desired = np.tile(env.goal, (3, 1))
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, {}), [0.0, 0.0, -1.0])
    dense = PointMazeEnv(reward_type="dense")
    np.testing.assert_allclose(dense.compute_reward(achieved, desired, {}), [0.0, -0.4, -2.5])


def test_steps_to_success_is_the_first_evaluation_at_the_level() -> None:
    from hrrl.experiments._hiro_point_maze_report import steps_to_success

    curve = [(100, 0.0), (200, 0.95), (300, 0.5), (400, 1.0)]
    assert steps_to_success(curve) == 200
    assert steps_to_success(curve, level=0.99) == 400
    assert steps_to_success([(100, 0.2)]) is None


def test_ranking_joins_ties_and_the_area_leaves_out_the_closing_evaluation() -> None:
    from hrrl.experiments._hiro_point_maze_report import mean_success_over_training, ranking

    assert ranking({"a": 0.5, "b": 1.0, "c": 0.5}) == "b (1.00) > a (0.50) = c (0.50)"
    assert mean_success_over_training([(10, 0.0), (20, 1.0), (21, 0.0)]) == 0.5
    assert mean_success_over_training([(10, 0.25)]) == 0.25
