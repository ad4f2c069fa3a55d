"""A cheap continuous 2-D point maze (numpy only) for goal-conditioned and hierarchical agents."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

Box2D = tuple[float, float, float, float]
"""An axis-aligned wall ``(x_min, y_min, x_max, y_max)``."""

U_MAZE_WALLS: tuple[Box2D, ...] = ((0.0, 1.5, 3.0, 2.5),)
"""One wall from the left edge: in a 4×4 arena it leaves a U-shaped corridor."""

S_MAZE_WALLS: tuple[Box2D, ...] = ((0.0, 1.5, 4.5, 2.0), (1.5, 3.5, 6.0, 4.0))
"""Two walls, from the left and from the right edge: in a 6×6 arena they leave an S-shaped
corridor (1.5 wide at the bottom, the middle and the turns; geodesic length about 14 from the
bottom-left to the top-right corner)."""


def _sweep_axis(
    position: np.ndarray, delta: float, axis: int, walls: tuple[Box2D, ...], size: float
) -> float:
    """New coordinate on ``axis`` after moving by ``delta``, stopped at the first wall face."""
    other = 1 - axis
    start = float(position[axis])
    end = start + delta
    for wall in walls:
        lo, hi = wall[axis], wall[axis + 2]
        if not wall[other] < position[other] < wall[other + 2]:
            continue
        if delta > 0 and start <= lo < end:
            end = lo
        elif delta < 0 and end < hi <= start:
            end = hi
    return float(np.clip(end, 0.0, size))


def move_with_collision(
    position: np.ndarray, delta: np.ndarray, walls: tuple[Box2D, ...], size: float
) -> np.ndarray:
    """Move a point by ``delta`` inside ``[0, size]²``: first along x, then along y, each axis
    swept against every wall so the point stops at a wall face (and slides along it) instead of
    passing through, however thin the wall. The point never enters a wall's open interior."""
    moved = np.array(position, dtype=np.float64)
    moved[0] = _sweep_axis(moved, float(delta[0]), 0, walls, size)
    moved[1] = _sweep_axis(moved, float(delta[1]), 1, walls, size)
    return moved


def extend_past_edges(wall: Box2D, size: float) -> Box2D:
    """A wall touching the arena's edge, pushed one unit past it, so that a point clipped to the
    edge still counts as level with the wall (otherwise it could slide along the edge through
    the wall)."""
    x_min, y_min, x_max, y_max = wall
    return (
        x_min - 1.0 if x_min <= 0.0 else x_min,
        y_min - 1.0 if y_min <= 0.0 else y_min,
        x_max + 1.0 if x_max >= size else x_max,
        y_max + 1.0 if y_max >= size else y_max,
    )


def inside_wall(position: np.ndarray, walls: tuple[Box2D, ...]) -> bool:
    """Whether a point lies strictly inside any wall."""
    x, y = float(position[0]), float(position[1])
    return any(w[0] < x < w[2] and w[1] < y < w[3] for w in walls)


class PointMazeEnv(gymnasium.Env[dict[str, Any], np.ndarray]):
    """A point mass steered through a U-shaped maze to a goal, with a sparse goal reward.

    The arena is ``[0, size]²`` (default 4×4) with axis-aligned box walls (default: one wall
    ``x ∈ [0, 3], y ∈ [1.5, 2.5]``, so the corridor runs right along the bottom, up the right side
    and back left along the top). The point starts near ``start`` (uniform jitter ±0.1) and must
    come within ``goal_radius`` of the goal (default ``(0.5, 3.5)``, the far end of the U; with
    ``random_goal=True`` goals are drawn uniformly from free space away from the start).
    ``start_box`` / ``goal_box`` (``(x_min, y_min, x_max, y_max)``) instead draw the start / the
    goal uniformly from the free part of a box every episode (an evaluation over many
    start/goal pairs).

    Spaces:
        observation: ``Dict(observation, achieved_goal, desired_goal)``, each ``Box(0, size,
        (2,), float32)``; ``observation`` and ``achieved_goal`` are the position.
        action: ``Box(-1, 1, (2,), float32)``, a displacement of ``max_step · action`` per step,
        stopped at walls (see :func:`move_with_collision`).

    Rewards: sparse (default) ``0`` within ``goal_radius`` of the goal, else ``-1``; ``"dense"``
    gives ``-‖position − goal‖``. :meth:`compute_reward` is vectorised over batches.

    Episodes: ``terminated`` when the goal is reached, ``truncated`` after ``max_steps`` steps;
    ``info["is_success"]`` says whether the goal was reached.

    Version history:
        v0: initial version.
        v0.1: ``start_box`` and ``goal_box`` (defaults unchanged).
    """

    observation_space: spaces.Dict

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        size: float = 4.0,
        walls: tuple[Box2D, ...] = U_MAZE_WALLS,
        start: tuple[float, float] = (0.5, 0.5),
        goal: tuple[float, float] = (0.5, 3.5),
        goal_radius: float = 0.5,
        max_step: float = 0.25,
        max_steps: int = 200,
        reward_type: str = "sparse",
        random_goal: bool = False,
        start_box: Box2D | None = None,
        goal_box: Box2D | None = None,
    ) -> None:
        if reward_type not in ("sparse", "dense"):
            raise ValueError("reward_type must be 'sparse' or 'dense'")
        self.size = float(size)
        self.walls = tuple(
            extend_past_edges(tuple(float(v) for v in w), self.size)  # type: ignore[arg-type]
            for w in walls
        )
        self.start = np.asarray(start, dtype=np.float64)
        self.goal = np.asarray(goal, dtype=np.float64)
        if inside_wall(self.start, self.walls) or inside_wall(self.goal, self.walls):
            raise ValueError("start and goal must lie outside the walls")
        self.goal_radius = float(goal_radius)
        self.max_step = float(max_step)
        self.max_steps = int(max_steps)
        self.reward_type = reward_type
        self.random_goal = bool(random_goal)
        self.start_box = None if start_box is None else tuple(float(v) for v in start_box)
        self.goal_box = None if goal_box is None else tuple(float(v) for v in goal_box)
        box = spaces.Box(0.0, self.size, shape=(2,), dtype=np.float32)
        self.observation_space = spaces.Dict(
            {"observation": box, "achieved_goal": box, "desired_goal": box}
        )
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._position = self.start.copy()
        self._goal = self.goal.copy()
        self._steps = 0

    def compute_reward(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None
    ) -> np.ndarray:
        distance = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
        if self.reward_type == "dense":
            return (-distance).astype(np.float32)
        return np.where(distance <= self.goal_radius, 0.0, -1.0).astype(np.float32)

    def compute_terminated(
        self, achieved_goal: np.ndarray, desired_goal: np.ndarray, info: Any = None
    ) -> np.ndarray:
        distance = np.linalg.norm(np.asarray(achieved_goal) - np.asarray(desired_goal), axis=-1)
        return distance <= self.goal_radius

    def _obs(self) -> dict[str, np.ndarray]:
        position = self._position.astype(np.float32)
        return {
            "observation": position,
            "achieved_goal": position.copy(),
            "desired_goal": self._goal.astype(np.float32),
        }

    def _sample_in(self, box: tuple[float, ...]) -> np.ndarray:
        """A uniform free point of ``box`` (rejection sampling)."""
        while True:
            point = self.np_random.uniform(box[:2], box[2:])
            if not inside_wall(point, self.walls):
                return point

    def _sample_goal(self) -> np.ndarray:
        if self.goal_box is not None:
            return self._sample_in(self.goal_box)
        while True:
            goal = self.np_random.uniform(0.25, self.size - 0.25, size=2)
            far = np.linalg.norm(goal - self._position) > 2 * self.goal_radius
            if far and not inside_wall(goal, self.walls):
                return goal

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if self.start_box is not None:
            self._position = self._sample_in(self.start_box)
        else:
            jitter = self.np_random.uniform(-0.1, 0.1, size=2)
            self._position = np.clip(self.start + jitter, 0.0, self.size)
        random_goal = self.random_goal or self.goal_box is not None
        self._goal = self._sample_goal() if random_goal else self.goal.copy()
        self._steps = 0
        return self._obs(), {"is_success": False}

    def step(
        self, action: np.ndarray
    ) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        delta = self.max_step * np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        self._position = move_with_collision(self._position, delta, self.walls, self.size)
        self._steps += 1
        reward = float(self.compute_reward(self._position, self._goal))
        success = bool(self.compute_terminated(self._position, self._goal))
        truncated = self._steps >= self.max_steps
        return self._obs(), reward, success, truncated, {"is_success": success}
