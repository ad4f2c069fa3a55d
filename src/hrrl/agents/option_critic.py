"""Tabular option-critic (Bacon, Harb & Precup 2017).

``n_options`` options, each with a softmax intra-option policy π_o(a | s) ∝ exp(θ[s, o, a] / τ) and
a sigmoid termination β_o(s) = σ(ϑ[s, o]); an ε-greedy policy over options on Q_Ω. After each
primitive step (s, o, a, r, s') in option o:

1. **Critic** (intra-option Q-learning): with ``U(s', o) = (1 − β_o(s')) Q_Ω(s', o) +
   β_o(s') max_{o'} Q_Ω(s', o')`` and target ``g = r + γ U(s', o)`` (``g = r`` if terminated),
   ``Q_Ω(s, o) += α_c (g − Q_Ω(s, o))`` and ``Q_U(s, o, a) += α_c (g − Q_U(s, o, a))``.
2. **Intra-option policy gradient**: ``θ[s, o] += α_θ (Q_U(s, o, a) − Q_Ω(s, o)) (e_a − π_o(·|s))``
   (logit units, with Q_Ω as the baseline).
3. **Termination gradient**, at the *next* state s':
   ``ϑ[s', o] −= α_ϑ β_o(s') (1 − β_o(s')) (Q_Ω(s', o) − V_Ω(s') + ξ)``, with
   ``V_Ω(s') = max_{o'} Q_Ω(s', o')``: an option becomes more likely to stop where it is worse
   than the best option.
4. The option stops at s' with probability β_o(s') (the updated one); a new one is then chosen.

Option termination, goal termination and time-limit truncation are separate signals; truncation
bootstraps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hrrl.agents.actor_critic import sample_index, softmax, softmax_logit_step
from hrrl.agents.options import continuation
from hrrl.core.learner import StateArrays
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.tabular import epsilon_greedy, td_update


@dataclass(frozen=True)
class OptionCriticConfig:
    """Hyper-parameters of :class:`OptionCritic` (defaults: Bacon et al. 2017, Four Rooms)."""

    n_options: int = 4
    """Number of options learned."""
    gamma: float = 0.99
    """Discount factor."""
    critic_lr: float = 0.5
    """Step size α_c of the Q_Ω and Q_U critics."""
    policy_lr: float = 0.25
    """Step size α_θ of the intra-option policies (logit units)."""
    termination_lr: float = 0.25
    """Step size α_ϑ of the termination logits."""
    epsilon: float = 0.01
    """Exploration rate of the ε-greedy policy over options."""
    temperature: float = 0.01
    """Softmax temperature τ of the intra-option policies."""
    termination_reg: float = 0.0
    """ξ added to the termination advantage (a positive ξ favours longer options)."""


@dataclass(frozen=True)
class OptionCriticEpisode(Episode):
    """What one training episode did."""

    switches: int
    """Options chosen by the policy over options (including the first)."""


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def termination_gradient_step(
    logit: float, q_option: float, state_value: float, lr: float, reg: float = 0.0
) -> float:
    """The new termination logit ϑ after ``ϑ −= lr β (1 − β) (Q_Ω(s', o) − V_Ω(s') + ξ)``."""
    beta = sigmoid(logit)
    return logit - lr * beta * (1.0 - beta) * (q_option - state_value + reg)


class OptionCritic(StateArrays):
    """Tabular option-critic with call-and-return execution."""

    STATE = ("policy_logits", "termination_logits", "q_omega", "q_u")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(
        self, n_states: int, n_actions: int, config: OptionCriticConfig, rng: np.random.Generator
    ) -> None:
        self.config = config
        self.rng = rng
        n_opt = config.n_options
        self.policy_logits = np.zeros((n_states, n_opt, n_actions))
        self.termination_logits = np.zeros((n_states, n_opt))
        self.q_omega = np.zeros((n_states, n_opt))
        self.q_u = np.zeros((n_states, n_opt, n_actions))

    # ---------------------------------------------------------------------------- behaviour
    def termination_prob(self, state: int, option: int) -> float:
        return sigmoid(float(self.termination_logits[state, option]))

    def termination_table(self) -> np.ndarray:
        """β_o(s) for every state and option, shape (S, O)."""
        return 1.0 / (1.0 + np.exp(-self.termination_logits))

    def intra_policy(self, state: int, option: int) -> np.ndarray:
        return softmax(self.policy_logits[state, option], self.config.temperature)

    def choose_option(self, state: int) -> int:
        return epsilon_greedy(self.q_omega[state], self.config.epsilon, self.rng)

    def act(self, state: int, option: int) -> tuple[int, np.ndarray]:
        """An action of option ``option`` in ``state``, with the probabilities it was drawn from."""
        probs = self.intra_policy(state, option)
        return sample_index(probs, self.rng), probs

    # ------------------------------------------------------------------------------ learning
    def update(
        self,
        state: int,
        option: int,
        action: int,
        reward: float,
        next_state: int,
        terminated: bool,
        probs: np.ndarray | None = None,
    ) -> float:
        """Critic, intra-option policy and termination updates for one step; the TD error.

        ``probs`` are π_o(·|s) when the action was drawn (recomputed when not given).
        """
        cfg = self.config
        target = reward
        if not terminated:
            next_row = self.q_omega[next_state]
            beta_next = self.termination_prob(next_state, option)
            target += cfg.gamma * continuation(
                float(next_row[option]), float(next_row.max()), beta_next
            )
        error = td_update(self.q_omega, (state, option), target, cfg.critic_lr)
        td_update(self.q_u, (state, option, action), target, cfg.critic_lr)
        advantage = self.q_u[state, option, action] - self.q_omega[state, option]
        if probs is None:
            probs = self.intra_policy(state, option)
        softmax_logit_step(
            self.policy_logits[state, option], action, probs, cfg.policy_lr * advantage
        )
        if not terminated:
            self.termination_logits[next_state, option] = termination_gradient_step(
                float(self.termination_logits[next_state, option]),
                float(self.q_omega[next_state, option]),
                float(self.q_omega[next_state].max()),
                cfg.termination_lr,
                cfg.termination_reg,
            )
        return error

    def run_episode(self, env: Any, seed: int | None = None) -> OptionCriticEpisode:
        option, switches = -1, 0
        drawn: list[np.ndarray] = []  # π_o(·|s) of the action just taken

        def act(state: Any) -> int:
            nonlocal option, switches
            if option < 0:
                option, switches = self.choose_option(int(state)), 1
            action, probs = self.act(int(state), option)
            drawn[:] = [probs]
            return action

        def observe(step: Step) -> None:
            nonlocal option, switches
            next_state = int(step.next_obs)
            self.update(
                int(step.obs), option, step.action, step.reward, next_state, step.terminated,
                drawn[0],
            )  # fmt: skip
            if step.done:
                return
            # The option may stop on *entering* s': β is evaluated at the next state.
            if self.rng.random() < self.termination_prob(next_state, option):
                option = self.choose_option(next_state)
                switches += 1

        ep = run_episode(env, act, observe, seed)
        return OptionCriticEpisode(ep.steps, ep.total_reward, ep.terminated, ep.truncated, switches)
