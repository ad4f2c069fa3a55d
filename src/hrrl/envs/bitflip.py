"""The n-bit flipping environment of Hindsight Experience Replay (Andrychowicz et al. 2017)."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces


class BitFlipEnv(gymnasium.Env[dict[str, Any], np.int64]):
    """Flip bits one at a time until the state equals a random goal bit string.

    Spaces:
        observation: ``Dict(observation, achieved_goal, desired_goal)``, each ``MultiBinary(n)``
        (int8). ``observation`` and ``achieved_goal`` are the current bits, ``desired_goal`` the
        goal bits, fixed for the episode.
        action: ``Discrete(n)``; action ``i`` flips bit ``i``.

    Rewards: ``-1`` every step unless the new state equals the goal, then ``0``
    (:meth:`compute_reward`, vectorised over leading batch axes, as Gymnasium's GoalEnv asks).

    Episodes: start and goal are drawn uniformly from ``self.np_random`` with the goal redrawn
    until it differs from the start. ``terminated`` when the goal is reached (success);
    ``truncated`` after ``max_steps`` steps (default ``n``, the paper's episode length).
    ``info["is_success"]`` says whether the goal was reached.

    Version history:
        v0: initial version.
    """

    observation_space: spaces.Dict

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, n_bits: int = 10, max_steps: int | None = None) -> None:
        if n_bits < 1:
            raise ValueError("n_bits must be at least 1")
        self.n_bits = int(n_bits)
        self.max_steps = int(max_steps) if max_steps is not None else self.n_bits
        bits = spaces.MultiBinary(self.n_bits)
        self.observation_space = spaces.Dict(
            {"observation": bits, "achieved_goal": bits, "desired_goal": bits}
        )
        self.action_space = spaces.Discrete(self.n_bits)
        self._state = np.zeros(self.n_bits, dtype=np.int8)
        self._goal = np.ones(self.n_bits, dtype=np.int8)
        self._steps = 0

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None
    ) -> np.ndarray:
        """``0`` where all bits match, else ``-1`` (float32, one value per leading index)."""
        match = np.all(np.asarray(achieved_goal) == np.asarray(desired_goal), axis=-1)
        return np.where(match, 0.0, -1.0).astype(np.float32)

    def compute_terminated(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None
    ) -> np.ndarray:
        """An episode terminates exactly when the goal is reached."""
        return np.all(np.asarray(achieved_goal) == np.asarray(desired_goal), axis=-1)

    def _obs(self) -> dict[str, np.ndarray]:
        return {
            "observation": self._state.copy(),
            "achieved_goal": self._state.copy(),
            "desired_goal": self._goal.copy(),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._state = self.np_random.integers(0, 2, size=self.n_bits, dtype=np.int8)
        self._goal = self.np_random.integers(0, 2, size=self.n_bits, dtype=np.int8)
        while np.array_equal(self._goal, self._state):
            self._goal = self.np_random.integers(0, 2, size=self.n_bits, dtype=np.int8)
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(
        self, action: np.int64 | int
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(np.int64(action)):
            raise ValueError(f"invalid action {action!r}")
        self._state[int(action)] ^= 1
        self._steps += 1
        reward = float(self.compute_reward(self._state, self._goal))
        success = bool(self.compute_terminated(self._state, self._goal))
        truncated = self._steps >= self.max_steps
        return self._obs(), reward, success, truncated, {"is_success": success}
