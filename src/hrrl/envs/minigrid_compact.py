"""MiniGrid (Farama ``minigrid``) with a compact, flat observation for small networks.

:class:`CompactMiniGrid` turns MiniGrid's ``{"image", "direction", "mission"}`` observation into
one float vector: the agent's 7×7 egocentric partial view, each cell one-hot in its object type
(11), colour (6) and door state (3), followed by the one-hot facing direction (4) — 7·7·20 + 4 =
984 values in {0, 1}. The mission string is dropped (it is constant within an env id). The cell the
agent stands in shows what it carries, so "holding the key" is observed. ``n_actions`` keeps the
first actions of MiniGrid's seven (left, right, forward, pickup, drop, toggle, done); the default 6
drops "done", which no MiniGrid navigation task uses.

:func:`make_minigrid_vector` builds a seeded ``SyncVectorEnv`` with same-step autoreset (the
final observation of an ended episode is in ``info["final_obs"]``), the layout the on-policy
rollouts of :mod:`hrrl.core.recurrent` expect.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401  (registers the MiniGrid-* ids)
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX, STATE_TO_IDX

N_OBJECTS = len(OBJECT_TO_IDX)
N_COLORS = len(COLOR_TO_IDX)
N_STATES = len(STATE_TO_IDX)
CELL_SIZE = N_OBJECTS + N_COLORS + N_STATES
VIEW = 7
OBS_SIZE = VIEW * VIEW * CELL_SIZE + 4
MINIGRID_ACTIONS = ("left", "right", "forward", "pickup", "drop", "toggle", "done")


def encode_view(image: np.ndarray, direction: int) -> np.ndarray:
    """One-hot encoding of a ``(7, 7, 3)`` MiniGrid view and the facing direction."""
    obj, color, state = (image[..., i].astype(np.int64) for i in range(3))
    cells = np.zeros((VIEW, VIEW, CELL_SIZE), dtype=np.float32)
    rows, cols = np.indices((VIEW, VIEW))
    cells[rows, cols, obj] = 1.0
    cells[rows, cols, N_OBJECTS + color] = 1.0
    cells[rows, cols, N_OBJECTS + N_COLORS + state] = 1.0
    heading = np.zeros(4, dtype=np.float32)
    heading[int(direction)] = 1.0
    return np.concatenate([cells.reshape(-1), heading])


class CompactMiniGrid(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """A MiniGrid env with a flat one-hot observation and its first ``n_actions`` actions."""

    def __init__(self, env: gym.Env, n_actions: int = 6) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, n_actions=n_actions)
        gym.Wrapper.__init__(self, env)
        if not 1 <= n_actions <= len(MINIGRID_ACTIONS):
            raise ValueError(f"n_actions must be in 1..{len(MINIGRID_ACTIONS)}, got {n_actions}")
        self.observation_space = spaces.Box(0.0, 1.0, (OBS_SIZE,), np.float32)
        self.action_space = spaces.Discrete(n_actions)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return encode_view(obs["image"], obs["direction"]), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(int(action))
        obs_vec = encode_view(obs["image"], obs["direction"])
        return obs_vec, float(reward), bool(terminated), bool(truncated), info


def make_minigrid(env_id: str, n_actions: int = 6) -> CompactMiniGrid:
    """``gym.make(env_id)`` (a ``MiniGrid-*`` id) wrapped in :class:`CompactMiniGrid`."""
    if not env_id.startswith("MiniGrid-"):
        raise ValueError(f"not a MiniGrid id: {env_id!r}")
    return CompactMiniGrid(gym.make(env_id), n_actions)


def make_minigrid_vector(env_id: str, num_envs: int, n_actions: int = 6) -> SyncVectorEnv:
    """``num_envs`` copies in a same-step-autoreset ``SyncVectorEnv`` (seed it with ``reset``)."""
    return SyncVectorEnv(
        [lambda: make_minigrid(env_id, n_actions) for _ in range(num_envs)],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
