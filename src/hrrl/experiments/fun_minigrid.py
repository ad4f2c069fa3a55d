"""FeUdal Networks vs flat A2C / LSTM-A2C / PPO (and stable-baselines3 PPO) on MiniGrid DoorKey.

Protocol. ``MiniGrid-DoorKey-5x5-v0`` (Farama ``minigrid``): pick up the key, open the locked
door, reach the goal; reward ``1 − 0.9·steps/250`` on reaching it, else 0; 250-step limit. The
observation is the 7×7 egocentric view one-hot encoded plus the heading
(:class:`hrrl.envs.minigrid_compact.CompactMiniGrid`, 984 inputs), six actions (MiniGrid's seven
without "done"). Every learner gets the same frame budget (env steps summed over its 16 parallel
envs), then its sampling policy plays one episode in each of ``eval_episodes`` fresh seeded envs.
The headline is that success rate (mean ± 95 % CI over seeds); learning curves are the success
rate of training episodes binned by frames.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import torch

from hrrl.agents.a2c import A2CAgent, A2CConfig, PPOAgent, PPOAgentConfig
from hrrl.agents.baselines.sb3 import SB3Actor
from hrrl.agents.fun import FuNAgent, FuNConfig
from hrrl.core.recurrent import EpisodeLog, evaluate_episodes, train_on_policy
from hrrl.core.report import markdown_table, write_report
from hrrl.core.seeding import spawn_seeds, torch_generator
from hrrl.core.stats import mean_ci
from hrrl.envs.minigrid_compact import OBS_SIZE, make_minigrid, make_minigrid_vector
from hrrl.experiments import _fun_minigrid_report as fr
from hrrl.experiments._fun_minigrid_report import BINS, ENV_ID, LABELS, METHODS
from hrrl.experiments.base import Experiment, ExperimentContext

N_ACTIONS = 6
N_ENVS = 16


def frames(quick: bool) -> int:
    return 10_000 if quick else 100_000


def eval_episodes(quick: bool) -> int:
    return 24 if quick else 100


def _train_sb3(budget: int, seed: int) -> tuple[SB3Actor, EpisodeLog]:
    from stable_baselines3 import PPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    n_envs = 8
    venv = DummyVecEnv([lambda: Monitor(make_minigrid(ENV_ID, N_ACTIONS)) for _ in range(n_envs)])
    venv.seed(seed)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=128,
        batch_size=256,
        n_epochs=4,
        ent_coef=0.01,
        policy_kwargs={"net_arch": [64, 64]},
        seed=seed,
        device="cpu",
    )
    model.learn(total_timesteps=budget)
    log = EpisodeLog()
    ends: list[tuple[int, float, int]] = []
    for monitor in venv.envs:
        assert isinstance(monitor, Monitor)
        steps = np.cumsum(monitor.get_episode_lengths())
        for end, ret, length in zip(
            steps, monitor.get_episode_rewards(), monitor.get_episode_lengths(), strict=True
        ):
            ends.append((int(end) * n_envs, float(ret), int(length)))
    for frame, ret, length in sorted(ends):
        log.frames.append(frame)
        log.returns.append(ret)
        log.lengths.append(length)
        log.successes.append(ret > 0)
    return SB3Actor(model), log


def _agent(method: str, seed: int) -> Any:
    if method == "fun":
        return FuNAgent(OBS_SIZE, N_ACTIONS, FuNConfig(), seed)
    if method == "ppo":
        return PPOAgent(OBS_SIZE, N_ACTIONS, PPOAgentConfig(), seed)
    config = A2CConfig(core="lstm") if method == "a2c_lstm" else A2CConfig()
    return A2CAgent(OBS_SIZE, N_ACTIONS, config, seed)


def curve(log: EpisodeLog, budget: int) -> list[float]:
    """Success rate of the training episodes that ended in each of ``BINS`` frame bins."""
    edges = np.linspace(0, budget, BINS + 1)
    ends, wins = np.asarray(log.frames), np.asarray(log.successes, dtype=float)
    out = []
    for lo, hi in itertools.pairwise(edges):
        mask = (ends > lo) & (ends <= hi)
        out.append(float(wins[mask].mean()) if mask.any() else float("nan"))
    return out


def run_one(method: str, seed: int, quick: bool) -> dict[str, Any]:
    """Train one learner for the frame budget, then evaluate its sampling policy."""
    torch.set_num_threads(1)
    env_seed, agent_seed, eval_seed, gen_seed = (s % 2**31 for s in spawn_seeds(seed, 4))
    budget = frames(quick)
    started = time.perf_counter()
    if method == "sb3_ppo":
        actor, log = _train_sb3(budget, env_seed)
    else:
        agent = _agent(method, agent_seed)
        log = train_on_policy(
            agent, make_minigrid_vector(ENV_ID, N_ENVS, N_ACTIONS), budget, env_seed
        )
        actor = agent.actor
    train_s = time.perf_counter() - started
    envs = make_minigrid_vector(ENV_ID, eval_episodes(quick), N_ACTIONS)
    with torch.no_grad():
        ev = evaluate_episodes(actor, envs, eval_seed, torch_generator(gen_seed))
    last = [s for s, f in zip(log.successes, log.frames, strict=True) if f > 0.8 * budget]
    return {
        "method": method,
        "seed": seed,
        "eval_success": float(np.mean(ev.successes)),
        "eval_return": float(np.mean(ev.returns)),
        "eval_length": float(np.mean(ev.lengths)),
        "train_success_last20": float(np.mean(last)) if last else float("nan"),
        "train_episodes": len(log.returns),
        "curve": curve(log, budget),
        "train_s": train_s,
        "fps": budget / train_s,
    }


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    settings = [(m, {"method": m, "quick": ctx.quick}) for m in METHODS]
    runs = ctx.sweep(run_one, 14_000, settings, description="fun-minigrid")
    budget = frames(ctx.quick)
    summary = fr.summary(runs)
    fr.plot(runs, budget, ctx.out / "learning_curves.png")
    verdict, headline = fr.verdict(summary)
    rows = [
        [
            LABELS[m],
            mean_ci(summary[m]["eval_success"]["per_seed"]).format(1, 100, " %", (0, 1)),
            mean_ci(summary[m]["eval_return"]["per_seed"]).format(3, bounds=(0, 1)),
            mean_ci(summary[m]["train_success_last20"]["per_seed"]).format(1, 100, " %", (0, 1)),
            f"{summary[m]['fps']['mean']:.0f}",
        ]
        for m in METHODS
    ]
    elapsed = time.perf_counter() - started
    protocol = (
        f"{ctx.seeds} seeds{' (quick protocol)' if ctx.quick else ''}; **{budget:,} frames** "
        f"(env steps) per learner per seed; evaluation: one episode in each of "
        f"{eval_episodes(ctx.quick)} fresh seeded envs per run, sampling policy."
    )
    sections = [
        fr.PROTOCOL,
        protocol,
        "## Results\n\n"
        + markdown_table(
            [
                "method",
                "evaluation success (mean ± 95 % CI over seeds)",
                "evaluation return",
                "training success, last 20 % of frames",
                "frames / s (under load)",
            ],
            rows,
        )
        + "\n\n"
        + verdict
        + "\n\n![learning curves](learning_curves.png)",
        fr.CLAIMS,
        fr.NOTES,
        ctx.run_time_section(elapsed),
    ]
    write_report(ctx.out / "REPORT.md", f"FeUdal Networks on {ENV_ID}", ctx.command, sections)
    return {"env": ENV_ID, "frames": budget, "methods": summary, **headline}


EXPERIMENT = Experiment(
    name="fun-minigrid",
    summary="FeUdal Networks vs flat A2C / LSTM-A2C / PPO (+ SB3 PPO) on MiniGrid DoorKey-5x5",
    run=run,
    default_seeds=5,
    quick_seeds=3,
)
