"""Flat tabular Q-learning (Watkins 1989) over any gymnasium env with discrete spaces.

The reusable flat baseline: one table ``Q[s, a]``, ε-greedy acting with random tie-breaks, and the
one-step target from :mod:`hrrl.core.tabular`, which bootstraps unless the transition *terminated*
(a time-limit truncation keeps the bootstrap).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from hrrl.core.learner import StateArrays
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.schedules import LinearSchedule
from hrrl.core.tabular import epsilon_greedy, greedy_action, q_learning_target, td_update


@dataclass(frozen=True)
class TabularQConfig:
    alpha: float = 0.1
    """Step size of the TD update."""
    gamma: float = 0.99
    """Discount factor (1.0 is fine for episodic tasks that terminate)."""
    epsilon_start: float = 1.0
    """Exploration rate in the first episode."""
    epsilon_end: float = 0.05
    """Exploration rate once the linear decay is over."""
    epsilon_decay_episodes: int = 1000
    """Episodes over which ε decays linearly from ``epsilon_start`` to ``epsilon_end``."""
    initial_value: float = 0.0
    """Initial value of every table entry (0 is optimistic when rewards are negative)."""


EpisodeStats = Episode
"""What one episode did (the shared :class:`hrrl.core.rollout.Episode`)."""


def discrete_sizes(env: gym.Env) -> tuple[int, int]:
    """``(n_states, n_actions)`` of an env with ``Discrete`` observation and action spaces."""
    obs_space, act_space = env.observation_space, env.action_space
    if not isinstance(obs_space, gym.spaces.Discrete) or not isinstance(
        act_space, gym.spaces.Discrete
    ):
        raise TypeError("tabular Q-learning needs Discrete observation and action spaces")
    return int(obs_space.n), int(act_space.n)


class TabularQLearner(StateArrays):
    """A Q-table with ε-greedy acting and one-step Q-learning updates."""

    STATE = ("q",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, n_states: int, n_actions: int, config: TabularQConfig) -> None:
        self.config = config
        self.q = np.full((n_states, n_actions), config.initial_value, dtype=np.float64)
        self.alpha = config.alpha
        """Current step size: ``config.alpha`` unless a caller anneals it."""
        self._schedule = LinearSchedule(config.epsilon_start, config.epsilon_end, 1.0)

    @classmethod
    def for_env(cls, env: gym.Env, config: TabularQConfig) -> TabularQLearner:
        n_states, n_actions = discrete_sizes(env)
        return cls(n_states, n_actions, config)

    @property
    def n_values(self) -> int:
        """Number of learned values (table entries)."""
        return int(self.q.size)

    def epsilon(self, episode: int) -> float:
        """ε for a 0-based episode index under the linear decay."""
        decay = max(self.config.epsilon_decay_episodes, 1)
        return float(self._schedule(episode / decay))

    def act(self, state: int, epsilon: float, rng: np.random.Generator) -> int:
        return epsilon_greedy(self.q[state], epsilon, rng)

    def update(
        self, state: int, action: int, reward: float, next_state: int, terminated: bool
    ) -> float:
        """One Q-learning step; returns the TD error."""
        target = q_learning_target(reward, self.q[next_state], self.config.gamma, terminated)
        return td_update(self.q, (state, action), target, self.alpha)

    def greedy_policy(self, rng: np.random.Generator) -> np.ndarray:
        """The greedy action of every state (ties broken at random by ``rng``)."""
        return np.array([greedy_action(row, rng) for row in self.q], dtype=np.int64)

    def run_episode(
        self,
        env: gym.Env,
        rng: np.random.Generator,
        epsilon: float,
        learn: bool = True,
        seed: int | None = None,
    ) -> EpisodeStats:
        """Play one episode (learning from it when ``learn``); ``seed`` goes to ``env.reset``."""

        def observe(step: Step) -> None:
            self.update(
                int(step.obs), step.action, step.reward, int(step.next_obs), step.terminated
            )

        return run_episode(
            env,
            lambda state: self.act(int(state), epsilon, rng),
            observe if learn else None,
            seed,
        )
