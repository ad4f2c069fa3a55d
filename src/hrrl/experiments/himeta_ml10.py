"""``himeta-ml10``: HiMeta, multi-task PPO and RL²-PPO on the real MetaWorld ML10.

Each method trains on the 10 ML10 training classes (one sub-env per class) for ``steps`` env
steps, then plays deterministic episodes on the 10 training and 5 test classes; success = the
success flag at any step of an episode. ``--protocol fixed`` (default) freezes each class to one
configuration as HiMeta's code does; ``--protocol standard`` draws one of the 50 configurations per
episode (held-out configurations for the test classes). Needs the ``metaworld`` extra. Jobs are
cached under ``OUT/jobs`` (interrupt and rerun = resume).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hrrl.agents.himeta import VARIANTS, HiMetaConfig
from hrrl.core.parallel import Job, run_grouped
from hrrl.core.ppo import PPOConfig
from hrrl.core.report import load_note, markdown_table, write_report
from hrrl.envs import metaworld_ml10 as mw
from hrrl.experiments._himeta_common import (
    cached_jobs,
    compare,
    curve_figure,
    evaluate_tasks,
    fmt_ci,
    fmt_values,
    success_ci,
    train_variant,
)
from hrrl.experiments.base import Experiment, ExperimentContext

METHODS = ("HiMeta", "MT-PPO", "RL²-PPO")
PAPER = {"HiMeta": (0.64, 0.08), "previous best": (0.42, 0.09)}
"""Seed 002 line 41 (also line 32): ML10 training success, ≈ 164M steps per run (design notes)."""
PAPER_STEPS = 164_000_000
BASE = HiMetaConfig(
    obs_dim=mw.OBS_SIZE, act_dim=mw.ACT_SIZE, ego_indices=mw.EGO_INDICES, n_task_ids=15,
    width=128, num_envs=10, trial_episodes=1, reward_scale=0.01,
    ppo=PPOConfig(lr=3e-4, epochs=5, minibatches=2, entropy_coef=0.01, gae_lambda=0.9),
)  # fmt: skip
"""The paper's PPO settings (clip 0.2, 5 epochs, entropy 0.01, lr 3e-4, γ 0.99, λ 0.9)."""


@dataclass(frozen=True)
class Protocol:
    steps: int
    """Env steps per run."""
    horizon: int
    """Episode length (MetaWorld's is 500)."""
    replicas: int
    """Evaluation episodes per class."""


QUICK = Protocol(steps=3_000, horizon=150, replicas=1)
FULL = Protocol(steps=1_000_000, horizon=500, replicas=3)


def run_job(name: str, seed: int, steps: int, horizon: int, replicas: int, protocol: str,
            log_dir: str) -> dict:  # fmt: skip
    benchmark = mw.build_ml10(seed=0)

    def make_env(num_envs: int, tasks: Sequence[int]) -> mw.ML10VectorEnv:
        return mw.ML10VectorEnv(benchmark, num_envs, list(tasks), protocol, horizon)

    config = replace(BASE, **VARIANTS[name])
    agent, info = train_variant(config, seed, steps, make_env, list(range(10)), log_dir)
    train_succ, _, _ = evaluate_tasks(agent, make_env, list(range(10)), replicas, 10_000 + seed)
    test_succ, _, _ = evaluate_tasks(agent, make_env, list(range(10, 15)), replicas, 20_000 + seed)
    names = [*benchmark.train_classes, *benchmark.test_classes]
    return {
        "variant": name,
        "seed": seed,
        "train_success": float(np.mean(list(train_succ.values()))),
        "test_success": float(np.mean(list(test_succ.values()))),
        "per_task": {names[t]: v for t, v in {**train_succ, **test_succ}.items()},
        **info,
    }


def run(ctx: ExperimentContext) -> dict[str, Any]:
    if not mw.available():
        from hrrl.errors import InputError

        raise InputError("himeta-ml10 needs MetaWorld: pip install 'hrrl[metaworld]'")
    protocol_name = ctx.protocol or "fixed"
    if protocol_name not in ("fixed", "standard"):
        from hrrl.errors import InputError

        raise InputError("--protocol must be fixed or standard")
    p = QUICK if ctx.quick else FULL
    labelled = []
    for name in METHODS:
        for seed in range(ctx.seeds):
            key = f"{protocol_name}__{name}__s{seed}".replace(" ", "_")
            kwargs = dict(name=name, seed=seed, steps=p.steps, horizon=p.horizon,
                          replicas=p.replicas, protocol=protocol_name,
                          log_dir=str(ctx.out / "runs" / key))  # fmt: skip
            labelled.append((name, Job(key=key, fn=run_job, kwargs=kwargs)))
    cached = cached_jobs(ctx.out / "jobs", [job for _, job in labelled])
    runs: dict[str, list[dict]] = run_grouped(
        labelled, workers=ctx.workers, cache_dir=ctx.out / "jobs", description="himeta-ml10"
    )
    steps_done = int(np.mean([r["steps"] for s in runs.values() for r in s]))
    curve_figure(runs, ctx.out / "curves.png", f"MetaWorld ML10 ({protocol_name}), train classes")
    rows = [
        [name, fmt_ci(success_ci([r["train_success"] for r in runs[name]])),
         fmt_ci(success_ci([r["test_success"] for r in runs[name]])),
         f"{np.mean([r['steps_per_s'] for r in runs[name]]):,.0f}"]
        for name in METHODS
    ]  # fmt: skip
    paper_rows = [
        [f"paper: {k}", f"{m:.2f} ± {h:.2f}", "not reported here", f"≈ {PAPER_STEPS:,} steps"]
        for k, (m, h) in PAPER.items()
    ]
    table = markdown_table(
        ["method", "train success", "test success", "steps/s (training)"], rows + paper_rows
    )
    per_task = markdown_table(
        ["class", *METHODS],
        [[task, *(f"{np.mean([r['per_task'][task] for r in runs[n]]):.2f}" for n in METHODS)]
         for task in runs["HiMeta"][0]["per_task"]],
    )  # fmt: skip
    gap = PAPER_STEPS / max(steps_done, 1)
    sections = [
        f"Protocol **{protocol_name}**; {steps_done:,} env steps per run (the paper: ≈ "
        f"{PAPER_STEPS:,}, {gap:,.0f}× more); {ctx.seeds} seed(s); episodes of {p.horizon} steps; "
        f"{p.replicas} deterministic evaluation episode(s) per class and seed; mean ± 95 % CI over "
        "seeds, clipped to [0, 1]. Paper numbers: seed 002, line 41 (training success).",
        "## Results\n\n" + table,
        "## Seed 002's claim at our budget\n\n" + _claim(runs, steps_done, ctx.quick),
        "![learning curves](curves.png)",
        "## Per class (mean over seeds)\n\n" + per_task,
        "## Run time\n\n"
        f"Training wall time per run: {fmt_values(_all(runs, 'train_s'), 0)} s; {cached} of "
        f"{len(labelled)} runs loaded from the job cache (`OUT/jobs`). {load_note()}",
    ]  # fmt: skip
    write_report(ctx.out / "REPORT.md", f"HiMeta on MetaWorld ML10 ({protocol_name})", ctx.command,
                 sections)  # fmt: skip
    return {
        "protocol": protocol_name,
        "steps_per_run": steps_done,
        "jobs_from_cache": cached,
        "paper": {"train_success": PAPER, "steps": PAPER_STEPS, "source": "seed 002 line 41"},
        "methods": {
            n: {"train_success": success_ci([r["train_success"] for r in runs[n]]),
                "test_success": success_ci([r["test_success"] for r in runs[n]]),
                "per_task": {t: float(np.mean([r["per_task"][t] for r in runs[n]]))
                             for t in runs[n][0]["per_task"]}}
            for n in METHODS
        },
    }  # fmt: skip


def _claim(runs: dict[str, list[dict]], steps_done: int, quick: bool) -> str:
    """The verdict on seed 002 line 41 at our budget: the paper's level, then the ordering."""
    him = float(np.mean([r["train_success"] for r in runs["HiMeta"]]))
    means = {n: float(np.mean([r["train_success"] for r in runs[n]])) for n in METHODS[1:]}
    best = max(means, key=means.__getitem__)
    paper = PAPER["HiMeta"][0]
    head = (
        f"*HiMeta 0.64 ± 0.08 vs 0.42 ± 0.09 training success on ML10* (seed 002, line 41): at "
        f"{steps_done:,} env steps per run HiMeta reaches {him:.2f} and the better of our "
        f"baselines, {best}, {means[best]:.2f}. "
    )
    if quick:
        return head + "Plumbing run only: **not a test of the claim.**"
    speed = float(np.mean([r["steps_per_s"] for r in runs["HiMeta"]]))
    hours = PAPER_STEPS / max(speed, 1e-9) / 3600
    return head + (
        f"\n\n- HiMeta's level: **not reproduced** at our budget (gap {him - paper:+.2f} to the "
        f"paper's {paper:.2f}).\n"
        f"- The ordering, HiMeta above the other methods: {compare(runs, 'HiMeta', best)}, so "
        "**not reproduced** at our budget either. Our baselines are multi-task PPO and RL²-PPO, "
        "not the paper's previous best method (seed 002 does not name it).\n"
        f"- Most likely cause: the budget, 1/{PAPER_STEPS / max(steps_done, 1):,.0f} of the "
        f"paper's ≈ {PAPER_STEPS:,} steps. The faithful budget does not fit on 2 cores: at the "
        f"{speed:,.0f} steps/s HiMeta trained at here, one run would take ≈ {hours:,.0f} h. For "
        "scale, a public SDVT-family ML10 log (standard protocol, one run) had train success "
        "0.10 at 10M frames and 0.53 at 250M (`../shared/designs/HIMETA.md`, lines 43–44): "
        "early-training success on ML10 is this low for methods of this family too."
    )


def _all(runs: dict[str, list[dict]], key: str) -> list[float]:
    return [r[key] for seeds in runs.values() for r in seeds]


EXPERIMENT = Experiment(
    name="himeta-ml10",
    report_dir="docs/experiments/himeta-ml10-full",  # the full protocol's report
    summary="HiMeta vs multi-task PPO and RL²-PPO on MetaWorld ML10 (≈ 1M steps per method)",
    run=run,
    default_seeds=2,
    quick_seeds=1,
    protocols=("fixed", "standard"),
)
