"""stable-baselines3's DQN on our Gymnasium environment: an external, trusted reference.

SB3 trains on a :class:`~hrrl.envs.numberline.NumberLineEnv` drawing problems from the paper's
distribution, seeing the same raw features as :mod:`hrrl.agents.baselines.raw_dqn` through
:class:`RawFeatureWrapper`, with the same budget, network, replay and exploration settings.
:class:`SB3Policy` adapts the trained model to the ``NumberLinePolicy`` protocol.

SB3 seeds torch, numpy and ``random`` globally from ``seed`` (its own behaviour); run it in a
worker process (``core.parallel`` does) so nothing else depends on that global state.

Not on the shared episode loop (:mod:`hrrl.core.rollout`) nor in the learner contract: the
reference is SB3's own ``learn`` loop and its own state, untouched, and its ``save`` format pickles
(we never save it; the trained model lives only in the worker that evaluates it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hrrl.agents.baselines.common import (
    LearningCurve,
    raw_features,
    training_env,
    training_pool,
    vector_forbidden_bits,
)
from hrrl.core.recurrent import State
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.numberline_wrappers import RawFeatureWrapper


@dataclass(frozen=True)
class SB3DQNConfig:
    """Hyper-parameters handed to ``stable_baselines3.DQN`` (matched to ``RawDQNConfig``)."""

    total_steps: int = 20_000
    """Training budget in environment steps."""
    pool_size: int = 200
    """Training problems drawn from the paper's distribution."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden layer sizes of the Q-network."""
    batch_size: int = 64
    """Minibatch size."""
    buffer_size: int = 50_000
    """Replay capacity in transitions."""
    learning_starts: int = 1_000
    """Env steps before the first update."""
    train_freq: int = 4
    """Env steps per gradient step."""
    target_update_interval: int = 1_000
    """Env steps between target-network copies (= 250 updates, as in ``RawDQNConfig``)."""
    exploration_fraction: float = 0.3
    """Fraction of the budget over which ε decays linearly."""
    exploration_final_eps: float = 0.05
    """Final exploration rate."""
    lr: float = 5e-4
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount factor (also the env's shaping γ)."""
    feature_scale: float = 100.0
    """Coordinates are divided by this (the largest training target)."""


@dataclass
class TrainedSB3:
    model: Any
    curve: dict[str, list[float]]
    feature_scale: float


def train_sb3_dqn(config: SB3DQNConfig, seed: int) -> TrainedSB3:
    """Train ``stable_baselines3.DQN`` for ``config.total_steps`` env steps."""
    from stable_baselines3 import DQN

    curve = LearningCurve()
    env = RawFeatureWrapper(
        training_env(training_pool(config.pool_size, seed), config.gamma, curve),
        config.feature_scale,
    )
    model = DQN(
        "MlpPolicy",
        env,
        learning_rate=config.lr,
        buffer_size=config.buffer_size,
        learning_starts=config.learning_starts,
        batch_size=config.batch_size,
        gamma=config.gamma,
        train_freq=config.train_freq,
        gradient_steps=1,
        target_update_interval=config.target_update_interval,
        exploration_fraction=config.exploration_fraction,
        exploration_final_eps=config.exploration_final_eps,
        policy_kwargs={"net_arch": list(config.hidden)},
        seed=seed,
        device="cpu",
        verbose=0,
    )
    model.learn(total_timesteps=config.total_steps)
    return TrainedSB3(model, curve.binned(config.total_steps), config.feature_scale)


@dataclass
class SB3Policy:
    """Deterministic actions of an SB3 model on the raw features (a ``NumberLinePolicy``)."""

    model: Any
    feature_scale: float
    name: str = "sb3-dqn"

    def begin(self, env: NumberLineVectorEnv) -> None:
        del env

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        bits = vector_forbidden_bits(env)
        obs = raw_features(env.position, env.target, bits, self.feature_scale)
        actions, _ = self.model.predict(obs, deterministic=True)
        return np.asarray(actions, dtype=np.int64)


class SB3Actor:
    """A trained stable-baselines3 policy behind the actor interface of :mod:`hrrl.core.recurrent`
    (stochastic actions, no memory), so SB3 runs are evaluated by the same rollout as ours."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def initial_state(self, n: int) -> State:
        return {}

    def step(
        self, obs: torch.Tensor, state: State, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], State]:
        actions, _ = self.model.predict(obs.numpy(), deterministic=False)
        return torch.as_tensor(actions, dtype=torch.long), {}, state

    def peek(self, obs: torch.Tensor, state: State) -> dict[str, torch.Tensor]:
        return {}
