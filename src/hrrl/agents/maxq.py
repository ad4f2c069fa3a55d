"""MAXQ-Q learning (Dietterich 2000, "Hierarchical Reinforcement Learning with the MAXQ Value
Function Decomposition", JAIR 13). The task graph it learns on is data
(:mod:`hrrl.core.task_graph`); the paper's Taxi graph is in :mod:`hrrl.tasks.taxi`.

A task graph has primitive nodes (an env action with a learned expected reward ``V(a, s)``) and
composite subtasks ``i`` with children, a termination predicate and completion functions
``C(i, s, a)``: the expected reward for completing ``i`` after child ``a`` ends. Values decompose
recursively:

    V(i, s) = max_a Q(i, s, a)       Q(i, s, a) = V(a, s) + C(i, s, a)      (i composite)
    V(a, s) = expected one-step reward                                        (a primitive)

MAXQ-Q learns ``V`` of primitives by averaging rewards and, whenever child ``a`` of ``i`` ends
after ``N`` primitive steps in ``s'``,

    C(i, s, a) ← (1 − α) C(i, s, a) + α γ^N V(i, s')      (V(i, s') = 0 if i ended in s')

This is the recursively optimal form, without pseudo-rewards (Taxi needs none). State abstraction
is a per-(subtask, child) *key* function: ``C(i, s, a)`` is stored at ``key(s)``, so states that
share a key share one value. Children whose own termination predicate already holds are not
eligible. Execution is hierarchical: a child runs until it terminates (:meth:`MaxQLearner.descend`
and :meth:`MaxQLearner.unwind` are that execution as pure functions of the stack of running
subtasks); :meth:`MaxQLearner.greedy_action` is the "polling" alternative that re-descends from
the root in every state. An episode cut by truncation just stops: the updates of its last step
bootstrapped, and subtasks still running get no completion update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from hrrl.core.learner import StateArrays
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.schedules import LinearSchedule
from hrrl.core.tabular import epsilon_greedy, greedy_action
from hrrl.core.task_graph import Child, Node, Primitive, Subtask, TaskGraph

__all__ = [
    "Child",
    "MaxQConfig",
    "MaxQLearner",
    "Node",
    "Primitive",
    "Subtask",
    "TaskGraph",
]


@dataclass(frozen=True)
class MaxQConfig:
    alpha: float = 0.25
    """Step size of every V and C update."""
    gamma: float = 1.0
    """Discount; 1.0 as in the paper (abstractions over exit states need it undiscounted)."""
    epsilon_start: float = 1.0
    """Exploration rate of every subtask's ε-greedy choice in the first episode."""
    epsilon_end: float = 0.05
    """Exploration rate once the linear decay is over."""
    epsilon_decay_episodes: int = 1000
    """Episodes over which ε decays linearly."""


@dataclass
class _Frame:
    """A running subtask on the execution stack and the child it is waiting for."""

    node: int
    slot: int = -1
    child_state: int = -1
    child_steps: int = 0


class MaxQLearner(StateArrays):
    """Tables ``V(a, ·)`` for primitives and ``C(i, ·, child)`` per subtask edge; MAXQ-Q updates."""

    STATE = ("v", "c")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, graph: TaskGraph, config: MaxQConfig) -> None:
        self.graph = graph
        self.config = config
        self.alpha = config.alpha
        """Current step size: ``config.alpha`` unless a caller anneals it."""
        self.v: dict[int, np.ndarray] = {}
        self.c: dict[int, list[np.ndarray]] = {}
        for node_id, node in enumerate(graph.nodes):
            if isinstance(node, Primitive):
                self.v[node_id] = np.zeros(node.n_keys)
            else:
                self.c[node_id] = [np.zeros(child.n_keys) for child in node.children]
        self._schedule = LinearSchedule(config.epsilon_start, config.epsilon_end, 1.0)

    @property
    def n_values(self) -> int:
        """Number of learned values: every V and C table entry."""
        v = sum(t.size for t in self.v.values())
        return int(v + sum(t.size for tables in self.c.values() for t in tables))

    def values_per_node(self) -> dict[str, int]:
        """Learned values by node (C tables summed over the node's children)."""
        out: dict[str, int] = {}
        for node_id, node in enumerate(self.graph.nodes):
            if isinstance(node, Primitive):
                out[node.name] = int(self.v[node_id].size)
            else:
                out[node.name] = int(sum(t.size for t in self.c[node_id]))
        return out

    def epsilon(self, episode: int) -> float:
        decay = max(self.config.epsilon_decay_episodes, 1)
        return float(self._schedule(episode / decay))

    # ----- the value decomposition -----

    def is_terminal(self, node_id: int, state: int) -> bool:
        node = self.graph.nodes[node_id]
        return isinstance(node, Subtask) and node.is_terminal(state)

    def eligible(self, node_id: int, state: int) -> list[tuple[int, int]]:
        """``(slot, child node id)`` of the children of ``node_id`` that may run in ``state``."""
        node = self.graph.nodes[node_id]
        assert isinstance(node, Subtask)
        pairs = [(slot, child.node(state)) for slot, child in enumerate(node.children)]
        return [(slot, child) for slot, child in pairs if not self.is_terminal(child, state)]

    def completion(self, node_id: int, state: int, slot: int) -> float:
        node = self.graph.nodes[node_id]
        assert isinstance(node, Subtask)
        return float(self.c[node_id][slot][node.children[slot].key(state)])

    def q_row(self, node_id: int, state: int) -> tuple[list[int], np.ndarray]:
        """Eligible child slots of ``node_id`` and their ``Q(i, s, a) = V(a, s) + C(i, s, a)``."""
        pairs = self.eligible(node_id, state)
        values = [
            self.value(child, state) + self.completion(node_id, state, s) for s, child in pairs
        ]
        return [slot for slot, _ in pairs], np.asarray(values)

    def value(self, node_id: int, state: int) -> float:
        """``V(i, s)``: learned reward for a primitive, else the best child's Q (0 if ended)."""
        node = self.graph.nodes[node_id]
        if isinstance(node, Primitive):
            return float(self.v[node_id][node.value_key(state)])
        if node.is_terminal(state):
            return 0.0
        _, q = self.q_row(node_id, state)
        return float(q.max())

    # ----- acting -----

    def greedy_child(self, node_id: int, state: int, rng: np.random.Generator) -> int:
        """Node id of the best eligible child of ``node_id`` in ``state`` (random tie-break)."""
        slots, q = self.q_row(node_id, state)
        node = self.graph.nodes[node_id]
        assert isinstance(node, Subtask)
        return node.children[slots[greedy_action(q, rng)]].node(state)

    def descend(
        self, stack: tuple[int, ...], state: int, choose: Callable[[int, int], int]
    ) -> tuple[int, tuple[int, ...]]:
        """Hierarchical execution: the running subtasks ``stack`` (root first; the last one must
        pick a child) descend with ``choose(node, state) -> child`` down to a primitive. Returns
        the env action and the stack of subtasks running while it executes."""
        while True:
            child = choose(stack[-1], state)
            node = self.graph.nodes[child]
            if isinstance(node, Primitive):
                return node.action, stack
            stack = (*stack, child)

    def unwind(self, stack: tuple[int, ...], next_state: int, terminated: bool) -> tuple[int, ...]:
        """The running subtasks after a step: ended ones popped (all on termination); the root is
        restarted if it ended while the env goes on."""
        if terminated:
            return ()
        while stack and self.is_terminal(stack[-1], next_state):
            stack = stack[:-1]
        return stack or (self.graph.root,)

    def greedy_action(self, state: int, rng: np.random.Generator) -> int:
        """The hierarchically greedy ("polling") action: re-descend from the root in ``state``."""
        action, _ = self.descend(
            (self.graph.root,), state, lambda node, s: self.greedy_child(node, s, rng)
        )
        return action

    def _choose(self, frame: _Frame, state: int, epsilon: float, rng: np.random.Generator) -> int:
        """Pick the frame's next child ε-greedily; returns the child's node id."""
        slots, q = self.q_row(frame.node, state)
        frame.slot = slots[epsilon_greedy(q, epsilon, rng)]
        frame.child_state, frame.child_steps = state, 0
        node = self.graph.nodes[frame.node]
        assert isinstance(node, Subtask)
        return node.children[frame.slot].node(state)

    # ----- learning -----

    def update_primitive(self, node_id: int, state: int, reward: float) -> None:
        node = self.graph.nodes[node_id]
        assert isinstance(node, Primitive)
        table, key = self.v[node_id], node.value_key(state)
        table[key] += self.alpha * (reward - table[key])

    def update_completion(
        self, node_id: int, slot: int, state: int, steps: int, next_state: int, ended: bool
    ) -> float:
        """MAXQ-Q update of ``C(i, state, slot)`` after the child ran ``steps`` steps to
        ``next_state``; ``ended`` says ``i`` itself is over there (target 0). Returns the error."""
        node = self.graph.nodes[node_id]
        assert isinstance(node, Subtask)
        target = 0.0 if ended else self.config.gamma**steps * self.value(node_id, next_state)
        table, key = self.c[node_id][slot], node.children[slot].key(state)
        error = target - table[key]
        table[key] += self.alpha * error
        return float(error)

    def _unwind(self, stack: list[_Frame], next_state: int, terminated: bool, learn: bool) -> None:
        """After a primitive step: update every frame whose child just ended; pop ended frames."""
        while stack:
            frame = stack[-1]
            ended = terminated or self.is_terminal(frame.node, next_state)
            if learn:
                self.update_completion(
                    frame.node,
                    frame.slot,
                    frame.child_state,
                    frame.child_steps,
                    next_state,
                    ended,
                )
            if not ended:
                return
            stack.pop()

    def run_episode(
        self,
        env: gym.Env,
        rng: np.random.Generator,
        epsilon: float,
        learn: bool = True,
        seed: int | None = None,
    ) -> Episode:
        """One episode of hierarchical execution (learning from it when ``learn``).

        A truncated episode just stops: the updates of its last step bootstrapped as usual.
        """
        stack = [_Frame(self.graph.root)]
        primitive: list[int] = []  # the node id of the primitive just executed

        def act(obs: Any) -> int:
            state = int(obs)
            while True:
                if not stack:  # the root ended without the env terminating: start it again
                    stack.append(_Frame(self.graph.root))
                child = self._choose(stack[-1], state, epsilon, rng)
                node = self.graph.nodes[child]
                if isinstance(node, Primitive):
                    primitive[:] = [child]
                    return node.action
                stack.append(_Frame(child))

        def observe(step: Step) -> None:
            if learn:
                self.update_primitive(primitive[0], int(step.obs), step.reward)
            for frame in stack:
                frame.child_steps += 1
            self._unwind(stack, int(step.next_obs), step.terminated, learn)

        return run_episode(env, act, observe, seed)
