"""Flat tabular Q-learning: the update by hand, truncation vs termination, learning vs an oracle."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.envs.chain import RIGHT, StochasticChainEnv
from hrrl.solvers.value_iteration import TabularModel, policy_evaluation, value_iteration


def test_update_by_hand() -> None:
    learner = TabularQLearner(3, 2, TabularQConfig(alpha=0.5, gamma=0.9))
    learner.q[1] = [2.0, 4.0]
    learner.q[0, 1] = 1.0
    error = learner.update(0, 1, reward=1.0, next_state=1, terminated=False)
    assert error == pytest.approx(1.0 + 0.9 * 4.0 - 1.0)
    assert learner.q[0, 1] == pytest.approx(1.0 + 0.5 * 3.6)


def test_terminal_update_does_not_bootstrap() -> None:
    learner = TabularQLearner(3, 2, TabularQConfig(alpha=0.5, gamma=0.9))
    learner.q[1] = [2.0, 4.0]
    learner.update(0, 0, reward=1.0, next_state=1, terminated=True)
    assert learner.q[0, 0] == pytest.approx(0.5)


def test_truncated_step_bootstraps() -> None:
    env = StochasticChainEnv(p_right=1.0, max_episode_steps=1)
    learner = TabularQLearner(6, 2, TabularQConfig(alpha=1.0, gamma=0.5))
    learner.q[1] = [-1.0, 0.0]  # greedy "right" in state 2 (obs 1)
    learner.q[2] = [0.0, 8.0]
    stats = learner.run_episode(env, np.random.default_rng(0), epsilon=0.0, seed=0)
    assert (stats.steps, stats.terminated) == (1, False)
    assert learner.q[1, RIGHT] == pytest.approx(0.5 * 8.0)  # 0 + γ·max Q(s'), not 0


def test_epsilon_decays_linearly() -> None:
    config = TabularQConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_episodes=10)
    learner = TabularQLearner(2, 2, config)
    assert [learner.epsilon(e) for e in (0, 5, 10, 50)] == pytest.approx([1.0, 0.55, 0.1, 0.1])


def _train_frozen_lake(seed: int) -> TabularQLearner:
    env = gym.make("FrozenLake-v1", is_slippery=False)
    config = TabularQConfig(alpha=0.5, gamma=0.9, epsilon_decay_episodes=300, epsilon_end=0.1)
    learner = TabularQLearner.for_env(env, config)
    rng = np.random.default_rng(seed)
    for episode in range(400):
        learner.run_episode(env, rng, learner.epsilon(episode), seed=seed if episode == 0 else None)
    return learner


def test_learns_the_optimal_frozen_lake_policy() -> None:
    learner = _train_frozen_lake(seed=0)
    env = gym.make("FrozenLake-v1", is_slippery=False)
    model = TabularModel.from_gymnasium_P(env.unwrapped.P, 16, 4)  # type: ignore[attr-defined]
    v_star, _ = value_iteration(model, gamma=0.9)
    policy = np.append(learner.greedy_policy(np.random.default_rng(0)), 0)
    v_learned = policy_evaluation(model, policy, gamma=0.9)
    assert v_learned[0] == pytest.approx(v_star[0])  # 0.9^5 from the start


def test_same_seed_same_table() -> None:
    assert np.array_equal(_train_frozen_lake(seed=4).q, _train_frozen_lake(seed=4).q)
