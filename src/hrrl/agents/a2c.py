"""Flat on-policy baselines over a vector env with discrete actions: A2C (MLP or LSTM) and PPO.

* :class:`A2CAgent` — synchronous advantage actor-critic (the A2C form of A3C): one gradient step
  on each rollout segment's graph, GAE(λ) advantages, entropy bonus. With ``core="lstm"`` the
  body feeds an LSTM cell whose state is carried across segments (truncated BPTT over a segment)
  and zeroed at episode starts: the "LSTM flat agent" the FuN paper compares against.
* :class:`PPOAgent` — PPO with an MLP body, the shared :mod:`hrrl.core.ppo` (GAE, clipped
  surrogate, minibatch epochs).

Both act through :class:`ActorCriticNet`; :func:`hrrl.core.recurrent.train_on_policy` trains them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

from hrrl.core import ppo
from hrrl.core.networks import mlp
from hrrl.core.recurrent import (
    ActorAgent,
    Segment,
    State,
    a2c_loss,
    gradient_step,
    next_of,
    sample_categorical,
)
from hrrl.core.seeding import make_rng


class ActorCriticNet(nn.Module):
    """MLP body (optionally followed by an LSTM cell), softmax policy head, value head."""

    def __init__(self, obs_size: int, n_actions: int, hidden: int, core: str) -> None:
        super().__init__()
        if core not in ("mlp", "lstm"):
            raise ValueError(f"core must be 'mlp' or 'lstm', got {core!r}")
        self.core = core
        self.hidden = hidden
        self.body = mlp([obs_size, hidden, hidden], output_activation=nn.ReLU)
        self.lstm = nn.LSTMCell(hidden, hidden) if core == "lstm" else None
        self.policy_head = nn.Linear(hidden, n_actions)
        self.value_head = nn.Linear(hidden, 1)

    def initial_state(self, n: int) -> State:
        if self.lstm is None:
            return {}
        return {"h": torch.zeros(n, self.hidden), "c": torch.zeros(n, self.hidden)}

    def forward_step(
        self, obs: torch.Tensor, state: State
    ) -> tuple[torch.Tensor, torch.Tensor, State]:
        """Logits ``(N, A)``, values ``(N,)`` and the next state."""
        features = self.body(obs)
        if self.lstm is not None:
            h, c = self.lstm(features, (state["h"], state["c"]))
            features, state = h, {"h": h, "c": c}
        return self.policy_head(features), self.value_head(features)[:, 0], state

    def step(
        self, obs: torch.Tensor, state: State, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], State]:
        logits, values, state = self.forward_step(obs, state)
        actions, log_probs, entropy = sample_categorical(logits, generator)
        record = {"log_prob": log_probs, "entropy": entropy, "value": values}
        if not torch.is_grad_enabled():  # PPO recomputes its loss from what was seen
            record |= {"obs": obs, "action": actions}
        return actions, record, state

    def peek(self, obs: torch.Tensor, state: State) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            _, values, _ = self.forward_step(obs, state)
        return {"value": values}


@dataclass(frozen=True)
class A2CConfig:
    core: Literal["mlp", "lstm"] = "mlp"
    """Body: an MLP, or an MLP followed by an LSTM cell (recurrent A2C)."""
    hidden: int = 64
    """Units of the body layers (and of the LSTM)."""
    rollout_steps: int = 16
    """Steps per env per update (the BPTT length of the LSTM)."""
    lr: float = 1e-3
    """Adam learning rate."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5


class A2CAgent(ActorAgent):
    """Advantage actor-critic on a vector env (MLP or LSTM body)."""

    rollout_grad = True
    actor: ActorCriticNet

    def __init__(self, obs_size: int, n_actions: int, config: A2CConfig, seed: int) -> None:
        self.config = config
        self._setup(
            ActorCriticNet(obs_size, n_actions, config.hidden, config.core), config.lr, seed
        )

    def update(self, segment: Segment, progress: float) -> dict[str, float]:
        c, rec = self.config, segment.records
        loss = a2c_loss(
            rec["log_prob"],
            rec["entropy"],
            rec["value"],
            segment.rewards,
            next_of(segment, "value"),
            segment,
            c.gamma,
            c.gae_lambda,
            c.value_coef,
            c.entropy_coef,
        )
        params = list(self.actor.parameters())
        return {"loss": gradient_step(self.optimizer, params, loss, c.max_grad_norm)}


@dataclass(frozen=True)
class PPOAgentConfig:
    hidden: int = 64
    """Units of the MLP body's two layers."""
    rollout_steps: int = 64
    """Steps per env per update."""
    ppo: ppo.PPOConfig = field(
        default_factory=lambda: ppo.PPOConfig(
            gamma=0.99, gae_lambda=0.95, epochs=4, minibatches=4, lr=1e-3
        )
    )


class PPOAgent(ActorAgent):
    """PPO with an MLP actor-critic (categorical actions) on a vector env."""

    rollout_grad = False
    actor: ActorCriticNet

    def __init__(self, obs_size: int, n_actions: int, config: PPOAgentConfig, seed: int) -> None:
        self.config = config
        actor = ActorCriticNet(obs_size, n_actions, config.hidden, "mlp")
        (shuffle_seed,) = self._setup(actor, config.ppo.lr, seed, extra_seeds=1)
        self.rng: np.random.Generator = make_rng(shuffle_seed)

    def update(self, segment: Segment, progress: float) -> dict[str, float]:
        cfg, rec = self.config.ppo, segment.records
        advantages, returns = ppo.gae(
            segment.rewards,
            rec["value"],
            next_of(segment, "value"),
            segment.terminated,
            segment.episode_end,
            cfg.gamma,
            cfg.gae_lambda,
        )
        obs = rec["obs"].flatten(0, 1)
        actions = rec["action"].flatten(0, 1)
        old_log_probs = rec["log_prob"].flatten(0, 1)
        advantages, returns = advantages.flatten(), returns.flatten()
        if cfg.normalize_advantages:
            advantages = ppo.normalize(advantages)

        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
            logits, values, _ = self.actor.forward_step(obs[idx], {})
            log_probs = ppo.categorical_log_prob(logits, actions[idx])
            policy_loss, stats = ppo.clipped_surrogate(
                log_probs, old_log_probs[idx], advantages[idx], cfg.clip
            )
            value_loss = (values - returns[idx]).pow(2).mean()
            entropy = ppo.categorical_entropy(logits).mean()
            return policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy, stats

        params = list(self.actor.parameters())
        return ppo.optimise(self.optimizer, params, loss_fn, obs.shape[0], cfg, self.rng)
