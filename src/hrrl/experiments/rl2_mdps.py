"""``rl2-mdps``: RL² against classical tabular learners on random MDPs (Duan et al. 2016 §5).

A trial is ``n`` episodes of 10 steps on one random MDP with 10 states and 5 actions
(:mod:`hrrl.envs.random_mdps`); RL²'s GRU keeps its hidden state across the episodes of a trial
(seed 004 line 63; seed 001 lines 175–185 name RL² on tabular MDPs). For every ``n`` and seed:
draw held-out MDPs, train one RL² policy for that ``n``, and play one trial on each held-out MDP
with RL² and every baseline (random, Greedy, ε-greedy, PSRL, BEB, UCRL2), all with the same
environment generator (common random numbers). ε, BEB's β and UCRL2's width scale are tuned on
separate tuning MDPs, never on the held-out ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from hrrl.agents.rl2 import RL2Learner
from hrrl.agents.tabular_mdp_baselines import (
    BEBPolicy,
    GreedyMDPPolicy,
    MDPPolicy,
    NormalDirichletPrior,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
    play_mdp_trials,
)
from hrrl.core.parallel import Job
from hrrl.core.report import write_report
from hrrl.core.seeding import make_rng, spawn_seeds, torch_generator
from hrrl.envs.random_mdps import (
    REWARD_MEAN_PRIOR,
    REWARD_NOISE_STD,
    BatchedRandomMDP,
    MDPTasks,
    oracle_total,
    sample_mdps,
)
from hrrl.experiments import _rl2_mdps_report as rr
from hrrl.experiments._rl2_common import train_timed
from hrrl.experiments._rl2_mdps_report import (
    BEB_GRID,
    EPSILON_GRID,
    HORIZON,
    N_ACTIONS,
    N_STATES,
    RL2_CONFIG,
    RL2_METHOD,
    UCRL2_GRID,
)
from hrrl.experiments.base import Experiment, ExperimentContext

PRIOR = NormalDirichletPrior(1.0, REWARD_MEAN_PRIOR[0], REWARD_MEAN_PRIOR[1], REWARD_NOISE_STD)
"""The conjugate prior the Bayesian baselines are given: the true task distribution."""


@dataclass(frozen=True)
class Protocol:
    episodes: tuple[int, ...]
    """Trial lengths n (episodes per trial)."""
    updates: int
    """PPO updates per RL² policy."""
    held_out: int
    """Held-out MDPs per (n, seed)."""
    tuning: int
    """Tuning MDPs per (n, seed)."""

    def batch_trials(self, n_episodes: int) -> int:
        """Trials per PPO update: about 12,800 steps per update at n ≥ 10."""
        return max(16, 128 * 10 // n_episodes)


QUICK = Protocol(episodes=(10, 25), updates=50, held_out=300, tuning=100)
FULL = Protocol(episodes=(10, 25, 50, 75, 100), updates=400, held_out=1000, tuning=300)


def _mean(policy: MDPPolicy, tasks: MDPTasks, n_episodes: int, seeds: tuple[int, int]) -> float:
    env = BatchedRandomMDP(N_STATES, N_ACTIONS, n_episodes, HORIZON)
    return float(play_mdp_trials(policy, env, tasks, make_rng(seeds[0]), make_rng(seeds[1])).mean())


def tuned(
    n_episodes: int, tasks: MDPTasks, seeds: tuple[int, int]
) -> tuple[list[MDPPolicy], dict[str, float]]:
    """ε-greedy, BEB and UCRL2 with the grid value that scores best on the tuning MDPs."""
    makers: dict[str, tuple[Any, tuple[float, ...]]] = {
        "ε-greedy (tuned ε)": (lambda v, n: GreedyMDPPolicy(PRIOR, v, n), EPSILON_GRID),
        "BEB (tuned β)": (lambda v, n: BEBPolicy(v, PRIOR, n), BEB_GRID),
        "UCRL2 (tuned scale)": (lambda v, n: UCRL2Policy(v, name=n), UCRL2_GRID),
    }
    chosen = {
        name: max(grid, key=lambda v: _mean(make(v, name), tasks, n_episodes, seeds))
        for name, (make, grid) in makers.items()
    }
    return [makers[name][0](v, name) for name, v in chosen.items()], chosen


def run_setting(
    n_episodes: int, seed: int, protocol: Protocol, rl2_updates: int, checkpoint: str | None
) -> dict[str, Any]:
    """One (n, seed): held-out and tuning MDPs, baselines, tuned baselines, RL²."""
    torch.set_num_threads(1)
    task_seed, tune_seed, table_seed, policy_seed, train_seed = spawn_seeds(
        seed * 1_000_003 + n_episodes, 5
    )
    tasks = sample_mdps(protocol.held_out, N_STATES, N_ACTIONS, make_rng(task_seed))
    tuning = sample_mdps(protocol.tuning, N_STATES, N_ACTIONS, make_rng(tune_seed))
    policies: list[MDPPolicy] = [
        RandomMDPPolicy(),
        GreedyMDPPolicy(PRIOR),
        GreedyMDPPolicy(PRIOR, 0.1, "ε-greedy (ε = 0.1)"),
        PSRLPolicy(PRIOR),
    ]
    tuned_policies, chosen = tuned(n_episodes, tuning, (table_seed + 1, policy_seed + 1))
    policies += tuned_policies
    methods = {p.name: _mean(p, tasks, n_episodes, (table_seed, policy_seed)) for p in policies}
    methods["Oracle (knows the MDP)"] = float(oracle_total(tasks, n_episodes, HORIZON).mean())
    result: dict[str, Any] = {"n": n_episodes, "seed": seed, "tuned": chosen}
    if rl2_updates > 0:
        env = BatchedRandomMDP(N_STATES, N_ACTIONS, n_episodes, HORIZON)
        config = replace(
            RL2_CONFIG, updates=rl2_updates, batch_trials=protocol.batch_trials(n_episodes)
        )
        learner = RL2Learner(env, config, train_seed)
        train_s = train_timed(learner, checkpoint)  # summed over resumed parts
        if train_s is not None:
            result["rl2_train_s"] = round(train_s, 1)
        result["rl2_resumed_at"] = learner.resumed_at
        totals = learner.evaluate(tasks, make_rng(table_seed), torch_generator(train_seed))
        methods[RL2_METHOD] = float(totals.mean())
        result["curve"] = learner.curve
        result["rl2_config"] = vars(config)
    result["methods"] = methods
    return result


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = QUICK if ctx.quick else FULL
    ckpt = ctx.out / "_work" / "rl2"
    jobs = [
        Job(
            key=f"n{n}-seed{seed}",
            fn=run_setting,
            kwargs={
                "n_episodes": n,
                "seed": seed,
                "protocol": protocol,
                "rl2_updates": protocol.updates,
                "checkpoint": str(ckpt / f"n{n}-seed{seed}"),
            },
        )
        for n in sorted(protocol.episodes, reverse=True)
        for seed in range(ctx.seeds)
    ]
    results = ctx.run_jobs(jobs, description="rl2-mdps")
    by_n: dict[int, list[dict]] = {}
    for r in sorted(results, key=lambda r: (r["n"], r["seed"])):
        by_n.setdefault(r["n"], []).append(r)
    table, summary = rr.table(by_n)
    rr.curves(by_n, ctx.out / "rl2_training_curves.png")
    sections = [
        f"## Mean total reward per trial (mean ± 95 % CI over {ctx.seeds} seeds)\n\n{table}",
        rr.standing(by_n),
        "## Tuned values (chosen on tuning MDPs)\n\n" + rr.tuning_table(by_n),
        "## Plots\n\n![RL² training curves](rl2_training_curves.png)",
        rr.notes(protocol, ctx.quick, by_n),
        ctx.run_time_section(time.perf_counter() - started),
    ]
    write_report(ctx.out / "REPORT.md", "RL² on random tabular MDPs", ctx.command, sections)
    return {
        "mean_total_reward": summary,
        "per_seed": [{k: r[k] for k in ("n", "seed", "methods", "tuned")} for r in results],
    }


EXPERIMENT = Experiment(
    name="rl2-mdps",
    summary="RL² (GRU + PPO) vs PSRL, BEB, UCRL2, Greedy, ε-greedy on random MDPs (Duan 2016)",
    run=run,
    default_seeds=3,
    quick_seeds=2,
    report_dir="docs/experiments/rl2-mdps-full",  # the full protocol's report
)
