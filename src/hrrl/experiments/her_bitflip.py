"""UVFA + Hindsight Experience Replay on n-bit flipping (Andrychowicz et al. 2017, Fig. 1).

Three methods on the same :class:`~hrrl.envs.bitflip.BitFlipEnv` with the same budget:
goal-conditioned DQN without relabelling (``DQN``), the same with HER's ``future`` strategy,
k = 4 (``DQN+HER``), and stable-baselines3's ``DQN`` with its ``HerReplayBuffer`` (``SB3
DQN+HER``, the external reference). A training cycle is 16 episodes then 40 gradient steps on
batches of 128 (the paper's loop); SB3 is configured to the same schedule
(``train_freq = 16 episodes``, ``gradient_steps = 40``), the same network (one hidden layer of
256), learning rate, γ, ε and Polyak rate. The headline is the greedy success rate over 100 fresh
episodes at the end of training.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.agents.her import HERDQNConfig, train_her_dqn
from hrrl.core.parallel import Job
from hrrl.core.report import markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.experiments.base import Experiment, ExperimentContext

METHODS = ("DQN", "DQN+HER", "SB3 DQN+HER")
"""Ours without and with hindsight relabelling, and the stable-baselines3 reference."""
PUBLISHED = {"DQN": "solves n ≤ 13", "DQN+HER": "solves n ≤ 50"}
"""The paper's claim (Fig. 1): DQN alone fails beyond 13 bits, with HER it succeeds up to 50."""
BASE_SEED = 20170705
EVAL_EPISODES = 100
CONFIG = HERDQNConfig()


def _protocol(quick: bool) -> dict[str, Any]:
    """Bit counts and training cycles per count (16 episodes of n steps per cycle at most)."""
    if quick:
        return {"bits": [10, 20], "cycles": {10: 60, 20: 120}, "evals": 6}
    bits = [10, 20, 30, 40, 50]
    return {"bits": bits, "cycles": {n: 10 * n for n in bits}, "evals": 10}


def _make_env(n_bits: int) -> BitFlipEnv:
    return BitFlipEnv(n_bits)


class _EnvFactory:
    """A picklable ``make_env`` for the job processes."""

    def __init__(self, n_bits: int) -> None:
        self.n_bits = n_bits

    def __call__(self) -> BitFlipEnv:
        return _make_env(self.n_bits)


def run_ours(n_bits: int, her: bool, seed: int, cycles: int, eval_every: int) -> dict[str, Any]:
    """Goal-conditioned DQN with (``her``) or without hindsight relabelling."""
    from dataclasses import replace

    config = replace(CONFIG, n_sampled_goal=4 if her else 0)
    started = time.perf_counter()
    result = train_her_dqn(_EnvFactory(n_bits), config, seed, cycles, eval_every, EVAL_EPISODES)
    return {**result, "wall_s": time.perf_counter() - started}


def run_sb3(n_bits: int, seed: int, cycles: int) -> dict[str, Any]:
    """stable-baselines3 DQN + HerReplayBuffer on the same env, schedule and network."""
    import torch
    from stable_baselines3 import DQN, HerReplayBuffer

    torch.set_num_threads(1)
    started = time.perf_counter()
    budget = cycles * CONFIG.episodes_per_cycle * n_bits
    dqn = CONFIG.dqn
    model = DQN(
        "MultiInputPolicy",
        _make_env(n_bits),
        learning_rate=dqn.lr,
        buffer_size=budget + 1,
        learning_starts=CONFIG.episodes_per_cycle * n_bits,
        batch_size=CONFIG.batch_size,
        tau=dqn.tau,
        gamma=dqn.gamma,
        train_freq=(CONFIG.episodes_per_cycle, "episode"),
        gradient_steps=CONFIG.updates_per_cycle,
        replay_buffer_class=HerReplayBuffer,
        replay_buffer_kwargs={"n_sampled_goal": 4, "goal_selection_strategy": "future"},
        target_update_interval=CONFIG.episodes_per_cycle * n_bits,
        exploration_fraction=1.0,
        exploration_initial_eps=CONFIG.epsilon,
        exploration_final_eps=CONFIG.epsilon,
        max_grad_norm=dqn.grad_clip,
        policy_kwargs={"net_arch": list(CONFIG.hidden)},
        seed=seed,
        device="cpu",
    )
    model.learn(total_timesteps=budget)
    env = _make_env(n_bits)
    env.reset(seed=spawn_seeds(seed, 2)[1])
    wins = 0
    for _ in range(EVAL_EPISODES):
        obs, _ = env.reset()
        while True:
            action, _ = model.predict(obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(int(action))
            if terminated or truncated:
                wins += int(info["is_success"])
                break
    return {
        "success": wins / EVAL_EPISODES,
        "env_steps": int(model.num_timesteps),
        "wall_s": time.perf_counter() - started,
    }


def _jobs(protocol: dict[str, Any], seeds: list[int]) -> list[tuple[str, int, Job]]:
    """``(method, bits, job)`` for every method, bit count and seed."""
    jobs = []
    for n in protocol["bits"]:
        cycles = protocol["cycles"][n]
        eval_every = max(1, cycles // protocol["evals"])
        for i, seed in enumerate(seeds):
            for method in METHODS:
                key = f"{method.replace(' ', '_').replace('+', 'p')}-n{n}-s{i}"
                if method == "SB3 DQN+HER":
                    job = Job(key, run_sb3, {"n_bits": n, "seed": seed, "cycles": cycles})
                else:
                    kwargs = {"n_bits": n, "her": method == "DQN+HER", "seed": seed,
                              "cycles": cycles, "eval_every": eval_every}  # fmt: skip
                    job = Job(key, run_ours, kwargs)
                jobs.append((method, n, job))
    return jobs


def _summary(
    labels: list[tuple[str, int]], results: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Per method and bit count: success and wall time per seed, learning curves."""
    table: dict[str, dict[str, Any]] = {}
    for (method, n), result in zip(labels, results, strict=True):
        entry = table.setdefault(method, {}).setdefault(
            str(n), {"success": [], "wall_s": [], "curves": []}
        )
        entry["success"].append(result["success"])
        entry["wall_s"].append(result["wall_s"])
        if "curve" in result:
            entry["curves"].append(result["curve"])
    return table


def _results_table(table: dict[str, dict[str, Any]], bits: list[int]) -> str:
    rows = []
    for n in bits:
        row: list[Any] = [n]
        for method in METHODS:
            entry = table[method][str(n)]
            row.append(mean_ci(entry["success"]).format(2))
        row.append("yes" if n <= 13 else "no")
        row.append("yes")
        rows.append(row)
    headers = ["bits", *(f"{m} success" for m in METHODS), "paper: DQN solves", "paper: +HER"]
    return markdown_table(headers, rows)


def _time_table(table: dict[str, dict[str, Any]], bits: list[int]) -> str:
    rows = [[n, *(mean_ci(table[m][str(n)]["wall_s"]).format(1) for m in METHODS)] for n in bits]
    return markdown_table(["bits", *(f"{m} wall s / seed" for m in METHODS)], rows)


def _plot(table: dict[str, dict[str, Any]], bits: list[int], out: Path) -> str:
    fig, ax = new_figure()
    for n in bits:
        for method, style in (("DQN", "--"), ("DQN+HER", "-")):
            curves = table[method][str(n)]["curves"]
            cycles = [c for c, _ in curves[0]]
            mean = np.mean([[s for _, s in curve] for curve in curves], axis=0)
            ax.plot(cycles, mean, style, label=f"{method}, n={n}")
    ax.set_xlabel("training cycle (16 episodes + 40 updates)")
    ax.set_ylabel("greedy success rate")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    name = "success_curves.png"
    save_figure(fig, out / name)
    return name


def _note(table: dict[str, dict[str, Any]], bits: list[int], quick: bool) -> str:
    her = {n: mean_ci(table["DQN+HER"][str(n)]["success"]).mean for n in bits}
    dqn = {n: mean_ci(table["DQN"][str(n)]["success"]).mean for n in bits}
    solved = [n for n in bits if her[n] >= 0.9]
    failed_dqn = [n for n in bits if dqn[n] < 0.1]
    lines = [
        "## Notes",
        "",
        f"- DQN+HER reached ≥ 90 % success for n ∈ {solved or 'none'}; plain DQN stayed below "
        f"10 % for n ∈ {failed_dqn or 'none'}.",
        "- The paper trains far longer than this protocol (its Fig. 1 reports success after "
        "training to convergence); where DQN+HER falls short of the claim here, the training "
        "budget (the cycles per n above) is the first suspect. Nothing was tuned to match the "
        "paper; numbers are reported as measured.",
        "- Where plain DQN fails at n ≤ 13 here, that contradicts the paper's 'DQN solves "
        "n ≤ 13' at this budget; the paper trains much longer, which is the likely (untested) "
        "reason. Without relabelling, every reward comes from a chance hit of the goal, and "
        "those get exponentially rarer as n grows.",
        "- SB3 keeps the stored `done` flag for relabelled transitions (it does not recompute "
        "termination for the new goal); ours recomputes both reward and termination with the "
        "env's `compute_reward` / `compute_terminated`. SB3 also seeds global RNGs (in its own "
        "worker process).",
    ]
    if quick:
        lines.append("- Quick protocol: n ∈ {10, 20} only and shorter training; run without "
                     "`--quick` for n = 10 … 50.")  # fmt: skip
    return "\n".join(lines)


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    seeds = spawn_seeds(BASE_SEED, ctx.seeds)
    labelled = _jobs(protocol, seeds)
    jobs = [job for _, _, job in labelled]
    results = ctx.run_jobs(jobs, description="her-bitflip")
    table = _summary([(m, n) for m, n, _ in labelled], results)
    bits = protocol["bits"]
    plot = _plot(table, bits, ctx.out)
    elapsed = time.perf_counter() - started
    setup = (
        "## Setup\n\n"
        f"Bits n ∈ {bits}; training cycles per n: {protocol['cycles']} (a cycle = 16 episodes of "
        f"at most n steps, then 40 gradient steps on batches of 128). Q-network: one hidden layer "
        f"of 256 on observation ‖ goal; double DQN, Adam lr {CONFIG.dqn.lr}, γ = "
        f"{CONFIG.dqn.gamma}, Polyak τ = {CONFIG.dqn.tau} once per cycle, ε = {CONFIG.epsilon}. "
        f"HER: `future` strategy, k = 4. Success: greedy policy over {EVAL_EPISODES} fresh "
        f"episodes after training. {ctx.seeds} seeds; mean ± 95 % CI (Student t)."
    )
    sections = [
        setup,
        "## Final success rate\n\n" + _results_table(table, bits),
        "## Wall time\n\n" + _time_table(table, bits),
        _note(table, bits, ctx.quick),
        f"## Learning curves (ours)\n\n![success curves]({plot})",
        ctx.run_time_section(elapsed),
    ]
    write_report(ctx.out / "REPORT.md", "UVFA + HER on bit flipping", ctx.command, sections)
    return {
        "protocol": {"bits": bits, "cycles": {str(k): v for k, v in protocol["cycles"].items()}},
        "final_success": {
            m: {n: mean_ci(v["success"]).mean for n, v in table[m].items()} for m in METHODS
        },
        "final_success_per_seed": {
            m: {n: v["success"] for n, v in table[m].items()} for m in METHODS
        },
        "method_wall_time_s": {
            m: {n: mean_ci(v["wall_s"]).mean for n, v in table[m].items()} for m in METHODS
        },
        "published_claim": PUBLISHED,
    }


EXPERIMENT = Experiment(
    name="her-bitflip",
    summary="UVFA + HER vs DQN (and SB3 DQN+HER) on n-bit flipping",
    run=run,
    default_seeds=3,
    quick_seeds=2,
)
