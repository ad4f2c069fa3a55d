"""Censored learning-speed summaries shared by the Four Rooms experiments (option discovery, HAM).

A trial records, per (goal, method), the episodes it took to reach a criterion, or ``None`` when it
never did within the budget; a censored trial counts at the budget, so a mean over censored trials
is a bound, and a ratio of such means is marked ≥ / ≤ / ? accordingly.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from hrrl.core.stats import mean_ci

REFERENCE = "flat-Q"
"""The method every speedup is measured against."""


def pick(trials: list[dict[str, Any]], goal: str, method: str, key: str) -> list[Any]:
    """``key`` of every trial of ``method`` on ``goal``, in trial order."""
    return [t[key] for t in trials if t["goal"] == goal and t["method"] == method]


def censored_summary(
    trials: list[dict[str, Any]],
    key: str,
    budget: int,
    floor: int,
    goals: Collection[str],
    methods: Collection[str],
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per goal and method: mean, 95 % CI clipped to [floor, budget], censored count, n."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for goal in goals:
        out[goal] = {}
        for method in methods:
            raw = pick(trials, goal, method, key)
            ci = mean_ci([budget if v is None else v for v in raw])
            half = 0.0 if np.isnan(ci.half_width) else ci.half_width
            out[goal][method] = {
                "mean": ci.mean,
                "ci95": [max(floor, ci.mean - half), min(budget, ci.mean + half)],
                "never": sum(v is None for v in raw),
                "n": ci.n,
            }
    return out


def speedup(summary: dict[str, Any], goal: str, method: str) -> str:
    """reference / method (ratio of means), marked ≥ / ≤ / ? where censoring makes it a bound."""
    flat, mine = summary[goal][REFERENCE], summary[goal][method]
    ratio = flat["mean"] / mine["mean"]
    if method == REFERENCE:
        return "1 (reference)"
    mark = {(False, False): "", (True, False): "≥ ", (False, True): "≤ ", (True, True): "? "}[
        (flat["never"] > 0, mine["never"] > 0)
    ]
    return f"{mark}{ratio:.2f}×"


def cell(entry: dict[str, Any]) -> str:
    """``mean [low, high] (k never)`` for a table."""
    low, high = entry["ci95"]
    text = f"{entry['mean']:.0f} [{low:.0f}, {high:.0f}]"
    return text + (f" ({entry['never']} never)" if entry["never"] else "")
