"""Reward functions for the number line, vectorized over numpy arrays.

Every reward sees the same :class:`Transition` (arrays of shape ``(N,)``; the single env passes
``N = 1``) and returns float rewards. Outcome codes: :data:`MOVE`, :data:`SUCCESS`,
:data:`FORBIDDEN`, :data:`OVERSHOOT`.

* ``paper``: the paper's shaped reward exactly as written: +100 − step on success, −50 on a
  forbidden state, −20 on overshoot, +10 for a move that reduces |target − position|, −1
  otherwise. With positive actions every move reduces the gap, so the return *grows* with the
  number of steps: the highest-return policy creeps by the smallest move.
* ``sparse``: +1 on success, 0 otherwise.
* ``steps``: −1 per move, and a further −max_steps on failure (forbidden or overshoot), so every
  success beats every failure and the highest return is the shortest path.
* ``potential`` (the default): ``steps`` plus potential-based shaping
  ``γ·Φ(s') − Φ(s)`` with ``Φ(s) = −|target − s| / largest_move`` and ``Φ = 0`` at terminal states
  (Ng, Harada & Russell 1999). Shaping of this form provably keeps the optimal policy of
  ``steps`` (the shortest path); with ``γ = 1`` a largest-move step toward the target nets 0.
* ``relative`` (the HRRL agent's training reward): −1 + progress / largest_move per move, and a
  further −10 on failure. Potential-based shaping of the step count with a bounded failure cost, so
  returns stay the same size at every scale; the shortest path is optimal whenever a detour costs
  fewer than 10 extra moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MOVE, SUCCESS, FORBIDDEN, OVERSHOOT = 0, 1, 2, 3
OUTCOME_NAMES = ("move", "success", "forbidden", "overshoot")


@dataclass(frozen=True)
class Transition:
    """One step of N problems, as arrays."""

    prev: np.ndarray
    new: np.ndarray
    step: np.ndarray
    """Steps taken so far, including this one (1 for the first move)."""
    outcome: np.ndarray
    target: np.ndarray
    max_steps: np.ndarray
    largest_move: np.ndarray
    """Largest |action| of each problem."""

    @property
    def terminal(self) -> np.ndarray:
        return self.outcome != MOVE


RewardFn = Callable[[Transition], np.ndarray]


def paper_reward(t: Transition) -> np.ndarray:
    closer = np.abs(t.target - t.new) < np.abs(t.target - t.prev)
    moving = np.where(closer, 10.0, -1.0)
    return np.select(
        [t.outcome == SUCCESS, t.outcome == FORBIDDEN, t.outcome == OVERSHOOT],
        [100.0 - t.step, -50.0, -20.0],
        default=moving,
    ).astype(np.float64)


def sparse_reward(t: Transition) -> np.ndarray:
    return (t.outcome == SUCCESS).astype(np.float64)


def steps_reward(t: Transition) -> np.ndarray:
    failed = (t.outcome == FORBIDDEN) | (t.outcome == OVERSHOOT)
    return -1.0 - np.where(failed, t.max_steps, 0).astype(np.float64)


def potential(position: np.ndarray, t: Transition) -> np.ndarray:
    """Φ(s) = −|target − s| / largest_move: minus a lower bound on the steps still needed."""
    return -np.abs(t.target - position) / t.largest_move


def make_potential_reward(gamma: float = 1.0) -> RewardFn:
    """``steps`` reward plus ``γ·Φ(s') − Φ(s)``, with Φ = 0 at terminal states."""

    def reward(t: Transition) -> np.ndarray:
        phi_next = np.where(t.terminal, 0.0, potential(t.new, t))
        return steps_reward(t) + gamma * phi_next - potential(t.prev, t)

    return reward


def make_relative_reward(failure_penalty: float = 10.0) -> RewardFn:
    """−1 + (|T − s| − |T − s'|) / largest_move per move, −``failure_penalty`` more on failure."""

    def reward(t: Transition) -> np.ndarray:
        progress = (np.abs(t.target - t.prev) - np.abs(t.target - t.new)) / t.largest_move
        failed = (t.outcome == FORBIDDEN) | (t.outcome == OVERSHOOT)
        return -1.0 + progress - failure_penalty * failed

    return reward


REWARDS: dict[str, Callable[[float], RewardFn]] = {
    "paper": lambda gamma: paper_reward,
    "sparse": lambda gamma: sparse_reward,
    "steps": lambda gamma: steps_reward,
    "potential": make_potential_reward,
    "relative": lambda gamma: make_relative_reward(),
}
DEFAULT_REWARD = "potential"


def get_reward(name_or_fn: str | RewardFn, gamma: float = 1.0) -> RewardFn:
    """A reward by name (see module docstring) or a callable passed through."""
    if callable(name_or_fn):
        return name_or_fn
    if name_or_fn not in REWARDS:
        from hrrl.errors import InputError

        raise InputError(f"unknown reward {name_or_fn!r}; known: {', '.join(REWARDS)}")
    return REWARDS[name_or_fn](gamma)
