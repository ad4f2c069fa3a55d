"""Environment steps per second: single env, SyncVectorEnv over it, and our numpy VectorEnv."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gymnasium.vector import SyncVectorEnv

from hrrl.envs.numberline import NumberLineEnv
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.suites.distribution import ProblemDistribution

from .timing import best_time

TRAINING = ProblemDistribution(targets=(5, 100), forbidden_count=(2, 5))
"""The paper's training distribution: targets 5–100 with 2–5 forbidden states."""
curriculum_sampler = TRAINING.sampler


@dataclass(frozen=True)
class Throughput:
    name: str
    num_envs: int
    steps_per_s: float


def _actions(rng: np.random.Generator, n: int, steps: int) -> np.ndarray:
    return rng.integers(0, 3, size=(steps, n))


def single_env(steps: int = 20_000) -> Throughput:
    env = NumberLineEnv(sampler=curriculum_sampler)
    env.reset(seed=0)
    actions = _actions(np.random.default_rng(0), 1, steps)[:, 0]

    def run() -> None:
        for a in actions:
            _, _, terminated, truncated, _ = env.step(a)
            if terminated or truncated:
                env.reset()

    return Throughput("NumberLineEnv (single)", 1, steps / best_time(run))


def sync_vector(n: int, total_steps: int = 40_000) -> Throughput:
    env = SyncVectorEnv([lambda: NumberLineEnv(sampler=curriculum_sampler) for _ in range(n)])
    env.reset(seed=0)
    iterations = max(2, total_steps // n)
    actions = _actions(np.random.default_rng(0), n, iterations)

    def run() -> None:
        for a in actions:
            env.step(a)

    return Throughput("gymnasium SyncVectorEnv", n, n * iterations / best_time(run))


def numpy_vector(n: int, total_steps: int = 2_000_000, mode: str = "batch") -> Throughput:
    """``mode``: ``batch`` (one vectorized draw for all resets), ``per-env`` (a sampler call per
    reset, draw-for-draw identical to SyncVectorEnv), ``fixed`` (no redraws)."""
    if mode == "batch":
        env = NumberLineVectorEnv(num_envs=n, batch_sampler=TRAINING.draw_batch)
    elif mode == "per-env":
        env = NumberLineVectorEnv(num_envs=n, sampler=curriculum_sampler)
    else:
        env = NumberLineVectorEnv(curriculum_sampler(np.random.default_rng(0)), num_envs=n)
    env.reset(seed=0)
    iterations = max(20, min(20_000, total_steps // n))
    actions = _actions(np.random.default_rng(0), n, iterations)

    def run() -> None:
        for a in actions:
            env.step(a)

    name = f"hrrl NumberLineVectorEnv ({mode} problems)"
    return Throughput(name, n, n * iterations / best_time(run))


def measure() -> list[Throughput]:
    rows = [single_env()]
    for n in (1, 64, 4096):
        rows.append(sync_vector(n))
        rows.append(numpy_vector(n))
    rows.append(numpy_vector(4096, mode="per-env"))
    rows.append(numpy_vector(4096, mode="fixed"))
    return rows
