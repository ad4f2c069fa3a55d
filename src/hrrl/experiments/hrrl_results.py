"""``docs/RESULTS.md``: the HRRL agent against the solver, the greedy rule and the paper.

The experiment ``hrrl-results`` (``hrrl experiment hrrl-results``; ``hrrl results --out
docs/RESULTS.md`` is the same run under its own command line) trains the default, the paper, the
v2 and the v2-budgeted-expectile configurations, evaluates them on the validation suite (the
learned policy greedy on its Q-values; the masked variant in its own, labelled column), times
training and the T = 10^6 evaluation, and measures what the paper's reward and its fixed
waypoints do. Its report is
``docs/RESULTS.md`` (declared on the experiment), its headline numbers ``docs/RESULTS.json``.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hrrl.agents.hrrl.config import HRRLConfig, get_config
from hrrl.agents.hrrl.policy import HRRLPolicy, load_policy
from hrrl.agents.hrrl.trainer import train
from hrrl.core.report import write_report
from hrrl.errors import InputError
from hrrl.evaluation import evaluate
from hrrl.experiments import _hrrl_results_report as rr
from hrrl.experiments._hrrl_results_report import (
    Evaluated,
    category_table,
    paper_problem_table,
)
from hrrl.experiments.base import Experiment, ExperimentContext, run_experiment
from hrrl.policies import GreedyPolicy, NumberLinePolicy
from hrrl.problem import Problem
from hrrl.result import summarize
from hrrl.suites.builtin import quick_suite, validation_suite

REPORT = Path("docs/RESULTS.md")
BUDGETED_LABEL = "HRRL v2 budgeted manager (learned values decide)"
"""The ``--config v2-budgeted-expectile`` agent of issue #10 (``docs/HARD.md``)."""
SLOW_FOR_PAPER = ("t1e5", "t1e6", "dense-1e5")
"""Categories the paper configuration is not rolled out on (it acts state by state, without
memoized or repeated decisions, over budgets of up to 400,010 steps)."""


def _evaluate(
    label: str, problems: Sequence[Problem], policy: NumberLinePolicy | None
) -> Evaluated:
    started = time.perf_counter()
    rows = evaluate(problems, policy)
    return Evaluated(label, rows, time.perf_counter() - started)


def _train_timed(config: HRRLConfig, out: Path, seed: int) -> tuple[Path, dict[str, Any]]:
    run = train(config, out, seed=seed, progress=False)
    return run, json.loads((run / "training.json").read_text())


def _time_large(policy: HRRLPolicy, problems: Sequence[Problem]) -> tuple[float, float]:
    """Wall and CPU seconds of evaluating the T = 10^6 problem(s) with a fresh cache."""
    policy.cache.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    evaluate(problems, policy)
    return time.perf_counter() - wall, time.process_time() - cpu


def results_command(out: Path, quick: bool = False, seed: int = 0) -> str:
    """The ``hrrl results`` line that writes ``out`` (the report's header quotes it)."""
    parts = ["hrrl", "results", *(["--quick"] if quick else [])]
    parts += ["--seed", str(seed)] if seed != 0 else []
    return shlex.join([*parts, "--out", str(out)])


def write_results(out: Path, *, quick: bool = False, seed: int = 0) -> Path:
    """``hrrl results``: the ``hrrl-results`` experiment with its report at the file ``out``
    (its numbers beside it, ``<stem>.json``) and training seed ``seed``; returns ``out``."""
    out = Path(out)
    run_experiment(
        dataclasses.replace(EXPERIMENT, run=partial(run, seed=seed)),
        out.parent,
        quick=quick,
        report_name=out.name,
        command=results_command(out, quick, seed),
    )
    return out


def run(ctx: ExperimentContext, seed: int = 0) -> dict[str, Any]:
    """Train (seed ``seed``) and evaluate in a scratch folder, write ``ctx.report``; returns each
    method's summary per category."""
    if ctx.seeds != 1:
        raise InputError("hrrl-results trains one seed (hrrl results --seed S picks it)")
    with tempfile.TemporaryDirectory() as scratch:
        methods = _write(ctx, seed=seed, runs=Path(scratch))
    return {
        "seed": seed,
        "methods": {
            m.label: {
                s.category: {
                    "problems": s.problems,
                    "feasible": s.feasible,
                    "solved": s.solved,
                    "success_rate": s.success_rate,
                    "mean_efficiency": s.mean_efficiency,
                    "mean_steps": s.mean_steps,
                }
                for s in summarize(m.rows)
            }
            for m in methods
        },
    }


def _write(ctx: ExperimentContext, *, seed: int, runs: Path) -> list[Evaluated]:
    """Train, evaluate, write ``ctx.report``; returns the methods evaluated."""
    quick = ctx.quick
    default_config, paper_config = get_config("default"), get_config("paper")
    if quick:
        default_config = dataclasses.replace(default_config, episodes=1000, checkpoint_every=500)
        paper_config = dataclasses.replace(paper_config, episodes=1000, checkpoint_every=500)
    default_run, default_info = _train_timed(default_config, runs / "default", seed)
    paper_run, paper_info = _train_timed(paper_config, runs / "paper", seed)
    v2_config = get_config("v2")
    if quick:
        v2_config = dataclasses.replace(v2_config, value_iterations=300)
    v2_run, v2_info = _train_timed(v2_config, runs / "v2", seed)
    budgeted_config = get_config("v2-budgeted-expectile")
    if quick:
        budgeted_config = dataclasses.replace(budgeted_config, value_iterations=300)
    budgeted_run, budgeted_info = _train_timed(budgeted_config, runs / "v2-budgeted", seed)
    problems = (quick_suite if quick else validation_suite)(seed)
    paper_problems = [p for p in problems if p.category not in SLOW_FOR_PAPER]
    default_policy = load_policy(default_run)
    solver = _evaluate("exact solver", problems, None)
    greedy = _evaluate("greedy rule", problems, GreedyPolicy())
    default = _evaluate("HRRL default (greedy on Q)", problems, default_policy)
    masked = _evaluate(
        "HRRL default + mask (labelled)", problems, load_policy(default_run, mask=True)
    )
    paper = _evaluate("HRRL paper config", paper_problems, load_policy(paper_run))
    from hrrl.agents.hrrl.v2 import load_policy as load_v2

    v2 = _evaluate("HRRL v2 (model search + learned ties)", problems, load_v2(v2_run))
    budgeted = _evaluate(BUDGETED_LABEL, problems, load_v2(budgeted_run))
    exact_policy = HRRLPolicy(
        scorer=default_policy.scorer,
        config=dataclasses.replace(default_policy.config, waypoints="exact"),
        name="hrrl-exact-waypoints",
    )
    exact = _evaluate("default net, paper's exact waypoints", problems, exact_policy)
    soft = dataclasses.replace(default, label="default net, soft waypoints (ours)")
    large = [p for p in problems if p.category == "t1e6"]
    wall, cpu = _time_large(load_policy(default_run), large) if large else (float("nan"),) * 2
    timings = {
        "default training wall s": default_info["training_time_s"],
        "default training CPU s": default_info["training_cpu_s"],
        "default episodes": default_info["episodes"],
        "default gradient updates": default_info["updates"],
        "paper-config training wall s": paper_info["training_time_s"],
        "T = 10^6 evaluation wall s (fresh cache, solver included)": wall,
        "T = 10^6 evaluation CPU s": cpu,
        "validation suite rollout wall s, HRRL default": default.seconds,
        "v2 training wall s": v2_info["training_time_s"],
        "v2 training CPU s": v2_info["training_cpu_s"],
        "validation suite evaluation wall s, HRRL v2 (solver included)": v2.seconds,
        "v2 budgeted training wall s": budgeted_info["training_time_s"],
        "v2 budgeted training CPU s": budgeted_info["training_cpu_s"],
        "validation suite evaluation wall s, HRRL v2 budgeted (solver included)": (
            budgeted.seconds
        ),
    }
    sections = [
        rr.intro(quick, seed, len(problems)),
        "## Per category (success % of feasible / mean optimal÷steps over solved)\n\n"
        + category_table([solver, greedy, default, masked, paper, v2, budgeted])
        + f"\n\nThe paper config is not rolled out on {', '.join(SLOW_FOR_PAPER)} (—).",
        "## The paper's three problems (steps)\n\n"
        + paper_problem_table([default, masked, v2, budgeted]),
        rr.claims_section(default, timings),
        rr.paper_reward_section(paper, default, problems),
        rr.waypoint_section(exact, soft),
        rr.timing_section(timings),
        rr.design_section(),
    ]
    write_report(ctx.report, "HRRL agent: results", ctx.command, sections)
    return [solver, greedy, default, masked, paper, v2, budgeted, exact]


EXPERIMENT = Experiment(
    name="hrrl-results",
    summary=(
        "HRRL agent (default, paper config, v2, v2 budgeted) vs solver and greedy on the "
        "validation suite"
    ),
    run=run,
    default_seeds=1,
    quick_seeds=1,
    report_dir=str(REPORT.parent),
    report_name=REPORT.name,
)
