"""MAXQ-Q on Taxi (Dietterich 2000): hierarchical learning with state abstraction vs flat Q.

Protocol. gymnasium's ``Taxi-v4`` (200-step time limit), deterministic and the paper's stochastic
version (``is_rainy=True``: a move goes sideways with probability 0.2; ``fickle_passenger=True``:
with probability 0.3 the destination changes on the first move after the pickup). Three learners
with the same step size, ε-greedy exploration and γ = 1: MAXQ-Q with the paper's abstractions,
MAXQ-Q without abstraction (full protocol only), flat Q-learning. Every ``eval_every`` episodes
the *greedy* policy (for MAXQ: greedy hierarchical execution, children run to termination, and
polling execution) is evaluated **exactly** on the known model: the expected undiscounted return
over the 200-step horizon from the start distribution, by enumerating the reachable (model state,
execution stack) pairs. The fickle flag
is hidden from the agent, so the stochastic model carries it as extra state.

Convergence: the first evaluation after which *every* later evaluation is within ``tolerance`` of
the reference return; ``steps_to_converge`` counts the primitive training steps up to it (None if
the last evaluation is not within tolerance). Reference: the optimal policy by value iteration on
the Taxi ``P`` (for the stochastic version ``P`` cannot show the fickle passenger; its optimal
policy evaluated on the true model is the reference, and the optimum with the flag visible is an
upper bound reported beside it).
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np

from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.core.parallel import Job
from hrrl.core.report import write_report
from hrrl.core.schedules import ExponentialSchedule
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.experiments._maxq_taxi_report import (
    CLAIM,
    METHODS,
    NO_ABSTRACTION_NOTE,
    NOTES,
    PAPER_VALUES,
    TaxiProtocol,
    plot_curves,
    ratio_bound,
    summaries_of,
    values_section,
    variant_section,
)
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks.taxi import (
    N_ACTIONS,
    N_OBS,
    TAXI_ID,
    TaxiModel,
    flat_return,
    maxq_return,
    reference,
    taxi_graph,
    taxi_model,
)

VARIANTS: dict[str, dict[str, bool]] = {
    "deterministic": {},
    "stochastic": {"is_rainy": True, "fickle_passenger": True},
}


def protocol(variant: str, quick: bool) -> TaxiProtocol:
    """Budgets per variant: the stochastic task needs more episodes and a decaying step size."""
    if variant == "deterministic":
        return TaxiProtocol(4000 if quick else 5000, 100, 0.25, 0.25, 0.1, 0.1)
    return TaxiProtocol(4000 if quick else 8000, 200, 0.25, 0.02, 0.1, 0.5)


def methods(quick: bool) -> tuple[str, ...]:
    """The quick protocol leaves out the slow MAXQ-Q without abstraction."""
    return ("maxq", "flat_q") if quick else METHODS


def alpha_schedule(proto: TaxiProtocol) -> ExponentialSchedule:
    """α per episode: ``alpha`` decaying geometrically to ``alpha_end`` at the last episode."""
    decay = (proto.alpha_end / proto.alpha) ** (1.0 / max(proto.episodes - 1, 1))
    return ExponentialSchedule(proto.alpha, proto.alpha_end, decay)


# ----- one run -----


def make_learner(method: str, proto: TaxiProtocol) -> MaxQLearner | TabularQLearner:
    if method == "flat_q":
        config = TabularQConfig(
            alpha=proto.alpha, gamma=1.0, epsilon_start=proto.epsilon, epsilon_end=proto.epsilon
        )
        return TabularQLearner(N_OBS, N_ACTIONS, config)
    maxq_config = MaxQConfig(
        alpha=proto.alpha, gamma=1.0, epsilon_start=proto.epsilon, epsilon_end=proto.epsilon
    )
    return MaxQLearner(taxi_graph(abstract=method == "maxq"), maxq_config)


def evaluate(
    learner: MaxQLearner | TabularQLearner, model: TaxiModel, rng: np.random.Generator
) -> dict[str, float]:
    """Exact returns of the greedy policy: per execution mode for MAXQ, one for flat Q."""
    if isinstance(learner, TabularQLearner):
        return {"": flat_return(model, learner.greedy_policy(rng))}
    return {
        "": maxq_return(learner, model, rng),
        "_polling": maxq_return(learner, model, rng, polling=True),
    }


def steps_to_converge(
    steps: list[int], returns: list[float], target: float, tolerance: float
) -> int | None:
    """Training steps at the first evaluation after which all evaluations are within tolerance."""
    converged_from: int | None = None
    for step, value in zip(steps, returns, strict=True):
        if value >= target - tolerance:
            if converged_from is None:
                converged_from = step
        else:
            converged_from = None
    return converged_from


def run_one(variant: str, method: str, seed: int, quick: bool, target: float) -> dict[str, Any]:
    """Train one learner on one Taxi variant; learning curves (one per execution mode) and the
    convergence points. Keys of ``curves`` are method names (``maxq``, ``maxq_polling``, ...)."""
    proto = protocol(variant, quick)
    env = gym.make(TAXI_ID, **VARIANTS[variant])
    model = taxi_model(env)
    env_seed, agent_seed, eval_seed = spawn_seeds(seed, 3)
    rng, eval_rng = make_rng(agent_seed), make_rng(eval_seed)
    learner = make_learner(method, proto)
    started = time.perf_counter()
    total_steps, curve_steps = 0, [0]
    curves = {method + k: [v] for k, v in evaluate(learner, model, eval_rng).items()}
    alphas = alpha_schedule(proto)
    for episode in range(proto.episodes):
        learner.alpha = alphas(episode)
        stats = learner.run_episode(
            env, rng, proto.epsilon, seed=env_seed if episode == 0 else None
        )
        total_steps += stats.steps
        if (episode + 1) % proto.eval_every == 0:
            curve_steps.append(total_steps)
            for k, v in evaluate(learner, model, eval_rng).items():
                curves[method + k].append(v)
    env.close()
    return {
        "variant": variant,
        "seed": seed,
        "n_values": learner.n_values,
        "values_per_node": learner.values_per_node() if isinstance(learner, MaxQLearner) else {},
        "steps": curve_steps,
        "curves": curves,
        "steps_to_converge": {
            name: steps_to_converge(curve_steps, returns, target, proto.tolerance)
            for name, returns in curves.items()
        },
        "wall_s": time.perf_counter() - started,
    }


# ----- the experiment -----


def value_counts() -> dict[str, int]:
    """Learned values per method (table sizes; no training needed)."""
    return {m: make_learner(m, protocol("deterministic", True)).n_values for m in METHODS}


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    refs = {v: reference(gym.make(TAXI_ID, **kw)) for v, kw in VARIANTS.items()}
    seeds = spawn_seeds(2000, ctx.seeds)
    jobs = [
        Job(
            f"{variant}-{method}-{i}",
            run_one,
            {
                "variant": variant,
                "method": method,
                "seed": seed,
                "quick": ctx.quick,
                "target": refs[variant].optimal_return,
            },
        )
        for variant in VARIANTS
        for method in methods(ctx.quick)
        for i, seed in enumerate(seeds)
    ]
    runs = ctx.run_jobs(jobs, description="maxq-taxi")
    summaries = {v: summaries_of(runs, v) for v in VARIANTS}
    for variant in VARIANTS:
        target = refs[variant].optimal_return
        plot_curves(runs, variant, target, ctx.out / f"curves_{variant}.png")
    counts = value_counts()
    elapsed = time.perf_counter() - started
    sections = [
        f"**Claim.** {CLAIM}",
        f"{ctx.seeds} seeds{' (quick protocol)' if ctx.quick else ''}.",
        *[variant_section(v, summaries[v], refs[v], protocol(v, ctx.quick)) for v in VARIANTS],
        values_section(runs, counts),
        NOTES + (NO_ABSTRACTION_NOTE if "maxq_no_abstraction" in methods(ctx.quick) else ""),
        ctx.run_time_section(elapsed),
    ]
    write_report(ctx.out / "REPORT.md", "MAXQ-Q on Taxi (Dietterich 2000)", ctx.command, sections)
    return {
        "optimal_return": {v: refs[v].optimal_return for v in VARIANTS},
        "optimal_return_upper_bound": {v: refs[v].upper_bound for v in VARIANTS},
        "steps_to_converge": summaries,
        "convergence_tolerance": {v: protocol(v, ctx.quick).tolerance for v in VARIANTS},
        "n_values": counts,
        "n_values_paper": PAPER_VALUES,
        "speedup_flat_over_maxq": {
            v: {
                name: {
                    "ratio": (
                        summaries[v]["flat_q"]["mean"] / summaries[v][name]["mean"]
                        if summaries[v]["flat_q"]["mean"] and summaries[v][name]["mean"]
                        else None
                    ),
                    "bound": ratio_bound(summaries[v]["flat_q"], summaries[v][name]).strip()
                    or "exact",
                }
                for name in ("maxq", "maxq_polling")
            }
            for v in VARIANTS
        },
        "values_per_node_maxq": next(r["values_per_node"] for r in runs if "maxq" in r["curves"]),
    }


EXPERIMENT = Experiment(
    name="maxq-taxi",
    summary="MAXQ-Q with state abstraction vs flat Q-learning on Taxi (Dietterich 2000)",
    run=run,
    default_seeds=5,
    quick_seeds=2,
)
