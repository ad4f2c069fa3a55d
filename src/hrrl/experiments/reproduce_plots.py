"""The PNG figures of ``hrrl reproduce``: learning curves, success and optimality against target
size, and one drawn solution path with its forbidden states."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hrrl.core.report import new_figure, save_figure
from hrrl.experiments.reproduce_methods import METHOD_BY_NAME
from hrrl.experiments.reproduce_report import (
    Record,
    by_method,
    efficiency,
    metric_over_seeds,
    success_rate,
)
from hrrl.experiments.reproduce_tables import categories_of
from hrrl.suites.builtin import PAPER_PROBLEMS

MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*")


def plot_learning_curves(records: Sequence[Record], methods: Sequence[str], path: Path) -> Path:
    """Training success rate against the fraction of each method's budget (mean over seeds)."""
    fig, ax = new_figure(7, 4)
    grid = np.linspace(0.05, 1.0, 20)
    grouped = by_method(records)
    for index, method in enumerate(methods):
        curves = [
            _on_grid(r["curve"], grid) for r in grouped.get(method, []) if r["curve"].get("x")
        ]
        if not curves:
            continue
        style = "--" if METHOD_BY_NAME[method].group == "ablation" else "-"
        mean = _nan_mean(np.asarray(curves), axis=0)
        ax.plot(
            grid,
            mean,
            style,
            marker=MARKERS[index % len(MARKERS)],
            markersize=3,
            label=METHOD_BY_NAME[method].label,
        )
    ax.set_xlabel("fraction of the training budget")
    ax.set_ylabel("success rate of training episodes")
    ax.set_ylim(-0.02, 1.02)
    if ax.get_lines():
        ax.legend(fontsize=7)
    ax.set_title("Learning curves (mean over seeds)")
    return save_figure(fig, path)


def _nan_mean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Mean ignoring nan; nan (without a warning) where every value is nan."""
    finite = ~np.isnan(values)
    total = np.where(finite, values, 0.0).sum(axis=axis)
    count = finite.sum(axis=axis)
    return np.divide(total, count, out=np.full(np.shape(total), np.nan), where=count > 0)


def _on_grid(curve: dict[str, list[float]], grid: np.ndarray) -> np.ndarray:
    x = np.asarray(curve["x"], dtype=float)
    y = np.asarray(curve["success_rate"], dtype=float)
    return np.interp(grid, x / x.max(), y, left=np.nan)


def plot_by_target(records: Sequence[Record], methods: Sequence[str], path: Path) -> Path:
    """Success rate and optimality (mean over seeds) per target-size category, one line per
    method; sparse and dense categories side by side."""
    import matplotlib.pyplot as plt

    categories = categories_of(records)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex="col")
    grouped = by_method(records)
    for column, kind in enumerate(("sparse", "dense")):
        chosen = [c for c in categories if kind in c or (kind == "sparse" and "heldout" not in c)]
        ticks = np.arange(len(chosen))
        for index, method in enumerate(methods):
            runs = grouped.get(method, [])
            if not runs:
                continue
            offset = (index - (len(methods) - 1) / 2) * 0.03
            for row, metric in enumerate((success_rate, efficiency)):
                values = [_nan_mean(np.asarray(metric_over_seeds(runs, metric, c))) for c in chosen]
                axes[row, column].plot(
                    ticks + offset,
                    values,
                    marker=MARKERS[index % len(MARKERS)],
                    alpha=0.85,
                    label=METHOD_BY_NAME[method].label,
                )
        for row, name in enumerate(("success rate", "optimality (optimal/steps)")):
            ax = axes[row, column]
            ax.set_xticks(ticks, [c.replace("heldout-", "") for c in chosen], fontsize=7)
            ax.set_ylabel(name)
            ax.set_ylim(-0.02, 1.02)
            ax.set_title(f"{kind} forbidden sets: {name}", fontsize=9)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return save_figure(fig, path)


def plot_solution_path(records: Sequence[Record], method: str, path: Path) -> Path:
    """The positions ``method`` (first seed) visited on the paper's T = 278 problem, above the
    optimal path's, on one number line with the forbidden states marked."""
    problem = PAPER_PROBLEMS[1]
    fig, ax = new_figure(10, 2.8)
    labels = []
    for level, name in enumerate(("optimal", method)):
        runs = by_method(records).get(name, [])
        row = next((r for r in runs[0]["rows"] if r["id"] == problem.id), None) if runs else None
        if row is None or not row.get("path"):
            continue
        positions = np.asarray(row["path"])
        ax.plot(positions, np.full(positions.size, level), "-o", markersize=3)
        labels.append(
            (level, f"{METHOD_BY_NAME[name].label}\n{row['status']}, {row['steps']} steps")
        )
    forbidden = sorted(problem.forbidden)
    for level, _ in labels:
        ax.plot(forbidden, [level] * len(forbidden), "rx", markersize=9, mew=2)
        ax.plot([problem.target], [level], "g*", markersize=12)
    ax.set_yticks([lv for lv, _ in labels], [text for _, text in labels], fontsize=8)
    ax.set_ylim(-0.6, max(1, len(labels)) - 0.4)
    ax.set_xlabel("position (red ×: forbidden, green ★: target)")
    ax.set_title(f"Solution path on {problem.id}")
    return save_figure(fig, path)
