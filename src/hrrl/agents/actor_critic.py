"""Tabular learners over primitive actions: one-step actor-critic and SARSA(0).

The baselines of Bacon, Harb & Precup (2017) for the option-critic in Four Rooms. Both bootstrap
unless the environment *terminated*; a time-limit truncation ends the episode but still
bootstraps from the state reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hrrl.core.learner import StateArrays
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.tabular import epsilon_greedy, td_update


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``exp(logits / τ)`` normalised, computed stably."""
    z = np.asarray(logits, dtype=float) / temperature
    z = np.exp(z - z.max())
    return z / z.sum()


def sample_index(probs: np.ndarray, rng: np.random.Generator) -> int:
    """An index drawn from the probability vector ``probs`` with one uniform draw."""
    u = rng.random()
    index = int(np.searchsorted(np.cumsum(probs), u, side="right"))
    return min(index, len(probs) - 1)


def softmax_logit_step(
    logits: np.ndarray, action: int, probs: np.ndarray, step: float
) -> np.ndarray:
    """Policy-gradient step on softmax logits in place: ``θ ← θ + step (e_a − π)``.

    The step is in logit units (``step`` = learning rate × advantage), the convention of the
    option-critic authors' tabular code; the temperature only sharpens the policy.
    """
    logits -= step * probs
    logits[action] += step
    return logits


PrimitiveEpisode = Episode
"""What one training episode did (the shared :class:`hrrl.core.rollout.Episode`)."""


# --------------------------------------------------------------------------------- actor-critic
@dataclass(frozen=True)
class ActorCriticConfig:
    """Hyper-parameters of :class:`ActorCritic` (defaults: Bacon et al. 2017, Four Rooms)."""

    gamma: float = 0.99
    """Discount factor."""
    critic_lr: float = 0.5
    """Step size of the TD(0) state-value critic."""
    actor_lr: float = 0.25
    """Step size of the softmax actor (logit units, scaled by the TD error)."""
    temperature: float = 0.01
    """Softmax temperature τ of the actor."""


class ActorCritic(StateArrays):
    """One-step tabular actor-critic: V(s) by TD(0), softmax actor pushed by the TD error."""

    STATE = ("values", "logits")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(
        self, n_states: int, n_actions: int, config: ActorCriticConfig, rng: np.random.Generator
    ) -> None:
        self.config = config
        self.rng = rng
        self.values = np.zeros(n_states)
        self.logits = np.zeros((n_states, n_actions))

    def policy(self, state: int) -> np.ndarray:
        return softmax(self.logits[state], self.config.temperature)

    def act(self, state: int) -> int:
        return sample_index(self.policy(state), self.rng)

    def update(
        self,
        state: int,
        action: int,
        reward: float,
        next_state: int,
        terminated: bool,
        probs: np.ndarray | None = None,
    ) -> float:
        """One actor-critic step; the TD error. ``probs``: π(·|s) when ``action`` was drawn."""
        cfg = self.config
        bootstrap = 0.0 if terminated else cfg.gamma * self.values[next_state]
        if probs is None:
            probs = self.policy(state)
        error = td_update(self.values, (state,), reward + bootstrap, cfg.critic_lr)
        softmax_logit_step(self.logits[state], action, probs, cfg.actor_lr * error)
        return error

    def run_episode(self, env: Any, seed: int | None = None) -> PrimitiveEpisode:
        drawn: list[np.ndarray] = []  # π(·|s) of the action just taken

        def act(state: Any) -> int:
            probs = self.policy(int(state))
            drawn[:] = [probs]
            return sample_index(probs, self.rng)

        def observe(step: Step) -> None:
            self.update(
                int(step.obs), step.action, step.reward, int(step.next_obs), step.terminated,
                drawn[0],
            )  # fmt: skip

        return run_episode(env, act, observe, seed)


# ------------------------------------------------------------------------------------ SARSA(0)
@dataclass(frozen=True)
class SarsaConfig:
    """Hyper-parameters of :class:`Sarsa`."""

    gamma: float = 0.99
    """Discount factor."""
    alpha: float = 0.5
    """Step size."""
    epsilon: float = 0.01
    """Exploration rate of the ε-greedy policy."""


class Sarsa(StateArrays):
    """Tabular SARSA(0) with an ε-greedy policy (random tie-break)."""

    STATE = ("q",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(
        self, n_states: int, n_actions: int, config: SarsaConfig, rng: np.random.Generator
    ) -> None:
        self.config = config
        self.rng = rng
        self.q = np.zeros((n_states, n_actions))

    def act(self, state: int) -> int:
        return epsilon_greedy(self.q[state], self.config.epsilon, self.rng)

    def update(
        self,
        state: int,
        action: int,
        reward: float,
        next_state: int,
        next_action: int,
        terminated: bool,
    ) -> float:
        """``Q(s,a) ← Q(s,a) + α [r + γ Q(s',a') − Q(s,a)]`` (no bootstrap if terminated)."""
        cfg = self.config
        bootstrap = 0.0 if terminated else cfg.gamma * self.q[next_state, next_action]
        return td_update(self.q, (state, action), reward + bootstrap, cfg.alpha)

    def run_episode(self, env: Any, seed: int | None = None) -> PrimitiveEpisode:
        """On-policy: the next action is drawn when a step is observed, and then taken."""
        chosen: list[int] = []  # the action to take next

        def act(state: Any) -> int:
            if not chosen:
                chosen.append(self.act(int(state)))
            return chosen[0]

        def observe(step: Step) -> None:
            next_action = self.act(int(step.next_obs))
            self.update(
                int(step.obs), step.action, step.reward, int(step.next_obs), next_action,
                step.terminated,
            )  # fmt: skip
            chosen[:] = [next_action]

        return run_episode(env, act, observe, seed)
