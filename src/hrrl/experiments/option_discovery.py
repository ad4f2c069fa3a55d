"""Discovered options in Four Rooms: betweenness bottlenecks, eigenoptions and DIAYN skills.

Each option set (plus the 4 primitives) is learned with by intra-option Q-learning on the
four-rooms-options protocol and judged on its learning-speed metric: training episodes until the
greedy policy's exact expected steps (mean over the 103 non-goal starts, call-and-return) are
within 10 % (and 50 %) of optimal. Compared: flat Q (primitives only), the hand-made hallway
options, betweenness subgoal options (peaks snapped to the narrowest cell, and the raw peaks),
eigenoptions and DIAYN skills. Discovery reads only the goal-free transition model.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hrrl.agents.option_discovery import (
    DiaynConfig,
    DiaynLearner,
    betweenness_subgoals,
    eigenoptions,
    subgoal_options,
    transition_graph,
)
from hrrl.agents.options import Option, OptionQConfig, OptionQLearner, OptionSet, primitive_options
from hrrl.core.parallel import Job, run_jobs
from hrrl.core.report import load_note, markdown_table, write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.envs.four_rooms import HALLWAYS, MOVES, FourRoomsEnv
from hrrl.experiments import _option_discovery_report as odr
from hrrl.experiments._four_rooms_report import GAMMA, NEAR_OPTIMAL, ROUGH
from hrrl.experiments._learning_speed import cell, censored_summary, pick, speedup
from hrrl.experiments._option_discovery_report import K_EIGEN, K_SUBGOALS, METHODS
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks.four_rooms import (
    GOALS,
    greedy_expected_steps,
    hallway_options,
    optimal_expected_steps,
)
from hrrl.tasks.four_rooms_discovery import coordinate_features, draw_discovery

BASE_SEED = 20261130
EARLY = 100


def discovered_options(
    method: str, env: FourRoomsEnv, seed: int, diayn_episodes: int
) -> list[Option]:
    """The option set of ``method`` (without primitives), discovered from the goal-free model."""
    dynamics = env.dynamics()
    graph = transition_graph(dynamics)
    if method == "flat-Q":
        return []
    if method == "hallway":
        return hallway_options(env)
    if method in ("betweenness", "betweenness-raw"):
        found = betweenness_subgoals(graph, K_SUBGOALS)
        goals = found.subgoals if method == "betweenness" else found.peaks
        return subgoal_options(dynamics, graph, goals)
    if method == "eigenoptions":
        return eigenoptions(dynamics, graph, K_EIGEN, GAMMA)[0]
    if method == "DIAYN":
        config = DiaynConfig(episodes=diayn_episodes)
        learner = DiaynLearner(dynamics, config, seed, features=coordinate_features(env))
        learner.train()
        return learner.skill_options()
    raise ValueError(f"unknown method {method!r}")


def run_trial(
    method: str,
    goal: str,
    seed: int,
    episodes: int,
    eval_every: int,
    alpha: float,
    epsilon: float,
    diayn_episodes: int,
) -> dict[str, Any]:
    """Discover (seeded), then learn with intra-option Q and evaluate exactly every few episodes."""
    started = time.perf_counter()
    env = FourRoomsEnv(goal=GOALS[goal])
    options = discovered_options(method, env, seed, diayn_episodes)
    discovery_s = time.perf_counter() - started
    rng = make_rng(seed)
    dynamics = env.dynamics()
    optimum = optimal_expected_steps(env)
    option_set = OptionSet(options + primitive_options(env.n_states, len(MOVES)), len(MOVES))
    config = OptionQConfig(learning="intra-option", alpha=alpha, epsilon=epsilon, gamma=GAMMA)
    learner = OptionQLearner(option_set, config, rng)
    first_near = first_rough = None
    curve, episode_steps = [], []
    for episode in range(1, episodes + 1):
        env_seed = int(rng.integers(2**31)) if episode == 1 else None
        episode_steps.append(learner.run_episode(env, seed=env_seed).steps)
        if episode % eval_every == 0:
            value = greedy_expected_steps(learner, env, dynamics)
            curve.append(value if np.isfinite(value) else None)
            if first_near is None and value <= NEAR_OPTIMAL * optimum:
                first_near = episode
            if first_rough is None and value <= ROUGH * optimum:
                first_rough = episode
    return {
        "method": method,
        "goal": goal,
        "seed": seed,
        "n_options": len(options),
        "optimal_expected_steps": optimum,
        "episodes_to_near_optimal": first_near,
        "episodes_to_rough": first_rough,
        "eval_expected_steps": curve,
        "early_steps_per_episode": float(np.mean(episode_steps[:EARLY])),
        "discovery_s": discovery_s,
    }


def _protocol(quick: bool) -> dict[str, Any]:
    return {
        "episodes": 1500 if quick else 2000,
        "eval_every": 25,
        "alpha": 0.25,
        "epsilon": 0.1,
        "diayn_episodes": 400 if quick else 1200,
    }


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    seeds = spawn_seeds(BASE_SEED, ctx.seeds)
    jobs = [
        Job(f"{m}-{g}-{i}", run_trial, {"method": m, "goal": g, "seed": s, **protocol})
        for g in GOALS
        for m in METHODS
        for i, s in enumerate(seeds)
    ]
    trials = run_jobs(jobs, workers=ctx.workers, description="option-discovery")
    picture = _picture(ctx, seeds[0], protocol["diayn_episodes"])
    budget = protocol["episodes"]
    near = censored_summary(
        trials, "episodes_to_near_optimal", budget, protocol["eval_every"], GOALS, METHODS
    )
    rough = censored_summary(
        trials, "episodes_to_rough", budget, protocol["eval_every"], GOALS, METHODS
    )
    early = {
        g: {m: mean_ci(pick(trials, g, m, "early_steps_per_episode")).mean for m in METHODS}
        for g in GOALS
    }
    elapsed = time.perf_counter() - started
    sections = [
        odr.setup(protocol, ctx.seeds),
        odr.discovered_section(picture),
        _results(trials, near, rough, ctx.seeds, budget),
        odr.claims(near, rough),
        f"## Run time\n\n{elapsed:.0f} s with {ctx.workers} worker processes; {load_note()}",
    ]
    write_report(ctx.out / "REPORT.md", "Option discovery in Four Rooms", ctx.command, sections)
    return {
        "protocol": protocol,
        "methods": list(METHODS),
        "episodes_to_near_optimal": near,
        "episodes_to_within_50pct": rough,
        "early_steps_per_episode": early,
        "subgoals": picture["subgoals"],
        "betweenness_peaks": picture["peaks"],
        "subgoals_are_hallways": picture["subgoals_are_hallways"],
    }


def _results(
    trials: list[dict[str, Any]],
    near: dict[str, Any],
    rough: dict[str, Any],
    n_seeds: int,
    budget: int,
) -> str:
    rows = []
    for goal in GOALS:
        for method in METHODS:
            early = mean_ci(pick(trials, goal, method, "early_steps_per_episode"))
            n_opts = pick(trials, goal, method, "n_options")
            rows.append(
                [
                    goal,
                    method,
                    f"{min(n_opts)}–{max(n_opts)}" if min(n_opts) != max(n_opts) else n_opts[0],
                    cell(near[goal][method]),
                    speedup(near, goal, method),
                    cell(rough[goal][method]),
                    early.format(1),
                ]
            )
    headers = [
        "goal",
        "option set (+ 4 primitives)",
        "options",
        "episodes to ≤ 110 % of optimal",
        "speedup vs flat (ratio of means)",
        "episodes to ≤ 150 %",
        f"steps/episode, first {EARLY}",
    ]
    return (
        f"## Results\n\nMean [95 % CI] over n = {n_seeds} seeds per cell (Student t; the interval "
        f'clipped to the metric\'s range [25, {budget}] episodes). "(k never)": k seeds never met '
        "the criterion and count at the budget, so that mean is a lower bound; a speedup is "
        "marked ≥ (flat Q censored), ≤ (the method censored) or ? (both) where it is a bound. "
        "All methods: intra-option Q-learning, same α, ε, seeds and evaluation.\n\n"
        + markdown_table(headers, rows)
    )


def _picture(ctx: ExperimentContext, seed: int, diayn_episodes: int) -> dict[str, Any]:
    env = FourRoomsEnv()
    dynamics = env.dynamics()
    graph = transition_graph(dynamics)
    found = betweenness_subgoals(graph, K_SUBGOALS)
    eig, vectors = eigenoptions(dynamics, graph, K_EIGEN, GAMMA)
    stops = [np.flatnonzero(~o.initiation).tolist() for o in eig]
    diayn = DiaynLearner(dynamics, DiaynConfig(episodes=diayn_episodes), seed,
                         features=coordinate_features(env))  # fmt: skip
    diayn.train()
    draw_discovery(
        env, found.centrality, found.peaks, found.subgoals, vectors, stops,
        diayn.skill_probs(), ctx.out / "discovered_options.png",
    )  # fmt: skip
    cells = sorted(env.cells[g] for g in found.subgoals)
    return {
        "subgoals": [list(env.cells[g]) for g in found.subgoals],
        "peaks": [list(env.cells[p]) for p in found.peaks],
        "subgoals_are_hallways": cells == sorted(HALLWAYS),
        "eigen_stops": [[list(env.cells[s]) for s in st] for st in stops],
    }


EXPERIMENT = Experiment(
    name="option-discovery",
    summary="Betweenness, eigenoption and DIAYN options vs hallway options in Four Rooms",
    run=run,
    default_seeds=5,
    quick_seeds=2,
)
