"""``hrrl reproduce``: the paper's tables rebuilt from measurements, in one command.

Every method (HRRL, its four ablations, the §4.3 baselines, random, greedy, the exact solver) is
trained with N seeds and evaluated on the paper's three problems, an in-distribution set and a
held-out suite of targets 10²–10⁵ with sparse and dense forbidden sets. Seeds × methods run as
independent jobs through :func:`hrrl.core.parallel.run_jobs` (a local process pool, or Ray tasks
with ``ray_address``); finished jobs are cached under ``OUT/_work/<plan fingerprint>/cache`` so an
interrupted run resumes (a changed budget or suite gets a new fingerprint and starts afresh). The
report, the figures and the raw per-run results (JSONL) land in ``OUT``.

It is the experiment ``reproduce`` (``hrrl experiment reproduce``); ``hrrl reproduce`` is the same
run under its own command line. Its committed report is ``docs/reproduce-full`` (declared on the
experiment; the quick protocol's, ``docs/reproduce-quick``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import shlex
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hrrl.core.parallel import Job, run_jobs
from hrrl.core.report import machine_line
from hrrl.experiments import _reproduce_outputs as ro
from hrrl.experiments import reproduce_report as rr
from hrrl.experiments._reproduce_outputs import (
    DENSITY,
    HELDOUT_SCALES,
    HELDOUT_SEED,
    ReproducePlan,
    write_outputs,
    write_raw,
)
from hrrl.experiments.base import Experiment, ExperimentContext, run_experiment
from hrrl.experiments.reproduce_methods import (
    ABLATION_NAMES,
    BASELINE_NAMES,
    METHOD_BY_NAME,
    Budget,
    run_method,
)
from hrrl.problem import Problem
from hrrl.suites.builtin import PAPER_PROBLEMS
from hrrl.suites.generator import SuiteSpec, generate

DEFAULT_SEEDS, QUICK_SEEDS = 5, 2
WORK_DIR = "_work"
"""Under OUT: the job cache and HRRL run directories (checkpoints; not part of the report)."""


def hrrl_available() -> bool:
    """Whether the HRRL agent exposes ``train`` and ``load_policy``."""
    try:
        module = importlib.import_module("hrrl.agents.hrrl")
    except ImportError:
        return False
    return all(hasattr(module, name) for name in ("train", "load_policy", "get_config"))


def plan_for(quick: bool, seeds: int | None, out: Path) -> ReproducePlan:
    """The default plan (``quick``: 2 seeds, shorter training, fewer evaluation problems)."""
    names = list(dict.fromkeys(BASELINE_NAMES + ABLATION_NAMES))
    if not hrrl_available():
        names = [n for n in names if METHOD_BY_NAME[n].group not in ("hrrl", "ablation")]
    budget = (
        Budget(baseline_steps=12_000, hrrl_episodes=1_500)
        if quick
        else Budget(baseline_steps=50_000, hrrl_episodes=None)
    )
    parts = ["hrrl", "reproduce", *(["--quick"] if quick else [])]
    if seeds is not None:
        parts += ["--seeds", str(seeds)]
    parts += ["--out", str(out)]
    return ReproducePlan(
        methods=tuple(names),
        seeds=seeds if seeds is not None else (QUICK_SEEDS if quick else DEFAULT_SEEDS),
        budget=budget,
        per_category=3 if quick else 20,
        command=shlex.join(parts),
    )


def evaluation_specs(count: int, scales: Sequence[str] = tuple(HELDOUT_SCALES)) -> list[SuiteSpec]:
    """In-distribution (targets 5–100) and held-out categories (targets 10²–10⁵, sparse/dense)."""
    specs = [SuiteSpec(rr.IN_DISTRIBUTION, count, (5, 100), (2, 5))]
    for name in scales:
        targets, forbidden = HELDOUT_SCALES[name]
        specs.append(SuiteSpec(f"{rr.HELDOUT_PREFIX}{name}-sparse", count, targets, forbidden))
    for name in scales:
        targets, _ = HELDOUT_SCALES[name]
        specs.append(SuiteSpec(f"{rr.HELDOUT_PREFIX}{name}-dense", count, targets, density=DENSITY))
    return specs


def evaluation_problems(count: int, scales: Sequence[str] = tuple(HELDOUT_SCALES)) -> list[Problem]:
    return list(PAPER_PROBLEMS) + generate(evaluation_specs(count, scales), HELDOUT_SEED)


def plan_fingerprint(plan: ReproducePlan) -> str:
    """A short hash of what a job's result depends on besides (method, seed): budget and suite.

    Cached results and run directories live under it, so a changed plan never reuses them."""
    content = {
        "budget": dataclasses.asdict(plan.budget),
        "per_category": plan.per_category,
        "scales": list(plan.scales),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def work_dir(plan: ReproducePlan, out: Path) -> Path:
    """Cache and run directories of ``plan`` under ``OUT``."""
    return out / WORK_DIR / plan_fingerprint(plan)


def make_jobs(plan: ReproducePlan, out: Path, problems: Sequence[Problem]) -> list[Job]:
    """One job per (method, seed); deterministic methods get seed 0 only."""
    payload = [p.to_json() for p in problems]
    budget = dataclasses.asdict(plan.budget)
    jobs = []
    for method in plan.methods:
        seeds = [0] if METHOD_BY_NAME[method].deterministic else range(plan.seeds)
        for seed in seeds:
            key = f"{method}-s{seed}"
            kwargs = {
                "method": method,
                "seed": seed,
                "budget": budget,
                "problems": payload,
                "run_dir": str(work_dir(plan, out) / "runs" / key),
            }
            jobs.append(Job(key, run_method, kwargs))
    return jobs


def reproduce(
    *, out: Path, quick: bool, seeds: int | None, ray_address: str | None, workers: int = 2
) -> Path:
    """``hrrl reproduce``: the ``reproduce`` experiment under its own command line; returns the
    path of ``OUT/REPORT.md``. ``out`` is locked for the run, like every experiment's."""
    out = Path(out)
    run_experiment(
        EXPERIMENT,
        out,
        quick=quick,
        seeds=seeds,
        workers=workers,
        ray_address=ray_address,
        command=plan_for(quick, seeds, out).command,
    )
    return out / "REPORT.md"


def run(ctx: ExperimentContext) -> dict[str, Any]:
    """The default plan with ``ctx``'s seeds, workers and Ray address; returns each method's
    success rate and efficiency (mean over seeds) per evaluation category."""
    plan = dataclasses.replace(plan_for(ctx.quick, ctx.seeds, ctx.out), command=ctx.command)
    _, records = execute_plan(plan, ctx.out, workers=ctx.workers, ray_address=ctx.ray_address)
    return ro.headline_numbers(records)


def run_plan(
    plan: ReproducePlan, out: Path, *, workers: int = 2, ray_address: str | None = None
) -> Path:
    """Run ``plan`` into ``out`` (unlocked); returns the report's path."""
    return execute_plan(plan, out, workers=workers, ray_address=ray_address)[0]


def execute_plan(
    plan: ReproducePlan, out: Path, *, workers: int = 2, ray_address: str | None = None
) -> tuple[Path, list[rr.Record]]:
    """Run ``plan``'s jobs (cached under ``OUT/_work/<plan fingerprint>``), write the raw results
    and the report; returns the report's path and the records."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    problems = evaluation_problems(plan.per_category, plan.scales)
    jobs = make_jobs(plan, out, problems)
    cache = work_dir(plan, out) / "cache"
    cached = sum((cache / f"{job.key}.json").is_file() for job in jobs)
    started = time.perf_counter()
    records = run_jobs(
        jobs, workers=workers, cache_dir=cache, ray_address=ray_address, description="reproduce"
    )
    elapsed = time.perf_counter() - started
    write_raw(records, out)
    run_line = (
        f"This invocation took {elapsed:,.0f} s of wall time with {workers} worker(s) "
        f"({machine_line()}; load average {os.getloadavg()[0]:.1f} when it ended); "
        f"{cached} of {len(jobs)} jobs were read from the resume cache."
    )
    return write_outputs(plan, records, out, run_line), list(records)


EXPERIMENT = Experiment(
    name="reproduce",
    summary="the HRRL paper's tables: HRRL, its ablations and the baselines (hrrl reproduce)",
    run=run,
    default_seeds=DEFAULT_SEEDS,
    quick_seeds=QUICK_SEEDS,
    report_dir="docs/reproduce-full",
)
