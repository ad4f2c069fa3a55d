"""Drawing one solved problem: the forbidden field, the path taken and the manager's subgoals.

Long problems get zoomed windows: one panel around each of the (up to ``PANELS``) stretches where
the path deviates from cruising with the largest move, or evenly spaced windows when it never does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hrrl.core.report import save_figure
from hrrl.problem import Problem

ZOOM = 400
"""Problems spanning more cells than this are drawn in zoomed windows."""
PANELS = 4
HALF = 60
"""Half-width of a zoomed window (cells)."""


def _windows(problem: Problem, path: Sequence[int]) -> list[tuple[int, int]]:
    lo = min(min(path), problem.target, problem.start)
    hi = max(max(path), problem.target, problem.start)
    if hi - lo <= ZOOM:
        return [(lo - 2, hi + 2)]
    steps = np.diff(np.asarray(path))
    top = int(np.max(np.abs(steps))) if steps.size else 1
    unusual = np.flatnonzero(np.abs(steps) != top)
    centres: list[int] = []
    for i in unusual.tolist():
        x = int(path[i])
        if all(abs(x - c) > 2 * HALF for c in centres):
            centres.append(x)
        if len(centres) == PANELS:
            break
    if not centres:
        centres = [int(c) for c in np.linspace(lo + HALF, hi - HALF, PANELS)]
    return [(c - HALF, c + HALF) for c in sorted(centres)]


def plot_solution(
    problem: Problem,
    path: Sequence[int],
    subgoals: Sequence[int],
    out: str | Path,
    title: str = "",
) -> Path:
    """Write a PNG: forbidden states (red ticks), positions over steps (line), subgoals (stars)."""
    from hrrl.core.report import new_figure

    windows = _windows(problem, path)
    fig, first = new_figure(width=10, height=2.6 * len(windows))
    fig.clf()
    axes = fig.subplots(len(windows), 1, squeeze=False)[:, 0]
    forbidden = np.array(sorted(problem.forbidden), dtype=np.int64)
    positions = np.asarray(path)
    steps = np.arange(len(path))
    goal_steps = [int(np.flatnonzero(positions == g)[0]) for g in subgoals if g in set(path)]
    for ax, (a, b) in zip(axes, windows, strict=True):
        inside = (positions >= a) & (positions <= b)
        shown = forbidden[(forbidden >= a) & (forbidden <= b)]
        s_lo = int(steps[inside].min()) if inside.any() else 0
        s_hi = int(steps[inside].max()) if inside.any() else len(path)
        ax.vlines(shown, s_lo - 1, s_hi + 1, color="tab:red", alpha=0.35, lw=1, label="forbidden")
        ax.plot(
            positions[inside], steps[inside], "-o", ms=2.5, lw=1, color="tab:blue", label="path"
        )
        gx = [path[s] for s in goal_steps if a <= path[s] <= b]
        gy = [s for s in goal_steps if a <= path[s] <= b]
        ax.plot(gx, gy, "*", ms=11, color="tab:orange", label="manager subgoals")
        for x in (problem.start, problem.target):
            if a <= x <= b:
                ax.axvline(x, color="black", lw=1, ls="--")
        ax.set_xlim(a, b)
        ax.set_ylabel("step")
        ax.set_xlabel("position")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[0].set_title(title or f"{problem.start} → {problem.target}, moves {problem.actions}")
    del first
    return save_figure(fig, out)
