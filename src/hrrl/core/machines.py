"""Hierarchies of abstract machines (Parr & Russell 1998) as data: what tasks build, HAMQ reads.

A machine is a set of named nodes of four kinds:

* :class:`Act`: take a primitive action (a function of the environment state), then move to the
  node ``next`` (a name, or a function of the *new* environment state);
* :class:`Choose`: a choice point: the learner picks one of ``choices`` (node names of the same
  machine); ``available`` may forbid some in some environment states;
* :class:`Call`: run machine ``machine`` from its start node until it stops, then go to ``next``;
* :class:`Stop`: return to the caller.

The joint machine state is the call stack: a :data:`Control` tuple of (machine, node) frames, the
last being the running node, the others the :class:`Call` nodes waiting for a return. Everything
between two choice points is deterministic given the environment states, so a learner only needs
:meth:`HAM.resolve`, :meth:`HAM.after_choice` and :meth:`HAM.after_action`, which follow calls and
stops until the next :class:`Act` or :class:`Choose` node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

Next = str | Callable[[int], str]
Control = tuple[tuple[str, str], ...]
"""The call stack: ((machine, call node), …, (machine, running node))."""


@dataclass(frozen=True)
class Act:
    action: Callable[[int], int]
    """The primitive action to take in environment state s."""
    next: Next
    """Next node: a name, or a function of the environment state after the action."""


@dataclass(frozen=True)
class Choose:
    choices: tuple[str, ...]
    """Nodes of this machine the learner may move to."""
    available: Callable[[int], Sequence[bool]] | None = None
    """Which choices are allowed in environment state s (all when None)."""


@dataclass(frozen=True)
class Call:
    machine: str
    """The machine to run from its start node."""
    next: Next
    """Node after the callee stops: a name, or a function of the environment state then."""


@dataclass(frozen=True)
class Stop:
    """Return to the caller."""


Node = Act | Choose | Call | Stop


@dataclass(frozen=True)
class Machine:
    name: str
    start: str
    """The node a call enters."""
    nodes: Mapping[str, Node] = field(default_factory=dict)


def _next(rule: Next, state: int) -> str:
    return rule if isinstance(rule, str) else rule(state)


class HAM:
    """Machines by name with a root; the control points reachable from the root, enumerated.

    ``choice_points`` lists every reachable stack whose running node is a :class:`Choose` (the
    learner's decision contexts), ``action_points`` every one whose running node is an :class:`Act`;
    both are found by following every transition from every environment state in
    ``range(n_states)``. The root machine must never stop.
    """

    MAX_DEPTH = 32

    def __init__(self, machines: Sequence[Machine], root: str, n_states: int) -> None:
        self.machines = {m.name: m for m in machines}
        if root not in self.machines:
            raise ValueError(f"no machine named {root!r}")
        for m in machines:
            if m.start not in m.nodes:
                raise ValueError(f"machine {m.name!r} has no start node {m.start!r}")
        self.root = root
        self.n_states = int(n_states)
        self._enumerate()

    # ------------------------------------------------------------------------------ transitions
    def node(self, control: Control) -> Node:
        machine, name = control[-1]
        return self.machines[machine].nodes[name]

    def resolve(self, control: Control, state: int) -> Control:
        """Follow calls and stops from ``control`` until an Act or Choose node."""
        for _ in range(1000):
            if len(control) > self.MAX_DEPTH:
                raise ValueError("machine calls nest too deeply (recursion?)")
            node = self.node(control)
            if isinstance(node, Act | Choose):
                return control
            if isinstance(node, Call):
                callee = self.machines[node.machine]
                control = (*control, (callee.name, callee.start))
                continue
            if len(control) == 1:
                raise ValueError("the root machine stopped")
            caller_machine, call_node = control[-2]
            call = self.machines[caller_machine].nodes[call_node]
            assert isinstance(call, Call)
            control = (*control[:-2], (caller_machine, _next(call.next, state)))
        raise ValueError("no Act or Choose node reached (a loop of calls and stops?)")

    def start(self, state: int) -> Control:
        root = self.machines[self.root]
        return self.resolve(((root.name, root.start),), state)

    def after_choice(self, control: Control, choice: int, state: int) -> Control:
        node = self.node(control)
        assert isinstance(node, Choose)
        machine, _ = control[-1]
        return self.resolve((*control[:-1], (machine, node.choices[choice])), state)

    def after_action(self, control: Control, next_state: int) -> Control:
        node = self.node(control)
        assert isinstance(node, Act)
        machine, _ = control[-1]
        return self.resolve((*control[:-1], (machine, _next(node.next, next_state))), next_state)

    def available(self, choice_point: int, state: int) -> np.ndarray:
        """Bool (n_choices,): the choices allowed at ``choice_point`` in ``state``."""
        return self._available[choice_point][state]

    # ------------------------------------------------------------------------------ enumeration
    def _enumerate(self) -> None:
        states = range(self.n_states)
        seen: set[Control] = set()
        todo = [self.start(s) for s in states]
        while todo:
            control = todo.pop()
            if control in seen:
                continue
            seen.add(control)
            node = self.node(control)
            if isinstance(node, Choose):
                todo += [
                    self.after_choice(control, i, s)
                    for i in range(len(node.choices))
                    for s in states
                ]
            else:
                todo += [self.after_action(control, s) for s in states]
        ordered = sorted(seen)
        self.choice_points = [c for c in ordered if isinstance(self.node(c), Choose)]
        self.action_points = [c for c in ordered if isinstance(self.node(c), Act)]
        self.choice_index = {c: i for i, c in enumerate(self.choice_points)}
        self.action_index = {c: i for i, c in enumerate(self.action_points)}
        self.n_choices = max((len(self._choose(c).choices) for c in self.choice_points), default=0)
        self._available = []
        for c in self.choice_points:
            node = self._choose(c)
            table = np.zeros((self.n_states, self.n_choices), dtype=bool)
            for s in states:
                allowed = (
                    [True] * len(node.choices) if node.available is None else node.available(s)
                )
                table[s, : len(node.choices)] = np.asarray(allowed, dtype=bool)
            self._available.append(table)

    def _choose(self, control: Control) -> Choose:
        node = self.node(control)
        assert isinstance(node, Choose)
        return node

    def describe(self, control: Control) -> str:
        return " > ".join(f"{m}.{n}" for m, n in control)
