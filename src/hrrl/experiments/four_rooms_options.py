"""Options and intra-option Q-learning in Four Rooms (Sutton, Precup & Singh 1999).

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
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.agents.options import (
    OptionQConfig,
    OptionQLearner,
    OptionSet,
    expected_primitive_steps,
    mean_expected_steps,
    primitive_options,
)
from hrrl.core.parallel import Job
from hrrl.core.report import markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.envs.four_rooms import MOVES, FourRoomsEnv
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks.four_rooms import GOALS, hallway_options, optimal_expected_steps

METHODS = ("flat-Q", "SMDP-Q", "intra-option-Q")
"""Flat Q-learning, SMDP Q-learning and intra-option Q-learning (both over options + primitives)."""
NEAR_OPTIMAL = 1.10
"""Greedy expected steps ≤ this × optimal counts as near-optimal (the headline criterion)."""
ROUGH = 1.50
"""A looser criterion (≤ 150 % of optimal) that shows the early phase of learning."""
GAMMA = 0.9
PUBLISHED_SPEEDUP = "3–5×"
EARLY = 100
"""Training episodes averaged for the early steps-per-episode comparison."""
BASE_SEED = 20260411


def option_set(method: str, env: FourRoomsEnv) -> OptionSet:
    """Primitives alone for flat Q-learning; hallway options + primitives otherwise."""
    prims = primitive_options(env.n_states, len(MOVES))
    if method == "flat-Q":
        return OptionSet(prims, len(MOVES))
    return OptionSet(hallway_options(env) + prims, len(MOVES))


def learner_config(method: str, alpha: float, epsilon: float) -> OptionQConfig:
    learning = "intra-option" if method == "intra-option-Q" else "smdp"
    return OptionQConfig(learning=learning, alpha=alpha, epsilon=epsilon, gamma=GAMMA)


# ------------------------------------------------------------------------------------ evaluation
def greedy_expected_steps(
    learner: OptionQLearner, env: FourRoomsEnv, dynamics: np.ndarray
) -> float:
    goal = np.zeros(env.n_states, dtype=bool)
    goal[env.goal_state] = True
    steps = expected_primitive_steps(dynamics, goal, learner.options, learner.greedy_selection())
    return mean_expected_steps(steps, ~goal)


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
        "sensitivity_alphas": [] if quick else [0.125],
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
    main = [r for r in results if r["alpha"] == protocol["alpha"]]
    budget = protocol["episodes"]
    near = _summarise(main, "episodes_to_near_optimal", budget)
    rough = _summarise(main, "episodes_to_rough", budget)
    sensitivity = {
        str(a): _summarise(
            [r for r in results if r["alpha"] == a], "episodes_to_near_optimal", budget
        )
        for a in alphas
    }
    optimal = {g: next(r for r in main if r["goal"] == g)["optimal_expected_steps"] for g in GOALS}
    plots = _plots(main, ctx.out)
    elapsed = time.perf_counter() - started
    early = _early_means(main)
    sections = [
        _setup_section(protocol, ctx),
        _results_section(near, rough, optimal, ctx.seeds),
        _sensitivity_section(sensitivity) if len(alphas) > 1 else "",
        _early_steps_section(main, ctx.seeds),
        _note(near, rough, early),
        "## Learning curves\n\n" + "\n\n".join(f"![{p}]({p})" for p in plots),
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
    }


def _summarise(trials: list[dict[str, Any]], key: str, budget: int) -> dict[str, Any]:
    """Per goal and method: mean ± CI of ``key`` (the budget where never reached), speedups.

    Speedup = mean episodes of flat Q / mean episodes of the method (ratio of means).
    """
    out: dict[str, Any] = {"mean": {}, "ci95": {}, "not_reached": {}, "speedup": {}}
    for goal in GOALS:
        for field in ("mean", "ci95", "not_reached"):
            out[field][goal] = {}
        for method in METHODS:
            counts = [t[key] for t in trials if t["goal"] == goal and t["method"] == method]
            ci = mean_ci([budget if c is None else c for c in counts])
            out["mean"][goal][method] = ci.mean
            out["ci95"][goal][method] = None if np.isnan(ci.half_width) else ci.half_width
            out["not_reached"][goal][method] = sum(c is None for c in counts)
        flat = out["mean"][goal]["flat-Q"]
        out["speedup"][goal] = {m: flat / out["mean"][goal][m] for m in METHODS if m != "flat-Q"}
    return out


def _episodes_cell(summary: dict[str, Any], goal: str, method: str) -> str:
    mean, half = summary["mean"][goal][method], summary["ci95"][goal][method]
    missed = summary["not_reached"][goal][method]
    text = f"{mean:.0f}" if half is None else f"{mean:.0f} ± {half:.0f}"
    return text + (f" ({missed} never)" if missed else "")


def _speedup_cell(summary: dict[str, Any], goal: str, method: str) -> str:
    speed = summary["speedup"][goal].get(method)
    if speed is None:
        return "1 (reference)"
    return f"{_bound(summary, goal, method)}{speed:.2f}×"


def _bound(summary: dict[str, Any], goal: str, method: str) -> str:
    """ "≤", "≥" or "?" when censored counts make the speedup a bound or undetermined."""
    method_cut = summary["not_reached"][goal][method] > 0
    flat_cut = summary["not_reached"][goal]["flat-Q"] > 0
    if method_cut and flat_cut:
        return "? "
    return "≤ " if method_cut else ("≥ " if flat_cut else "")


def _results_section(
    near: dict[str, Any], rough: dict[str, Any], optimal: dict[str, float], n_seeds: int
) -> str:
    rows = [
        [
            f"{goal} {GOALS[goal]}",
            method,
            f"{optimal[goal]:.2f}",
            _episodes_cell(near, goal, method),
            _speedup_cell(near, goal, method),
            "—" if method == "flat-Q" else PUBLISHED_SPEEDUP,
            _episodes_cell(rough, goal, method),
            _speedup_cell(rough, goal, method),
        ]
        for goal in GOALS
        for method in METHODS
    ]
    headers = [
        "goal",
        "method",
        "optimal expected steps",
        "episodes to ≤ 110 % of optimal",
        "speedup vs flat Q (ours)",
        "published claim",
        "episodes to ≤ 150 %",
        "speedup at ≤ 150 %",
    ]
    return (
        f'## Results\n\nMean ± 95 % CI over {n_seeds} seeds; "(k never)": k seeds never met the '
        "criterion within the budget and count at the budget, so that mean is a lower bound.\n\n"
        + markdown_table(headers, rows)
    )


def _sensitivity_section(sensitivity: dict[str, dict[str, Any]]) -> str:
    rows = [
        [f"{goal}", method, *(_episodes_cell(s, goal, method) for s in sensitivity.values())]
        for goal in GOALS
        for method in METHODS
    ]
    headers = ["goal", "method", *(f"α = {a}" for a in sensitivity)]
    return (
        "## Step-size sensitivity\n\nEpisodes to ≤ 110 % of optimal for other step sizes "
        "(same seeds; the headline uses the first column's α for every method, it is not tuned "
        "per method).\n\n" + markdown_table(headers, rows)
    )


def _mean_curve(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    episodes = np.asarray(rows[0]["eval_episodes"])
    values = np.array(
        [[np.inf if v is None else v for v in r["eval_expected_steps"]] for r in rows]
    )
    return episodes, np.median(values, axis=0)


def _plots(trials: list[dict[str, Any]], out: Path) -> list[str]:
    names = []
    for goal in GOALS:
        fig, ax = new_figure()
        rows = [t for t in trials if t["goal"] == goal]
        optimum = rows[0]["optimal_expected_steps"]
        for method in METHODS:
            episodes, curve = _mean_curve([r for r in rows if r["method"] == method])
            ax.plot(episodes, np.where(np.isfinite(curve), curve, np.nan), label=method)
        ax.axhline(optimum, color="k", lw=0.8, ls="--", label="optimal")
        ax.axhline(NEAR_OPTIMAL * optimum, color="grey", lw=0.8, ls=":", label="+10 %")
        ax.set_yscale("log")
        ax.set_xlabel("training episodes")
        ax.set_ylabel("expected steps of the greedy policy")
        ax.set_title(f"Four Rooms, goal {goal} {GOALS[goal]} (median over seeds)")
        ax.legend()
        name = f"expected_steps_{goal}.png"
        save_figure(fig, out / name)
        names.append(name)
    names.append(_training_steps_plot(trials, out))
    return names


def _training_steps_plot(trials: list[dict[str, Any]], out: Path) -> str:
    """Steps per training episode (the paper's measure), mean over seeds, groups of 10."""
    fig, axes = new_figure(11.0, 4.0)
    fig.delaxes(axes)
    for i, goal in enumerate(GOALS):
        ax = fig.add_subplot(1, len(GOALS), i + 1)
        for method in METHODS:
            steps = _training_steps([t for t in trials if t["goal"] == goal], method)
            groups = steps[: steps.size // 10 * 10].reshape(-1, 10).mean(axis=1)
            ax.plot(np.arange(groups.size) * 10 + 10, groups, label=method, lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training episodes")
        ax.set_ylabel("steps per episode (ε-greedy behaviour)")
        ax.set_title(f"goal {goal} {GOALS[goal]}, mean over seeds, groups of 10")
        ax.legend()
    name = "training_steps_per_episode.png"
    save_figure(fig, out / name)
    return name


def _early_means(trials: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per goal and method: mean steps per training episode over the first ``EARLY`` episodes."""
    return {
        goal: {
            method: float(
                np.mean(_training_steps([r for r in trials if r["goal"] == goal], method)[:EARLY])
            )
            for method in METHODS
        }
        for goal in GOALS
    }


def _training_steps(rows: list[dict[str, Any]], method: str) -> np.ndarray:
    """Mean over seeds of the steps of each training episode of ``method``."""
    return np.mean([r["episode_steps"] for r in rows if r["method"] == method], axis=0)


def _early_steps_section(trials: list[dict[str, Any]], n_seeds: int) -> str:
    """Mean steps per training episode early and late: the measure the paper plots."""
    rows = []
    for goal in GOALS:
        for method in METHODS:
            per_seed = [
                r["episode_steps"] for r in trials if r["goal"] == goal and r["method"] == method
            ]
            early = mean_ci(float(np.mean(s[:EARLY])) for s in per_seed)
            late = mean_ci(float(np.mean(s[-EARLY:])) for s in per_seed)
            rows.append([goal, method, early.format(1), late.format(1)])
    table = markdown_table(
        [
            "goal",
            "method",
            f"steps/episode, episodes 1–{EARLY}",
            f"steps/episode, last {EARLY} episodes",
        ],
        rows,
    )
    return (
        "## Steps per training episode\n\nThe paper's own measure: steps of the ε-greedy "
        f"behaviour per training episode (mean ± 95 % CI over {n_seeds} seeds; not the "
        "greedy policy, and exploration keeps it above the optimum).\n\n" + table
    )


def _setup_section(protocol: dict[str, Any], ctx: ExperimentContext) -> str:
    return (
        "## Setup\n\n"
        "Four Rooms, 104 cells, moves succeed with probability 2/3 (else one of the other three "
        f"directions), reward +1 on entering the goal, γ = {GAMMA}. Every episode starts in a "
        "uniformly random non-goal cell (time limit 1000 steps, bootstrapped, never reached in "
        "practice after the first episodes). All methods: ε-greedy "
        f"(ε = {protocol['epsilon']}) over their available options, α = {protocol['alpha']}, "
        f"Q = 0 initially, {protocol['episodes']} episodes, {ctx.seeds} seeds; the greedy policy "
        f"is evaluated exactly every {protocol['eval_every']} episodes. Option sets: flat Q = the "
        "4 primitives; SMDP-Q and intra-option-Q = the 8 hallway options + the 4 primitives, "
        "executed call-and-return with the same ε-greedy behaviour; they differ only in the "
        "update rule (SMDP-Q updates the executed option when it ends; intra-option-Q "
        "updates, after every step, every option whose policy took that action, primitives "
        "included).\n\n"
        "**Expected steps** = mean over the 103 non-goal start states of the expected number of "
        "primitive steps to the goal under the greedy policy over options (ties uniform), "
        "computed exactly as absorption times of the (state, running option) Markov chain of the "
        "known model. **Optimal** = the same for the value-iteration optimal primitive policy. "
        "**Episodes to ≤ 110 %** = the first evaluation at which the greedy policy's expected "
        "steps are within 10 % of optimal."
    )


def _note(near: dict[str, Any], rough: dict[str, Any], early: dict[str, dict[str, float]]) -> str:
    lines = [
        "## Comparison with the published claim",
        "",
        "Sutton, Precup & Singh (1999) report that learning with the hallway options is "
        f"{PUBLISHED_SPEEDUP} faster than with primitives alone. Measured speedups "
        "(mean episodes of flat Q / mean episodes of the method):",
    ]
    for goal in GOALS:
        strict = ", ".join(f"{m} {_speedup_cell(near, goal, m)}" for m in METHODS[1:])
        loose = ", ".join(f"{m} {_speedup_cell(rough, goal, m)}" for m in METHODS[1:])
        lines.append(f"- {goal}: to ≤ 110 %: {strict}; to ≤ 150 %: {loose}.")
    lines += [
        "",
        "(≤ / ≥: some seeds of the method / of flat Q never met the criterion and count at the "
        "budget, so the ratio is an upper / lower bound; ?: both, undetermined.)",
        "",
        f"On the paper's own measure, steps per training episode over the first {EARLY} "
        "episodes (flat Q / method):",
    ]
    for goal in GOALS:
        flat = early[goal]["flat-Q"]
        ratios = ", ".join(f"{m} {flat / early[goal][m]:.2f}×" for m in METHODS[1:])
        lines.append(f"- {goal}: {ratios}.")
    lines += [
        "",
        "Where these differ from the claim, the likely reasons: the criterion here is the *exact* "
        "expected steps of the greedy policy from *every* start state, averaged, with a tight 10 % "
        "margin (the paper plots steps per training episode, which rewards a good rough policy "
        "early); one step size and ε shared by all methods rather than tuned per method; uniformly "
        "random starts. Compare the ≤ 150 % columns for how fast a rough policy appears. The last "
        "10 % needs primitive-level detail near the goal and in every room: SMDP Q-learning "
        "learns each option value only from that option's own (multi-step, high-variance) "
        "executions and each primitive only when it is tried, so its greedy choice between "
        "options and primitives stays noisy for long; intra-option Q-learning updates every "
        "consistent option and primitive after every step.",
    ]
    return "\n".join(lines)


EXPERIMENT = Experiment(
    name="four-rooms-options",
    summary="Flat vs SMDP vs intra-option Q-learning with hallway options in Four Rooms (SPS 1999)",
    run=run,
    default_seeds=8,
    quick_seeds=4,
)
