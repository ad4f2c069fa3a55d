"""The point maze's oracle: the geodesic (free-space shortest-path) distance to the goal on a grid,
and how close a trajectory came to the goal by that distance.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from hrrl.envs.point_maze import PointMazeEnv, inside_wall


def geodesic_distance_map(
    env: PointMazeEnv, resolution: float = 0.1, target: tuple[float, float] | None = None
) -> np.ndarray:
    """Shortest free-space distance from every grid cell centre to ``target`` (default: the
    env's goal; ``inf`` in walls)."""
    cells = round(env.size / resolution)
    centres = (np.arange(cells) + 0.5) * resolution
    free = np.array([[not inside_wall(np.array([x, y]), env.walls) for y in centres]
                     for x in centres])  # fmt: skip
    index = np.arange(cells * cells).reshape(cells, cells)
    rows, cols, weights = [], [], []
    for i in range(cells):
        for j in range(cells):
            for di, dj in ((1, 0), (0, 1), (1, 1), (1, -1)):
                ni, nj = i + di, j + dj
                if 0 <= ni < cells and 0 <= nj < cells and free[i, j] and free[ni, nj]:
                    rows.append(index[i, j])
                    cols.append(index[ni, nj])
                    weights.append(resolution * np.hypot(di, dj))
    graph = coo_matrix((weights, (rows, cols)), shape=(cells * cells, cells * cells)).tocsr()
    x, y = env.goal if target is None else target
    goal_cell = index[cell_index(x, resolution, cells), cell_index(y, resolution, cells)]
    return dijkstra(graph, directed=False, indices=goal_cell).reshape(cells, cells)


def cell_index(coordinate: float, resolution: float, cells: int) -> int:
    """The grid cell of a coordinate (clipped to the grid)."""
    return int(min(cells - 1, max(0, coordinate // resolution)))


def closest_approach(
    traces: list[list[list[float]]], distances: np.ndarray, size: float = 4.0
) -> float:
    """Mean over episodes of the smallest geodesic distance to the goal along the trajectory
    (``distances`` from :func:`geodesic_distance_map` of a ``size × size`` arena)."""
    cells = distances.shape[0]
    resolution = size / cells
    best = []
    for trace in traces:
        points = np.asarray(trace)
        ix = np.clip((points[:, 0] // resolution).astype(int), 0, cells - 1)
        iy = np.clip((points[:, 1] // resolution).astype(int), 0, cells - 1)
        best.append(float(np.min(distances[ix, iy])))
    return float(np.mean(best))
