"""What every number-line baseline shares: its training data, its state, its learning curve.

* **Training data**: a small pool of problems from the paper's distribution (targets 5–100, 2–5
  forbidden states), drawn once per seed with :func:`hrrl.suites.generate`; episodes sample
  problems from the pool with the learner's own generator.
* **State**: baselines see the *absolute* state: position and target, plus one bit per action
  saying whether that move lands on a forbidden state (the minimal constraint information a
  learner needs; no distances, no relational features).
* **Learning curve**: the success rate of training episodes, binned over the step budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from hrrl.envs.numberline import NumberLineEnv, ProblemSampler
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.numberline_wrappers import forbidden_bits, raw_features
from hrrl.problem import Problem
from hrrl.suites.generator import SuiteSpec, generate

__all__ = [
    "LearningCurve",
    "OutcomeRecorder",
    "forbidden_bits",
    "pool_sampler",
    "raw_features",
    "training_env",
    "training_pool",
    "vector_forbidden_bits",
]

TRAIN_TARGETS = (5, 100)
"""The paper's training distribution of targets."""
TRAIN_FORBIDDEN = (2, 5)
"""Forbidden states per training problem."""
TRAIN_SEED_OFFSET = 10_000
"""Training pools use seed ``TRAIN_SEED_OFFSET + seed``, apart from every evaluation suite."""


def training_pool(size: int, seed: int) -> list[Problem]:
    """``size`` problems from the paper's training distribution (deterministic in ``seed``)."""
    spec = SuiteSpec("train", size, TRAIN_TARGETS, TRAIN_FORBIDDEN)
    return generate(spec, TRAIN_SEED_OFFSET + seed, prefix="train-")


def pool_sampler(pool: Sequence[Problem]) -> ProblemSampler:
    """A sampler drawing uniformly from ``pool`` with the generator it is given."""
    problems = list(pool)

    def sample(rng: np.random.Generator) -> Problem:
        return problems[int(rng.integers(len(problems)))]

    return sample


# ------------------------------------------------------------------------------- state pieces
def vector_forbidden_bits(env: NumberLineVectorEnv) -> np.ndarray:
    """Bool (N, K): :func:`forbidden_bits` for every sub-env of a vector env."""
    landing = env.position[:, None] + env.moves
    return env.is_forbidden(np.arange(env.num_envs)[:, None], landing)


def closest_safe_move(
    position: np.ndarray, target: np.ndarray, bits: np.ndarray, moves: np.ndarray, sign: np.ndarray
) -> np.ndarray:
    """The greedy rule on arrays: of the moves that land neither on a forbidden state nor past the
    target (when ``sign`` ≠ 0), the one ending closest to the target, larger moves first on ties;
    the largest move when none is safe. Agrees with :class:`hrrl.policies.GreedyPolicy`."""
    landing = position[:, None] + moves
    past = ((sign[:, None] > 0) & (landing > target[:, None])) | (
        (sign[:, None] < 0) & (landing < target[:, None])
    )
    distance = np.abs(target[:, None] - landing).astype(np.float64) - 1e-9 * np.abs(moves)
    distance[bits | past] = np.inf
    best = distance.argmin(axis=1)
    none_safe = np.isinf(distance.min(axis=1))
    best[none_safe] = np.abs(moves[none_safe]).argmax(axis=1)
    return best


# ------------------------------------------------------------------------------ learning curve
@dataclass
class LearningCurve:
    """Training episodes as (env steps so far, success), binned into a curve on demand."""

    ends: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)

    def record(self, total_steps: int, success: bool) -> None:
        self.ends.append(int(total_steps))
        self.successes.append(bool(success))

    def binned(self, budget: int, bins: int = 20) -> dict[str, list[float]]:
        """``{"steps": [...], "success_rate": [...]}``: success of episodes ending in each bin."""
        edges = np.linspace(0, max(budget, 1), bins + 1)
        ends = np.asarray(self.ends, dtype=np.float64)
        wins = np.asarray(self.successes, dtype=np.float64)
        steps, rates = [], []
        for lo, hi in itertools.pairwise(edges):
            inside = (ends > lo) & (ends <= hi)
            if inside.any():
                steps.append(float(hi))
                rates.append(float(wins[inside].mean()))
        return {"steps": steps, "success_rate": rates}


class OutcomeRecorder(gym.Wrapper):
    """Records every episode's end (total env steps, success) into a :class:`LearningCurve`."""

    def __init__(self, env: gym.Env, curve: LearningCurve) -> None:
        super().__init__(env)
        self.curve = curve
        self.total_steps = 0

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.total_steps += 1
        if terminated or truncated:
            self.curve.record(self.total_steps, info.get("outcome") == "success")
        return obs, reward, terminated, truncated, info


def training_env(
    pool: Sequence[Problem], gamma: float, curve: LearningCurve, reward: str = "potential"
) -> OutcomeRecorder:
    """A :class:`NumberLineEnv` drawing from ``pool`` at every reset, recording outcomes."""
    env = NumberLineEnv(sampler=pool_sampler(pool), reward=reward, gamma=gamma)
    return OutcomeRecorder(env, curve)
