"""Offline goal-conditioned navigation: a giant-style point maze and a noisy-expert "navigate"
dataset that the library generates itself (no downloads), cached on disk.

The maze is the library's own point maze (:class:`hrrl.envs.point_maze.PointMazeEnv`: a point
displaced by ``max_step · action`` per step, swept against axis-aligned walls) on an 11 × 11 grid
of unit cells (:data:`GIANT_LAYOUT`, corridors one cell wide, with loops). Its layout is ours, in
the style of OGBench's ``giant`` mazes (long corridors, many turns); it is *not* OGBench's map.
OGBench's own ``pointmaze`` (package ``ogbench`` 1.2.2) needs MuJoCo ≥ 3.1.6 and dm_control ≥
1.0.20 and MuJoCo physics per step; this numpy maze keeps the dataset and the tests cheap on a CPU.

The dataset follows the recipe OGBench describes for its ``navigate`` datasets: an expert walks to
a random goal cell along the shortest path on the maze's cell graph (waypoints: the centres of the
next cells), with Gaussian noise on its actions, and picks a new random goal whenever it arrives;
episodes have a fixed length. Everything is seeded; :func:`navigate_dataset` caches the arrays under
a key made of its parameters and a digest of this module's source (atomic writes), so a changed
generator never serves a stale file.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hrrl.core.atomic import atomic_write_bytes
from hrrl.envs.point_maze import Box2D, PointMazeEnv, extend_past_edges

GIANT_LAYOUT = (
    ".....#.....",
    ".###.#.###.",
    ".#...#...#.",
    ".#.#####.#.",
    "...#...#...",
    "##.#.#.#.#.",
    "...#.#...#.",
    ".###.#####.",
    ".#...#.....",
    ".#.###.###.",
    "...#.......",
)
"""Row ``r`` covers ``y ∈ [r, r+1]``, column ``c`` covers ``x ∈ [c, c+1]``; ``#`` is a wall."""


@dataclass(frozen=True)
class MazeLayout:
    """A square grid maze of unit cells."""

    rows: tuple[str, ...] = GIANT_LAYOUT

    @property
    def size(self) -> int:
        return len(self.rows)

    def free(self) -> np.ndarray:
        """``free[r, c]``: whether cell (row r, column c) is open."""
        return np.array([[ch != "#" for ch in row] for row in self.rows])

    def walls(self) -> tuple[Box2D, ...]:
        """Wall boxes, one per horizontal run of wall cells, as ``(x_min, y_min, x_max, y_max)``."""
        boxes: list[Box2D] = []
        for r, row in enumerate(self.rows):
            c = 0
            while c < len(row):
                if row[c] == "#":
                    start = c
                    while c < len(row) and row[c] == "#":
                        c += 1
                    boxes.append((float(start), float(r), float(c), float(r + 1)))
                else:
                    c += 1
        return tuple(boxes)

    def cells(self) -> np.ndarray:
        """Open cells as ``(row, col)`` pairs, in row-major order (their index is the node id)."""
        return np.argwhere(self.free())

    def centre(self, cell: np.ndarray) -> np.ndarray:
        """Centre ``(x, y)`` of cells given as ``(row, col)``."""
        cell = np.asarray(cell)
        return np.stack([cell[..., 1] + 0.5, cell[..., 0] + 0.5], axis=-1).astype(np.float64)


def cell_graph(layout: MazeLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node ids per grid cell (-1 for walls), BFS hop distances between open cells, and
    ``next_hop[goal, node]``: the neighbour of ``node`` one step closer to ``goal``."""
    free = layout.free()
    cells = layout.cells()
    node = -np.ones(free.shape, dtype=np.int64)
    node[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
    n = len(cells)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    for i, (r, c) in enumerate(cells):
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < layout.size and 0 <= cc < layout.size and free[rr, cc]:
                neighbours[i].append(int(node[rr, cc]))
    dist = np.full((n, n), -1, dtype=np.int64)
    next_hop = np.tile(np.arange(n), (n, 1))
    for goal in range(n):
        dist[goal, goal] = 0
        queue = deque([goal])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if dist[goal, there] < 0:
                    dist[goal, there] = dist[goal, here] + 1
                    next_hop[goal, there] = here
                    queue.append(there)
    return node, dist, next_hop


def maze_env(
    layout: MazeLayout = MazeLayout(), max_steps: int = 600, **kwargs: object
) -> PointMazeEnv:
    """The maze as a Gymnasium env (a :class:`PointMazeEnv`), start and goal cell centres."""
    cells = layout.cells()
    start, goal = layout.centre(cells[0]), layout.centre(cells[-1])
    return PointMazeEnv(size=float(layout.size), walls=layout.walls(),
                        start=(float(start[0]), float(start[1])),
                        goal=(float(goal[0]), float(goal[1])),
                        max_steps=max_steps, **kwargs)  # type: ignore[arg-type]  # fmt: skip


def batch_move(
    positions: np.ndarray, deltas: np.ndarray, walls: tuple[Box2D, ...], size: float
) -> np.ndarray:
    """:func:`hrrl.envs.point_maze.move_with_collision` for a batch of points (same sweep: x, then
    y, each stopped at the first wall face; ``walls`` already extended past the edges)."""
    moved = np.array(positions, dtype=np.float64)
    for axis in (0, 1):
        other = 1 - axis
        start = moved[:, axis].copy()
        end = start + deltas[:, axis]
        for wall in walls:
            lo, hi = wall[axis], wall[axis + 2]
            level = (wall[other] < moved[:, other]) & (moved[:, other] < wall[other + 2])
            hit_lo = level & (deltas[:, axis] > 0) & (start <= lo) & (lo < end)
            hit_hi = level & (deltas[:, axis] < 0) & (end < hi) & (hi <= start)
            end = np.where(hit_lo, lo, np.where(hit_hi, hi, end))
        moved[:, axis] = np.clip(end, 0.0, size)
    return moved


@dataclass(frozen=True)
class NavigateParams:
    """What a navigate dataset is made from (all part of its cache key)."""

    episodes: int = 500
    """Episodes (independent expert walks)."""
    episode_length: int = 500
    """Actions per episode (each episode stores one more observation)."""
    noise: float = 0.2
    """Std of the Gaussian noise added to the expert's unit-speed action (then clipped to ±1)."""
    max_step: float = 0.25
    """Displacement of a full action, in cells."""
    arrive_radius: float = 0.3
    """Within this distance of the goal cell's centre the expert picks a new goal."""
    seed: int = 0
    layout: tuple[str, ...] = GIANT_LAYOUT


@dataclass(frozen=True)
class OfflineDataset:
    """Episodes of equal length: ``observations[e, t]`` for ``t = 0..T``, ``actions[e, t]`` for
    ``t < T`` (the action from ``observations[e, t]`` to ``observations[e, t+1]``)."""

    observations: np.ndarray
    """(episodes, T + 1, 2) float32 positions."""
    actions: np.ndarray
    """(episodes, T, 2) float32 actions in [-1, 1]."""
    params: NavigateParams
    generation_s: float
    """Seconds it took to generate (not to load from the cache)."""
    from_cache: bool = False

    @property
    def transitions(self) -> int:
        return int(self.actions.shape[0] * self.actions.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.observations.nbytes + self.actions.nbytes)


def generate_navigate(params: NavigateParams) -> OfflineDataset:
    """Noisy expert walks (vectorised over episodes); deterministic under ``params.seed``."""
    started = time.perf_counter()
    layout = MazeLayout(params.layout)
    size = float(layout.size)
    walls = tuple(extend_past_edges(w, size) for w in layout.walls())
    node, _, next_hop = cell_graph(layout)
    cells = layout.cells()
    rng = np.random.default_rng([params.seed, 16])
    n, horizon = params.episodes, params.episode_length
    start_cells = rng.integers(len(cells), size=n)
    pos = layout.centre(cells[start_cells]) + rng.uniform(-0.4, 0.4, size=(n, 2))
    goal = _new_goals(rng, start_cells, len(cells))
    obs = np.empty((n, horizon + 1, 2), dtype=np.float32)
    act = np.empty((n, horizon, 2), dtype=np.float32)
    for t in range(horizon):
        obs[:, t] = pos
        here = node[np.clip(pos[:, 1].astype(int), 0, layout.size - 1),
                    np.clip(pos[:, 0].astype(int), 0, layout.size - 1)]  # fmt: skip
        goal_centre = layout.centre(cells[goal])
        arrived = (here == goal) & (
            np.linalg.norm(pos - goal_centre, axis=1) < params.arrive_radius
        )
        if arrived.any():
            goal = np.where(arrived, _new_goals(rng, here, len(cells)), goal)
        waypoint = layout.centre(cells[next_hop[goal, here]])
        waypoint = np.where((here == goal)[:, None], layout.centre(cells[goal]), waypoint)
        direction = waypoint - pos
        direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), 1e-9)
        action = np.clip(direction + params.noise * rng.normal(size=(n, 2)), -1.0, 1.0)
        act[:, t] = action
        pos = batch_move(pos, params.max_step * action.astype(np.float32).astype(np.float64),
                         walls, size)  # fmt: skip
    obs[:, horizon] = pos
    return OfflineDataset(obs, act, params, time.perf_counter() - started)


def _new_goals(rng: np.random.Generator, current: np.ndarray, n_cells: int) -> np.ndarray:
    """A uniform open cell other than ``current`` for each walker."""
    draw = rng.integers(n_cells - 1, size=len(current))
    return np.where(draw >= current, draw + 1, draw)


def _source_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def dataset_key(params: NavigateParams) -> str:
    """The cache key: a digest of the parameters and of this module's source."""
    text = json.dumps({"params": asdict(params), "code": _source_digest()}, sort_keys=True)
    return f"navigate-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def navigate_dataset(params: NavigateParams, cache_dir: str | Path | None = None) -> OfflineDataset:
    """The dataset for ``params``: read from ``cache_dir`` if there, else generated (and written
    there atomically as an ``.npz`` of plain arrays, loaded without pickle)."""
    path = None if cache_dir is None else Path(cache_dir) / f"{dataset_key(params)}.npz"
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as data:
            return OfflineDataset(data["observations"], data["actions"], params,
                                  float(data["generation_s"]), from_cache=True)  # fmt: skip
    dataset = generate_navigate(params)
    if path is not None:
        buffer = io.BytesIO()
        np.savez(buffer, observations=dataset.observations, actions=dataset.actions,
                 generation_s=np.float64(dataset.generation_s))  # fmt: skip
        atomic_write_bytes(path, buffer.getvalue())
    return dataset


@dataclass(frozen=True)
class EvalTask:
    start: tuple[float, float]
    goal: tuple[float, float]
    shortest_cells: int
    """Hops between the start and goal cells on the cell graph."""


def evaluation_tasks(layout: MazeLayout = MazeLayout(), n: int = 5) -> list[EvalTask]:
    """``n`` fixed start/goal pairs: the farthest pair of open cells, then pairs spread over the
    distance ranking's top quarter (deterministic; no randomness)."""
    _, dist, _ = cell_graph(layout)
    cells = layout.cells()
    pairs = [(int(dist[i, j]), i, j) for i in range(len(cells)) for j in range(i + 1, len(cells))]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    top = pairs[: max(n, len(pairs) // 4)]
    chosen = [top[round(k * (len(top) - 1) / max(1, n - 1))] for k in range(n)]
    out = []
    for d, i, j in chosen:
        s, g = layout.centre(cells[i]), layout.centre(cells[j])
        out.append(EvalTask((float(s[0]), float(s[1])), (float(g[0]), float(g[1])), d))
    return out


def rollout_success(
    act: object,
    tasks: list[EvalTask],
    episodes: int,
    max_steps: int,
    seed: int,
    layout: MazeLayout = MazeLayout(),
    max_step: float = 0.25,
    goal_radius: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``act(positions, goals) -> actions`` (batched, deterministic) from every task's start
    (jittered ±0.1 per episode, seeded) for ``max_steps``; success = within ``goal_radius`` of the
    goal at any step. Returns success per (task, episode) and the final positions."""
    assert callable(act)
    size = float(layout.size)
    walls = tuple(extend_past_edges(w, size) for w in layout.walls())
    rng = np.random.default_rng([seed, 17])
    starts = np.repeat(np.array([t.start for t in tasks]), episodes, axis=0)
    goals = np.repeat(np.array([t.goal for t in tasks]), episodes, axis=0)
    pos = starts + rng.uniform(-0.1, 0.1, size=starts.shape)
    success = np.zeros(len(pos), dtype=bool)
    for _ in range(max_steps):
        action = np.clip(np.asarray(act(pos.astype(np.float32), goals.astype(np.float32))), -1, 1)
        pos = np.where(success[:, None], pos, batch_move(pos, max_step * action, walls, size))
        success |= np.linalg.norm(pos - goals, axis=1) <= goal_radius
        if success.all():
            break
    return success.reshape(len(tasks), episodes), pos
