"""Four Rooms options report: the claim, per-measure summaries, the step-size grid and verdicts
(sections: :mod:`hrrl.experiments._four_rooms_sections`; wiring in
:mod:`hrrl.experiments.four_rooms_options`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hrrl.core.stats import mean_ci
from hrrl.tasks.four_rooms import GOALS

METHODS = ("flat-Q", "SMDP-Q", "intra-option-Q")
"""Flat Q-learning, SMDP Q-learning and intra-option Q-learning (both over options + primitives)."""
NEAR_OPTIMAL = 1.10
"""Greedy expected steps ≤ this × optimal counts as near-optimal (the headline criterion)."""
ROUGH = 1.50
"""A looser criterion (≤ 150 % of optimal) that shows the early phase of learning."""
GAMMA = 0.9
PUBLISHED_SPEEDUP = "3–5×"
CLAIM_RANGE = (3.0, 5.0)
CLAIM_SOURCE = "survey, seed 001 line 54"
CLAIM_QUOTE = "Q-learning with Options 3-5x faster than vanilla Q-learning"
STEP_SIZE_GRID = (0.05, 0.1, 0.25, 0.5)
"""Step sizes every method is run with (fixed before any result was seen); best per method is
the lowest mean episodes to the criterion (ties: fewer censored seeds, then the smaller α)."""
STEP_SIZE_GRID_EXTENSION = (0.75, 1.0)
"""Added after the grid above was run: SMDP-Q's best α was its top value (0.5), so the grid did
not show whether a larger step size does better still."""
STEPS_FACTOR = 2.0
"""Steps-per-episode criterion: a block of ``eval_every`` training episodes whose mean steps are
≤ this × the optimal expected steps (the ε-greedy behaviour never gets to the optimum itself)."""
EARLY = 100
"""Training episodes averaged for the early steps-per-episode comparison."""

STEPS_KEY = "episodes_to_steps_criterion"


def steps_criterion_episode(
    episode_steps: list[int], optimum: float, block: int, factor: float = STEPS_FACTOR
) -> int | None:
    """The last episode of the first block of ``block`` training episodes whose mean steps are
    ≤ ``factor`` × ``optimum`` (None: no such block)."""
    for end in range(block, len(episode_steps) + 1, block):
        if float(np.mean(episode_steps[end - block : end])) <= factor * optimum:
            return end
    return None


def best_of_grid(grid: dict[str, dict[str, Any]], budget: int) -> dict[str, Any]:
    """Per goal and method, the step size with the lowest mean episodes (ties: fewer censored
    seeds, then the smaller α), its summary cell and the best-vs-best speedup over flat Q."""
    alpha: dict[str, dict[str, str]] = {}
    cell: dict[str, dict[str, str]] = {}
    speedup: dict[str, dict[str, float]] = {}
    bound: dict[str, dict[str, str]] = {}
    for goal in GOALS:
        alpha[goal], cell[goal] = {}, {}
        for method in METHODS:
            a = min(
                grid,
                key=lambda k: (
                    grid[k]["mean"][goal][method],
                    grid[k]["not_reached"][goal][method],
                    float(k),
                ),
            )
            alpha[goal][method] = a
            cell[goal][method] = episodes_cell(grid[a], goal, method)
        flat = grid[alpha[goal]["flat-Q"]]
        speedup[goal], bound[goal] = {}, {}
        for method in METHODS[1:]:
            mine = grid[alpha[goal][method]]
            speedup[goal][method] = flat["mean"][goal]["flat-Q"] / mine["mean"][goal][method]
            mine_cut = mine["not_reached"][goal][method] > 0
            flat_cut = flat["not_reached"][goal]["flat-Q"] > 0
            bound[goal][method] = (
                "? " if mine_cut and flat_cut else "≤ " if mine_cut else "≥ " if flat_cut else ""
            )
    return {"alpha": alpha, "cell": cell, "speedup": speedup, "bound": bound}


def verdict(speedup: float, bound: str) -> str:
    """Our speedup (with its censoring bound) against the claimed 3–5× range."""
    low, high = CLAIM_RANGE
    lo = 0.0 if bound.strip() in ("≤", "?") else speedup
    hi = np.inf if bound.strip() in ("≥", "?") else speedup
    text = f"{bound}{speedup:.2f}×"
    if hi < low:
        gap = f"{low / speedup:.1f}× short of {low:.0f}×"
        return f"**not reproduced**: {text} against {PUBLISHED_SPEEDUP}, {gap}"
    if lo > high:
        return f"above the claimed range: {text} against {PUBLISHED_SPEEDUP}"
    if lo >= low and hi <= high:
        return f"reproduced: {text}"
    return f"undetermined: {text} (censored runs; the bound straddles {PUBLISHED_SPEEDUP})"


def summarise(trials: list[dict[str, Any]], key: str, budget: int) -> dict[str, Any]:
    """Per goal and method: mean ± CI of ``key`` (the budget where never reached), speedups.

    Speedup = mean episodes of flat Q / mean episodes of the method (ratio of means).
    """
    out: dict[str, Any] = {"mean": {}, "ci95": {}, "not_reached": {}, "speedup": {}}
    for goal in GOALS:
        for field in ("mean", "ci95", "not_reached"):
            out[field][goal] = {}
        for method in METHODS:
            counts = [t[key] for t in trials if t["goal"] == goal and t["method"] == method]
            ci = mean_ci([budget if c is None else c for c in counts])
            out["mean"][goal][method] = ci.mean
            out["ci95"][goal][method] = None if np.isnan(ci.half_width) else ci.half_width
            out["not_reached"][goal][method] = sum(c is None for c in counts)
        flat = out["mean"][goal]["flat-Q"]
        out["speedup"][goal] = {m: flat / out["mean"][goal][m] for m in METHODS if m != "flat-Q"}
    return out


def episodes_cell(summary: dict[str, Any], goal: str, method: str) -> str:
    mean, half = summary["mean"][goal][method], summary["ci95"][goal][method]
    missed = summary["not_reached"][goal][method]
    text = f"{mean:.0f}" if half is None else f"{mean:.0f} ± {half:.0f}"
    return text + (f" ({missed} never)" if missed else "")


def speedup_cell(summary: dict[str, Any], goal: str, method: str) -> str:
    speed = summary["speedup"][goal].get(method)
    if speed is None:
        return "1 (reference)"
    return f"{bound_cell(summary, goal, method)}{speed:.2f}×"


def bound_cell(summary: dict[str, Any], goal: str, method: str) -> str:
    """ "≤", "≥" or "?" when censored counts make the speedup a bound or undetermined."""
    method_cut = summary["not_reached"][goal][method] > 0
    flat_cut = summary["not_reached"][goal]["flat-Q"] > 0
    if method_cut and flat_cut:
        return "? "
    return "≤ " if method_cut else ("≥ " if flat_cut else "")
