"""Options and intra-option Q-learning in Four Rooms (domain: Sutton, Precup & Singh 1999).

The claim tested is the survey's, seed 001 line 54: "Q-learning with Options 3-5x faster than
vanilla Q-learning" (repeated at line 1389); the survey names no measure, so the report gives
three: a strict one (greedy policy within 10 % of optimal), a loose one (within 50 %) and a
steps-per-episode one (behaviour steps per training episode, averaged over blocks of
``eval_every`` episodes, at most ``STEPS_FACTOR`` × the optimal expected steps).

Flat Q-learning, SMDP Q-learning over the 8 hallway options plus the 4 primitives and
intra-option Q-learning over the same set, with goals G1 (the east hallway) and G2 (a cell inside
the lower-right room). After every ``eval_every`` training episodes the greedy policy is evaluated
exactly on the known model; the headline is the first episode count at which it is within 10 % of
the optimal expected number of steps.

**Expected steps** of a policy: the mean, over the 103 non-goal start states (the training start
distribution), of the expected number of primitive steps to the goal when the greedy policy over
options is executed call-and-return (ties among greedy options broken uniformly at random), computed
exactly as absorption times of the Markov chain on (state, running option) pairs. **Optimal
expected steps**: the same quantity for the optimal primitive policy of the discounted MDP
(value iteration, γ = 0.9; ties uniform); with the primitives in every option set it is also the
optimum over options.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np

from hrrl.agents.options import OptionQConfig, OptionQLearner, OptionSet
from hrrl.core.parallel import Job
from hrrl.core.report import write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.envs.four_rooms import FourRoomsEnv
from hrrl.experiments._four_rooms_plots import early_means, early_steps_section, plots
from hrrl.experiments._four_rooms_report import (
    CLAIM_SOURCE,
    GAMMA,
    METHODS,
    NEAR_OPTIMAL,
    PUBLISHED_SPEEDUP,
    ROUGH,
    STEP_SIZE_GRID,
    STEP_SIZE_GRID_EXTENSION,
    STEPS_FACTOR,
    STEPS_KEY,
    best_of_grid,
    steps_criterion_episode,
    summarise,
    verdict,
)
from hrrl.experiments._four_rooms_sections import (
    claim_section,
    note,
    results_section,
    sensitivity_section,
    setup_section,
)
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks import four_rooms as task
from hrrl.tasks.four_rooms import (
    GOALS,
    greedy_expected_steps,
    hallway_options,
    optimal_expected_steps,
)

__all__ = [  # the names other Four Rooms experiments and the tests use
    "GAMMA",
    "GOALS",
    "NEAR_OPTIMAL",
    "ROUGH",
    "greedy_expected_steps",
    "hallway_options",
    "learner_config",
    "optimal_expected_steps",
    "option_set",
    "run_trial",
    "steps_criterion_episode",
    "verdict",
]

BASE_SEED = 20260411


def option_set(method: str, env: FourRoomsEnv) -> OptionSet:
    """Primitives alone for flat Q-learning; hallway options + primitives otherwise."""
    return task.option_set(env, hallways=method != "flat-Q")


def learner_config(method: str, alpha: float, epsilon: float) -> OptionQConfig:
    learning: Literal["smdp", "intra-option"] = (
        "intra-option" if method == "intra-option-Q" else "smdp"
    )
    return OptionQConfig(learning=learning, alpha=alpha, epsilon=epsilon, gamma=GAMMA)


def run_trial(
    method: str, goal: str, seed: int, episodes: int, eval_every: int, alpha: float, epsilon: float
) -> dict[str, Any]:
    """Train one learner, evaluating its greedy policy every ``eval_every`` episodes."""
    rng = make_rng(seed)
    env = FourRoomsEnv(goal=GOALS[goal])
    dynamics = env.dynamics()
    optimum = optimal_expected_steps(env, GAMMA)
    learner = OptionQLearner(option_set(method, env), learner_config(method, alpha, epsilon), rng)
    eval_episodes: list[int] = []
    eval_steps: list[float] = []
    episode_steps: list[int] = []
    first_near: int | None = None
    first_rough: int | None = None
    for episode in range(1, episodes + 1):
        env_seed = int(rng.integers(2**31)) if episode == 1 else None
        episode_steps.append(learner.run_episode(env, seed=env_seed).steps)
        if episode % eval_every == 0:
            value = greedy_expected_steps(learner, env, dynamics)
            eval_episodes.append(episode)
            eval_steps.append(value)
            if first_near is None and value <= NEAR_OPTIMAL * optimum:
                first_near = episode
            if first_rough is None and value <= ROUGH * optimum:
                first_rough = episode
    return {
        "method": method,
        "goal": goal,
        "seed": seed,
        "optimal_expected_steps": optimum,
        "episodes_to_near_optimal": first_near,
        "episodes_to_rough": first_rough,
        "eval_episodes": eval_episodes,
        "eval_expected_steps": [v if np.isfinite(v) else None for v in eval_steps],
        "episode_steps": episode_steps,
    }


# ------------------------------------------------------------------------------------ experiment
def _protocol(quick: bool) -> dict[str, Any]:
    """Training budget and hyper-parameters; ``alpha`` is the headline step size."""
    return {
        "episodes": 3000 if quick else 5000,
        "eval_every": 25,
        "alpha": 0.25,
        "epsilon": 0.1,
        "sensitivity_alphas": (
            []
            if quick
            else [0.125, *(a for a in STEP_SIZE_GRID if a != 0.25), *STEP_SIZE_GRID_EXTENSION]
        ),
    }


def _trial_kwargs(protocol: dict[str, Any], alpha: float) -> dict[str, Any]:
    keys = ("episodes", "eval_every", "epsilon")
    return {**{k: protocol[k] for k in keys}, "alpha": alpha}


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    seeds = spawn_seeds(BASE_SEED, ctx.seeds)
    alphas = [protocol["alpha"], *protocol["sensitivity_alphas"]]
    jobs = [
        Job(
            f"{m}-{g}-a{alpha}-{i}",
            run_trial,
            {"method": m, "goal": g, "seed": s, **_trial_kwargs(protocol, alpha)},
        )
        for alpha in alphas
        for g in GOALS
        for m in METHODS
        for i, s in enumerate(seeds)
    ]
    results = ctx.run_jobs(jobs, description="four-rooms-options")
    for job, result in zip(jobs, results, strict=True):
        result["alpha"] = job.kwargs["alpha"]
        result["episodes_to_steps_criterion"] = steps_criterion_episode(
            result["episode_steps"], result["optimal_expected_steps"], protocol["eval_every"]
        )
    main = [r for r in results if r["alpha"] == protocol["alpha"]]
    budget = protocol["episodes"]
    near = summarise(main, "episodes_to_near_optimal", budget)
    rough = summarise(main, "episodes_to_rough", budget)
    by_steps = summarise(main, STEPS_KEY, budget)
    sensitivity = {
        str(a): summarise(
            [r for r in results if r["alpha"] == a], "episodes_to_near_optimal", budget
        )
        for a in alphas
    }
    steps_grid = {
        str(a): summarise([r for r in results if r["alpha"] == a], STEPS_KEY, budget)
        for a in alphas
    }
    best = {
        "strict": best_of_grid(sensitivity, budget),
        "steps": best_of_grid(steps_grid, budget),
    }
    optimal = {g: next(r for r in main if r["goal"] == g)["optimal_expected_steps"] for g in GOALS}
    figures = plots(main, ctx.out)
    elapsed = time.perf_counter() - started
    early = early_means(main)
    sections = [
        claim_section(),
        setup_section(protocol, ctx),
        results_section(near, rough, by_steps, optimal, ctx.seeds),
        sensitivity_section(sensitivity, steps_grid, best) if len(alphas) > 1 else "",
        early_steps_section(main, ctx.seeds),
        note(near, rough, by_steps, early, best if len(alphas) > 1 else None),
        "## Learning curves\n\n" + "\n\n".join(f"![{p}]({p})" for p in figures),
        ctx.run_time_section(elapsed),
    ]
    write_report(
        ctx.out / "REPORT.md",
        "Options and intra-option Q-learning in Four Rooms",
        ctx.command,
        [s for s in sections if s],
    )
    return {
        "protocol": protocol,
        "optimal_expected_steps": optimal,
        "episodes_to_near_optimal": near["mean"],
        "episodes_to_near_optimal_ci95": near["ci95"],
        "not_reached": near["not_reached"],
        "speedup_vs_flat": near["speedup"],
        "episodes_to_within_50pct": rough["mean"],
        "speedup_vs_flat_within_50pct": rough["speedup"],
        "alpha_sensitivity": {a: s["mean"] for a, s in sensitivity.items()},
        "training_steps_first_100_episodes": early,
        "published_speedup_claim": PUBLISHED_SPEEDUP,
        "published_speedup_claim_source": CLAIM_SOURCE,
        "steps_criterion_factor": STEPS_FACTOR,
        "episodes_to_steps_criterion": by_steps["mean"],
        "episodes_to_steps_criterion_ci95": by_steps["ci95"],
        "steps_criterion_not_reached": by_steps["not_reached"],
        "speedup_vs_flat_steps_criterion": by_steps["speedup"],
        "step_size_grid_steps_criterion": {a: s["mean"] for a, s in steps_grid.items()},
        "best_alpha": {k: b["alpha"] for k, b in best.items()},
        "speedup_best_alpha_vs_best_alpha": {k: b["speedup"] for k, b in best.items()},
    }


EXPERIMENT = Experiment(
    name="four-rooms-options",
    summary="Flat vs SMDP vs intra-option Q-learning with hallway options in Four Rooms",
    run=run,
    default_seeds=8,
    quick_seeds=4,
)
