"""Option-critic in Four Rooms with a moving goal (Bacon, Harb & Precup 2017, Section 5.1).

Tabular option-critic (4 options), a one-step actor-critic on primitives and SARSA(0) learn with
the goal in the east hallway for 1000 episodes; the goal then moves to a random cell of the
lower-right room (the same cell for every method within a seed) and learning continues. The
headline is the mean number of steps per episode over the 100 episodes after the switch.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from hrrl.agents.actor_critic import ActorCritic, ActorCriticConfig, Sarsa, SarsaConfig
from hrrl.agents.option_critic import OptionCritic, OptionCriticConfig
from hrrl.core.parallel import Job
from hrrl.core.report import write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.envs.four_rooms import EAST_HALLWAY, MOVES, ROOMS, FourRoomsEnv
from hrrl.experiments import _option_critic_report as ocr
from hrrl.experiments._option_critic_report import METHODS, PUBLISHED_CLAIM, WINDOW
from hrrl.experiments.base import Experiment, ExperimentContext

BASE_SEED = 20170204


def make_agent(method: str, n_states: int, rng: np.random.Generator) -> Any:
    """The learner of ``method`` with the paper's hyper-parameters (the config defaults)."""
    n_actions = len(MOVES)
    if method == "option-critic":
        return OptionCritic(n_states, n_actions, OptionCriticConfig(), rng)
    if method == "actor-critic":
        return ActorCritic(n_states, n_actions, ActorCriticConfig(), rng)
    if method == "SARSA(0)":
        return Sarsa(n_states, n_actions, SarsaConfig(), rng)
    raise ValueError(f"unknown method {method!r}")


def switched_goal(seed: int) -> tuple[int, int]:
    """The goal after the switch: a uniformly random cell of the lower-right room."""
    room = ROOMS["lower-right"]
    return room[int(make_rng(spawn_seeds(seed, 2)[0]).integers(len(room)))]


def run_trial(method: str, seed: int, episodes_before: int, episodes_after: int) -> dict[str, Any]:
    """Steps of every episode, the new goal and (option-critic) β tables at the switch and end."""
    agent_seed = spawn_seeds(seed, 2)[1]
    rng = make_rng(agent_seed)
    env = FourRoomsEnv(goal=EAST_HALLWAY)
    agent = make_agent(method, env.n_states, rng)
    new_goal = switched_goal(seed)
    env.reset(seed=int(rng.integers(2**31)))
    steps: list[int] = []
    tables: dict[str, list[list[float]]] = {}
    for episode in range(episodes_before + episodes_after):
        if episode == episodes_before:
            if isinstance(agent, OptionCritic):
                tables["at_switch"] = agent.termination_table().tolist()
            env.reset(options={"goal": new_goal})
        steps.append(agent.run_episode(env).steps)
    if isinstance(agent, OptionCritic):
        tables["at_end"] = agent.termination_table().tolist()
    return {
        "method": method,
        "seed": seed,
        "new_goal": list(new_goal),
        "steps": steps,
        "terminations": tables,
    }


def _protocol(quick: bool) -> dict[str, int]:
    return {"episodes_before": 1000, "episodes_after": 300 if quick else 1000}


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    seeds = spawn_seeds(BASE_SEED, ctx.seeds)
    jobs = [
        Job(f"{m}-{i}", run_trial, {"method": m, "seed": s, **protocol})
        for i, s in enumerate(seeds)
        for m in METHODS
    ]
    trials = ctx.run_jobs(jobs, description="option-critic")
    switch = protocol["episodes_before"]
    windows = {
        "last_100_before_switch": (switch - WINDOW, switch),
        "first_100_after_switch": (switch, switch + WINDOW),
        "last_100_of_run": (len(trials[0]["steps"]) - WINDOW, len(trials[0]["steps"])),
    }
    summary = {
        name: {m: _window_ci(trials, m, lo, hi) for m in METHODS}
        for name, (lo, hi) in windows.items()
    }
    plots = [ocr.steps_plot(trials, switch, ctx.out)]
    first_oc = next(t for t in trials if t["method"] == "option-critic")
    plots += [
        ocr.termination_plot(np.asarray(first_oc["terminations"][when]), when, ctx.out)
        for when in ("at_switch", "at_end")
    ]
    elapsed = time.perf_counter() - started
    write_report(
        ctx.out / "REPORT.md",
        "Option-critic in Four Rooms",
        ctx.command,
        ocr.sections(summary, protocol, ctx, plots, first_oc, elapsed),
    )
    return {
        "protocol": protocol,
        "mean_steps_after_switch": {
            m: summary["first_100_after_switch"][m]["mean"] for m in METHODS
        },
        "mean_steps_after_switch_ci95": {
            m: summary["first_100_after_switch"][m]["ci95"] for m in METHODS
        },
        "mean_steps_before_switch": {
            m: summary["last_100_before_switch"][m]["mean"] for m in METHODS
        },
        "mean_steps_end_of_run": {m: summary["last_100_of_run"][m]["mean"] for m in METHODS},
        "published_claim": PUBLISHED_CLAIM,
    }


def _window_ci(trials: list[dict[str, Any]], method: str, lo: int, hi: int) -> dict[str, Any]:
    """Mean ± CI over seeds of each seed's mean steps per episode in episodes [lo, hi)."""
    per_seed = [float(np.mean(t["steps"][lo:hi])) for t in trials if t["method"] == method]
    ci = mean_ci(per_seed)
    half = None if np.isnan(ci.half_width) else ci.half_width
    return {"mean": ci.mean, "ci95": half, "text": ci.format(1)}


EXPERIMENT = Experiment(
    name="option-critic",
    summary="Tabular option-critic vs actor-critic vs SARSA(0) with a moving goal in Four Rooms",
    run=run,
    default_seeds=20,
    quick_seeds=6,
)
