"""Tabular pieces shared by the tabular learners: action selection and TD targets."""

from __future__ import annotations

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
