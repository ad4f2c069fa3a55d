"""Discrete spaces of environments that observe and act with Python ints (``Env[int, int]``)."""

from __future__ import annotations

from typing import cast

from gymnasium import spaces


def int_space(space: spaces.Discrete) -> spaces.Space[int]:
    """``space`` typed as the ``Space[int]`` of an ``Env[int, int]``.

    The spaces are plain :class:`gymnasium.spaces.Discrete`; only their static type changes:
    gymnasium types a Discrete by the ``np.int64`` its ``sample()`` returns, while these envs
    return and accept Python ints (``contains`` accepts both)."""
    return cast("spaces.Space[int]", space)
