"""Where the learned values decide (``docs/HARD.md``): the decision-budget sweep, and how well
the manager's estimates match the exact cost-to-go.

At the report's fixed budget (128 node pops per decision, with the search tree kept
between decisions) the budgeted manager with the learned cost-to-go and the same manager with the
free-line bound (*uniform*) solve every family near the optimum, so the learned values can hardly
change an outcome there. The smaller the budget, the more each decision rests on its ordering
heuristic instead of on search: this sweep runs both managers (the ``v2-budgeted-expectile``
config and network, only ``decision_expansions`` and ``weight`` changed) at several budgets on
the feasible problems of every family but the 10^6 one (one 10^6 problem is ~7,000 decisions),
and reports, per family and budget, how often each manager solves without the exhaustive
fallback, and its expansions. The budgets are fixed here a priori, not chosen from the results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from hrrl.agents.hrrl.manager import ManagerPolicy, plan_budgeted
from hrrl.core.report import markdown_table
from hrrl.problem import Problem

SWEEP_BUDGETS = (8, 16, 32, 64, 128, 256)
"""Node pops per decision (the report's rows use 128)."""
VARIANTS = {"learned": 1.0, "uniform": 0.0}
"""Weight of the learned terms (``ManagerConfig.weight``) of each swept manager."""
SKIPPED = ("hard-1e6", "hard-infeasible")


def sweep_problems(problems: Sequence[Problem]) -> list[Problem]:
    """The sweep's problems: the feasible ones outside ``SKIPPED``."""
    return [p for p in problems if p.extra["feasible"] and p.extra["category"] not in SKIPPED]


def measure(
    policy: ManagerPolicy, problems: Sequence[Problem], optimal: dict[str, int]
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """``out[budget][variant][family]``: ``budgeted_solved`` (solved without the fallback, per
    feasible problem), ``efficiency`` (optimal / steps over those) and ``expansions`` (manager +
    fallback pops per problem). Paths are the manager's own (the worker never changes a path's
    length); ``optimal`` holds the solver's step counts."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for budget in SWEEP_BUDGETS:
        out[str(budget)] = {}
        for variant, weight in VARIANTS.items():
            config = replace(policy.config, decision_expansions=budget, weight=weight)
            tally: dict[str, list[tuple[bool, float, int]]] = {}
            for p in problems:
                path, stats, _ = plan_budgeted(p, policy.net, config)
                ok = path is not None and not stats.fallback
                eff = optimal[p.id] / (len(path) - 1) if ok and path else float("nan")
                pops = stats.manager_expansions + stats.certify_expansions
                tally.setdefault(str(p.extra["category"]), []).append((ok, eff, pops))
            out[str(budget)][variant] = {
                family: {
                    "budgeted_solved": float(np.mean([ok for ok, _, _ in rows])),
                    "efficiency": float(np.nanmean([e for _, e, _ in rows]))
                    if any(ok for ok, _, _ in rows)
                    else float("nan"),
                    "expansions": float(np.mean([n for _, _, n in rows])),
                }
                for family, rows in tally.items()
            }
    return out


def section(sweeps: list[dict[str, Any]], fmt: Any) -> list[str]:
    """The report's section from one ``measure`` result per training seed (``fmt``: the
    report's mean ± CI formatter)."""
    if not sweeps:
        return []
    families = list(sweeps[0][str(SWEEP_BUDGETS[0])]["learned"])

    def values(budget: int, variant: str, family: str, key: str) -> list[float]:
        return [s[str(budget)][variant][family][key] for s in sweeps]

    solved_rows, pops_rows = [], []
    for b in SWEEP_BUDGETS:
        solved, pops = [str(b)], [str(b)]
        for f in families:
            lv = values(b, "learned", f, "budgeted_solved")
            uv = values(b, "uniform", f, "budgeted_solved")
            delta = [x - y for x, y in zip(lv, uv, strict=True)]
            solved.append(
                f"{fmt(delta, pct=True, signed=True)} ({np.mean(lv):.0%} vs {np.mean(uv):.0%})"
            )
            ratio = [
                x / y
                for x, y in zip(
                    values(b, "learned", f, "expansions"),
                    values(b, "uniform", f, "expansions"),
                    strict=True,
                )
            ]
            pops.append(fmt(ratio, digits=2))
        solved_rows.append(solved)
        pops_rows.append(pops)
    header = ["pops / decision", *families]
    return [
        "",
        "## Decision budget: where the learned values decide",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").replace("``", "`").strip(),
        "",
        "Budgeted solved, learned − uniform (percentage points, mean ± 95 % CI over training "
        "seeds; the uniform manager does not depend on the seed), with the two rates:",
        "",
        markdown_table(header, solved_rows),
        "",
        "Manager + fallback expansions per problem, learned ÷ uniform (below 1: the learned "
        "values save search):",
        "",
        markdown_table(header, pops_rows),
    ]


def calibration_section(calibrations: list[dict[str, Any]], fmt: Any) -> list[str]:
    """The calibration table from one ``_hard_measure.calibration`` result per training seed."""
    if not calibrations:
        return []
    rows = []
    for family, first in calibrations[0].items():

        def vals(key: str, family: str = family) -> list[float]:
            return [c[family][key] for c in calibrations if family in c]

        rows.append(
            [
                family,
                f"{first['positions']:.0f}",
                fmt(vals("bias"), digits=2, signed=True, bounds=(None, None)),
                fmt(vals("mae"), digits=2),
                f"{first['bound_bias']:+.2f}",
                f"{first['dead_ends']:.0f}",
                fmt(vals("auc"), bounds=(0.0, 1.0)),
            ]
        )
    return [
        "",
        "## The manager's estimates against the exact cost-to-go",
        "",
        "At 40 evenly spaced free positions between start and target of every feasible problem "
        "(10^6 excluded), the budgeted manager's learned estimate `h` (what its lookahead "
        "orders nodes by; `--config v2-budgeted-expectile`) against the exact fewest moves to "
        "the target (backward breadth-first search, budget ignored; measurement only). The "
        "free-line bound `lb` (the uniform manager's estimate) is the same for every seed. "
        "Dead ends (positions from which the target cannot be reached) are where a learned "
        "value could save the search a detour: the AUC says how well the learned excess "
        "`h − lb` ranks them above live positions (0.5: no better than chance; the bound's "
        "own AUC is 0.5 except where `lb` is already infinite).",
        "",
        markdown_table(
            [
                "family",
                "live positions (per seed)",
                "learned h − exact: mean (moves)",
                "learned: mean abs. error",
                "bound lb − exact: mean",
                "dead ends (per seed)",
                "dead-end AUC of h − lb",
            ],
            rows,
        ),
    ]
