"""Observation wrappers that show the number-line env to generic learners: the *absolute* state
(position, target, one bit per move saying whether it lands on a forbidden state) as a table index
(:class:`AbsoluteStateWrapper`, for tabular learners) or as scaled features
(:class:`RawFeatureWrapper`, for neural ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hrrl.problem import Problem


def forbidden_bits(problem: Problem, position: int) -> np.ndarray:
    """Bool (K,): whether each move from ``position`` lands on a forbidden state."""
    return np.array([position + a in problem.forbidden for a in problem.actions], dtype=bool)


def raw_features(
    position: np.ndarray, target: np.ndarray, bits: np.ndarray, scale: float
) -> np.ndarray:
    """Float32 (N, 2 + K): ``[position / scale, target / scale, forbidden bits]``."""
    coords = np.stack([position, target], axis=-1).astype(np.float32) / np.float32(scale)
    return np.concatenate([coords, bits.astype(np.float32)], axis=-1)


@dataclass(frozen=True)
class AbsoluteStates:
    """Indexing of ``(position, target, forbidden bits)``; one shared row for everything else."""

    limit: int
    n_actions: int

    @property
    def n_states(self) -> int:
        return (self.limit + 1) ** 2 * 2**self.n_actions + 1

    @property
    def outside(self) -> int:
        return self.n_states - 1

    def index(self, position: np.ndarray, target: np.ndarray, bits: np.ndarray) -> np.ndarray:
        """State index of each row (arrays of shape (N,), bits (N, K))."""
        code = (bits.astype(np.int64) << np.arange(self.n_actions)).sum(axis=-1)
        inside = (position >= 0) & (position <= self.limit) & (target >= 0)
        inside &= target <= self.limit
        flat = ((target * (self.limit + 1)) + position) * 2**self.n_actions + code
        return np.where(inside, flat, self.outside)

    def decode(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(position, target, bits)`` of every inside state, in index order."""
        s = np.arange(self.outside)
        code = s % 2**self.n_actions
        rest = s // 2**self.n_actions
        bits = ((code[:, None] >> np.arange(self.n_actions)) & 1).astype(bool)
        return rest % (self.limit + 1), rest // (self.limit + 1), bits


class AbsoluteStateWrapper(gym.ObservationWrapper):
    """Observations become :class:`AbsoluteStates` indices (a ``Discrete`` space)."""

    def __init__(self, env: gym.Env, states: AbsoluteStates) -> None:
        super().__init__(env)
        self.states = states
        self.observation_space = gym.spaces.Discrete(states.n_states)

    def observation(self, observation: np.ndarray) -> int:
        problem = _problem(self.env)
        position, target = int(observation[0]), int(observation[1])
        bits = forbidden_bits(problem, position)[None, :]
        return int(self.states.index(np.array([position]), np.array([target]), bits)[0])


class RawFeatureWrapper(gym.ObservationWrapper):
    """``[position / scale, target / scale, forbidden bits]`` as a float32 Box."""

    def __init__(self, env: gym.Env, scale: float) -> None:
        super().__init__(env)
        self.scale = scale
        space: Any = env.action_space
        k = int(space.n)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2 + k,), dtype=np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        problem = _problem(self.env)
        position, target = int(observation[0]), int(observation[1])
        bits = forbidden_bits(problem, position)[None, :]
        return raw_features(np.array([position]), np.array([target]), bits, self.scale)[0]


def _problem(env: gym.Env) -> Problem:
    """The problem of the number-line env under the wrappers."""
    inner: Any = env.unwrapped
    return inner.problem
