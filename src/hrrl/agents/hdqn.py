"""h-DQN (Kulkarni et al. 2016): a meta-controller DQN picks subgoals, a controller DQN reaches
them for intrinsic reward; plus the flat DQN baseline. Both for discrete (one-hot) observations.

* **Meta-controller** ``Q2(s, g)``: in state ``s`` pick a subgoal ``g`` (here: a state). Its
  transitions span a whole option: ``(s0, g, Σ γ^k r_k, s_N)`` with the extrinsic rewards ``r`` and
  an SMDP discount ``γ^N`` (field ``discount``); they terminate only when the env terminated.
* **Controller** ``Q1((s, g), a)``: acts until the subgoal is reached, the env terminates or the
  episode is truncated. The internal critic (:func:`intrinsic_signal`) pays ``+1`` on reaching
  ``g``. A controller transition *terminates* when the subgoal is reached or the env terminated
  (no more intrinsic reward can come); truncation bootstraps.

Exploration as in the paper: the meta-controller's ε is annealed linearly from 1 to 0.1; the
controller's ε for goal ``g`` is 0.1 once its success rate over the last ``success_window``
attempts at ``g`` exceeds 90 %, else it follows the same annealing. Both learners use the
shared :class:`~hrrl.agents.dqn.DQNLearner` and uniform replay.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from hrrl.agents.dqn import DQNConfig, DQNLearner
from hrrl.core.learner import StateArrays
from hrrl.core.networks import mlp
from hrrl.core.replay import ReplayBuffer
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.schedules import LinearSchedule
from hrrl.core.seeding import init_module
from hrrl.core.tabular import epsilon_greedy


@dataclass(frozen=True)
class HDQNConfig:
    hidden: int = 64
    """Width of the two hidden layers of every Q-network."""
    gamma: float = 0.99
    """Discount of both levels (the meta level discounts by γ^N over an N-step option)."""
    lr: float = 1e-3
    """Adam learning rate of both networks."""
    batch_size: int = 32
    """Transitions per gradient step."""
    buffer_capacity: int = 50_000
    """Capacity of each replay buffer."""
    learning_starts: int = 200
    """Transitions a buffer must hold before its network starts learning."""
    target_every: int = 200
    """Gradient steps between hard target-network updates."""
    epsilon_start: float = 1.0
    """Initial ε of the meta-controller (and of the flat DQN baseline)."""
    epsilon_end: float = 0.1
    """Final ε of the meta-controller; also the controller's lowest ε."""
    epsilon_decay_episodes: int = 1000
    """Episodes over which the meta-controller's ε decays linearly."""
    success_window: int = 100
    """Attempts per goal over which the controller's success rate is measured."""
    success_threshold: float = 0.9
    """Success rate above which the controller's ε for that goal drops to ``epsilon_end``."""


def one_hot(index: int, size: int) -> np.ndarray:
    out = np.zeros(size, dtype=np.float32)
    out[index] = 1.0
    return out


@dataclass(frozen=True)
class IntrinsicSignal:
    """What the internal critic says about one controller step."""

    reward: float
    """+1 when the subgoal was reached, else 0."""
    goal_reached: bool
    """The subgoal is reached: the option ends (not the episode)."""


def intrinsic_signal(next_obs: int, goal: int) -> IntrinsicSignal:
    """The critic: the subgoal is a state; reaching it pays +1."""
    reached = int(next_obs) == int(goal)
    return IntrinsicSignal(1.0 if reached else 0.0, reached)


def controller_terminated(signal: IntrinsicSignal, env_terminated: bool) -> bool:
    """The controller's transition terminates (no bootstrap) when its subgoal is reached or the
    env terminated; a truncation is neither and keeps the bootstrap."""
    return signal.goal_reached or env_terminated


def _q_net(n_in: int, n_out: int, hidden: int, seed: int) -> torch.nn.Module:
    return init_module(mlp([n_in, hidden, hidden, n_out]), seed)


def _learner(n_in: int, n_out: int, config: HDQNConfig, seed: int) -> DQNLearner:
    dqn = DQNConfig(gamma=config.gamma, lr=config.lr, target_every=config.target_every)
    online = _q_net(n_in, n_out, config.hidden, seed)
    return DQNLearner(online, _q_net(n_in, n_out, config.hidden, seed), dqn)


def _q_row(learner: DQNLearner, obs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return learner.q_net(torch.as_tensor(obs).unsqueeze(0)).squeeze(0).numpy()


def _maybe_learn(
    learner: DQNLearner, buffer: ReplayBuffer, config: HDQNConfig, rng: np.random.Generator
) -> None:
    if len(buffer) >= config.learning_starts:
        learner.update(buffer.sample(config.batch_size, rng))


@dataclass(frozen=True)
class HDQNEpisode(Episode):
    """An episode's extrinsic return and length, the subgoals chosen and which were reached."""

    goals: list[int] = field(default_factory=list)
    reached: list[bool] = field(default_factory=list)


class HDQNAgent(StateArrays):
    """Meta-controller and controller DQNs over ``n_states`` one-hot states and state subgoals."""

    STATE = ("controller", "meta")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, n_states: int, n_actions: int, config: HDQNConfig, seed: int) -> None:
        self.n_states, self.n_actions, self.n_goals = n_states, n_actions, n_states
        self.config = config
        self.controller = _learner(2 * n_states, n_actions, config, seed)
        self.meta = _learner(n_states, self.n_goals, config, seed + 1)
        self.controller_buffer = ReplayBuffer(config.buffer_capacity)
        self.meta_buffer = ReplayBuffer(config.buffer_capacity)
        self.attempts: list[deque[bool]] = [
            deque(maxlen=config.success_window) for _ in range(self.n_goals)
        ]
        self._meta_schedule = LinearSchedule(config.epsilon_start, config.epsilon_end, 1.0)

    def meta_epsilon(self, episode: int) -> float:
        return float(self._meta_schedule(episode / max(self.config.epsilon_decay_episodes, 1)))

    def success_rate(self, goal: int) -> float:
        """Fraction of the recent attempts at ``goal`` that reached it (0 before any)."""
        history = self.attempts[goal]
        return float(np.mean(history)) if history else 0.0

    def controller_epsilon(self, goal: int, episode: int) -> float:
        """``ε_end`` once the goal's recent success rate exceeds ``success_threshold``, else the
        annealed schedule (the same as the meta-controller's)."""
        if self.success_rate(goal) > self.config.success_threshold:
            return self.config.epsilon_end
        return self.meta_epsilon(episode)

    def controller_obs(self, obs: int, goal: int) -> np.ndarray:
        return np.concatenate([one_hot(obs, self.n_states), one_hot(goal, self.n_goals)])

    def choose_goal(self, obs: int, epsilon: float, rng: np.random.Generator) -> int:
        return epsilon_greedy(_q_row(self.meta, one_hot(obs, self.n_states)), epsilon, rng)

    def choose_action(self, obs: int, goal: int, epsilon: float, rng: np.random.Generator) -> int:
        return epsilon_greedy(_q_row(self.controller, self.controller_obs(obs, goal)), epsilon, rng)

    def _store_controller(
        self, obs: int, goal: int, action: int, next_obs: int, signal: IntrinsicSignal, done: bool
    ) -> None:
        self.controller_buffer.add(
            {
                "obs": self.controller_obs(obs, goal)[None],
                "action": np.array([action]),
                "reward": np.array([signal.reward], dtype=np.float32),
                "next_obs": self.controller_obs(next_obs, goal)[None],
                "terminated": np.array([done], dtype=np.float32),
            }
        )

    def _store_meta(
        self, obs: int, goal: int, ret: float, next_obs: int, steps: int, terminated: bool
    ) -> None:
        self.meta_buffer.add(
            {
                "obs": one_hot(obs, self.n_states)[None],
                "action": np.array([goal]),
                "reward": np.array([ret], dtype=np.float32),
                "next_obs": one_hot(next_obs, self.n_states)[None],
                "terminated": np.array([terminated], dtype=np.float32),
                "discount": np.array([self.config.gamma**steps], dtype=np.float32),
            }
        )

    def run_episode(
        self,
        env: gym.Env,
        rng: np.random.Generator,
        episode: int,
        learn: bool = True,
        greedy: bool = False,
        seed: int | None = None,
    ) -> HDQNEpisode:
        """One episode: options chosen by the meta-controller, run by the controller."""
        goals: list[int] = []
        reached: list[bool] = []
        start, option_return, option_steps = 0, 0.0, 0

        def act(obs: Any) -> int:
            nonlocal start, option_return, option_steps
            if len(goals) == len(reached):  # no option running: the meta-controller picks one
                eps = 0.0 if greedy else self.meta_epsilon(episode)
                goals.append(self.choose_goal(int(obs), eps, rng))
                start, option_return, option_steps = int(obs), 0.0, 0
            goal = goals[-1]
            eps = 0.0 if greedy else self.controller_epsilon(goal, episode)
            return self.choose_action(int(obs), goal, eps, rng)

        def observe(step: Step) -> None:
            nonlocal option_return, option_steps
            goal, next_obs = goals[-1], int(step.next_obs)
            signal = intrinsic_signal(next_obs, goal)
            if learn:
                done = controller_terminated(signal, step.terminated)
                self._store_controller(int(step.obs), goal, step.action, next_obs, signal, done)
                _maybe_learn(self.controller, self.controller_buffer, self.config, rng)
                _maybe_learn(self.meta, self.meta_buffer, self.config, rng)
            option_return += self.config.gamma**option_steps * step.reward
            option_steps += 1
            if signal.goal_reached or step.done:
                reached.append(signal.goal_reached)
                if learn:
                    self.attempts[goal].append(signal.goal_reached)
                    self._store_meta(
                        start, goal, option_return, next_obs, option_steps, step.terminated
                    )

        ep = run_episode(env, act, observe, seed)
        return HDQNEpisode(
            ep.steps, ep.total_reward, ep.terminated, ep.truncated, goals=goals, reached=reached
        )


class FlatDQNAgent(StateArrays):
    """The flat baseline: one DQN on one-hot observations, ε annealed linearly per episode."""

    STATE = ("learner",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, n_states: int, n_actions: int, config: HDQNConfig, seed: int) -> None:
        self.n_states = n_states
        self.config = config
        self.learner = _learner(n_states, n_actions, config, seed)
        self.buffer = ReplayBuffer(config.buffer_capacity)
        self._schedule = LinearSchedule(config.epsilon_start, config.epsilon_end, 1.0)

    def epsilon(self, episode: int) -> float:
        return float(self._schedule(episode / max(self.config.epsilon_decay_episodes, 1)))

    def run_episode(
        self,
        env: gym.Env,
        rng: np.random.Generator,
        episode: int,
        learn: bool = True,
        greedy: bool = False,
        seed: int | None = None,
    ) -> Episode:
        def act(obs: Any) -> int:
            eps = 0.0 if greedy else self.epsilon(episode)
            return epsilon_greedy(_q_row(self.learner, one_hot(int(obs), self.n_states)), eps, rng)

        def observe(step: Step) -> None:
            self.buffer.add(
                {
                    "obs": one_hot(int(step.obs), self.n_states)[None],
                    "action": np.array([step.action]),
                    "reward": np.array([step.reward], dtype=np.float32),
                    "next_obs": one_hot(int(step.next_obs), self.n_states)[None],
                    "terminated": np.array([step.terminated], dtype=np.float32),
                }
            )
            _maybe_learn(self.learner, self.buffer, self.config, rng)

        return run_episode(env, act, observe if learn else None, seed)
