"""h-DQN: the internal critic, and subgoal ends kept apart from env termination and truncation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hrrl.agents.hdqn import (
    FlatDQNAgent,
    HDQNAgent,
    HDQNConfig,
    controller_terminated,
    intrinsic_signal,
)
from hrrl.envs.chain import LEFT, RIGHT, StochasticChainEnv
from hrrl.tasks.chain import optimal_values

GAMMA = 0.9


def test_critic_pays_one_only_on_the_subgoal() -> None:
    assert intrinsic_signal(3, 3).reward == 1.0 and intrinsic_signal(3, 3).goal_reached
    assert intrinsic_signal(2, 3).reward == 0.0 and not intrinsic_signal(2, 3).goal_reached


def test_controller_termination_is_subgoal_or_env_termination_never_truncation() -> None:
    reached, missed = intrinsic_signal(4, 4), intrinsic_signal(1, 4)
    assert controller_terminated(reached, env_terminated=False)
    assert controller_terminated(missed, env_terminated=True)
    assert not controller_terminated(missed, env_terminated=False)  # e.g. a truncated step


def _scripted_agent(goal: int, action: int) -> HDQNAgent:
    config = HDQNConfig(gamma=GAMMA, learning_starts=10_000)  # store, never learn
    agent = HDQNAgent(6, 2, config, seed=0)
    agent.choose_goal = lambda obs, eps, rng: goal  # type: ignore[method-assign]
    agent.choose_action = lambda obs, g, eps, rng: action  # type: ignore[method-assign]
    return agent


def _run(agent: HDQNAgent, env: StochasticChainEnv) -> tuple[dict, dict]:
    stats = agent.run_episode(env, np.random.default_rng(0), episode=0, seed=0)
    assert stats.goals
    n_c, n_m = len(agent.controller_buffer), len(agent.meta_buffer)
    return agent.controller_buffer.get(np.arange(n_c)), agent.meta_buffer.get(np.arange(n_m))


def test_subgoal_reached_ends_the_option_not_the_episode() -> None:
    env = StochasticChainEnv(p_right=1.0, max_episode_steps=3)
    agent = _scripted_agent(goal=3, action=RIGHT)  # obs 3 = state 4, reached after 2 steps
    controller, meta = _run(agent, env)
    assert controller["reward"][:2].tolist() == [0.0, 1.0]
    assert controller["terminated"][:2].tolist() == [0.0, 1.0]
    assert meta["terminated"][0] == 0.0  # the env went on
    assert meta["discount"][0] == pytest.approx(GAMMA**2)
    assert meta["reward"][0] == 0.0


def test_truncation_ends_the_option_without_terminating_anything() -> None:
    env = StochasticChainEnv(p_right=1.0, max_episode_steps=3)
    agent = _scripted_agent(goal=5, action=RIGHT)  # state 6 is 4 steps away: truncated first
    controller, meta = _run(agent, env)
    assert controller["reward"].tolist() == [0.0, 0.0, 0.0]
    assert controller["terminated"].tolist() == [0.0, 0.0, 0.0]
    assert (meta["terminated"][0], meta["reward"][0]) == (0.0, 0.0)
    assert meta["discount"][0] == pytest.approx(GAMMA**3)
    assert meta["next_obs"][0].argmax() == 4  # bootstraps from where it stopped


def test_env_termination_ends_both_levels_with_the_extrinsic_reward_upstairs() -> None:
    env = StochasticChainEnv()
    agent = _scripted_agent(goal=5, action=LEFT)  # state 2 -> 1: episode over, goal missed
    controller, meta = _run(agent, env)
    assert (controller["reward"][0], controller["terminated"][0]) == (0.0, 1.0)
    assert (meta["reward"][0], meta["terminated"][0]) == (pytest.approx(0.01), 1.0)


def test_controller_epsilon_drops_once_a_goal_is_mastered() -> None:
    agent = HDQNAgent(6, 2, HDQNConfig(epsilon_decay_episodes=100), seed=0)
    assert agent.controller_epsilon(3, episode=0) == 1.0
    agent.attempts[3].extend([True] * 95 + [False] * 5)
    assert agent.controller_epsilon(3, episode=0) == pytest.approx(0.1)
    assert agent.controller_epsilon(2, episode=50) == pytest.approx(0.55)


def _train(agent_cls: type, seed: int) -> tuple[list[float], list[torch.Tensor]]:
    config = HDQNConfig(learning_starts=20, batch_size=8, epsilon_decay_episodes=20)
    agent = agent_cls(6, 2, config, seed)
    env, rng = StochasticChainEnv(), np.random.default_rng(seed)
    returns = [
        agent.run_episode(env, rng, episode=e, seed=seed if e == 0 else None).total_reward
        for e in range(30)
    ]
    net = agent.controller.q_net if isinstance(agent, HDQNAgent) else agent.learner.q_net
    return returns, [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("agent_cls", [HDQNAgent, FlatDQNAgent])
def test_same_seed_same_training(agent_cls: type) -> None:
    torch.set_num_threads(1)
    (r1, p1), (r2, p2) = _train(agent_cls, 5), _train(agent_cls, 5)
    assert r1 == r2
    assert all(torch.equal(a, b) for a, b in zip(p1, p2, strict=True))


def test_reference_optimum_is_the_gamblers_ruin_value() -> None:
    refs = optimal_values()
    assert refs["optimal_infinite_horizon"] == pytest.approx(0.208)
    assert refs["optimal_horizon"] == pytest.approx(0.208, abs=1e-6)
    assert refs["best_position_only_policy"] <= refs["optimal_horizon"] + 1e-12


def test_hdqn_learns_to_visit_the_far_end_first() -> None:
    """After 400 episodes the greedy h-DQN earns about the optimum 0.208 (going straight back
    left, what flat learners settle on, earns 0.01)."""
    torch.set_num_threads(1)
    agent = HDQNAgent(6, 2, HDQNConfig(epsilon_decay_episodes=200), seed=0)
    env, rng = StochasticChainEnv(max_episode_steps=100), np.random.default_rng(0)
    for episode in range(400):
        agent.run_episode(env, rng, episode=episode, seed=0 if episode == 0 else None)
    greedy = [
        agent.run_episode(env, rng, episode=400, learn=False, greedy=True).total_reward
        for _ in range(200)
    ]
    assert np.mean(greedy) > 0.15
