"""The Four Rooms gridworld of Sutton, Precup & Singh (1999), with its explicit transition model."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from hrrl.envs.int_spaces import int_space
from hrrl.solvers.value_iteration import TabularModel

LAYOUT = (
    "wwwwwwwwwwwww",
    "w     w     w",
    "w     w     w",
    "w           w",
    "w     w     w",
    "w     w     w",
    "ww wwww     w",
    "w     www www",
    "w     w     w",
    "w     w     w",
    "w           w",
    "w     w     w",
    "wwwwwwwwwwwww",
)
"""The map: ``w`` is a wall, a space a free cell (104 of them)."""

Cell = tuple[int, int]

MOVES: tuple[Cell, ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))
"""Row/column offsets of the four actions: 0 north, 1 south, 2 west, 3 east."""
ACTION_NAMES = ("north", "south", "west", "east")

HALLWAYS: tuple[Cell, ...] = ((3, 6), (6, 2), (7, 9), (10, 6))
"""The four doorway cells: north (between the upper rooms), west, east, south."""
EAST_HALLWAY: Cell = (7, 9)
"""Between the upper-right and lower-right rooms: G1 of Sutton et al., the goal of Bacon et al."""
ROOM_NAMES = ("upper-left", "upper-right", "lower-left", "lower-right")


def free_cells(layout: tuple[str, ...] = LAYOUT) -> list[Cell]:
    """The free cells in row-major order; a cell's position in this list is its state index."""
    return [(r, c) for r, row in enumerate(layout) for c, ch in enumerate(row) if ch != "w"]


def _rooms(cells: list[Cell]) -> dict[str, list[Cell]]:
    """Connected components of the free cells once the hallways are removed, named by position."""
    remaining = set(cells) - set(HALLWAYS)
    components: list[list[Cell]] = []
    while remaining:
        start = min(remaining)
        queue, seen = deque([start]), {start}
        while queue:
            r, c = queue.popleft()
            for dr, dc in MOVES:
                nxt = (r + dr, c + dc)
                if nxt in remaining and nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        remaining -= seen
        components.append(sorted(seen))
    mid = len(LAYOUT) // 2

    def name(room: list[Cell]) -> str:
        r, c = room[0]
        return f"{'upper' if r < mid else 'lower'}-{'left' if c < mid else 'right'}"

    return {name(room): room for room in components}


ROOMS: dict[str, list[Cell]] = _rooms(free_cells())
"""Cells of each room (hallways excluded), by name."""


def room_hallways(room: str) -> list[Cell]:
    """The two hallway cells adjacent to ``room``."""
    cells = set(ROOMS[room])
    return [h for h in HALLWAYS if any((h[0] + dr, h[1] + dc) in cells for dr, dc in MOVES)]


class FourRoomsEnv(gymnasium.Env[int, int]):
    """Four Rooms (Sutton, Precup & Singh 1999): 104 cells, four rooms joined by four hallways.

    **Observation**: ``Discrete(104)``, the index of the agent's cell in :func:`free_cells`
    (row-major order of the free cells of :data:`LAYOUT`).

    **Actions**: ``Discrete(4)``: 0 north, 1 south, 2 west, 3 east.

    **Dynamics**: the intended direction is taken with probability ``success_prob`` (2/3);
    otherwise one of the other three directions, uniformly. The direction is drawn *before* the
    move; a move into a wall leaves the agent where it is.

    **Reward and termination**: +1 on entering the goal cell, which terminates the episode
    (``terminated=True``); 0 on every other transition.

    **Truncation**: ``truncated=True`` after ``max_steps`` steps without reaching the goal. That is
    a time limit, not a terminal state: learners must bootstrap there.

    **Start**: uniformly random among the non-goal cells, or ``start`` if given.

    **Goal**: the cell ``goal`` (default the east hallway); ``reset(options={"goal": (row, col)})``
    moves it for the episodes that follow.

    **Explicit model**: ``P[s][a]`` is a list of ``(prob, next_state, reward, terminated)`` like
    gymnasium's Taxi; :meth:`tabular_model` gives the same as arrays for value iteration, and
    :meth:`dynamics` the goal-free move probabilities. :meth:`step` samples exactly that model.

    **Other maps**: ``layout`` (rows of ``w`` and spaces, walls all round) replaces the map;
    everything else (actions, slips, model) is the same on it.

    **Version history**: v0, first version; v0.1, the ``layout`` argument (default unchanged).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        goal: Cell = EAST_HALLWAY,
        success_prob: float = 2.0 / 3.0,
        max_steps: int = 1000,
        start: Cell | None = None,
        render_mode: str | None = None,
        layout: tuple[str, ...] = LAYOUT,
    ) -> None:
        self.layout = tuple(layout)
        self.cells = free_cells(self.layout)
        self.index = {cell: i for i, cell in enumerate(self.cells)}
        self.n_states = len(self.cells)
        self.success_prob = float(success_prob)
        self.max_steps = int(max_steps)
        self.start = None if start is None else self._checked_cell(start)
        self.render_mode = render_mode
        self.observation_space = int_space(spaces.Discrete(self.n_states))
        self.action_space = int_space(spaces.Discrete(len(MOVES)))
        self._move_table = self._build_move_table()
        self._other_dirs = [[d for d in range(4) if d != a] for a in range(4)]
        self._set_goal(goal)
        self._state = 0
        self._steps = 0

    # ----------------------------------------------------------------------------------- model
    def _checked_cell(self, cell: Cell) -> Cell:
        cell = (int(cell[0]), int(cell[1]))
        if cell not in self.index:
            raise ValueError(f"{cell} is not a free cell of the layout")
        return cell

    def _build_move_table(self) -> np.ndarray:
        """``table[s, d]``: the state reached from ``s`` moving in direction ``d`` (walls block)."""
        table = np.zeros((self.n_states, len(MOVES)), dtype=np.int64)
        for s, (r, c) in enumerate(self.cells):
            for d, (dr, dc) in enumerate(MOVES):
                table[s, d] = self.index.get((r + dr, c + dc), s)
        return table

    def _direction_probs(self, action: int) -> np.ndarray:
        probs = np.full(len(MOVES), (1.0 - self.success_prob) / (len(MOVES) - 1))
        probs[action] = self.success_prob
        return probs

    def dynamics(self) -> np.ndarray:
        """Goal-free move probabilities ``D[s, a, s']``, shape (104, 4, 104)."""
        D = np.zeros((self.n_states, len(MOVES), self.n_states))
        for s in range(self.n_states):
            for a in range(len(MOVES)):
                for d, p in enumerate(self._direction_probs(a)):
                    D[s, a, self._move_table[s, d]] += p
        return D

    def _set_goal(self, goal: Cell) -> None:
        self.goal = self._checked_cell(goal)
        self.goal_state = self.index[self.goal]
        self.P = self._build_P()

    def _build_P(self) -> dict[int, dict[int, list[tuple[float, int, float, bool]]]]:
        D = self.dynamics()
        P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s in range(self.n_states):
            P[s] = {}
            for a in range(len(MOVES)):
                if s == self.goal_state:
                    P[s][a] = [(1.0, s, 0.0, True)]
                    continue
                P[s][a] = [
                    (float(D[s, a, nxt]), int(nxt), *self._reward_done(int(nxt)))
                    for nxt in np.flatnonzero(D[s, a])
                ]
        return P

    def _reward_done(self, next_state: int) -> tuple[float, bool]:
        reached = next_state == self.goal_state
        return (1.0 if reached else 0.0), reached

    def tabular_model(self) -> TabularModel:
        """``P`` as arrays (S, A, S): the goal absorbing (``terminal``), +1 for entering it."""
        S, A = self.n_states, len(MOVES)
        probs = np.zeros((S, A, S))
        rewards = np.zeros((S, A, S))
        for s, row in self.P.items():
            for a, outcomes in row.items():
                for prob, nxt, reward, _ in outcomes:
                    probs[s, a, nxt] += prob
                    rewards[s, a, nxt] = reward
        terminal = np.zeros(S, dtype=bool)
        terminal[self.goal_state] = True
        return TabularModel(probs, rewards, terminal)

    # ------------------------------------------------------------------------------ gymnasium
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "goal" in options:
            self._set_goal(options["goal"])
        if self.start is not None:
            self._state = self.index[self.start]
        else:
            draw = int(self.np_random.integers(self.n_states - 1))
            self._state = draw + (draw >= self.goal_state)
        self._steps = 0
        return self._state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        action = int(action)
        if not 0 <= action < len(MOVES):
            raise ValueError(f"action {action} not in 0..3")
        direction = self._sample_direction(action)
        self._state = int(self._move_table[self._state, direction])
        self._steps += 1
        reward, terminated = self._reward_done(self._state)
        truncated = (not terminated) and self._steps >= self.max_steps
        return self._state, reward, terminated, truncated, {}

    def _sample_direction(self, action: int) -> int:
        """The direction actually taken: the slip is drawn before the move, not after it."""
        u = float(self.np_random.random())
        if u < self.success_prob:
            return action
        slot = int((u - self.success_prob) / (1.0 - self.success_prob) * 3)
        return self._other_dirs[action][min(slot, 2)]

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        rows = [list(row) for row in self.layout]
        gr, gc = self.goal
        rows[gr][gc] = "G"
        ar, ac = self.cells[self._state]
        rows[ar][ac] = "A"
        return "\n".join("".join(row) for row in rows)
