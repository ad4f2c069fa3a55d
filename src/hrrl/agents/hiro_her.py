"""HIRO whose TD3 worker learns with Hindsight Experience Replay of its subgoals.

In HIRO (:mod:`hrrl.agents.hiro`) the worker is a TD3 agent on ``state ‖ g`` where the relative
subgoal ``g`` follows ``h(s, g, s') = s + g − s'``: under one manager decision it always points
at the same *absolute* target ``G = s_0 + g_0``, and the worker reward is
``−‖s + g − s'‖ = −‖G − s'‖``. The worker is therefore a goal-conditioned agent with goal ``G``,
and HER (Andrychowicz et al. 2017) applies: here each manager segment (at most ``c`` steps under
one subgoal) is stored as one HER episode whose desired goal is ``G`` and whose achieved goals
are the visited states, and worker batches come from
:class:`~hrrl.core.her_replay.HindsightReplayBuffer` with the ``future`` strategy (with
probability ``k / (k + 1)`` the target is replaced by a state reached later in the same segment).
A sampled transition ``(s_t, a_t, s_{t+1})`` with target ``G̃`` becomes the worker transition
``([s_t, G̃ − s_t], a_t, −‖G̃ − s_{t+1}‖, [s_{t+1}, G̃ − s_{t+1}])``, exactly what HIRO stores
when ``G̃`` is the manager's own target. The manager and its off-policy correction are
unchanged.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

from hrrl.agents.hiro import HIROAgent, HIROConfig
from hrrl.core.her_replay import HindsightReplayBuffer
from hrrl.core.replay import Batch, ReplayBuffer


def target_reward(achieved: np.ndarray, target: np.ndarray, info: Any = None) -> np.ndarray:
    """The worker reward for an absolute target: ``−‖G − s'‖`` (HIRO's ``−‖s + g − s'‖``)."""
    return -np.linalg.norm(np.asarray(target) - np.asarray(achieved), axis=-1)


def relative_goal_batch(batch: Batch) -> Batch:
    """A HER batch over absolute targets as HIRO worker transitions (``state ‖ G − state``)."""
    target = batch["goal"].astype(np.float32)
    obs = batch["observation"].astype(np.float32)
    next_obs = batch["next_observation"].astype(np.float32)
    data = {
        "obs": np.concatenate([obs, target - obs], axis=-1),
        "next_obs": np.concatenate([next_obs, target - next_obs], axis=-1),
        "action": batch["action"],
        "reward": batch["reward"].astype(np.float32),
        "terminated": batch["terminated"],
    }
    return Batch(data, batch.indices, batch.weights)


class SegmentReplayBuffer(ReplayBuffer):
    """The manager's replay buffer, which also hands every stored segment (fields ``states``,
    ``actions``, ``length`` and the relative subgoal ``action``, as HIRO stores them) to a
    :class:`HindsightReplayBuffer` as one episode with desired goal ``s_0 + g_0``."""

    def __init__(self, capacity: int, hindsight: HindsightReplayBuffer) -> None:
        super().__init__(capacity)
        self.hindsight = hindsight

    def _on_add(self, indices: np.ndarray) -> None:
        stored = self.get(indices)
        for states, actions, length, subgoal in zip(
            stored["states"], stored["actions"], stored["length"], stored["action"], strict=True
        ):
            visited = states[: int(length) + 1]
            self.hindsight.add_episode(
                {
                    "observation": visited,
                    "achieved_goal": visited,
                    "action": actions[: int(length)],
                    "terminated": np.zeros(int(length), dtype=np.float32),
                    "desired_goal": visited[0] + subgoal,
                }
            )


class HIROHERAgent(HIROAgent):
    """HIRO with a TD3 + HER worker (``n_sampled_goal = k`` relabelled targets per original,
    ``future`` strategy within the segment). Acting, the manager, its correction and the saved
    state are HIRO's; only the worker's batches differ."""

    def __init__(
        self, env: gymnasium.Env, config: HIROConfig, seed: int, n_sampled_goal: int = 4
    ) -> None:
        super().__init__(env, config, seed)
        c = config.subgoal_period
        capacity = max(1, config.buffer_capacity // c)
        self.worker_hindsight = HindsightReplayBuffer(
            capacity, c, target_reward, None, n_sampled_goal
        )
        self.manager_buffer = SegmentReplayBuffer(capacity, self.worker_hindsight)
        self.worker_buffer = ReplayBuffer(1)
        """HIRO's per-step worker transitions are not used (the segments carry them)."""

    def update_worker(self, rng: np.random.Generator) -> None:
        batch_size = self.config.worker.batch_size
        if len(self.worker_hindsight) >= batch_size:
            batch = self.worker_hindsight.sample(batch_size, rng)
            self.worker.update(relative_goal_batch(batch))
