"""``hrrl reproduce``: the paper's tables rebuilt from measurements, in one command.

Every method (HRRL, its four ablations, the §4.3 baselines, random, greedy, the exact solver) is
trained with N seeds and evaluated on the paper's three problems, an in-distribution set and a
held-out suite of targets 10²–10⁵ with sparse and dense forbidden sets. Seeds × methods run as
independent jobs through :func:`hrrl.core.parallel.run_jobs` (a local process pool, or Ray tasks
with ``ray_address``); finished jobs are cached under ``OUT/_work/<plan fingerprint>/cache`` so an
interrupted run resumes (a changed budget or suite gets a new fingerprint and starts afresh). The
report, the figures and the raw per-run results (JSONL) land in ``OUT``.

This module defines no ``EXPERIMENT``: it is wired to its own command.
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
from dataclasses import dataclass
from pathlib import Path

from hrrl.core.atomic import atomic_write_text
from hrrl.core.lock import run_lock
from hrrl.core.parallel import Job, run_jobs
from hrrl.core.report import machine_line, write_report
from hrrl.experiments import reproduce_plots as plots
from hrrl.experiments import reproduce_report as rr
from hrrl.experiments import reproduce_tables as rt
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

HELDOUT_SEED = 2027
"""Seed of the evaluation suite (the validation suite uses 0, training pools 10 000 + seed)."""
DEFAULT_SEEDS, QUICK_SEEDS = 5, 2
WORK_DIR = "_work"
"""Under OUT: the job cache and HRRL run directories (checkpoints; not part of the report)."""


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


HELDOUT_SCALES: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "1e2": ((100, 1_000), (5, 20)),
    "1e3": ((1_000, 10_000), (20, 100)),
    "1e4": ((10_000, 100_000), (100, 1_000)),
}
"""Held-out scale → (target range, forbidden count of its sparse category)."""
DENSITY = 0.15
"""Fraction of forbidden states in the dense held-out categories."""


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
    """Train, evaluate and report every method; returns the path of ``OUT/REPORT.md``.

    ``out`` is locked for the run (:func:`hrrl.core.lock.run_lock`), like every experiment's."""
    out = Path(out)
    with run_lock(out, what="reproduction"):
        return run_plan(plan_for(quick, seeds, out), out, workers=workers, ray_address=ray_address)


def run_plan(
    plan: ReproducePlan, out: Path, *, workers: int = 2, ray_address: str | None = None
) -> Path:
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
    return write_outputs(plan, records, out, run_line)


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
