"""The one episode loop every step-by-step learner runs (acting apart from learning).

A learner hands :func:`run_episode` two callables: ``act(obs) -> action`` (choose; hierarchical
learners make their higher-level decisions here too) and ``observe(step)`` (learn from one
:class:`Step`, update any option/subgoal bookkeeping). The loop owns ``reset``/``step``, the
return and the length, and the end-of-episode rule: a *terminated* step ends the episode and
does not bootstrap; a *truncated* step ends it but the learner still bootstraps (the learner
reads ``step.terminated``). Acting is done before the environment steps and learning after, in
that order, so a learner's random draws happen in a fixed sequence and a seed reproduces a run.

:func:`log_episodes` writes what episodes did through one :class:`~hrrl.core.logging.Logger`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any

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
