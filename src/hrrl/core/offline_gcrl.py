"""The shared core of offline goal-conditioned RL (GCIQL, HIQL, CFHRL, CARL): hindsight goal
sampling from fixed episodes, the expectile loss, advantage-weighted regression (AWR) of a
Gaussian policy, the reward/steps-to-go conversion, and the one training loop.

Goal sampling follows OGBench's convention: a value goal is the current state (``p_cur``), a
future state of the same episode (``p_traj``; offset geometric with parameter ``1 − γ``) or a random
dataset state (``p_rand``); an actor goal is a uniformly drawn future state of the same episode.
Rewards are ``0`` when the goal *is* the current state (same index) and ``−1`` otherwise, with the
bootstrap masked there, so ``V(s, g) ≈ −(1 − γ^d)/(1 − γ)`` for ``d`` steps to go.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from hrrl.core.networks import mlp


def expectile_loss(
    diff: torch.Tensor, expectile: float, sign: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of ``|τ − 1(sign < 0)| · diff²`` (IQL's asymmetric L2; ``sign`` defaults to ``diff``;
    HIQL weighs by the target network's advantage). τ = 0.5 is half the MSE."""
    weight = torch.where((diff if sign is None else sign) > 0, expectile, 1.0 - expectile)
    return (weight * diff.pow(2)).mean()


def awr_weights(
    advantage: torch.Tensor, temperature: float, max_weight: float = 100.0
) -> torch.Tensor:
    """``min(exp(β · A), max_weight)``, detached."""
    return torch.exp(temperature * advantage.detach()).clamp(max=max_weight)


def steps_to_go(value: torch.Tensor, gamma: float) -> torch.Tensor:
    """Invert ``V = −(1 − γ^d)/(1 − γ)``: the steps ``d`` a value stands for (≥ 0)."""
    inner = (1.0 + (1.0 - gamma) * value.clamp(max=0.0)).clamp(min=1e-6)
    return torch.log(inner) / math.log(gamma)


class GaussianPolicy(nn.Module):
    """``N(mlp(x), diag(exp(log_std)))`` with a state-independent learned log-std; the mean is
    the action used at evaluation (bounded by tanh when ``tanh_mean``)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...], tanh_mean: bool) -> None:
        super().__init__()
        self.body = mlp([in_dim, *hidden, out_dim])
        self.log_std = nn.Parameter(torch.zeros(out_dim))
        self.tanh_mean = tanh_mean

    def mean(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return torch.tanh(out) if self.tanh_mean else out

    def awr_loss(
        self, x: torch.Tensor, target: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        """``−E[w · log π(target | x)]`` (AWR)."""
        dist = torch.distributions.Normal(self.mean(x), self.log_std.clamp(-5.0, 2.0).exp())
        return -(weights * dist.log_prob(target).sum(-1)).mean()


class GoalNormalised(nn.Module):
    """``mlp`` whose output is rescaled to length √dim (HIQL's subgoal representations)."""

    def __init__(self, in_dim: int, out_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.body = mlp([in_dim, *hidden, out_dim])
        self.scale = math.sqrt(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return self.scale * out / out.norm(dim=-1, keepdim=True).clamp(min=1e-6)


@dataclass(frozen=True)
class GoalSampling:
    gamma: float = 0.99
    p_cur: float = 0.2
    p_traj: float = 0.5
    p_rand: float = 0.3
    subgoal_steps: int = 25
    """``k``: the high level's subgoal is ``k`` steps ahead (capped at the actor goal)."""
    chunk: int = 0
    """If > 0, also sample length-``chunk`` action sequences (for contrastive representations)."""


class GoalSampler:
    """Hindsight batches from equal-length episodes (``obs (E, T+1, d)``, ``actions (E, T, a)``)."""

    def __init__(self, observations: np.ndarray, actions: np.ndarray, config: GoalSampling) -> None:
        self.obs = torch.as_tensor(np.asarray(observations, dtype=np.float32))
        self.actions = torch.as_tensor(np.asarray(actions, dtype=np.float32))
        self.config = config
        self.episodes, self.horizon = actions.shape[0], actions.shape[1]

    def sample(self, batch_size: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        cfg, T = self.config, self.horizon
        e = rng.integers(self.episodes, size=batch_size)
        t = rng.integers(T, size=batch_size)
        # value goals: current, geometric future, or random
        kind = rng.choice(3, size=batch_size, p=[cfg.p_cur, cfg.p_traj, cfg.p_rand])
        future = np.minimum(t + rng.geometric(1.0 - cfg.gamma, size=batch_size), T)
        rand_e, rand_t = (
            rng.integers(self.episodes, size=batch_size),
            rng.integers(T + 1, size=batch_size),
        )
        same = kind < 2
        v_goal_t = np.where(kind == 0, t, future)
        v_goal = np.where(
            same[:, None], self.obs[e, v_goal_t].numpy(), self.obs[rand_e, rand_t].numpy()
        )
        success = same & (v_goal_t == t)
        # actor goals: uniform future of the same episode; subgoal k steps ahead (capped)
        a_goal_t = t + 1 + (rng.random(batch_size) * (T - t)).astype(np.int64)
        sub_t = np.minimum(t + cfg.subgoal_steps, a_goal_t)
        mid_t = t + (a_goal_t - t + 1) // 2
        batch = {
            "obs": self.obs[e, t],
            "next_obs": self.obs[e, t + 1],
            "actions": self.actions[e, t],
            "value_goals": torch.as_tensor(v_goal, dtype=torch.float32),
            "rewards": torch.as_tensor(success.astype(np.float32) - 1.0),
            "masks": torch.as_tensor(1.0 - success.astype(np.float32)),
            "actor_goals": self.obs[e, a_goal_t],
            "subgoals": self.obs[e, sub_t],
            "midpoints": self.obs[e, mid_t],
        }
        if cfg.chunk > 0:
            ce = rng.integers(self.episodes, size=batch_size)
            ct = rng.integers(T - cfg.chunk + 1, size=batch_size)
            steps = ct[:, None] + np.arange(cfg.chunk)[None, :]
            batch["chunk_obs"] = self.obs[ce, ct]
            batch["chunk_end"] = self.obs[ce, ct + cfg.chunk]
            batch["chunk_actions"] = self.actions[ce[:, None], steps].reshape(batch_size, -1)
        return batch


class OfflineLearner(Protocol):
    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]: ...


def train_offline(
    learner: OfflineLearner,
    sampler: GoalSampler,
    steps: int,
    batch_size: int,
    rng: np.random.Generator,
    log_every: int = 0,
    on_log: Callable[[int, dict[str, float]], Any] | None = None,
) -> dict[str, float]:
    """The one training loop: ``steps`` updates on sampled batches; returns the last losses."""
    losses: dict[str, float] = {}
    for step in range(1, steps + 1):
        losses = learner.update(sampler.sample(batch_size, rng))
        if on_log is not None and log_every and step % log_every == 0:
            on_log(step, losses)
    return losses
