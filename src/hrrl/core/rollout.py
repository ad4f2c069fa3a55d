"""The one episode loop every step-by-step learner runs (acting apart from learning).

A learner hands :func:`run_episode` two callables: ``act(obs) -> action`` (choose; hierarchical
learners make their higher-level decisions here too) and ``observe(step)`` (learn from one
:class:`Step`, update any option/subgoal bookkeeping). The loop owns ``reset``/``step``, the
return and the length, and the end-of-episode rule: a *terminated* step ends the episode and
does not bootstrap; a *truncated* step ends it but the learner still bootstraps (the learner
reads ``step.terminated``). Acting is done before the environment steps and learning after, in
that order, so a learner's random draws happen in a fixed sequence and a seed reproduces a run.

:func:`run_side_by_side` is the same loop over several environments at once (one batched ``act``
per step for the envs still running, e.g. HER's ε-greedy collection): each env is reset in turn,
then stepped in index order, and leaves the batch when its episode ends. :func:`goal_success`
reads a goal environment's outcome off an episode's last step.

:func:`run_trial` is the loop of batched *trials* (meta-RL: one trial per task, all in lock
step, a fixed number of steps that may span several episodes of the task): it never resets
anything between the trial's episodes, so a recurrent learner keeps its hidden state (in its
``act``) across them — RL², continuous RL², HiMeta, and the bandit and tabular-MDP baselines
(whose "state" is their per-trial history).

Learners that play no episodes of their own say so in their module docstring: on-policy segments
of a vector env (:mod:`hrrl.core.recurrent`), one context and decision per round (NCTS), meta-RL
learners that hand an ``act`` to a task's batched rollout (MAML, PEARL).

:func:`log_episodes` writes what episodes did through one :class:`~hrrl.core.logging.Logger`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from hrrl.core.logging import Logger


@dataclass(frozen=True)
class Step:
    """One environment transition as the learner sees it."""

    obs: Any
    action: Any
    reward: float
    next_obs: Any
    terminated: bool
    """The environment reached a terminal state: no bootstrap."""
    truncated: bool
    """A time limit cut the episode: bootstrap from ``next_obs`` as usual."""
    info: dict[str, Any]

    @property
    def done(self) -> bool:
        return self.terminated or self.truncated


@dataclass(frozen=True)
class Episode:
    """What one episode did (learners extend it with their own counts)."""

    steps: int
    """Primitive environment steps taken."""
    total_reward: float
    """Undiscounted sum of rewards."""
    terminated: bool
    """The episode ended by termination."""
    truncated: bool
    """The episode ended by the time limit."""


def run_episode(
    env: Any,
    act: Callable[[Any], Any],
    observe: Callable[[Step], None] | None = None,
    seed: int | None = None,
) -> Episode:
    """Play one episode of a gymnasium ``env``; ``seed`` goes to ``env.reset``.

    ``act`` gets the current observation and returns the action to take; ``observe`` (if given)
    gets each :class:`Step` right after it happened, before the next ``act``.
    """
    obs, _ = env.reset(seed=seed)
    steps, total = 0, 0.0
    while True:
        action = act(obs)
        next_obs, reward, terminated, truncated, info = env.step(action)
        step = Step(obs, action, float(reward), next_obs, bool(terminated), bool(truncated), info)
        if observe is not None:
            observe(step)
        steps += 1
        total += step.reward
        if step.done:
            return Episode(steps, total, step.terminated, step.truncated)
        obs = next_obs


def run_side_by_side(
    envs: Sequence[Any],
    act: Callable[[Any], Sequence[Any]],
    observe: Callable[[int, Step], None] | None = None,
    seeds: Sequence[int] | None = None,
) -> list[Episode]:
    """One episode in each of ``envs`` side by side; ``seeds[i]`` goes to ``envs[i].reset``.

    ``act`` gets the observations of the envs still running, stacked (a dict observation key by
    key), and returns one action for each, in env order; ``observe(i, step)`` gets env ``i``'s
    :class:`Step` right after it happened. Returns the episodes in env order.
    """
    obs = [env.reset(seed=None if seeds is None else seeds[i])[0] for i, env in enumerate(envs)]
    steps, totals = [0] * len(envs), [0.0] * len(envs)
    episodes: list[Episode | None] = [None] * len(envs)
    active = list(range(len(envs)))
    while active:
        actions = act(stack_observations([obs[i] for i in active]))
        still_active = []
        for i, action in zip(active, actions, strict=True):
            next_obs, reward, terminated, truncated, info = envs[i].step(action)
            step = Step(obs[i], action, float(reward), next_obs, bool(terminated), bool(truncated),
                        info)  # fmt: skip
            if observe is not None:
                observe(i, step)
            steps[i] += 1
            totals[i] += step.reward
            obs[i] = next_obs
            if step.done:
                episodes[i] = Episode(steps[i], totals[i], step.terminated, step.truncated)
            else:
                still_active.append(i)
        active = still_active
    return [episode for episode in episodes if episode is not None]


@dataclass(frozen=True)
class TrialStep:
    """One lock-step transition of a batch of trials."""

    t: int
    """Step within the trial (0-based)."""
    obs: Any
    action: Any
    reward: np.ndarray
    """``(B,)``: one reward per trial."""
    next_obs: Any
    episode_end: Any
    """The step closed an episode (a bool for all trials, or ``(B,)`` flags)."""
    info: dict[str, Any]


def run_trial(
    step: Callable[[Any], tuple[Any, np.ndarray, Any, dict[str, Any]]],
    obs: Any,
    length: int,
    act: Callable[[Any], Any],
    observe: Callable[[TrialStep], None] | None = None,
) -> np.ndarray:
    """Play ``length`` steps of a batch of trials the caller has just reset (``obs``: their first
    observations); returns each trial's undiscounted total reward ``(B,)``.

    ``step(actions) → (next_obs, rewards (B,), episode_end, info)`` advances every trial at once
    (an adapter over the trial env's own signature); ``act`` and ``observe`` are as in
    :func:`run_episode`, on the whole batch.
    """
    totals: np.ndarray | None = None
    for t in range(length):
        action = act(obs)
        next_obs, reward, episode_end, info = step(action)
        if observe is not None:
            observe(TrialStep(t, obs, action, reward, next_obs, episode_end, info))
        if totals is None:
            totals = np.zeros(len(reward))
        totals += reward
        obs = next_obs
    if totals is None:
        raise ValueError("a trial needs at least one step")
    return totals


def stack_observations(observations: Sequence[Any]) -> Any:
    """Observations along a new leading axis (a dict observation key by key)."""
    if isinstance(observations[0], Mapping):
        return {k: np.stack([o[k] for o in observations]) for k in observations[0]}
    return np.stack(observations)


def goal_success(step: Step) -> bool:
    """A goal env's outcome at an episode's last step: ``info["is_success"]``, else termination."""
    return bool(step.info.get("is_success", step.terminated))


def episode_scalars(episode: Episode, prefix: str = "train/") -> dict[str, float]:
    """The numeric fields of an episode (its subclass's too), as ``prefix + name`` scalars."""
    out: dict[str, float] = {}
    for f in fields(episode):
        value = getattr(episode, f.name)
        if isinstance(value, (bool, int, float)):
            out[prefix + f.name] = float(value)
    return out


def log_episodes(logger: Logger, episodes: Iterable[Episode], start: int = 0) -> int:
    """Log each episode's scalars at its index (from ``start``); the next index."""
    index = start
    for episode in episodes:
        logger.log(index, episode_scalars(episode))
        index += 1
    return index
