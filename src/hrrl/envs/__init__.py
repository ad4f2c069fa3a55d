"""Environments, registered with Gymnasium under ``hrrl/...`` ids.

Nothing in ``envs/`` imports from ``agents/``. An id is registered only when its module is
installed, so ``gymnasium.make`` never points at a missing class.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import gymnasium

_POINT_MANIP_TASKS = [
    "reach",
    "push",
    "pick-place",
    "door-open",
    "drawer-close",
    "button-press",
    "peg-insert-side",
    "window-open",
    "sweep",
    "basketball",
    "drawer-open",
    "door-close",
    "shelf-place",
    "sweep-into",
    "lever-pull",
]
"""hrrl/PointManip-<task>-v0: the 10 training and 5 test tasks of :mod:`hrrl.envs.point_manip`."""

_ENVS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # id: (module, class, extra registration kwargs)
    "hrrl/NumberLine-v0": ("hrrl.envs.numberline", "NumberLineEnv", {}),
    "hrrl/FourRooms-v0": ("hrrl.envs.four_rooms", "FourRoomsEnv", {}),
    "hrrl/StochasticChain-v0": ("hrrl.envs.chain", "StochasticChainEnv", {}),
    "hrrl/PointMaze-v0": ("hrrl.envs.point_maze", "PointMazeEnv", {}),
    "hrrl/BitFlip-v0": ("hrrl.envs.bitflip", "BitFlipEnv", {}),
    "hrrl/Nav2D-v0": ("hrrl.envs.nav2d", "Nav2DEnv", {}),
    "hrrl/BernoulliBandit-v0": ("hrrl.envs.bandits", "BernoulliBanditEnv", {}),
    "hrrl/RandomMDP-v0": ("hrrl.envs.random_mdps", "RandomMDPEnv", {}),
    **{
        f"hrrl/PointManip-{task}-v0": (
            "hrrl.envs.point_manip",
            "PointManipEnv",
            {"kwargs": {"task": task}, "max_episode_steps": None},
        )
        for task in _POINT_MANIP_TASKS
    },
}


def registered_ids() -> list[str]:
    """The ``hrrl/...`` ids whose modules are present."""
    return [env_id for env_id in _ENVS if env_id in gymnasium.registry]


def _register_all() -> None:
    for env_id, (module, cls, kwargs) in _ENVS.items():
        if env_id in gymnasium.registry or importlib.util.find_spec(module) is None:
            continue
        gymnasium.register(id=env_id, entry_point=f"{module}:{cls}", **kwargs)


_register_all()
