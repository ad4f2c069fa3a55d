"""Four Rooms (Sutton, Precup & Singh 1999): the eight hand-made hallway options and the oracle
every options learner is judged by (expected primitive steps of the optimal policy, exactly).
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from hrrl.core.options import Option, OptionSet, primitive_options
from hrrl.envs.four_rooms import EAST_HALLWAY, MOVES, ROOMS, Cell, FourRoomsEnv, room_hallways
from hrrl.solvers.markov_chain import (
    expected_primitive_steps,
    greedy_selection,
    mean_expected_steps,
)
from hrrl.solvers.value_iteration import value_iteration

GOALS: dict[str, Cell] = {"G1": EAST_HALLWAY, "G2": (9, 10)}
"""G1 is the east hallway; G2 a cell inside the lower-right room (our choice of cell)."""


class PolicyOverOptions(Protocol):
    """A learner's greedy policy over options (e.g. ``OptionQLearner``)."""

    options: OptionSet

    def greedy_selection(self, tol: float = 0.0) -> np.ndarray: ...


def option_set(env: FourRoomsEnv, hallways: bool) -> OptionSet:
    """The 4 primitives, after the 8 hallway options when ``hallways``."""
    prims = primitive_options(env.n_states, len(MOVES))
    return OptionSet((hallway_options(env) if hallways else []) + prims, len(MOVES))


def greedy_expected_steps(
    learner: PolicyOverOptions, env: FourRoomsEnv, dynamics: np.ndarray
) -> float:
    """Exact expected steps to the goal of ``learner``'s greedy policy over options, averaged
    over the non-goal start states (absorption times of the (state, option) chain)."""
    goal = np.zeros(env.n_states, dtype=bool)
    goal[env.goal_state] = True
    steps = expected_primitive_steps(dynamics, goal, learner.options, learner.greedy_selection())
    return mean_expected_steps(steps, ~goal)


def hallway_options(env: FourRoomsEnv) -> list[Option]:
    """The 8 hallway options: for each room, one option to each of its two hallways.

    Initiation set: the room's cells and its other hallway. Policy: the action minimising the
    expected shortest-path distance (within the room and its hallways) to the target hallway after
    one step of the true dynamics. Termination: β = 0 in the initiation set, 1 everywhere else
    (the target hallway and any cell outside the room).
    """
    dynamics = env.dynamics()
    options = []
    for room in ROOMS:
        for target in room_hallways(room):
            options.append(_hallway_option(env, dynamics, room, target))
    return options


def _hallway_option(env: FourRoomsEnv, dynamics: np.ndarray, room: str, target: Cell) -> Option:
    region = {env.index[c] for c in ROOMS[room] + room_hallways(room)}
    goal = env.index[target]
    distance = _region_distances(env, region, goal)
    initiation = np.zeros(env.n_states, dtype=bool)
    initiation[sorted(region - {goal})] = True
    expected = dynamics @ distance  # (S, A): expected distance after one step
    policy = np.where(initiation, np.argmin(expected, axis=1), -1)
    termination = np.where(initiation, 0.0, 1.0)
    return Option(f"{room}→{target}", initiation, policy, termination)


def _region_distances(env: FourRoomsEnv, region: set[int], goal: int) -> np.ndarray:
    """Shortest-path lengths to ``goal`` moving only inside ``region`` (large outside it)."""
    far = 10.0 * env.n_states
    distance = np.full(env.n_states, far)
    distance[goal] = 0.0
    queue = deque([goal])
    while queue:
        s = queue.popleft()
        r, c = env.cells[s]
        for dr, dc in MOVES:
            nxt = env.index.get((r + dr, c + dc))
            if nxt is not None and nxt in region and distance[nxt] == far:
                distance[nxt] = distance[s] + 1
                queue.append(nxt)
    return distance


def optimal_expected_steps(env: FourRoomsEnv, gamma: float = 0.9) -> float:
    """Expected steps of the optimal primitive policy (value iteration, ``gamma``, ties uniform)."""
    model = env.tabular_model()
    _, q_star = value_iteration(model, gamma)
    flat = OptionSet(primitive_options(env.n_states, len(MOVES)), len(MOVES))
    selection = greedy_selection(q_star, flat, tol=1e-9)
    steps = expected_primitive_steps(env.dynamics(), model.terminal, flat, selection)
    return mean_expected_steps(steps, ~model.terminal)
