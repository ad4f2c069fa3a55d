"""MAML for RL on 2-D point navigation (Finn, Abbeel & Levine 2017, Section 5.3 / Fig. 4).

Meta-trains MAML, FOMAML, Reptile (Nichol et al. 2018) and ANIL (Raghu et al. 2020), a
multi-task pretrained policy and a random initialisation (the same initial weights MAML starts
from), then adapts each of them on 40 held-out goals with 0–3 vanilla policy-gradient steps and
reports the average return.

Protocols (``--protocol``): the default one (the paper's stated α = 0.1, 20 trajectories,
100 meta-iterations, constant step, last model) and ``faithful`` for MAML (step size halved
after the first adaptation step, 40 trajectories per step, up to 500 meta-iterations keeping the
best model on a validation set of goals).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from hrrl.agents.maml import (
    MAMLConfig,
    TrainLog,
    evaluate_adaptation,
    make_policy,
    train_maml,
    train_pretrained,
    train_reptile,
)
from hrrl.core.parallel import Job
from hrrl.core.report import write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.envs.nav2d import Nav2DConfig, RewardKind, sample_goals
from hrrl.errors import InputError
from hrrl.experiments._maml_report import (
    GRADIENT_META,
    PAPER_MAML,
    adaptation_table,
    median_or_nan,
    plot_adaptation,
    plot_training,
    returns_ci,
    timing_table,
)
from hrrl.experiments._maml_sections import (
    best_model_section,
    fomaml_claim_section,
    notes_section,
    setup_section,
    table4_verdicts,
)
from hrrl.experiments.base import Experiment, ExperimentContext

REWARD_KINDS: tuple[RewardKind, ...] = ("distance", "squared_distance")
PROTOCOL_NAMES = ("default", "faithful")
LONG_RUN = 200
"""Meta-gradient jobs of at least this many iterations checkpoint every 50 and resume."""


@dataclass(frozen=True)
class Protocol:
    env: Nav2DConfig
    """The navigation task distribution."""
    agent: MAMLConfig
    """Policy, inner step and outer optimiser settings (``first_order`` is set per method)."""
    iterations: int
    """Meta-iterations (MAML / FOMAML) and pretraining iterations."""
    eval_tasks: int = 40
    """Held-out goals for evaluation (the same for every method of a seed)."""
    eval_steps: int = 3
    """Adaptation steps evaluated after the 0-step return."""
    methods: tuple[str, ...] = ("maml", "fomaml", "reptile", "anil", "pretrained", "random")
    """Methods to run; ``random`` is MAML's initialisation, adapted the same way."""
    reward_kinds: tuple[RewardKind, ...] = REWARD_KINDS
    """Rewards under which the evaluation trajectories' returns are reported."""
    reptile_inner_steps: int = 2
    """Reptile's inner policy-gradient steps per task: 2 samples as many trajectories per
    iteration as MAML (pre- and post-update batches)."""
    validate_every: int = 0
    """Meta-gradient methods: score on the validation goals every this many iterations and keep
    the best model (0: keep the last model)."""
    validation_tasks: int = 40
    """Validation goals (drawn from their own seed, apart from the evaluation goals)."""


def run_method(
    method: str, seed: int, protocol: Protocol, checkpoint: str | None = None
) -> dict[str, Any]:
    """Train ``method`` (if it trains) and evaluate its adaptation; JSON-serialisable result.
    ``checkpoint``: a folder where meta-gradient training saves and resumes its state."""
    torch.set_num_threads(1)
    init_seed, train_seed, eval_seed = spawn_seeds(seed, 3)
    agent = replace(protocol.agent, first_order=method == "fomaml", head_only=method == "anil")
    policy = make_policy(agent, init_seed)
    log = TrainLog()
    started = time.perf_counter()
    if method in GRADIENT_META:
        validate = (
            validator(agent, protocol, spawn_seeds(eval_seed, 1)[0])
            if protocol.validate_every > 0
            else None
        )
        log = train_maml(
            policy,
            agent,
            protocol.env,
            protocol.iterations,
            make_rng(train_seed),
            validate,
            protocol.validate_every,
            checkpoint,
        )
    elif method == "reptile":
        agent = replace(agent, inner_steps=protocol.reptile_inner_steps)
        log = train_reptile(policy, agent, protocol.env, protocol.iterations, make_rng(train_seed))
    elif method == "pretrained":
        log = train_pretrained(
            policy, agent, protocol.env, protocol.iterations, make_rng(train_seed)
        )
    elif method != "random":
        raise ValueError(f"unknown method {method!r}")
    train_seconds = time.perf_counter() - started
    eval_rng = make_rng(eval_seed)
    goals = sample_goals(protocol.eval_tasks, eval_rng, protocol.env)
    returns = evaluate_adaptation(
        policy, agent, protocol.env, goals, protocol.eval_steps, eval_rng, protocol.reward_kinds
    )
    return {
        "method": method,
        "seed": seed,
        "returns": {kind: r.mean(axis=0).tolist() for kind, r in returns.items()},
        "pre_return_curve": log.pre_return,
        "post_return_curve": log.post_return,
        "median_iteration_s": median_or_nan(log.iteration_seconds),
        "median_update_s": median_or_nan(log.update_seconds),
        "train_s": train_seconds,
        "validation": log.validation,
        "best_iteration": log.best_iteration,
    }


def validator(agent: MAMLConfig, protocol: Protocol, seed: int) -> Any:
    """Score = mean return (-distance) after 1..``eval_steps`` adaptation steps on fixed
    validation goals, with the same sampling noise at every call (its own generator)."""
    goals = sample_goals(protocol.validation_tasks, make_rng(seed), protocol.env)

    def validate(policy: torch.nn.Module) -> float:
        returns = evaluate_adaptation(
            policy, agent, protocol.env, goals, protocol.eval_steps, make_rng(seed + 1)
        )["distance"]
        return float(returns[:, 1:].mean())

    return validate


def run_protocol(
    ctx: ExperimentContext, protocol: Protocol, base_seed: int
) -> dict[str, list[dict[str, Any]]]:
    """Every method × seed as parallel jobs; results grouped by method (in seed order)."""
    seeds = spawn_seeds(base_seed, ctx.seeds)
    jobs = []
    for i, s in enumerate(seeds):
        for method in protocol.methods:
            kwargs: dict[str, Any] = {"method": method, "seed": s, "protocol": protocol}
            long = protocol.iterations >= LONG_RUN and method in GRADIENT_META
            if long and ctx.jobs_dir is not None:  # resumable inside the job, not only per job
                kwargs["checkpoint"] = str(ctx.jobs_dir / "checkpoints" / f"{method}-s{i}")
            jobs.append(Job(f"{method}-s{i}", run_method, kwargs))
    results = ctx.run_jobs(jobs, description=ctx.out.name)
    return {m: [r for r in results if r["method"] == m] for m in protocol.methods}


def nav2d_protocol(quick: bool, name: str | None = None) -> Protocol:
    """The default protocol: the paper's stated settings (α = 0.1, 20 tasks × 20 trajectories,
    horizon 100, 2×100 ReLU), 100 meta-iterations (30 quick), last model.

    ``faithful``: MAML as Finn et al. ran it: the step size halved after the first adaptation
    step (0.1 → 0.05), 40 trajectories per step, up to 500 meta-iterations (30 quick), keeping
    the best model on 40 validation goals (scored every 10 iterations)."""
    if name in (None, "default"):
        agent = MAMLConfig(inner_lr=0.1, meta_lr=1e-2, meta_batch_size=20, trajectories_per_task=20)
        return Protocol(env=Nav2DConfig(), agent=agent, iterations=30 if quick else 100)
    if name == "faithful":
        agent = MAMLConfig(
            inner_lr=0.1,
            inner_lr_after_first=0.05,
            meta_lr=1e-2,
            meta_batch_size=20,
            trajectories_per_task=40,
        )
        return Protocol(
            env=Nav2DConfig(),
            agent=agent,
            iterations=30 if quick else 500,
            methods=("maml", "random"),
            validate_every=10,
        )
    raise InputError(f"--protocol must be one of {', '.join(PROTOCOL_NAMES)}")


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    if ctx.protocol not in (None, *PROTOCOL_NAMES):
        raise InputError(f"--protocol must be one of {', '.join(PROTOCOL_NAMES)}")
    faithful = ctx.protocol == "faithful"
    protocol = nav2d_protocol(ctx.quick, ctx.protocol)
    by_method = run_protocol(ctx, protocol, base_seed=2017)
    steps = protocol.eval_steps
    claims = {"maml": [f"{v:g} (Table 4)" for v in PAPER_MAML]}
    for method in ("reptile", "anil"):
        claims[method] = ["none quoted"] * (steps + 1)
    plot_adaptation(by_method, "distance", steps, ctx.out / "adaptation_distance.png")
    plot_adaptation(
        by_method, "squared_distance", steps, ctx.out / "adaptation_squared_distance.png"
    )
    plot_training(by_method, ctx.out / "training.png")
    timing, time_ratios = timing_table(by_method)
    headline: dict[str, Any] = {
        "protocol": ctx.protocol or "default",
        "return_after_steps": {
            m: [returns_ci(runs, "distance", s).mean for s in range(steps + 1)]
            for m, runs in by_method.items()
        },
        "return_after_steps_squared_distance": {
            m: [returns_ci(runs, "squared_distance", s).mean for s in range(steps + 1)]
            for m, runs in by_method.items()
        },
    }
    if "fomaml" in time_ratios:
        headline["fomaml_time_ratio"] = time_ratios["fomaml"]
    headline["time_ratio_vs_maml"] = time_ratios
    sections = [
        setup_section(protocol, ctx.seeds),
        "## Average return after adaptation\n\n"
        + adaptation_table(by_method, steps, protocol.reward_kinds, claims)
        + f"\n\nn = {ctx.seeds} seeds per row (mean ± 95 % CI, Student t). Claimed: MAML's row is"
        " Finn et al. (2017), Table 4 (2-D navigation, average return after 0–3 gradient steps),"
        " verified against the authors' released results. The other methods' numbers in the"
        ' paper (Fig. 4) are a plot, not a table, and are not quoted ("see paper"). Reptile and'
        " ANIL: no published number on this task is quoted (Nichol et al. 2018 have no RL"
        " experiments; an ANIL figure on 2-D navigation in Raghu et al. 2020 was not checked"
        " here).\n\n"
        "![return vs adaptation steps (-distance)](adaptation_distance.png)\n\n"
        "![return vs adaptation steps (-squared distance)](adaptation_squared_distance.png)",
    ]
    if "maml" in by_method:
        maml_cis = [returns_ci(by_method["maml"], "distance", s) for s in range(steps + 1)]
        headline["maml_minus_table4"] = [
            c.mean - p for c, p in zip(maml_cis, PAPER_MAML, strict=False)
        ]
        sections.append(
            "## MAML against Finn et al. (2017), Table 4\n\n"
            "Rule: a step is *reproduced* iff the paper's number lies inside our 95 % CI "
            f"(n = {ctx.seeds} seeds, reward −distance); otherwise *not reproduced*, with the gap "
            "(causes: see the notes).\n\n" + table4_verdicts(maml_cis)
        )
    if len(time_ratios) > 0:
        sections.append(
            "## Time per iteration: FOMAML, Reptile, ANIL vs MAML\n\n" + timing + "\n\n"
            "Wall time measured inside each job (median over its meta-iterations); jobs ran "
            f"{ctx.workers} at a time on a shared machine, so absolute times are noisy and the "
            "ratios (per seed, then mean ± 95 % CI) are the numbers to read. The whole iteration "
            "includes the two rounds of sampling, the same for every method (Reptile's two inner "
            "steps each sample one round).\n\n![training curves](training.png)"
        )
    else:
        sections.append("## Training\n\n![training curves](training.png)")
    if "maml" in by_method and "fomaml" in by_method:
        claim_text, claim_headline = fomaml_claim_section(by_method)
        sections.append(claim_text)
        headline.update(claim_headline)
    if faithful:
        sections.append(best_model_section(by_method))
    sections += [
        notes_section(),
        ctx.run_time_section(time.perf_counter() - started)
        + f" ({'quick' if ctx.quick else 'full'} protocol, {ctx.seeds} seeds).",
    ]
    title = "MAML / FOMAML / Reptile / ANIL on 2-D point navigation"
    if faithful:
        title = "MAML on 2-D point navigation: the faithful protocol"
    write_report(ctx.out / "REPORT.md", title, ctx.command, sections)
    return headline


EXPERIMENT = Experiment(
    name="maml-nav2d",
    summary="MAML / FOMAML / Reptile / ANIL vs pretrained and random init, 2-D point navigation "
    "(Finn et al. 2017)",
    run=run,
    default_seeds=5,
    quick_seeds=2,
    protocols=PROTOCOL_NAMES,
)
