"""The outputs of ``hrrl reproduce`` (:mod:`hrrl.experiments.reproduce`): its plan and held-out
categories, the raw results (JSONL), the report with its protocol section, and the headline
numbers of ``results.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.core.atomic import atomic_write_text
from hrrl.core.report import write_report
from hrrl.experiments import reproduce_plots as plots
from hrrl.experiments import reproduce_report as rr
from hrrl.experiments import reproduce_tables as rt
from hrrl.experiments.reproduce_methods import (
    ABLATION_NAMES,
    BASELINE_NAMES,
    METHOD_BY_NAME,
    Budget,
)

HELDOUT_SEED = 2027
"""Seed of the evaluation suite (the validation suite uses 0, training pools 10 000 + seed)."""


@dataclass(frozen=True)
class ReproducePlan:
    """What one ``hrrl reproduce`` run trains and evaluates."""

    methods: tuple[str, ...]
    """Method names (see ``reproduce_methods.METHODS``)."""
    seeds: int
    """Seeds per learning method (deterministic methods run once)."""
    budget: Budget
    """Training budget of every learner."""
    per_category: int
    """Problems per evaluation category (in-distribution and each held-out category)."""
    command: str
    """The command line that regenerates the report."""
    scales: tuple[str, ...] = ("1e2", "1e3", "1e4")
    """Held-out target scales (see :data:`HELDOUT_SCALES`)."""


HELDOUT_SCALES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "1e2": ((100, 1_000), (5, 20)),
    "1e3": ((1_000, 10_000), (20, 100)),
    "1e4": ((10_000, 100_000), (100, 1_000)),
}
"""Held-out scale → (target range, forbidden count of its sparse category)."""
DENSITY = 0.15
"""Fraction of forbidden states in the dense held-out categories."""


def write_raw(records: Sequence[rr.Record], out: Path) -> None:
    """``runs.jsonl``: one line per (method, seed); ``rows.jsonl``: one line per result row."""
    runs = [{k: v for k, v in r.items() if k != "rows"} for r in records]
    rows = [{"method": r["method"], "seed": r["seed"], **row} for r in records for row in r["rows"]]
    atomic_write_text(out / "runs.jsonl", "".join(json.dumps(x) + "\n" for x in runs))
    atomic_write_text(out / "rows.jsonl", "".join(json.dumps(x) + "\n" for x in rows))


# ----------------------------------------------------------------------------------- report
def write_outputs(
    plan: ReproducePlan, records: Sequence[rr.Record], out: Path, run_line: str = ""
) -> Path:
    main = [m for m in plan.methods if m in BASELINE_NAMES]
    ablations = [m for m in plan.methods if m in ABLATION_NAMES]
    focus = "hrrl" if "hrrl" in plan.methods else "greedy"
    tables = {
        "5.1": rr.table_5_1(records, focus),
        "5.1 (all methods)": rr.table_5_1_methods(records, main),
        "5.2": rt.table_5_2(records, main),
        "5.3": rt.table_5_3(records, ablations),
        "by target size": rt.table_by_category(records, plan.methods),
    }
    figures = {
        "learning_curves.png": plots.plot_learning_curves(
            records, plan.methods, out / "learning_curves.png"
        ),
        "by_target_size.png": plots.plot_by_target(records, main, out / "by_target_size.png"),
        "solution_path.png": plots.plot_solution_path(records, focus, out / "solution_path.png"),
    }
    sections = rt.report_sections(
        plan.seeds, protocol_section(plan), records, tables, focus, main, ablations, figures
    )
    if run_line:
        sections.append("## Run time\n\n" + run_line)
    path = write_report(out / "REPORT.md", "Reproducing the HRRL paper", plan.command, sections)
    rt.print_tables(tables)
    return path


def protocol_section(plan: ReproducePlan) -> str:
    b = plan.budget
    hrrl = f"{b.hrrl_episodes} episodes" if b.hrrl_episodes is not None else "the preset's episodes"
    methods = ", ".join(METHOD_BY_NAME[m].label for m in plan.methods)
    scales = "; ".join(
        f"targets {t[0]:,}–{t[1]:,} sparse ({f[0]}–{f[1]} forbidden states)"
        for t, f in (HELDOUT_SCALES[name] for name in plan.scales)
    )
    return (
        "## Protocol\n\n"
        f"- Methods: {methods}.\n"
        f"- Seeds: {plan.seeds} per learning method (greedy and the solver are deterministic: "
        "one run).\n"
        f"- Training: baselines {b.baseline_steps:,} env steps each on {b.pool_size} problems "
        f"from the paper's distribution (targets 5–100, 2–5 forbidden states; a new pool per "
        f"seed); HRRL and ablations: preset `{b.hrrl_preset}`, {hrrl}.\n"
        f"- Evaluation: the paper's 3 problems, {plan.per_category} in-distribution problems "
        f"(targets 5–100) and {plan.per_category} per held-out category: {scales}; each scale "
        f"also dense ({DENSITY:.0%} of the states forbidden). Generated with seed "
        f"{HELDOUT_SEED}. Every path is checked by the independent checker; "
        "optimal steps come from the exact solver." + hrrl_training_note(plan)
    )


def hrrl_training_note(plan: ReproducePlan) -> str:
    """What HRRL trains on, read from its config (it differs from the baselines' distribution)."""
    if "hrrl" not in plan.methods:
        return ""
    from hrrl.experiments.reproduce_methods import hrrl_config

    c = hrrl_config(METHOD_BY_NAME["hrrl"], plan.budget)
    return (
        f"\n- HRRL's own training distribution (preset `{plan.budget.hrrl_preset}`): targets "
        f"{c.final_targets[0]}–{c.final_targets[1]} (curriculum stages {list(c.curriculum_stages)}"
        f" when on), {c.forbidden_count[0]}–{c.forbidden_count[1]} forbidden states, "
        f"{c.dense_fraction:.0%} dense episodes, {c.tight_fraction:.0%} tight budgets, "
        f"{c.random_action_fraction:.0%} random action sets, reward `{c.reward}`; the baselines "
        "train on the paper's distribution only. Training env steps are reported per method."
    )


def headline_numbers(records: Sequence[rr.Record]) -> dict[str, Any]:
    """Each method's success rate and efficiency (mean over seeds) per evaluation category."""
    grouped = rr.by_method(records)
    categories = ["paper", *rt.categories_of(records), "heldout"]
    return {
        "methods": {
            method: {
                category: {
                    "runs": len(runs),
                    "success_rate": _mean(rr.metric_over_seeds(runs, rr.success_rate, category)),
                    "efficiency": _mean(rr.metric_over_seeds(runs, rr.efficiency, category)),
                }
                for category in categories
            }
            for method, runs in grouped.items()
        }
    }


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")
