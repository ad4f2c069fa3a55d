"""Option-critic and its primitive baselines: hand-computed updates and a short learning run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrrl.agents.actor_critic import (
    ActorCritic,
    ActorCriticConfig,
    Sarsa,
    SarsaConfig,
    sample_index,
    softmax,
)
from hrrl.agents.option_critic import (
    OptionCritic,
    OptionCriticConfig,
    sigmoid,
    termination_gradient_step,
)
from hrrl.core.seeding import make_rng
from hrrl.envs.four_rooms import ROOMS, FourRoomsEnv
from hrrl.experiments.option_critic import run_trial, switched_goal


def test_termination_gradient_sign_by_hand() -> None:
    # β = σ(0) = 0.5, option worse than the best by 0.3:
    # ϑ ← 0 − 0.25 · 0.25 · (0.2 − 0.5) = +0.01875
    new = termination_gradient_step(0.0, q_option=0.2, state_value=0.5, lr=0.25)
    assert new == pytest.approx(0.01875)
    assert sigmoid(new) > 0.5  # stop more often where the option is not the best
    assert termination_gradient_step(0.0, 0.5, 0.5, 0.25) == 0.0  # the best option: no change
    assert termination_gradient_step(0.0, 0.5, 0.5, 0.25, reg=0.1) < 0.0  # ξ > 0: longer options


def small_agent(**overrides: float) -> OptionCritic:
    config = OptionCriticConfig(n_options=2, gamma=0.9, **overrides)
    return OptionCritic(3, 2, config, make_rng(0))


def test_option_critic_update_uses_beta_at_the_next_state() -> None:
    agent = small_agent(critic_lr=0.5, policy_lr=0.0, termination_lr=0.25)
    agent.q_omega[2] = [0.4, 1.0]
    agent.termination_logits[2, 0] = math.log(0.25 / 0.75)  # β_0(s' = 2) = 0.25
    agent.termination_logits[0, 0] = 5.0  # β at the *current* state must not matter
    agent.update(state=0, option=0, action=1, reward=0.0, next_state=2, terminated=False)
    # U(s', 0) = 0.75 · 0.4 + 0.25 · 1.0 = 0.55; target = 0.9 · 0.55 = 0.495
    assert agent.q_omega[0, 0] == pytest.approx(0.5 * 0.495)
    assert agent.q_u[0, 0, 1] == pytest.approx(0.5 * 0.495)
    # Termination gradient at s' = 2: advantage 0.4 − 1.0 < 0, so β_0(2) grows.
    expected = math.log(1 / 3) + 0.25 * 0.25 * 0.75 * 0.6
    assert agent.termination_logits[2, 0] == pytest.approx(expected)
    assert agent.termination_logits[0, 0] == 5.0
    assert agent.termination_prob(2, 0) > 0.25


def test_option_critic_terminal_step_has_no_bootstrap_and_no_termination_update() -> None:
    agent = small_agent(critic_lr=1.0, policy_lr=0.0, termination_lr=0.25)
    agent.q_omega[2] = [0.4, 1.0]
    agent.update(state=0, option=1, action=0, reward=1.0, next_state=2, terminated=True)
    assert agent.q_omega[0, 1] == pytest.approx(1.0)
    assert np.all(agent.termination_logits == 0.0)


def test_intra_option_policy_gradient_raises_an_action_with_positive_advantage() -> None:
    agent = small_agent(critic_lr=0.5, policy_lr=0.25, termination_lr=0.0, temperature=1.0)
    agent.update(state=0, option=0, action=1, reward=1.0, next_state=1, terminated=True)
    # Q_U(0,0,1) = 0.5, Q_Ω(0,0) = 0.5 after the critic step: zero advantage, no change ...
    assert np.allclose(agent.policy_logits[0, 0], 0.0)
    agent.q_omega[0, 0] = 0.0  # ... with a lower baseline the advantage is 0.5:
    agent.update(state=0, option=0, action=1, reward=1.0, next_state=1, terminated=True)
    # Q_U → 0.75, Q_Ω → 0.5; step 0.25 · 0.25 in logit units: θ = 0.0625 (e_1 − [½, ½])
    np.testing.assert_allclose(agent.policy_logits[0, 0], [-0.03125, 0.03125])
    assert agent.intra_policy(0, 0)[1] > 0.5


def test_actor_critic_and_sarsa_updates_by_hand() -> None:
    ac = ActorCritic(2, 2, ActorCriticConfig(gamma=0.9, temperature=1.0), make_rng(0))
    ac.values[1] = 1.0
    error = ac.update(0, 1, 0.0, 1, terminated=False)
    assert error == pytest.approx(0.9)
    assert ac.values[0] == pytest.approx(0.45)
    np.testing.assert_allclose(ac.logits[0], [-0.25 * 0.9 * 0.5, 0.25 * 0.9 * 0.5])
    sarsa = Sarsa(2, 2, SarsaConfig(gamma=0.9, alpha=0.5), make_rng(0))
    sarsa.q[1, 0] = 1.0
    sarsa.update(0, 1, 0.0, 1, 0, terminated=False)
    assert sarsa.q[0, 1] == pytest.approx(0.45)
    sarsa.update(0, 1, 1.0, 1, 0, terminated=True)
    assert sarsa.q[0, 1] == pytest.approx(0.45 + 0.5 * (1.0 - 0.45))


def test_softmax_sampling_matches_the_probabilities() -> None:
    probs = softmax(np.array([0.0, 0.01, 0.02]), temperature=0.01)
    np.testing.assert_allclose(probs, np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum())
    rng = make_rng(4)
    draws = np.bincount([sample_index(probs, rng) for _ in range(20_000)], minlength=3)
    assert np.all(np.abs(draws / 20_000 - probs) < 0.015)


def test_option_critic_learns_to_reach_the_hallway() -> None:
    env = FourRoomsEnv()
    agent = OptionCritic(env.n_states, 4, OptionCriticConfig(), make_rng(3))
    env.reset(seed=3)
    steps = [agent.run_episode(env).steps for _ in range(300)]
    assert np.mean(steps[-100:]) < 0.25 * np.mean(steps[:20])
    betas = agent.termination_table()
    assert betas.shape == (104, 4) and np.all((betas > 0) & (betas < 1))


def test_trial_is_deterministic_and_moves_the_goal_into_the_lower_right_room() -> None:
    first = run_trial("SARSA(0)", seed=5, episodes_before=30, episodes_after=10)
    again = run_trial("SARSA(0)", seed=5, episodes_before=30, episodes_after=10)
    assert first["steps"] == again["steps"] and len(first["steps"]) == 40
    assert tuple(first["new_goal"]) == switched_goal(5)
    assert tuple(first["new_goal"]) in ROOMS["lower-right"]
