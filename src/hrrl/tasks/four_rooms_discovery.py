"""Four Rooms knowledge for option discovery: cell coordinates as features, pictures on the grid.

The discovery learners (:mod:`hrrl.agents.option_discovery`) read only the transition model; this
module supplies what is specific to Four Rooms: the (row, column) of each state as DIAYN's
discriminator input, and drawings of centrality, eigenvectors and skills on the map.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.core.report import new_figure, save_figure
from hrrl.envs.four_rooms import HALLWAYS, LAYOUT, FourRoomsEnv


def coordinate_features(env: FourRoomsEnv) -> np.ndarray:
    """(S, 2): each cell's (row, column) scaled to [0, 1], the discriminator's observation."""
    size = len(LAYOUT) - 1
    return np.array([[r / size, c / size] for r, c in env.cells])


def grid_values(env: FourRoomsEnv, values: np.ndarray) -> np.ndarray:
    """Per-state values on the 13×13 map, NaN on walls (for ``imshow``)."""
    grid = np.full((len(LAYOUT), len(LAYOUT[0])), np.nan)
    for s, (r, c) in enumerate(env.cells):
        grid[r, c] = values[s]
    return grid


def _walls(ax: Any) -> None:
    wall = np.array([[1.0 if ch == "w" else np.nan for ch in row] for row in LAYOUT])
    ax.imshow(wall, cmap="Greys", vmin=0, vmax=1.2)
    ax.set_xticks([])
    ax.set_yticks([])


def _mark(ax: Any, cells: Sequence[tuple[int, int]], **style: Any) -> None:
    if cells:
        ax.scatter([c for _, c in cells], [r for r, _ in cells], **style)


def draw_discovery(
    env: FourRoomsEnv,
    centrality: np.ndarray,
    peaks: Sequence[int],
    subgoals: Sequence[int],
    eigenvectors: np.ndarray,
    eigen_stops: Sequence[Sequence[int]],
    skill_probs: np.ndarray,
    path: str | Path,
) -> Path:
    """Four panels: betweenness + subgoals, two eigenvectors + where their options stop, DIAYN."""
    fig, axes = new_figure(16.0, 4.4)
    fig.delaxes(axes)
    panels = [fig.add_subplot(1, 4, i + 1) for i in range(4)]
    ax = panels[0]
    im = ax.imshow(grid_values(env, centrality), cmap="viridis")
    _walls(ax)
    _mark(ax, list(HALLWAYS), marker="s", s=160, facecolors="none", edgecolors="cyan", lw=2,
          label="hand-made hallways")  # fmt: skip
    _mark(ax, [env.cells[p] for p in peaks], marker="x", s=70, c="red", label="betweenness peaks")
    _mark(ax, [env.cells[g] for g in subgoals], marker="o", s=30, c="orange",
          label="subgoals (narrowest cell)")  # fmt: skip
    ax.set_title("betweenness centrality")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7, ncol=1)
    fig.colorbar(im, ax=ax, fraction=0.046)
    for i in range(2):
        ax = panels[1 + i]
        im = ax.imshow(grid_values(env, eigenvectors[:, i]), cmap="coolwarm")
        _walls(ax)
        plus, minus = eigen_stops[2 * i], eigen_stops[2 * i + 1]
        _mark(ax, [env.cells[s] for s in plus], marker="^", s=25, c="black",
              label=f"eig{i + 1}+ stops")  # fmt: skip
        _mark(ax, [env.cells[s] for s in minus], marker="v", s=25, c="green",
              label=f"eig{i + 1}− stops")  # fmt: skip
        ax.set_title(f"Laplacian eigenvector {i + 1}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), fontsize=7, ncol=2)
        fig.colorbar(im, ax=ax, fraction=0.046)
    ax = panels[3]
    labels = skill_probs.argmax(axis=1).astype(float)
    confident = skill_probs.max(axis=1)
    n_skills = skill_probs.shape[1]
    ax.imshow(grid_values(env, labels), cmap="tab10", vmin=0, vmax=9, alpha=0.35)
    ax.imshow(grid_values(env, np.where(confident >= 0.5, labels, np.nan)), cmap="tab10",
              vmin=0, vmax=9)  # fmt: skip
    _walls(ax)
    for z in range(n_skills):
        mine = np.flatnonzero(labels == z)
        if mine.size == 0:
            continue
        r, c = env.cells[int(mine[np.argmax(skill_probs[mine, z])])]
        ax.text(c, r, str(z), ha="center", va="center", fontsize=11, fontweight="bold")
    ax.set_title("DIAYN skills: argmax q(z|s) (solid where ≥ 0.5)", fontsize=10)
    save_figure(fig, path)
    return Path(path)
