"""A MAXQ task graph as data (Dietterich 2000): primitive leaves, composite subtasks, and the
state abstraction of each value table as a key function. Tasks build graphs
(:func:`hrrl.tasks.taxi.taxi_graph`); learners read them (:class:`hrrl.agents.maxq.MaxQLearner`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Primitive:
    """A leaf: env action ``action`` whose expected reward is stored at ``value_key(s)``."""

    name: str
    action: int
    value_key: Callable[[int], int]
    n_keys: int


@dataclass(frozen=True)
class Child:
    """An edge of a subtask: which node it calls in ``s`` and where its completion is stored."""

    name: str
    node: Callable[[int], int]
    """State → node id (binds parameters, e.g. Navigate(t) with t read from the state)."""
    key: Callable[[int], int]
    """State → index of ``C(parent, s, child)`` (the state abstraction)."""
    n_keys: int


@dataclass(frozen=True)
class Subtask:
    """A composite node: children and the predicate that ends it."""

    name: str
    children: tuple[Child, ...]
    is_terminal: Callable[[int], bool]


Node = Primitive | Subtask


@dataclass(frozen=True)
class TaskGraph:
    nodes: tuple[Node, ...]
    """All nodes; node ids are indices into this tuple."""
    root: int
    """Id of the root subtask."""
