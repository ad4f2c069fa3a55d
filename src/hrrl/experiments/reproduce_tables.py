"""``hrrl reproduce``'s comparison tables (§5.2 baselines, §5.3 ablations, the headline, by
target size) and the check of the paper's example path, from the raw run records."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from hrrl.core.stats import mean_ci
from hrrl.experiments.reproduce_methods import METHOD_BY_NAME
from hrrl.experiments.reproduce_report import (
    IN_DISTRIBUTION,
    NOT_IN_PAPER,
    PAPER_EXAMPLE_278,
    PAPER_SOURCE,
    PAPER_TABLE_5_2,
    PAPER_TABLE_5_3,
    Record,
    by_method,
    ci_text,
    efficiency,
    mean_steps,
    metric_over_seeds,
    rows_in,
    success_rate,
)
from hrrl.solvers.numberline import solve
from hrrl.suites.builtin import PAPER_PROBLEMS


# ------------------------------------------------------------------------------ §5.2 / §5.3
def table_5_2(
    records: Sequence[Record], methods: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    headers = [
        "Method",
        "Success: paper (3)",
        "Success: in-distribution",
        "Success: held-out (T 10²–10⁵)",
        "Efficiency: held-out",
        "Avg steps: held-out (solved)",
        "Training time (s)",
        "Training env steps",
        "Paper: success / steps / time",
    ]
    grouped = by_method(records)
    rows = []
    for method in methods:
        runs = grouped.get(method, [])
        pct: dict[str, Any] = {"digits": 1, "scale": 100, "suffix": " %"}
        rows.append(
            [
                METHOD_BY_NAME[method].label,
                ci_text(metric_over_seeds(runs, success_rate, "paper"), **pct),
                ci_text(metric_over_seeds(runs, success_rate, IN_DISTRIBUTION), **pct),
                ci_text(metric_over_seeds(runs, success_rate, "heldout"), **pct),
                ci_text(metric_over_seeds(runs, efficiency, "heldout"), **pct),
                ci_text(metric_over_seeds(runs, mean_steps, "heldout"), digits=0),
                ci_text([r["training_time_s"] for r in runs], digits=1),
                ci_text([r["train_env_steps"] for r in runs], digits=0),
                PAPER_TABLE_5_2.get(method, NOT_IN_PAPER),
            ]
        )
    return headers, rows


def paired_difference(
    runs: Sequence[Record], reference: Sequence[Record], metric: Any, category: str
) -> list[float]:
    """``metric(run) − metric(reference run of the same seed)`` per shared seed."""
    ref = {r["seed"]: metric(rows_in(r, category)) for r in reference}
    return [metric(rows_in(r, category)) - ref[r["seed"]] for r in runs if r["seed"] in ref]


def table_5_3(
    records: Sequence[Record], methods: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    headers = [
        "Variant",
        "Success: in-distribution",
        "Success: held-out",
        "Δ success vs full (paired)",
        "Efficiency: held-out",
        "Success: paper (3)",
        "Paper: reported",
    ]
    grouped = by_method(records)
    full = grouped.get("hrrl", [])
    pct: dict[str, Any] = {"digits": 1, "scale": 100, "suffix": " %"}
    rows = []
    for method in methods:
        runs = grouped.get(method, [])
        delta = paired_difference(runs, full, success_rate, "heldout")
        rows.append(
            [
                METHOD_BY_NAME[method].label,
                ci_text(metric_over_seeds(runs, success_rate, IN_DISTRIBUTION), **pct),
                ci_text(metric_over_seeds(runs, success_rate, "heldout"), **pct),
                "—" if method == "hrrl" else ci_text(delta, **pct, bounds=(-1.0, 1.0)),
                ci_text(metric_over_seeds(runs, efficiency, "heldout"), **pct),
                ci_text(metric_over_seeds(runs, success_rate, "paper"), **pct),
                PAPER_TABLE_5_3.get(method, NOT_IN_PAPER),
            ]
        )
    return headers, rows


def notes_5_2(records: Sequence[Record], methods: Sequence[str]) -> list[str]:
    """Automatic remarks: which methods match or beat HRRL on held-out success."""
    grouped = by_method(records)
    if "hrrl" not in grouped:
        return ["HRRL was not run; the table shows the baselines only."]
    ours = mean_ci(metric_over_seeds(grouped["hrrl"], success_rate, "heldout"))
    notes = []
    for method in methods:
        if method in ("hrrl", "optimal") or method not in grouped:
            continue
        theirs = mean_ci(metric_over_seeds(grouped[method], success_rate, "heldout"))
        if theirs.mean >= ours.mean:
            notes.append(
                f"{METHOD_BY_NAME[method].label} matches or beats HRRL on held-out success "
                f"({theirs.format(3)} vs {ours.format(3)})."
            )
    return notes


def notes_5_3(records: Sequence[Record], methods: Sequence[str]) -> list[str]:
    """An ablation whose paired Δ interval includes 0 does not show the component matters."""
    grouped = by_method(records)
    full = grouped.get("hrrl", [])
    notes = []
    for method in methods:
        if method == "hrrl" or method not in grouped or not full:
            continue
        delta = mean_ci(paired_difference(grouped[method], full, success_rate, "heldout"))
        label = METHOD_BY_NAME[method].label
        if delta.n < 2 or math.isnan(delta.half_width):
            notes.append(f"{label}: too few seeds for an interval (Δ = {delta.mean:+.3f}).")
        elif delta.high >= 0:
            notes.append(
                f"{label}: no significant drop in held-out success (Δ = {delta.format(3)}): at "
                "this budget and on this suite the component shows no measurable contribution."
            )
        else:
            notes.append(f"{label}: held-out success drops significantly (Δ = {delta.format(3)}).")
    return notes


def headline(records: Sequence[Record], methods: Sequence[str]) -> list[str]:
    """One line per method: held-out success and efficiency (mean ± CI over seeds)."""
    grouped = by_method(records)
    lines = []
    for method in methods:
        runs = grouped.get(method, [])
        if not runs:
            continue
        rate = ci_text(metric_over_seeds(runs, success_rate, "heldout"), 1, 100, " %")
        eff = ci_text(metric_over_seeds(runs, efficiency, "heldout"), 1, 100, " %")
        lines.append(
            f"{METHOD_BY_NAME[method].label}: held-out success {rate}, efficiency {eff} "
            f"({len(runs)} run{'s' if len(runs) > 1 else ''})."
        )
    return lines


# ------------------------------------------------------------------------------ by target size
def categories_of(records: Sequence[Record]) -> list[str]:
    seen: dict[str, None] = {}
    for record in records[:1]:
        for row in record["rows"]:
            seen.setdefault(str(row.get("category", "")), None)
    return [c for c in seen if c != "paper"]


def table_by_category(
    records: Sequence[Record], methods: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    categories = categories_of(records)
    headers = ["Method", *categories]
    grouped = by_method(records)
    rows = []
    for method in methods:
        runs = grouped.get(method, [])
        cells: list[Any] = [METHOD_BY_NAME[method].label]
        for category in categories:
            rate = ci_text(metric_over_seeds(runs, success_rate, category), 0, 100, " %")
            eff = ci_text(metric_over_seeds(runs, efficiency, category), 0, 100, " %")
            cells.append(f"{rate} / {eff}")
        rows.append(cells)
    return headers, rows


def paper_example_check() -> str:
    """§5.4: the paper's example path for T = 278 run through the path checker."""
    from hrrl.solvers.checker import check_path

    problem = next(p for p in PAPER_PROBLEMS if p.target == 278)
    path = list(PAPER_EXAMPLE_278)
    verdict = check_path(problem, path)
    moves = [b - a for a, b in itertools.pairwise(path)]
    illegal = [
        f"{a} → {b} (+{b - a})" for a, b in itertools.pairwise(path) if b - a not in problem.actions
    ]
    landed = [x for x in path if x in problem.forbidden]
    optimum = solve(problem).steps
    return (
        f"The paper's example path for T = 278 ({PAPER_SOURCE}, line 291) has "
        f"{len(moves)} moves (the paper's §5.1 table says 61; the optimum is {optimum}). "
        f"Path checker: **{'valid' if verdict else 'invalid'}**"
        + ("" if verdict else f" ({verdict.reason})")
        + f". Moves not in {{{', '.join(map(str, problem.actions))}}}: {len(illegal)} — "
        + (", ".join(illegal) if illegal else "none")
        + f". Forbidden states landed on: {landed or 'none'}."
    )
