"""``hrrl reproduce``'s comparison tables (§5.2 baselines, §5.3 ablations, the headline, by
target size), the check of the paper's example path and the report's sections, from the raw run
records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scipy import stats

from hrrl.core.report import markdown_table
from hrrl.core.stats import mean_ci
from hrrl.experiments.reproduce_methods import METHOD_BY_NAME
from hrrl.experiments.reproduce_report import (
    IN_DISTRIBUTION,
    NOT_IN_PAPER,
    PAPER_SOURCE,
    PAPER_TABLE_5_2,
    PAPER_TABLE_5_3,
    Record,
    by_method,
    ci_text,
    efficiency,
    mean_steps,
    metric_over_seeds,
    notes_5_1,
    paper_example_check,
    rows_in,
    success_rate,
)


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


# ------------------------------------------------------------------------------ the report
def _notes(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines) if lines else "- No automatic remarks."


def report_sections(
    seeds: int,
    protocol: str,
    records: Sequence[Record],
    tables: dict[str, tuple[list[str], list[list[Any]]]],
    focus: str,
    main: Sequence[str],
    ablations: Sequence[str],
    figures: dict[str, Path],
) -> list[str]:
    sections = [
        "## Headline (held-out suite, targets 10²–10⁵)\n\n"
        + _notes(headline(records, [*main, *(a for a in ablations if a not in main)])),
        protocol,
    ]
    sections.append(
        "## §5.1 The paper's three test problems\n\n"
        + markdown_table(*tables["5.1"])
        + "\n\nSteps and efficiency: mean ± 95 % CI over the seeds that solved the problem.\n\n"
        + markdown_table(*tables["5.1 (all methods)"])
        + "\n\n**Notes (automatic)**\n\n"
        + _notes(notes_5_1(records, focus))
    )
    sections.append(
        "## §5.2 Comparison with baselines\n\n"
        + markdown_table(*tables["5.2"])
        + "\n\nSuccess = solved / feasible problems; efficiency = optimal / steps over solved "
        "problems; average steps over solved problems only (methods solve different subsets). "
        "Training time is wall time on this machine, shared with other jobs. The paper's column "
        f"quotes our copy of it ({PAPER_SOURCE}, lines 258–266).\n\n**Notes (automatic)**\n\n"
        + _notes(notes_5_2(records, main))
    )
    if ablations:
        sections.append(
            "## §5.3 Ablations\n\n"
            + markdown_table(*tables["5.3"])
            + "\n\nEach ablation switches one HRRL config field off (same seeds, same budget). "
            "Δ is the per-seed difference to full HRRL. The paper's column quotes our copy of it "
            f"({PAPER_SOURCE}, lines 270–278).\n\n**Notes (automatic)**\n\n"
            + _notes(notes_5_3(records, ablations))
        )
    sections.append("## §5.4 The paper's example path\n\n" + paper_example_check())
    sections.append(
        "## Success / optimality by target size\n\n"
        + markdown_table(*tables["by target size"])
        + "\n\nEach cell: success rate / optimality, mean ± 95 % CI over seeds."
    )
    sections.append("## Figures\n\n" + "\n".join(f"![{name}]({name})" for name in figures))
    sections.append(
        "## Reading the numbers\n\n"
        f"- ± is the 95 % Student-t half-width over seeds; with {seeds} seeds its t quantile "
        f"is {stats.t.ppf(0.975, max(seeds - 1, 1)):.2f}, so intervals are wide and may "
        "leave [0, 100 %]. A single run prints without ±.\n"
        "- The baselines see the absolute state (position, target, which moves land on a "
        "forbidden state); tabular learners keep one shared untrained row for every state "
        "outside the training range, the DQNs get coordinates scaled by the largest training "
        "target. Nothing else is tuned per method.\n"
        "- The options baseline's fixed options (`dash-k`, `approach`) follow the greedy rule, "
        "so beyond the training range, where its table row is untrained and options are picked "
        "at random, its successes come from those fixed options rather than from learning."
    )
    sections.append(
        "## Raw results\n\n`runs.jsonl`: one line per (method, seed) with training time, "
        "training env steps and learning curve. `rows.jsonl`: one SPEC result row per (method, "
        "seed, problem); paths are kept for the paper's problems only."
    )
    return sections


def print_tables(tables: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if Console().is_terminal else 160)
    for title, (headers, rows) in tables.items():
        table = Table(title=f"§{title}" if title[0].isdigit() else title)
        for header in headers:
            table.add_column(str(header))
        for row in rows:
            table.add_row(*(str(c) for c in row))
        console.print(table)
