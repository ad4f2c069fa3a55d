"""Standard DQN on the raw number-line state: one network, one head, no decomposition.

The input is ``[position / scale, target / scale, forbidden bits]`` (see
:func:`hrrl.agents.baselines.common.raw_features`): absolute coordinates, scaled once by a constant
(the largest training target), no distances or other relational features. Training runs on a
:class:`NumberLineVectorEnv` drawing problems from the paper's distribution, with the shared
:class:`hrrl.agents.dqn.DQNLearner`, replay buffer and schedules.

Its loop is not :func:`~hrrl.core.rollout.run_episode`: it steps an auto-resetting vector env of
``num_envs`` problems for a budget of env steps (SB3's DQN schedule, which it mirrors), with no
episode boundary to wait for; episodes only show up as entries of the learning curve.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from hrrl.agents.baselines.common import (
    LearningCurve,
    pool_sampler,
    raw_features,
    training_pool,
    vector_forbidden_bits,
)
from hrrl.agents.dqn import DQNConfig, DQNLearner, q_greedy
from hrrl.core.networks import mlp
from hrrl.core.replay import ReplayBuffer
from hrrl.core.schedules import LinearSchedule
from hrrl.core.seeding import init_module
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.rewards import SUCCESS

N_ACTIONS = 3
"""The paper's action set {1, 3, 5}."""


@dataclass(frozen=True)
class RawDQNConfig:
    """Hyper-parameters of the raw-state DQN baseline."""

    total_steps: int = 20_000
    """Training budget in environment steps."""
    num_envs: int = 8
    """Sub-envs stepped together."""
    pool_size: int = 200
    """Training problems drawn from the paper's distribution."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden layer sizes of the Q-network."""
    batch_size: int = 64
    """Minibatch size."""
    buffer_size: int = 50_000
    """Replay capacity in transitions."""
    learning_starts: int = 1_000
    """Env steps of pure exploration before the first update."""
    env_steps_per_update: int = 4
    """Env steps collected per gradient step (SB3's ``train_freq``)."""
    epsilon_start: float = 1.0
    """Initial exploration rate."""
    epsilon_end: float = 0.05
    """Final exploration rate."""
    epsilon_fraction: float = 0.3
    """Fraction of the budget over which ε decays linearly."""
    feature_scale: float = 100.0
    """Coordinates are divided by this (the largest training target)."""
    dqn: DQNConfig = field(default_factory=lambda: DQNConfig(gamma=0.99, lr=5e-4, target_every=250))
    """The shared DQN update (γ is also the env's shaping γ)."""


@dataclass
class TrainedDQN:
    q_net: nn.Module
    curve: dict[str, list[float]]
    feature_scale: float


def features(env: NumberLineVectorEnv, scale: float) -> np.ndarray:
    """Raw features of every sub-env's current state."""
    return raw_features(env.position, env.target, vector_forbidden_bits(env), scale)


def train_raw_dqn(config: RawDQNConfig, seed: int) -> TrainedDQN:
    """Train for ``config.total_steps`` env steps; deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    env = NumberLineVectorEnv(
        sampler=pool_sampler(training_pool(config.pool_size, seed)),
        num_envs=config.num_envs,
        reward="potential",
        gamma=config.dqn.gamma,
    )
    env.reset(seed=seed)
    q_net = init_module(mlp([2 + N_ACTIONS, *config.hidden, N_ACTIONS]), seed)
    learner = DQNLearner(q_net, copy.deepcopy(q_net), config.dqn)
    buffer = ReplayBuffer(config.buffer_size)
    epsilon = LinearSchedule(config.epsilon_start, config.epsilon_end, config.epsilon_fraction)
    curve = LearningCurve()
    steps = owed_updates = 0
    while steps < config.total_steps:
        obs = features(env, config.feature_scale)
        actions = _explore(q_net, obs, epsilon(steps / config.total_steps), rng)
        _, reward, terminated, truncated, info = env.step(actions)
        active = info["_outcome"]
        buffer.add(
            {
                "obs": obs[active],
                "action": actions[active],
                "reward": reward[active].astype(np.float32),
                "next_obs": features(env, config.feature_scale)[active],
                "terminated": terminated[active].astype(np.float32),
            }
        )
        steps += int(active.sum())
        for i in np.flatnonzero(active & (terminated | truncated)):
            curve.record(steps, info["outcome"][i] == SUCCESS)
        if steps >= config.learning_starts:
            owed_updates += int(active.sum())
            while owed_updates >= config.env_steps_per_update:
                learner.update(buffer.sample(config.batch_size, rng))
                owed_updates -= config.env_steps_per_update
    return TrainedDQN(q_net, curve.binned(config.total_steps), config.feature_scale)


def _explore(
    q_net: nn.Module, obs: np.ndarray, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    greedy = q_greedy(q_net, obs)
    random = rng.integers(0, N_ACTIONS, size=len(obs))
    return np.where(rng.random(len(obs)) < epsilon, random, greedy)


@dataclass
class QNetworkPolicy:
    """Greedy actions of a Q-network on raw features (a ``NumberLinePolicy``)."""

    q_net: nn.Module
    feature_scale: float
    name: str = "dqn"

    def begin(self, env: NumberLineVectorEnv) -> None:
        del env

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        return q_greedy(self.q_net, features(env, self.feature_scale))
