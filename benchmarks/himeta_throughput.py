"""The point-manipulation suite's env steps/s (numpy VectorEnv vs gymnasium SyncVectorEnv over the
single env, same N) and each HiMeta-family method's training throughput (env steps/s including
the PPO update)."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from gymnasium.vector import SyncVectorEnv

from hrrl.envs.point_manip import TRAIN_TASKS, PointManipEnv, PointManipVectorEnv, task_ids

from .timing import best_time


@dataclass(frozen=True)
class EnvRow:
    name: str
    num_envs: int
    steps_per_s: float


def _random_actions(n: int, iterations: int) -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (iterations, n, 3)).astype(np.float32)


def sync_vector(n: int = 256, total_steps: int = 50_000) -> EnvRow:
    tasks = [TRAIN_TASKS[i % len(TRAIN_TASKS)] for i in range(n)]
    env = SyncVectorEnv([lambda t=t: PointManipEnv(t) for t in tasks])
    env.reset(seed=0)
    actions = _random_actions(n, max(2, total_steps // n))

    def run() -> None:
        for a in actions:
            env.step(a)

    return EnvRow("gymnasium SyncVectorEnv(PointManipEnv)", n, actions.size / 3 / best_time(run))


def numpy_vector(n: int = 256, total_steps: int = 1_000_000) -> EnvRow:
    env = PointManipVectorEnv(n, TRAIN_TASKS)
    env.reset(seed=0)
    actions = _random_actions(n, max(20, total_steps // n))

    def run() -> None:
        for a in actions:
            env.step(a)

    return EnvRow("hrrl PointManipVectorEnv", n, actions.size / 3 / best_time(run))


def measure_envs(n: int = 256) -> list[EnvRow]:
    return [sync_vector(n), numpy_vector(n)]


def measure_methods(iterations: int = 2) -> list[tuple[str, float]]:
    """Env steps per second of training (rollout + update), one thread, suite's settings."""
    from hrrl.agents.himeta import VARIANTS, HiMeta
    from hrrl.experiments.himeta_pointmanip import BASE, GROUPS

    torch.set_num_threads(1)
    rows = []
    for name in GROUPS["methods"]:
        config = replace(BASE, **VARIANTS[name])
        agent = HiMeta(config, seed=0)
        env = PointManipVectorEnv(config.num_envs, TRAIN_TASKS)
        task = np.resize(task_ids(TRAIN_TASKS), config.num_envs)
        agent.train_iteration(env, task)  # warm-up
        started, steps = time.perf_counter(), agent.steps
        for _ in range(iterations):
            agent.train_iteration(env, task)
        rows.append((name, (agent.steps - steps) / (time.perf_counter() - started)))
    return rows
