"""HIRO (Nachum et al. 2018) against HIRO without correction, flat TD3 and TD3 + HER on an S-maze.

Five methods on :class:`~hrrl.envs.point_maze.PointMazeEnv` with the S-shaped 6×6 maze
(:data:`~hrrl.envs.point_maze.S_MAZE_WALLS`, sparse reward, 200-step episodes; ``--protocol
u-maze``: the 4×4 U-maze, see :mod:`hrrl.experiments._hiro_mazes`): flat TD3 on
``position ‖ goal``; TD3 + HER (the same TD3 fed hindsight-relabelled goals, ``future``
strategy, k = 4); a TD3 manager choosing relative subgoals every ``c = 10`` steps for a TD3 worker
*without* relabelling; the same with HIRO's off-policy correction; and HIRO whose worker learns
with HER (:mod:`hrrl.agents.hiro_her`). Training goals are drawn
uniformly from the free space; evaluation asks for the far end of the S: every evaluation plays
many episodes, each with a start drawn from the bottom-left corner box and a goal from the
top-right corner box. All methods share the TD3 settings, the number of
environment steps and one gradient step per environment step (the manager: one per ``c``).

Headline, per seed: the success rate over the last ``LAST_EVALS`` evaluations (each of
``EVAL_EPISODES`` start/goal pairs), then mean and 95 % CI over seeds.
"""

from __future__ import annotations

import time
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.agents.hiro import HIROAgent, HIROConfig, train_hiro
from hrrl.agents.hiro_her import HIROHERAgent
from hrrl.agents.td3 import TD3Config, train_goal_td3
from hrrl.core.parallel import Job
from hrrl.core.report import markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.experiments import _hiro_point_maze_report as hr
from hrrl.experiments._hiro_mazes import MAX_STEPS, MAZES, MazeSetting, env_makers
from hrrl.experiments._hiro_point_maze_report import (
    HER_WORKER,
    LAST_EVALS,
    METHODS,
    NO_CORRECTION,
    PUBLISHED,
    last_success,
    mean_success_over_training,
    steps_to_success,
    success_curve_plot,
)
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks.point_maze import closest_approach, geodesic_distance_map

BASE_SEED = 20180521
EVAL_EPISODES = 20
HIRO_CONFIG = HIROConfig()
FLAT_CONFIG = TD3Config()
WARMUP = HIRO_CONFIG.warmup_steps
HER_K = 4


def _protocol(quick: bool) -> dict[str, Any]:
    if quick:
        return {"steps": 3_000, "evals": 3}
    return {"steps": 8_000, "evals": 8}


def run_method(
    method: str, seed: int, steps: int, eval_every: int, maze: str = "s-maze"
) -> dict[str, Any]:
    """Train one method for ``steps`` environment steps (a job for :func:`run_jobs`)."""
    started = time.perf_counter()
    make_train, make_eval = env_makers(maze)
    if method in ("flat TD3", "TD3+HER"):
        result = train_goal_td3(
            make_train, FLAT_CONFIG, seed, steps, eval_every, EVAL_EPISODES, WARMUP,
            make_eval_env=make_eval, n_sampled_goal=HER_K if method == "TD3+HER" else 0,
        )  # fmt: skip
    else:
        config = replace(HIRO_CONFIG, relabel=method != NO_CORRECTION)
        her = partial(HIROHERAgent, n_sampled_goal=HER_K)
        result = train_hiro(
            make_train, config, seed, steps, eval_every, EVAL_EPISODES, make_eval,
            make_agent=her if method == HER_WORKER else HIROAgent,
        )  # fmt: skip
    return {**result, "wall_s": time.perf_counter() - started}


def _jobs(protocol: dict[str, Any], seeds: list[int], maze: str) -> list[tuple[str, Job]]:
    eval_every = protocol["steps"] // protocol["evals"]
    kwargs = {"steps": protocol["steps"], "eval_every": eval_every, "maze": maze}
    return [
        (m, Job(f"{m.replace(' ', '_').replace('+', '-')}-s{i}", run_method,
                {"method": m, "seed": seed, **kwargs}))
        for i, seed in enumerate(seeds)
        for m in METHODS
    ]  # fmt: skip


def _trajectory_plot(
    by_method: dict[str, list[dict[str, Any]]], out: Path, setting: MazeSetting
) -> str:
    from matplotlib.patches import Rectangle

    env = setting.eval_env()
    fig, ax = new_figure(5.0, 5.0)
    for x0, y0, x1, y1 in env.walls:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color="0.4"))
    for (x0, y0, x1, y1), color in (
        (setting.start_box, "tab:blue"),
        (setting.goal_box, "tab:green"),
    ):
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, color=color, alpha=0.2))
    for k, (method, results) in enumerate(by_method.items()):
        for j, trace in enumerate(results[0]["final_traces"][:2]):
            points = np.asarray(trace)
            ax.plot(points[:, 0], points[:, 1], color=f"C{k}", label=method if j == 0 else None)
    ax.set_xlim(0, env.size)
    ax.set_ylim(0, env.size)
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="center right")
    ax.set_title("final greedy episodes, first seed")
    name = "trajectories.png"
    save_figure(fig, out / name)
    return name


def _plot(by_method: dict[str, list[dict[str, Any]]], out: Path) -> str:
    periodic = {m: [r["curve"][:-1] for r in rs] for m, rs in by_method.items()}
    return success_curve_plot(periodic, out, f"greedy success ({EVAL_EPISODES} start/goal pairs)")


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    maze = ctx.protocol or "s-maze"
    setting = MAZES[maze]
    jobs = _jobs(protocol, spawn_seeds(BASE_SEED, ctx.seeds), maze)
    grouped = ctx.run_grouped(jobs, "hiro-maze")
    by_method: dict[str, list[dict[str, Any]]] = {m: grouped[m] for m in METHODS}
    distances = geodesic_distance_map(setting.eval_env(), target=setting.goal_centre)
    start_distance = float(distances[setting.start_cell])
    per_seed = {m: [last_success(r["curve"]) for r in rs] for m, rs in by_method.items()}
    success = {m: mean_ci(v) for m, v in per_seed.items()}
    final = {m: mean_ci([r["success"] for r in rs]) for m, rs in by_method.items()}
    approach = {
        m: mean_ci([closest_approach(r["final_traces"], distances, setting.size) for r in rs])
        for m, rs in by_method.items()
    }
    wall = {m: mean_ci([r["wall_s"] for r in rs]) for m, rs in by_method.items()}
    first = {m: [steps_to_success(r["curve"]) for r in rs] for m, rs in by_method.items()}
    area = {m: mean_ci([mean_success_over_training(r["curve"]) for r in rs])
            for m, rs in by_method.items()}  # fmt: skip
    unit = (0.0, 1.0)
    rows = [
        [m, success[m].format(2, bounds=unit), final[m].format(2, bounds=unit),
         area[m].format(2, bounds=unit), approach[m].format(2, bounds=(0, None)),
         hr.format_steps_to_success(first[m]), wall[m].format(0), PUBLISHED[m]]
        for m in METHODS
    ]  # fmt: skip
    table = markdown_table(
        ["method", f"success, last {LAST_EVALS} evaluations", "final evaluation",
         "mean success over training", "closest geodesic distance to goal box centre",
         "steps until success ≥ 0.9", "wall s / seed", "published (AntMaze)"],
        rows,
    )  # fmt: skip
    eval_every = protocol["steps"] // protocol["evals"]
    setup = (
        "## Setup\n\n"
        f"{setting.geometry}, goal radius 0.5, steps of at most 0.25, episodes of {MAX_STEPS} "
        "steps; sparse reward (−1 per step, 0 and termination at the goal). "
        f"Training: start {setting.start} ± 0.1, goal "
        "uniform over the free space at least 1.0 from the start (HIRO's AntMaze protocol, "
        "Nachum et al. 2018, is not in our seed copies). "
        f"Evaluation: {EVAL_EPISODES} greedy episodes every {eval_every} steps, each with a start "
        f"uniform in the box {setting.start_box} and a goal uniform in the box {setting.goal_box} "
        f"(geodesic distance ≈ {start_distance:.1f} between the box centres, "
        f"≥ {start_distance / 0.25:.0f} steps). {protocol['steps']} environment steps per run, "
        f"n = {ctx.seeds} seeds. "
        f"Headline per seed: success over the last {LAST_EVALS} evaluations "
        f"({LAST_EVALS * EVAL_EPISODES} episodes); mean ± 95 % CI over seeds (Student t, "
        "clipped to [0, 1]). "
        f"TD3: hidden {FLAT_CONFIG.hidden}, lr {FLAT_CONFIG.actor_lr}, batch "
        f"{FLAT_CONFIG.batch_size}, policy delay {FLAT_CONFIG.policy_delay}, smoothing noise "
        f"{FLAT_CONFIG.policy_noise} (clip {FLAT_CONFIG.noise_clip}). HER: k = {HER_K}, "
        f"`future`. Hierarchy: c = {HIRO_CONFIG.subgoal_period}, subgoals in "
        f"[−{HIRO_CONFIG.subgoal_range}, {HIRO_CONFIG.subgoal_range}]², manager reward = "
        f"{HIRO_CONFIG.manager_reward_scale} × summed env reward. {WARMUP} warm-up steps of "
        "uniform actions (and subgoals) for every method. The HER worker: HIRO (with its "
        f"correction) whose worker samples its batches from HER (k = {HER_K}, `future` within "
        "each manager segment, the target s₀ + g₀ replaced by a state reached later). "
        + setting.choice
    )
    sections = [
        setup,
        "## Results\n\n" + table,
        hr.note(success, ctx.quick, protocol["steps"]),
        f"## Plots\n\n![success curves]({_plot(by_method, ctx.out)})\n\n"
        f"![trajectories]({_trajectory_plot(by_method, ctx.out, setting)})",
        ctx.run_time_section(time.perf_counter() - started),
    ]
    write_report(ctx.out / "REPORT.md", setting.title, ctx.command, sections)
    return {
        "protocol": {
            **protocol,
            "eval_episodes": EVAL_EPISODES,
            "last_evals": LAST_EVALS,
            "maze": maze,
        },
        "success_last_evals": {m: success[m].mean for m in METHODS},
        "success_last_evals_ci95": {m: success[m].half_width for m in METHODS},
        "success_last_evals_per_seed": per_seed,
        "final_success": {m: final[m].mean for m in METHODS},
        "closest_geodesic_distance": {m: approach[m].mean for m in METHODS},
        "mean_success_over_training": {m: area[m].mean for m in METHODS},
        "steps_to_success_0.9_per_seed": first,
        "curves_per_seed": {m: [r["curve"] for r in by_method[m]] for m in METHODS},
        "start_geodesic_distance": start_distance,
        "method_wall_time_s": {m: wall[m].mean for m in METHODS},
        "published_claim": PUBLISHED,
    }


EXPERIMENT = Experiment(
    name="hiro-point-maze",
    summary="Flat TD3, TD3+HER, HIRO without correction, HIRO and HIRO with a HER worker on a "
    "2-D S-maze (--protocol u-maze: the U-maze)",
    run=run,
    default_seeds=20,
    quick_seeds=2,
    protocols=tuple(MAZES),
)
