"""2-D navigation env: dynamics, rewards, clipping, termination, task API, batched rollouts."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.envs.nav2d import (
    Nav2DConfig,
    Nav2DEnv,
    TrialNav2D,
    goal_reward,
    move,
    oracle_expected_return,
    rollout_batch,
    straight_to_goal_actions,
)


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


SURVEY = Nav2DConfig(
    goal_low=-10.0, goal_high=10.0, max_step=0.5, horizon=50, action_limit=None, wall=50.0,
    success_metric="euclidean", success_tolerance=0.5,
)  # fmt: skip


def test_survey_dynamics_unclipped_actions_and_euclidean_termination() -> None:
    env = Nav2DEnv(SURVEY, goal=np.array([3.0, 0.0]))
    env.reset(seed=0)
    obs, reward, terminated, _, _ = env.step(np.array([3.0, 0.0]))  # not clipped: moves 1.5
    assert np.allclose(obs, [1.5, 0.0]) and reward == pytest.approx(-1.5) and not terminated
    obs, _, terminated, _, _ = env.step(np.array([2.0, 0.6]))  # to (2.5, 0.3): distance 0.58
    assert not terminated
    _, _, terminated, _, _ = env.step(np.array([0.6, -0.2]))  # to (2.8, 0.2): 0.28 < 0.5
    assert terminated
    # max_abs would not have terminated at a point 0.3 off on both axes but Euclidean 0.42 does
    near = np.array([[0.3, 0.3]])
    assert move(np.zeros((1, 2)), near / 0.5, np.zeros((1, 2)) + 0.6, SURVEY)[2][0]


def test_unclipped_actions_need_a_wall() -> None:
    with pytest.raises(ValueError, match="wall"):
        _ = Nav2DConfig(action_limit=None).bound


def test_oracle_return_by_hand_and_no_bounded_policy_gets_closer() -> None:
    goal = np.array([[2.25, 0.0]])
    batch = rollout_batch(
        lambda p: straight_to_goal_actions(p, goal[:, None, :], SURVEY), goal, 1, SURVEY
    )
    # positions 0.5, 1.0, 1.5, 2.0 on the x axis: distances 1.75, 1.25, 0.75, 0.25 (< 0.5: done)
    assert batch.returns()[0, 0] == pytest.approx(-4.0)
    rng = np.random.default_rng(0)
    goals = rng.uniform(-10, 10, size=(50, 2))
    oracle = rollout_batch(
        lambda p: straight_to_goal_actions(p, goals[:, None, :], SURVEY), goals, 1, SURVEY
    )
    random = rollout_batch(lambda p: rng.uniform(-1, 1, size=p.shape), goals, 20, SURVEY)
    oracle_dist = -oracle.rewards[:, 0]  # (K, T); equals the distance while valid
    random_dist = -random.rewards
    both = oracle.valid[:, :1] & random.valid
    assert np.all((random_dist >= oracle_dist[:, None, :] - 1e-9)[both])


def test_oracle_expected_return_converges() -> None:
    coarse = oracle_expected_return(SURVEY, grid=50)
    fine = oracle_expected_return(SURVEY, grid=100)
    assert fine == pytest.approx(-51.15, abs=0.05) and coarse == pytest.approx(fine, abs=0.1)


def test_trials_reset_the_point_between_episodes_and_stop_paying_after_termination() -> None:
    config = Nav2DConfig(horizon=3, success_tolerance=0.05)
    trials = TrialNav2D(config)
    trials.reset(np.array([[0.1, 0.0], [0.5, 0.5]]))
    obs, rewards, ended = trials.step(np.array([[1.0, 0.0], [1.0, 1.0]]))
    assert not ended and np.allclose(obs, [[0.1, 0.0], [0.1, 0.1]]) and rewards[0] == 0.0
    _, rewards, ended = trials.step(np.array([[1.0, 0.0], [1.0, 1.0]]))
    assert rewards[0] == 0.0 and rewards[1] < 0 and not ended  # the first one has terminated
    obs, _, ended = trials.step(np.zeros((2, 2)))
    assert ended and np.array_equal(obs, np.zeros((2, 2)))
