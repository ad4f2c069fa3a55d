"""The measurements of ``hard_report`` (:mod:`hrrl.experiments.hard_report`): its methods, the
learned values against the exact local distances, per-family statistics of result rows, and the
budgeted planners on infeasible problems."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.manager import ManagerPolicy, PlanStats, estimates
from hrrl.problem import Problem
from hrrl.solvers.checker import check_path
from hrrl.suites.hard import EXTRA_FAMILIES, FAMILIES
from hrrl.tasks.numberline_oracles import cost_to_go, local_distances

BUDGET = 128
"""Manager lookahead budget per decision (node pops) of the budgeted rows, fixed a priori."""
LEARNED = "v2 budgeted, expectile values + tree reuse (learned)"
UNIFORM = "v2 budgeted, tree reuse, uniform (no learned values)"
LEARNED_V0 = "v2 budgeted, squared-error values (learned; before)"
UNIFORM_V0 = "v2 budgeted uniform (no learned values; before)"
EXHAUSTIVE = "v2 exhaustive search (upper-bound row)"
BUDGETED = (LEARNED, UNIFORM, LEARNED_V0, UNIFORM_V0)
IMPROVED = "v2-budgeted-expectile"
"""The config of the first two rows (``config.PRESETS``): its own network (the 0.1-expectile
fit), commit 0.25 and tree reuse; the ``before`` rows are ``v2-budgeted`` on the ``v2`` network."""
ALL_FAMILIES = FAMILIES + EXTRA_FAMILIES
"""The report's families: the hard suite's and the gate family (``suites/hard.py``)."""
SLOW = ("hard-1e6",)
"""Families the step-by-step ablations (flat, paper waypoints, v1 default) are not run on: one
10^6 problem takes them ~1 min each (v1: 54 s measured in issue #10)."""
SPAN = V.AHEAD + 4 * V.MAX_MOVE
"""Offsets the exact local distances cover (the value network's window and four moves)."""


def exact_local_distances(problem: Problem, x: int, sign: int, depth: int) -> dict[int, int]:
    """Exact fewest moves from ``x`` to every offset (toward the target) within ``depth`` moves
    (breadth-first over the problem's field; the measurement's oracle, never the agent's)."""
    return local_distances(problem, x, sign, depth, SPAN)


def value_accuracy(
    net: V.NumpyValue, problems: Sequence[Problem], samples: int = 10
) -> dict[str, dict[str, float]]:
    """Per family: error of the learned steps-to-goal and of the free-line bound against the
    exact local distance, over goals 1..AHEAD−1 cells ahead of sampled free positions that the
    exact search reaches within 64 moves (fixed sample: ``default_rng(0)``)."""
    rng = np.random.default_rng(0)
    errors: dict[str, list[float]] = defaultdict(list)
    bound: dict[str, list[float]] = defaultdict(list)
    offsets = np.arange(V.WIDTH) - V.BEHIND
    for p in problems:
        family = str(p.extra["category"])
        sign = 1 if p.target > p.start else -1
        rel = tuple(sign * a for a in p.actions)
        lb = V.window_lb(rel)
        lo, hi = sorted((p.start, p.target))
        for x in rng.integers(lo, max(lo + 1, hi - V.AHEAD), size=samples).tolist():
            if x in p.forbidden:
                continue
            exact = exact_local_distances(p, x, sign, 64)
            dead = np.array([x + sign * int(o) in p.forbidden for o in offsets])
            pred = net(V.inputs(dead[None], V.move_onehot(rel)))[0] + lb
            for i, o in enumerate(offsets.tolist()):
                if o > 0 and not dead[i] and o in exact and np.isfinite(lb[i]):
                    errors[family].append(float(min(pred[i], V.CAP)) - exact[o])
                    bound[family].append(float(lb[i]) - exact[o])
    out = {}
    for family, e in errors.items():
        a, b = np.asarray(e), np.asarray(bound[family])
        out[family] = {
            "goals": float(a.size),
            "mae": float(np.abs(a).mean()),
            "bias": float(a.mean()),
            "over": float((a > 0.5).mean()),
            "off_by_more_than_1": float((np.abs(a) > 1).mean()),
            "bound_mae": float(np.abs(b).mean()),
        }
    return out


def family_stats(
    rows: list[dict[str, Any]], stats: dict[str, PlanStats] | None
) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by[str(r.get("category"))].append(r)
    for family, rs in by.items():
        feasible = [r for r in rs if r["status"] in ("solved", "failed")]
        solved = [r for r in feasible if r["status"] == "solved"]
        wrong = [r for r in rs if r["status"] == "solved" and r.get("feasible") is False]
        eff = [r["optimal_steps"] / r["steps"] for r in solved if r["steps"]]
        entry = {
            "feasible": len(feasible),
            "solved": len(solved) / len(feasible) if feasible else float("nan"),
            "efficiency": float(np.mean(eff)) if eff else float("nan"),
            "infeasible": sum(r["status"] == "infeasible" for r in rs),
            "mislabelled": len(wrong),
        }
        if stats is not None:
            st = [stats[r["id"]] for r in feasible if r["id"] in stats]
            if st:
                entry["manager"] = float(np.mean([s.manager_expansions for s in st]))
                entry["worker"] = float(np.mean([s.worker_expansions for s in st]))
                entry["certify"] = float(np.mean([s.certify_expansions for s in st]))
                entry["decisions"] = float(np.mean([max(s.decisions, 1) for s in st]))
                ok = {r["id"] for r in solved}
                entry["budgeted_solved"] = sum(
                    r["id"] in ok and not stats[r["id"]].fallback for r in feasible
                ) / len(feasible)
        out[family] = entry
    return out


def infeasible_check(policy: Any, problems: Sequence[Problem]) -> dict[str, float]:
    """Run the policy's planner on the infeasible problems (the evaluator never rolls them
    out): how many it reports solved (a path that the checker accepts) and what the
    certificate cost."""
    reported, certify, manager = 0, [], []
    for p in problems:
        path, st = policy.solve(p)
        if path is not None:
            reported += int(bool(check_path(p, path)))
        certify.append(st.certify_expansions)
        manager.append(st.manager_expansions)
    return {
        "problems": len(problems),
        "reported_solved": reported,
        "manager": float(np.mean(manager)) if manager else float("nan"),
        "certify": float(np.mean(certify)) if certify else float("nan"),
    }


def calibration(
    policy: ManagerPolicy, problems: Sequence[Problem], points: int = 40
) -> dict[str, dict[str, float]]:
    """Per family: the budgeted manager's estimate ``h`` at ``points`` evenly spaced free
    positions between start and target, against the exact cost-to-go to the target
    (:func:`~hrrl.tasks.numberline_oracles.cost_to_go`, the budget ignored; measurement only).
    On positions that reach the target: the mean error of ``h`` and of the free-line bound
    ``lb``. On the dead ends among them: how well the learned excess ``h − lb`` tells them
    apart (AUC: the chance that a dead end's excess exceeds a live position's, ties half)."""
    errors: dict[str, list[float]] = defaultdict(list)
    bound: dict[str, list[float]] = defaultdict(list)
    live: dict[str, list[float]] = defaultdict(list)
    dead: dict[str, list[float]] = defaultdict(list)
    for p in problems:
        family = str(p.extra["category"])
        spaced = np.unique(np.linspace(p.start, p.target, points).round().astype(np.int64))
        xs = [int(x) for x in spaced if x not in p.forbidden and x != p.target]
        h, lb, (lo, hi) = estimates(p, policy.net, policy.config, xs)
        true = cost_to_go(p, lo, hi)[np.asarray(xs) - lo]
        ok = np.isfinite(true) & np.isfinite(lb)
        errors[family] += (h[ok] - true[ok]).tolist()
        bound[family] += (lb[ok] - true[ok]).tolist()
        live[family] += (h[ok] - lb[ok]).tolist()
        with np.errstate(invalid="ignore"):  # inf − inf: the bound itself sees the dead end
            dead[family] += (h[~np.isfinite(true)] - lb[~np.isfinite(true)]).tolist()
    out = {}
    for family, e in errors.items():
        a, b = np.asarray(e), np.asarray(bound[family])
        out[family] = {
            "positions": float(a.size),
            "bias": float(a.mean()) if a.size else float("nan"),
            "mae": float(np.abs(a).mean()) if a.size else float("nan"),
            "bound_bias": float(b.mean()) if b.size else float("nan"),
            "dead_ends": float(len(dead[family])),
            "auc": _auc(np.nan_to_num(dead[family], nan=np.inf), np.asarray(live[family])),
        }
    return out


def _auc(positive: Sequence[float] | np.ndarray, negative: np.ndarray) -> float:
    """P(a positive's score > a negative's), ties counted half (nan without both kinds)."""
    pos = np.asarray(positive, dtype=float)
    if not pos.size or not negative.size:
        return float("nan")
    neg = np.sort(negative)
    below = np.searchsorted(neg, pos, "left")
    upto = np.searchsorted(neg, pos, "right")
    return float(np.mean((below + upto) / 2 / neg.size))
