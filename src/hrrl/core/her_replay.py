"""Hindsight Experience Replay (Andrychowicz et al. 2017): episodes stored whole, goals relabelled.

Each stored episode keeps ``T + 1`` achieved goals (``achieved_goal[t]`` is what state ``t``
achieves), ``T`` actions and observations, and its desired goal. Sampling draws transitions
uniformly over all stored transitions; with probability ``k / (k + 1)`` a transition's goal is
replaced by one achieved later in the same episode (the ``future`` strategy:
``achieved_goal[t']`` with ``t'`` uniform in ``t + 1 … T``). Relabelling at sampling time with
this ratio is the same, in expectation, as storing ``k`` relabelled copies of every transition
beside the original (the paper's description), and it is how the reference implementations do it.

Rewards are always recomputed with the environment's ``compute_reward(achieved, desired, info)``
for the goal the transition is trained on; ``terminated`` too when ``compute_terminated`` is given
(goal-reaching tasks that end on success), else the stored flag is kept. Truncation is never
stored: time limits bootstrap.

Storage reuses :class:`~hrrl.core.replay.ReplayBuffer` with one *episode* per slot (fields padded
to the longest episode), so whole episodes are overwritten together and a relabelled goal can
never come from another episode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hrrl.core.replay import Batch, ReplayBuffer
from hrrl.core.rollout import Step

GoalFunction = Callable[[np.ndarray, np.ndarray, Any], np.ndarray]

EPISODE_FIELDS = ("observation", "achieved_goal", "action", "terminated")


class HindsightReplayBuffer:
    """Whole episodes (at most ``max_episodes`` of at most ``max_steps`` steps) with HER sampling.

    ``add_episode`` takes ``observation`` and ``achieved_goal`` with ``T + 1`` rows, ``action``
    and ``terminated`` with ``T`` rows and ``desired_goal`` (one goal). ``sample`` returns a
    :class:`Batch` with fields ``observation, next_observation, action, goal, reward, terminated,
    relabelled`` and ``goal_step`` (the index ``t'`` the goal was taken from; ``-1`` when not
    relabelled); ``indices`` are ``episode_slot * max_steps + t``.
    """

    def __init__(
        self,
        max_episodes: int,
        max_steps: int,
        compute_reward: GoalFunction,
        compute_terminated: GoalFunction | None = None,
        n_sampled_goal: int = 4,
    ) -> None:
        if max_steps <= 0:
            raise ValueError("max_steps must be positive")
        if n_sampled_goal < 0:
            raise ValueError("n_sampled_goal must be non-negative")
        self.max_steps = int(max_steps)
        self.compute_reward = compute_reward
        self.compute_terminated = compute_terminated
        self.n_sampled_goal = int(n_sampled_goal)
        self.her_ratio = 1.0 - 1.0 / (1.0 + self.n_sampled_goal)
        self._episodes = ReplayBuffer(max_episodes)
        self._lengths = np.zeros(int(max_episodes), dtype=np.int64)

    def __len__(self) -> int:
        """Number of stored transitions."""
        return int(self._lengths.sum())

    @property
    def n_episodes(self) -> int:
        return len(self._episodes)

    def add_episode(self, episode: Mapping[str, np.ndarray]) -> int:
        """Store one episode; returns its slot."""
        length = len(episode["action"])
        if not 1 <= length <= self.max_steps:
            raise ValueError(f"episode length {length} not in 1..{self.max_steps}")
        for key in ("observation", "achieved_goal"):
            if len(episode[key]) != length + 1:
                raise ValueError(
                    f"{key!r} needs {length + 1} rows (T + 1), got {len(episode[key])}"
                )
        padded = {key: _pad(np.asarray(episode[key]), self.max_steps + 1) for key in EPISODE_FIELDS}
        padded["desired_goal"] = np.asarray(episode["desired_goal"])
        slot = int(self._episodes.add({k: v[None] for k, v in padded.items()})[0])
        self._lengths[slot] = length
        return slot

    def state_dict(self) -> dict[str, np.ndarray]:
        """The stored episodes and their lengths (for checkpoints; safetensors-friendly)."""
        return {**self._episodes.state_dict(), "__lengths": self._lengths.copy()}

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        state = dict(state)
        self._lengths = np.asarray(state.pop("__lengths"), dtype=np.int64).copy()
        self._episodes.load_state_dict(state)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Uniform transitions, goals relabelled with the ``future`` strategy."""
        if self.n_episodes == 0:
            raise ValueError("cannot sample from an empty buffer")
        lengths = self._lengths[: self.n_episodes]
        slots = rng.choice(self.n_episodes, size=batch_size, p=lengths / lengths.sum())
        steps = (rng.random(batch_size) * lengths[slots]).astype(np.int64)
        episodes = self._episodes.get(slots)
        rows = np.arange(batch_size)
        relabel = rng.random(batch_size) < self.her_ratio
        future = steps + 1 + (rng.random(batch_size) * (lengths[slots] - steps)).astype(np.int64)
        goal_step = np.where(relabel, future, -1)
        goal = np.where(
            relabel[:, None],
            episodes["achieved_goal"][rows, future],
            episodes["desired_goal"],
        )
        next_achieved = episodes["achieved_goal"][rows, steps + 1]
        reward = np.asarray(self.compute_reward(next_achieved, goal, {}), dtype=np.float32)
        if self.compute_terminated is not None:
            terminated = np.asarray(self.compute_terminated(next_achieved, goal, {}), dtype=bool)
        else:
            terminated = episodes["terminated"][rows, steps].astype(bool)
        data = {
            "observation": episodes["observation"][rows, steps],
            "next_observation": episodes["observation"][rows, steps + 1],
            "action": episodes["action"][rows, steps],
            "goal": goal,
            "reward": reward,
            "terminated": terminated.astype(np.float32),
            "relabelled": relabel,
            "goal_step": goal_step,
        }
        indices = slots * self.max_steps + steps
        return Batch(data, indices, np.ones(batch_size, dtype=np.float32))


def _pad(array: np.ndarray, rows: int) -> np.ndarray:
    """Zero-pad the leading axis to ``rows``."""
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: len(array)] = array
    return out


class EpisodeRecorder:
    """One episode in the layout :meth:`HindsightReplayBuffer.add_episode` takes, recorded step by
    step from a dict goal env (the first step also records the start state)."""

    def __init__(self) -> None:
        self.log: dict[str, list[Any]] = {
            "observation": [],
            "achieved_goal": [],
            "action": [],
            "terminated": [],
        }
        self.desired_goal: np.ndarray | None = None

    def record(self, step: Step) -> None:
        """Append one step (its start state first if it is the episode's first)."""
        if not self.log["observation"]:
            self.log["observation"].append(step.obs["observation"])
            self.log["achieved_goal"].append(step.obs["achieved_goal"])
        self.log["observation"].append(step.next_obs["observation"])
        self.log["achieved_goal"].append(step.next_obs["achieved_goal"])
        self.log["action"].append(step.action)
        self.log["terminated"].append(step.terminated)
        self.desired_goal = step.obs["desired_goal"]

    def episode(self) -> dict[str, np.ndarray]:
        """The recorded episode as arrays, with the goal it was played for."""
        if self.desired_goal is None:
            raise ValueError("no step recorded")
        return {k: np.asarray(v) for k, v in self.log.items()} | {"desired_goal": self.desired_goal}
