"""A corridor maze for HAMs (in the spirit of Parr & Russell 1998), its machines and its options.

The maze is a grid labyrinth of one-cell corridors (:data:`MAZE_LAYOUT`, 115 free cells) run by
:class:`~hrrl.envs.four_rooms.FourRoomsEnv` with that layout (same slips: the intended move
w.p. 2/3, else one of the other three). Its *nodes* are the free cells that are not plain corridor
cells (junctions with ≥ 3 free neighbours and dead ends with 1); every other cell lies on exactly
one corridor between two nodes.

``corridor_ham``: the root machine loops on one choice point, "follow the corridor north / south /
west / east" (allowed only where that neighbour is free: no bumping into walls). The follow
machine remembers its heading: it moves on in the heading while it can, turns at a corner (the one
free way that is not back), and stops at a node or where neither rule applies (after a slip into
a side corridor). Between nodes the policy is fixed; the learner chooses only at nodes (and at the
start) — the machine *constrains* the policy, which options cannot express without memory of the
heading.

``corridor_options``: the Markov counterpart for the options baseline, "go to the node at the
other end of this corridor": for every node and free direction, an option initiable at the node
and along the corridor, taking the shortest way to the far node (β = 0 in its initiation set, 1
elsewhere).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hrrl.core.machines import HAM, Act, Call, Choose, Machine, Stop
from hrrl.core.options import Option
from hrrl.envs.four_rooms import ACTION_NAMES, MOVES, Cell, FourRoomsEnv
from hrrl.solvers.value_iteration import value_iteration

MAZE_LAYOUT = (
    "wwwwwwwwwwwwwwwwwww",
    "w     w w         w",
    "wwwww w w w www w w",
    "w   w w   w   w   w",
    "www w www w w wwwww",
    "w   w     w   w   w",
    "w w wwwww w w w w w",
    "w w       w     w w",
    "w w w w wwwww w w w",
    "w w   w w   w   w w",
    "w wwwww w w www w w",
    "w         w       w",
    "wwwwwwwwwwwwwwwwwww",
)
"""A 6 × 9 labyrinth (depth-first carving, seed 1998) with 8 extra openings that make loops."""
MAZE_GOAL: Cell = (11, 17)
"""The bottom-right corner."""
OPPOSITE = (1, 0, 3, 2)
"""The reverse of each action (north↔south, west↔east)."""


def maze_env(goal: Cell = MAZE_GOAL, max_steps: int = 2000) -> FourRoomsEnv:
    """The corridor maze with its goal (random non-goal starts, +1 at the goal, slips 1/3)."""
    return FourRoomsEnv(goal=goal, max_steps=max_steps, layout=MAZE_LAYOUT)


def free_directions(env: FourRoomsEnv, state: int) -> list[int]:
    """Actions whose neighbour cell is free."""
    r, c = env.cells[state]
    return [a for a, (dr, dc) in enumerate(MOVES) if (r + dr, c + dc) in env.index]


def nodes(env: FourRoomsEnv) -> list[int]:
    """States with a number of free neighbours other than two (junctions and dead ends)."""
    return [s for s in range(env.n_states) if len(free_directions(env, s)) != 2]


def _constant(action: int) -> Callable[[int], int]:
    def rule(state: int) -> int:
        return action

    return rule


def _follow_rule(env: FourRoomsEnv, heading: int) -> Callable[[int], str]:
    """Next node of the follow machine after a move made while heading ``heading``."""

    def rule(state: int) -> str:
        free = free_directions(env, state)
        if len(free) != 2:
            return "stop"
        if heading in free:
            return ACTION_NAMES[heading]
        turn = [a for a in free if a != OPPOSITE[heading]]
        return ACTION_NAMES[turn[0]] if len(turn) == 1 and len(free) == 2 else "stop"

    return rule


def _follow_machine(env: FourRoomsEnv, direction: int) -> Machine:
    nodes_: dict = {"stop": Stop()}
    for a, label in enumerate(ACTION_NAMES):
        nodes_[label] = Act(action=_constant(a), next=_follow_rule(env, a))
    return Machine(f"follow-{ACTION_NAMES[direction]}", ACTION_NAMES[direction], nodes_)


def corridor_ham(env: FourRoomsEnv) -> HAM:
    """Root: choose a free direction and follow the corridor to the next node; repeat."""
    follows = [_follow_machine(env, a) for a in range(len(MOVES))]
    choices = tuple(f"call {m.name}" for m in follows)

    def allowed(state: int) -> list[bool]:
        free = free_directions(env, state)
        return [a in free for a in range(len(MOVES))]

    root_nodes: dict = {"choose": Choose(choices, available=allowed)}
    for m in follows:
        root_nodes[f"call {m.name}"] = Call(m.name, next="choose")
    return HAM([Machine("root", "choose", root_nodes), *follows], "root", env.n_states)


def _corridor(env: FourRoomsEnv, start: int, direction: int) -> list[int]:
    """The cells from ``start`` (a node) along ``direction`` up to and including the next node."""
    node_set = set(nodes(env))
    path, state, heading = [], start, direction
    while True:
        r, c = env.cells[state]
        dr, dc = MOVES[heading]
        state = env.index[(r + dr, c + dc)]
        path.append(state)
        if state in node_set or state == start:
            return path
        heading = next(a for a in free_directions(env, state) if a != OPPOSITE[heading])


def corridor_options(env: FourRoomsEnv) -> list[Option]:
    """For every node and free direction: go along that corridor to the node at its other end."""
    dynamics = env.dynamics()
    options = []
    for start in nodes(env):
        for direction in free_directions(env, start):
            path = _corridor(env, start, direction)
            target = path[-1]
            if target == start:
                continue
            region = [start, *path]
            distance = np.full(env.n_states, float(len(region) + 10))
            for k, state in enumerate(reversed(region)):
                distance[state] = min(distance[state], k)
            initiation = np.zeros(env.n_states, dtype=bool)
            initiation[[s for s in region if s != target]] = True
            policy = np.where(initiation, np.argmin(dynamics @ distance, axis=1), -1)
            termination = np.where(initiation, 0.0, 1.0)
            name = f"{env.cells[start]}→{env.cells[target]}"
            options.append(Option(name, initiation, policy, termination))
    return options


def oracle_selection(env: FourRoomsEnv, ham: HAM, gamma: float = 0.9) -> np.ndarray:
    """Choices of :func:`corridor_ham` from the optimal primitive Q (value iteration): at each
    choice point, follow the corridor in the best allowed direction. Its exact expected steps
    say how much the machine's constraint costs (choice ``c`` of the root is direction ``c``)."""
    _, q_star = value_iteration(env.tabular_model(), gamma)
    selection = np.zeros((env.n_states, len(ham.choice_points), ham.n_choices))
    for state in range(env.n_states):
        for point in range(len(ham.choice_points)):
            values = np.where(ham.available(point, state), q_star[state], -np.inf)
            selection[state, point, int(np.argmax(values))] = 1.0
    return selection
