"""The stochastic decision chain of Kulkarni et al. (2016)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.envs.chain import LEFT, RIGHT, StochasticChainEnv, augmented_index, augmented_model
from hrrl.solvers.value_iteration import value_iteration


def test_check_env_passes_without_warnings() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(gym.make("hrrl/StochasticChain-v0").unwrapped)
    assert [str(w.message) for w in caught] == []


def test_registered_id_makes_the_env() -> None:
    env = gym.make("hrrl/StochasticChain-v0")
    obs, info = env.reset(seed=0)
    assert obs == 1 and info == {"state": 2, "visited_end": False}


def _empirical_right_rate(state: int, n: int = 4000) -> float:
    env = StochasticChainEnv()
    env.reset(seed=123)
    moved_right = 0
    for _ in range(n):
        env._state = state  # place the agent (test-only access)
        env._steps = 0
        obs, *_ = env.step(RIGHT)
        moved_right += int(obs + 1 == state + 1)
    return moved_right / n


def test_right_succeeds_half_the_time() -> None:
    rate = _empirical_right_rate(3)
    assert abs(rate - 0.5) < 0.03  # 4000 draws: sd 0.008


def test_right_in_the_last_state_moves_left_and_left_is_deterministic() -> None:
    assert _empirical_right_rate(6, n=200) == 0.0
    env = StochasticChainEnv()
    env.reset(seed=1)
    env._state = 3
    assert [env.step(LEFT)[0] for _ in range(2)] == [1, 0]  # state 3 -> 2 -> 1


def test_reward_is_small_without_the_detour() -> None:
    env = StochasticChainEnv()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(LEFT)
    assert (obs, reward, terminated, truncated) == (0, 0.01, True, False)
    assert info["visited_end"] is False


def test_reward_is_one_after_visiting_the_last_state() -> None:
    env = StochasticChainEnv(p_right=1.0)
    env.reset(seed=0)
    rewards = [env.step(RIGHT)[1] for _ in range(4)]  # 2 -> 6
    assert rewards == [0.0] * 4
    out = [env.step(LEFT) for _ in range(5)]  # 6 -> 1
    assert [o[1] for o in out] == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert out[-1][2] is True and out[-1][4]["visited_end"] is True


def test_truncation_is_not_termination() -> None:
    env = StochasticChainEnv(p_right=1.0, max_episode_steps=3)
    env.reset(seed=0)
    results = [env.step(RIGHT) for _ in range(3)]
    assert [r[3] for r in results] == [False, False, True]
    assert not any(r[2] for r in results)


def test_seeded_episodes_are_reproducible() -> None:
    def trajectory(seed: int) -> list[int]:
        env = StochasticChainEnv()
        obs, _ = env.reset(seed=seed)
        states = [obs]
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(RIGHT)
            states.append(obs)
            done = terminated or truncated
        return states

    assert trajectory(7) == trajectory(7)


def test_optimal_value_is_the_gamblers_ruin_probability() -> None:
    # Always "right" reaches state 6 from 2 with probability 1/5 (fair gambler's ruin on 1..6),
    # then drifts back to 1 with certainty: 0.2 * 1 + 0.8 * 0.01.
    V, Q = value_iteration(augmented_model(), gamma=1.0)
    assert V[augmented_index(2, False, 6)] == pytest.approx(0.208, abs=1e-8)
    assert np.argmax(Q[augmented_index(3, False, 6)]) == RIGHT
