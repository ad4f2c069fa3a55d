"""Tabular pieces shared by the tabular learners: action selection, TD targets, and a known
model played as an episode environment."""

from __future__ import annotations

from typing import Any

import numpy as np


def greedy_action(q_row: np.ndarray, rng: np.random.Generator) -> int:
    """Argmax with ties broken uniformly at random (a fixed tie-break biases learning)."""
    q_row = np.asarray(q_row)
    best = np.flatnonzero(q_row == q_row.max())
    return int(best[0] if best.size == 1 else rng.choice(best))


def epsilon_greedy(q_row: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Uniform random action with probability ``epsilon``, else a greedy one."""
    if rng.random() < epsilon:
        return int(rng.integers(len(q_row)))
    return greedy_action(q_row, rng)


def q_learning_target(
    reward: float, next_q_row: np.ndarray, gamma: float, terminated: bool
) -> float:
    """``r + γ max_a' Q(s', a')``, without the bootstrap only when the episode truly terminated.

    Truncation at a time limit is not termination: the caller passes ``terminated=False`` there and
    the target still bootstraps.
    """
    if terminated:
        return float(reward)
    return float(reward + gamma * np.max(next_q_row))


def td_update(table: np.ndarray, index: tuple[int, ...], target: float, alpha: float) -> float:
    """``Q ← Q + α (target − Q)`` in place; returns the TD error."""
    error = target - table[index]
    table[index] += alpha * error
    return float(error)


def sample_index(cumulative: np.ndarray, u: float) -> int:
    """Inverse-CDF draw: the first index whose cumulative probability exceeds ``u``."""
    return min(int(np.searchsorted(cumulative, u, side="right")), len(cumulative) - 1)


class SampledModel:
    """A known model ``dynamics[s, a, s']`` played as an episode environment (the
    :func:`~hrrl.core.rollout.run_episode` interface, not a registered gymnasium env): ``reset``
    draws a uniform start state and each ``step`` one uniform number for the next state, both from
    the caller's generator ``rng``; reward 0 (learners bring their own), never terminated,
    truncated after ``horizon`` steps."""

    def __init__(self, dynamics: np.ndarray, horizon: int, rng: np.random.Generator) -> None:
        self._cum = np.cumsum(dynamics, axis=2)
        self.n_states = dynamics.shape[0]
        self.horizon = int(horizon)
        self.rng = rng
        self.state = 0
        self._t = 0

    def reset(self, seed: int | None = None) -> tuple[int, dict[str, Any]]:
        if seed is not None:
            raise ValueError("a SampledModel draws from the generator it was given")
        self.state, self._t = int(self.rng.integers(self.n_states)), 0
        return self.state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        self.state = sample_index(self._cum[self.state, action], self.rng.random())
        self._t += 1
        return self.state, 0.0, False, self._t >= self.horizon, {}


def finite_horizon_q(P: np.ndarray, R: np.ndarray, horizon: int) -> np.ndarray:
    """Optimal ``Q[b, h, s, a]`` (total reward still to come with ``horizon − h`` steps left) of
    MDPs ``P (B, S, A, S)``, ``R (B, S, A)``, by backward induction."""
    batch, n_states, n_actions = R.shape
    Q = np.zeros((batch, horizon, n_states, n_actions))
    V = np.zeros((batch, n_states))
    for h in range(horizon - 1, -1, -1):
        Q[:, h] = R + np.einsum("bsat,bt->bsa", P, V)
        V = Q[:, h].max(axis=-1)
    return Q
