"""The stochastic decision chain of Kulkarni et al. (2016), "Hierarchical Deep Reinforcement
Learning: Integrating Temporal Abstraction and Intrinsic Motivation", section 4.1."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from hrrl.envs.int_spaces import int_space
from hrrl.solvers.value_iteration import TabularModel

LEFT = 0
RIGHT = 1


class StochasticChainEnv(gym.Env[int, int]):
    """A chain of ``n_states`` states where the big reward needs a detour to the far end.

    States are numbered ``1..n_states`` as in the paper; the observation is ``state - 1``.

    * **Observation space**: ``Discrete(n_states)``; only the position. Whether the far end has
      been visited is *not* observed (``info["visited_end"]`` reports it for analysis).
    * **Action space**: ``Discrete(2)``: 0 = left, 1 = right.
    * **Dynamics**: the episode starts in state ``start_state`` (2). "left" always moves one state
      left. "right" moves right with probability ``p_right`` (0.5), otherwise left. In the last
      state "right" cannot move right, so it moves left (as in the paper's reference code).
    * **Rewards**: on arriving in state 1: ``1.0`` if state ``n_states`` was visited during the
      episode, else ``0.01``. Every other transition gives 0.
    * **Termination**: arriving in state 1. **Truncation**: after ``max_episode_steps`` steps
      (kept inside the env because the id is registered without a ``TimeLimit``).

    Version history: v0 (this version).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        n_states: int = 6,
        start_state: int = 2,
        p_right: float = 0.5,
        max_episode_steps: int = 100,
        render_mode: str | None = None,
    ) -> None:
        if n_states < 3 or not 1 < start_state < n_states:
            raise ValueError("need n_states >= 3 and 1 < start_state < n_states")
        if not 0.0 <= p_right <= 1.0:
            raise ValueError("p_right must be a probability")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        self.n_states = n_states
        self.start_state = start_state
        self.p_right = p_right
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.observation_space = int_space(gym.spaces.Discrete(n_states))
        self.action_space = int_space(gym.spaces.Discrete(2))
        self._state = start_state
        self._visited_end = False
        self._steps = 0

    def _info(self) -> dict[str, Any]:
        return {"state": self._state, "visited_end": self._visited_end}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        self._state = self.start_state
        self._visited_end = False
        self._steps = 0
        return self._state - 1, self._info()

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}")
        moves_right = (
            int(action) == RIGHT
            and self._state < self.n_states
            and self.np_random.random() < self.p_right
        )
        self._state += 1 if moves_right else -1
        self._visited_end = self._visited_end or self._state == self.n_states
        self._steps += 1
        terminated = self._state == 1
        reward = (1.0 if self._visited_end else 0.01) if terminated else 0.0
        truncated = not terminated and self._steps >= self.max_episode_steps
        return self._state - 1, reward, terminated, truncated, self._info()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        cells = ["[x]" if s == self._state else f" {s} " for s in range(1, self.n_states + 1)]
        return "".join(cells) + ("  (end visited)" if self._visited_end else "")


def augmented_index(state: int, visited_end: bool, n_states: int) -> int:
    """Index of ``(state, visited_end)`` (1-indexed state) in :func:`augmented_model`."""
    return (state - 1) + n_states * int(visited_end)


def augmented_model(n_states: int = 6, p_right: float = 0.5) -> TabularModel:
    """The chain as an MDP on ``(state, visited_end)``: the Markov state the observation lacks.

    Arriving in state 1 pays the reward and leads to the (absorbing, zero-value) state-1 entries.
    """
    size = 2 * n_states
    P = np.zeros((size, 2, size))
    R = np.zeros((size, 2))
    terminal = np.zeros(size, dtype=bool)
    for visited in (False, True):
        terminal[augmented_index(1, visited, n_states)] = True
        for state in range(1, n_states + 1):
            here = augmented_index(state, visited, n_states)
            if state == 1:
                P[here, :, here] = 1.0
                continue
            p_up = p_right if state < n_states else 0.0
            for action, prob_right in ((LEFT, 0.0), (RIGHT, p_up)):
                for nxt, prob in ((state + 1, prob_right), (state - 1, 1.0 - prob_right)):
                    if prob == 0.0:
                        continue
                    seen = visited or nxt == n_states
                    P[here, action, augmented_index(nxt, seen, n_states)] += prob
                    if nxt == 1:
                        R[here, action] += prob * (1.0 if seen else 0.01)
    return TabularModel(P, R, terminal)
