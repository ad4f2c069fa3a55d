"""``hrrl demo`` (``make demo``): the paper's problems and a generated suite, solved three ways.

Trains the default HRRL agent (about a minute on 2 cores), then prints it beside the exact solver
and the greedy rule: first the paper's three problems (with the step counts the paper claims),
then a per-category table on a generated validation suite. Every path is validated by the
independent path checker.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hrrl.evaluation import evaluate, summarize
from hrrl.policies import GreedyPolicy, NumberLinePolicy
from hrrl.result import CategorySummary, ResultRow, success_cell
from hrrl.suites.builtin import PAPER_CLAIMED_STEPS, PAPER_PROBLEMS, quick_suite

RUN_DIR = Path("runs/demo")


def _train_agent(console: Console, seed: int) -> tuple[NumberLinePolicy | None, float]:
    try:
        from hrrl.agents.hrrl import get_config, load_policy, train
    except ImportError:
        console.print("[yellow]The HRRL agent is not installed; showing solver and greedy only.")
        return None, 0.0
    console.print(f"Training the default HRRL agent into {RUN_DIR} (seed {seed}) …")
    started = time.perf_counter()
    run_dir = train(get_config("default"), RUN_DIR, seed=seed)
    elapsed = time.perf_counter() - started
    console.print(f"trained in {elapsed:.1f} s")
    return load_policy(run_dir), elapsed


def run_demo(seed: int = 0) -> None:
    console = Console() if sys.stdout.isatty() else Console(width=240)  # piped: no cut tables
    agent, _ = _train_agent(console, seed)
    methods: dict[str, NumberLinePolicy | None] = {
        "exact solver": None,
        "greedy rule": GreedyPolicy(),
    }
    if agent is not None:
        methods["HRRL (greedy on Q)"] = agent
    paper_rows = {name: evaluate(PAPER_PROBLEMS, p) for name, p in methods.items()}
    table = Table(title="The paper's three test problems (steps; every path checked)")
    for column in ("target", "forbidden", "paper claims", *methods):
        table.add_column(column, justify="right", overflow="fold")
    for i, problem in enumerate(PAPER_PROBLEMS):
        cells = [_steps(paper_rows[name][i]) for name in methods]
        table.add_row(
            str(problem.target),
            ",".join(map(str, sorted(problem.forbidden))),
            str(PAPER_CLAIMED_STEPS[problem.id]),
            *cells,
        )
    console.print(table)
    console.print(
        "With moves {1,3,5} every step flips the parity of the position, so a path to T has T's "
        "parity: the paper's 28, 61 and 94 steps are impossible; the optima are 25, 56 and 87.\n"
    )
    suite = quick_suite(seed)
    summaries = {
        name: {s.category: s for s in summarize(evaluate(suite, p))} for name, p in methods.items()
    }
    table = Table(title=f"Generated suite ({len(suite)} problems): solved % / mean optimal÷steps")
    table.add_column("category")
    table.add_column("feasible", justify="right")
    for name in methods:
        table.add_column(name, justify="right")
    for category, reference in summaries["exact solver"].items():
        cells = [_cell(summaries[name][category]) for name in methods]
        table.add_row(category, str(reference.feasible), *cells)
    console.print(table)


def _steps(row: ResultRow) -> str:
    return str(row.steps) if row.solved else row.status


def _cell(summary: CategorySummary) -> str:
    return success_cell(summary, percent_digits=0)
