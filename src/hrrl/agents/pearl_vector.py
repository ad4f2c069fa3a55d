"""PEARL (:mod:`hrrl.agents.pearl`) on a multi-task vector environment.

:class:`VectorEnvRollout` is PEARL's ``rollout(act, tasks)`` for any same-step-autoreset vector env
whose sub-envs take task indices (:class:`hrrl.agents.himeta.MultiTaskVectorEnv`, the protocol the
HiMeta trainer uses): one episode per task, all tasks stepped together, reset seeds drawn from its
own generator, the truncated last observation read from ``info["final_obs"]``. It also records,
per call, whether each episode succeeded (``info["success"]`` at any step), so that PEARL can be
scored with the HiMeta protocol: :func:`trial_success` plays trials of ``episodes`` episodes
(z from the prior for the first, then from the posterior given the earlier ones; deterministic
actions) and scores the last episode of each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from hrrl.agents.himeta import MultiTaskVectorEnv
from hrrl.agents.pearl import PEARL, Episodes, PEARLConfig
from hrrl.core.seeding import make_rng


@dataclass
class RolloutRecord:
    """What the calls of one :class:`VectorEnvRollout` did, in call order."""

    success: list[np.ndarray] = field(default_factory=list)
    """(K,) bool per call: the episode reached success at some step."""
    steps: list[int] = field(default_factory=list)
    """Environment steps taken by all calls so far, after each call."""


class VectorEnvRollout:
    """``rollout(act, tasks)`` → :class:`Episodes` on ``make_env(num_envs)`` (one env per size)."""

    def __init__(self, make_env: Callable[[int], MultiTaskVectorEnv], seed: int) -> None:
        self.make_env = make_env
        self.rng = make_rng(seed)
        self.envs: dict[int, MultiTaskVectorEnv] = {}
        self.record = RolloutRecord()

    def __call__(self, act: Callable[[np.ndarray], np.ndarray], tasks: np.ndarray) -> Episodes:
        k = len(tasks)
        env = self.envs.get(k) or self.envs.setdefault(k, self.make_env(k))
        env.set_tasks(np.asarray(tasks))
        obs, _ = env.reset(seed=int(self.rng.integers(2**31)))
        rows: dict[str, list[np.ndarray]] = {f: [] for f in ("o", "a", "r", "n", "t", "v")}
        alive = np.ones(k, dtype=bool)
        success = np.zeros(k, dtype=bool)
        for _ in range(env.horizon):
            action = np.clip(act(np.asarray(obs, dtype=np.float32)), -1.0, 1.0)
            next_obs, reward, terminated, truncated, info = env.step(action)
            landed = np.array(next_obs, dtype=np.float32, copy=True)
            if "final_obs" in info:
                ended = info["_final_obs"]
                landed[ended] = info["final_obs"][ended]
            success |= alive & np.asarray(info["success"], dtype=bool)
            for key, value in zip(
                "oarntv", (obs, action, reward, landed, terminated, alive.copy()), strict=True
            ):
                rows[key].append(np.asarray(value))
            alive &= ~(np.asarray(terminated) | np.asarray(truncated))
            obs = next_obs
            if not alive.any():
                break
        st = {key: np.stack(v, axis=1) for key, v in rows.items()}
        self.record.success.append(success)
        previous = self.record.steps[-1] if self.record.steps else 0
        self.record.steps.append(previous + int(st["v"].sum()))
        return Episodes(
            st["o"].astype(np.float32), st["a"].astype(np.float32), st["r"].astype(np.float32),
            st["n"], st["t"].astype(np.float32), st["v"],
        )  # fmt: skip


def trial_success(
    pearl: PEARL, rollout: VectorEnvRollout, tasks: np.ndarray, episodes: int
) -> np.ndarray:
    """(K,) success of the last episode of one deterministic trial per task (see module doc)."""
    pearl.adapt_and_evaluate(rollout, tasks, episodes)
    return rollout.record.success[-1].copy()


def iterations_for(config: PEARLConfig, n_tasks: int, horizon: int, env_steps: int) -> int:
    """Meta-training iterations whose episodes (initial ones included) fit in ``env_steps``."""
    initial = config.initial_episodes * n_tasks * horizon
    per_iteration = (
        min(config.tasks_per_iteration, n_tasks)
        * (config.prior_episodes + config.posterior_episodes)
        * horizon
    )
    return max(0, (env_steps - initial) // per_iteration)


def posterior_curve(record: RolloutRecord, config: PEARLConfig) -> tuple[list[int], list[float]]:
    """Training curve from a meta-training record: after each iteration, the env steps so far
    and the success rate of that iteration's posterior-z episodes (the last of each refresh)."""
    per_iteration = config.prior_episodes + config.posterior_episodes
    start = config.initial_episodes
    steps, success = [], []
    for end in range(start + per_iteration, len(record.success) + 1, per_iteration):
        posterior = record.success[end - config.posterior_episodes : end]
        steps.append(record.steps[end - 1])
        success.append(float(np.mean(np.concatenate(posterior))) if posterior else float("nan"))
    return steps, success
