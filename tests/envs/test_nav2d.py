"""2-D navigation env: dynamics, rewards, clipping, termination, task API, batched rollouts."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.envs.nav2d import Nav2DConfig, Nav2DEnv, goal_reward, rollout_batch


def test_step_clips_action_and_rewards_negative_distance() -> None:
    env = Nav2DEnv(goal=np.array([0.3, -0.2]))
    obs, _ = env.reset(seed=0)
    assert np.array_equal(obs, np.zeros(2, dtype=np.float32))
    # (5, -0.5) is clipped to (1, -0.5) and scaled by 0.1: the point moves to (0.1, -0.05).
    obs, reward, terminated, truncated, _ = env.step(np.array([5.0, -0.5]))
    assert np.allclose(obs, [0.1, -0.05])
    # distance to (0.3, -0.2) is sqrt(0.2² + 0.15²) = 0.25
    assert reward == pytest.approx(-0.25)
    assert not terminated and not truncated


def test_squared_distance_reward() -> None:
    env = Nav2DEnv(Nav2DConfig(reward="squared_distance"), goal=np.array([0.3, -0.2]))
    env.reset(seed=0)
    _, reward, _, _, _ = env.step(np.array([5.0, -0.5]))
    assert reward == pytest.approx(-0.0625)
    assert goal_reward(np.array([3.0, 4.0]), np.zeros(2), "distance") == pytest.approx(-5.0)
    assert goal_reward(np.array([3.0, 4.0]), np.zeros(2), "squared_distance") == pytest.approx(-25)


def test_terminates_within_tolerance_and_truncates_at_horizon() -> None:
    env = Nav2DEnv(Nav2DConfig(horizon=3), goal=np.array([0.105, 0.095]))
    env.reset(seed=0)
    _, reward, terminated, truncated, _ = env.step(np.array([1.0, 1.0]))
    assert terminated and not truncated
    assert reward == pytest.approx(-np.hypot(0.005, 0.005))
    env.set_task(np.array([0.5, 0.5]))
    env.reset()
    flags = [env.step(np.zeros(2))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_task_api() -> None:
    env = Nav2DEnv()
    goals = env.sample_tasks(500, np.random.default_rng(3))
    assert goals.shape == (500, 2)
    assert goals.min() >= -0.5 and goals.max() <= 0.5
    assert np.array_equal(goals, env.sample_tasks(500, np.random.default_rng(3)))
    env.set_task(goals[7])
    assert np.array_equal(env.get_task(), goals[7])
    _, info = env.reset(seed=1)
    assert np.array_equal(info["goal"], goals[7])
    env.reset(options={"task": goals[8]})
    assert np.array_equal(env.get_task(), goals[8])


def test_reset_without_task_draws_goal_from_np_random() -> None:
    env = Nav2DEnv()
    _, first = env.reset(seed=11)
    _, second = env.reset(seed=11)
    _, third = env.reset()
    assert np.array_equal(first["goal"], second["goal"])
    assert not np.array_equal(second["goal"], third["goal"])
    wide = Nav2DEnv(Nav2DConfig(goal_low=-10.0, goal_high=10.0))
    goals = np.array([wide.reset(seed=s)[1]["goal"] for s in range(50)])
    assert np.abs(goals).max() > 1.0


def test_check_env_passes_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(Nav2DEnv(), skip_render_check=True)
        check_env(gymnasium.make("hrrl/Nav2D-v0").unwrapped, skip_render_check=True)
    assert "hrrl/Nav2D-v0" in gymnasium.registry


def test_batched_rollout_matches_env_stepping() -> None:
    config = Nav2DConfig(horizon=20)
    goals = np.array([[0.3, -0.2], [0.0, 0.0], [-0.45, 0.4]])
    rng = np.random.default_rng(0)
    noise = rng.normal(scale=0.3, size=(20, 3, 4, 2))
    step = iter(range(20))

    def act(obs: np.ndarray) -> np.ndarray:
        return 8.0 * (goals[:, None, :] - obs) + noise[next(step)]

    batch = rollout_batch(act, goals, 4, config)
    lengths = batch.valid.sum(axis=-1)
    assert lengths.min() < 20 and lengths.max() == 20  # both early termination and truncation
    for k, goal in enumerate(goals):
        for n in range(4):
            env = Nav2DEnv(config, goal=goal)
            env.reset(seed=0)
            total, t = 0.0, 0
            while True:
                _, reward, terminated, truncated, _ = env.step(batch.actions[k, n, t])
                total += reward
                t += 1
                if terminated or truncated:
                    break
            assert t == batch.valid[k, n].sum()
            assert batch.returns()[k, n] == pytest.approx(total)
    squared = batch.rewards_as("squared_distance")
    assert np.allclose(squared[batch.valid], -(batch.rewards[batch.valid] ** 2))
