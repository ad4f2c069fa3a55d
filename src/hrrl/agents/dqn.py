"""The DQN update shared by every value-based deep learner (flat DQN, h-DQN, HER, HRRL).

Acting and learning are separate: :func:`q_greedy` acts, :func:`dqn_loss` and :class:`DQNLearner`
learn. Targets bootstrap unless the transition *terminated*; truncation at a time limit keeps the
bootstrap. Double DQN (van Hasselt et al. 2016) picks the next action with the online network and
evaluates it with the target network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hrrl.core.learner import StateArrays
from hrrl.core.networks import soft_update
from hrrl.core.replay import Batch


@dataclass(frozen=True)
class DQNConfig:
    gamma: float = 0.99
    """Discount factor."""
    lr: float = 1e-3
    """Adam learning rate."""
    double: bool = True
    """Double DQN targets."""
    huber: bool = True
    """Huber (smooth L1) loss instead of squared error."""
    tau: float = 1.0
    """Target-network update rate (1.0 = hard copy) applied every ``target_every`` updates."""
    target_every: int = 500
    """Updates between target-network updates."""
    grad_clip: float = 10.0
    """Max gradient norm (0 disables)."""
    target_clip: tuple[float, float] | None = None
    """Clip the TD targets to ``[low, high]`` (HER §3.1 clips to ``[−1/(1−γ), 0]``); None: off."""


def q_greedy(q_net: nn.Module, obs: np.ndarray) -> np.ndarray:
    """Greedy actions for a batch of observations."""
    with torch.no_grad():
        q = q_net(torch.as_tensor(obs, dtype=torch.float32))
    return q.argmax(dim=-1).cpu().numpy()


def dqn_targets(
    q_net: nn.Module,
    target_net: nn.Module,
    next_obs: torch.Tensor,
    reward: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float | torch.Tensor,
    double: bool,
) -> torch.Tensor:
    """``r + γ (1 − terminated) Q_target(s', a*)``; ``gamma`` may be per-sample (e.g. ``γ^k``)."""
    with torch.no_grad():
        next_q_target = target_net(next_obs)
        if double:
            best = q_net(next_obs).argmax(dim=-1, keepdim=True)
        else:
            best = next_q_target.argmax(dim=-1, keepdim=True)
        next_value = next_q_target.gather(-1, best).squeeze(-1)
        return reward + gamma * (1.0 - terminated) * next_value


def dqn_loss(
    q_net: nn.Module,
    target_net: nn.Module,
    batch: Batch,
    config: DQNConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted TD loss and per-sample TD errors for a batch with fields
    ``obs, action, reward, next_obs, terminated`` (and optional ``discount``)."""
    obs = torch.as_tensor(batch["obs"], dtype=torch.float32)
    next_obs = torch.as_tensor(batch["next_obs"], dtype=torch.float32)
    action = torch.as_tensor(batch["action"], dtype=torch.int64)
    reward = torch.as_tensor(batch["reward"], dtype=torch.float32)
    terminated = torch.as_tensor(batch["terminated"], dtype=torch.float32)
    gamma: float | torch.Tensor = config.gamma
    if "discount" in batch.data:
        gamma = torch.as_tensor(batch["discount"], dtype=torch.float32)
    target = dqn_targets(q_net, target_net, next_obs, reward, terminated, gamma, config.double)
    if config.target_clip is not None:
        target = target.clamp(*config.target_clip)
    q = q_net(obs).gather(-1, action.unsqueeze(-1)).squeeze(-1)
    td = target - q
    weights = torch.as_tensor(batch.weights, dtype=torch.float32)
    per_sample = (
        nn.functional.smooth_l1_loss(q, target, reduction="none") if config.huber else td**2
    )
    return (weights * per_sample).mean(), td.detach()


class DQNLearner(StateArrays):
    """Owns the online/target networks and the optimizer; ``update(batch)`` does one step."""

    STATE = ("q_net", "target_net")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, q_net: nn.Module, target_net: nn.Module, config: DQNConfig) -> None:
        self.q_net = q_net
        self.target_net = target_net
        self.target_net.load_state_dict(q_net.state_dict())
        self.target_net.requires_grad_(False)
        self.config = config
        self.optimizer = torch.optim.Adam(q_net.parameters(), lr=config.lr)
        self.updates = 0

    def update(self, batch: Batch) -> tuple[float, np.ndarray]:
        """One gradient step; returns the loss and absolute TD errors (for priorities)."""
        loss, td = dqn_loss(self.q_net, self.target_net, batch, self.config)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.q_net.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.updates += 1
        if self.updates % self.config.target_every == 0:
            soft_update(self.target_net, self.q_net, self.config.tau)
        return float(loss.item()), td.abs().numpy()
