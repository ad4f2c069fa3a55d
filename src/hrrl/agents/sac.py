"""Soft actor-critic (Haarnoja et al. 2018) for box action spaces in [-1, 1]^d.

Twin Q critics with Polyak-averaged targets, a tanh-squashed Gaussian actor and an automatically
tuned entropy temperature (target entropy ``-d``). The losses are exposed one by one
(:meth:`SAC.critic_loss`, :meth:`SAC.actor_and_alpha_step`) so that a learner can put its own
modules into the critic's graph: PEARL (:mod:`hrrl.agents.pearl`) feeds observations that carry
a task embedding and trains its encoder through the critic loss. :meth:`SAC.update` is one plain
SAC step on a replay batch (``obs, action, reward, next_obs, terminated``; truncation is never
termination, so time limits bootstrap).

SAC here is an update rule with no training loop of its own: PEARL (which collects through its
task's batched rollout) is the one caller that steps an environment.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hrrl.agents.td3 import Critic
from hrrl.core.learner import StateArrays
from hrrl.core.networks import mlp, soft_update
from hrrl.core.replay import Batch
from hrrl.core.seeding import init_module, spawn_seeds, torch_generator

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0


@dataclass(frozen=True)
class SACConfig:
    gamma: float = 0.99
    """Discount factor."""
    lr: float = 3e-4
    """Adam learning rate of actor, critics and temperature."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden layer sizes of actor and critics (ReLU)."""
    tau: float = 0.005
    """Polyak rate of the target critics."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this in the critic targets."""
    init_alpha: float = 0.1
    """Initial entropy temperature."""
    auto_alpha: bool = True
    """Tune the temperature towards the target entropy ``-action_dim``."""


class TanhGaussianActor(nn.Module):
    """``a = tanh(u)``, ``u ~ N(mean(s), std(s)²)``; log-probabilities include the tanh Jacobian."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.body = mlp([obs_dim, *hidden, 2 * action_dim])

    def forward(
        self,
        obs: torch.Tensor,
        generator: torch.Generator | None = None,
        deterministic: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions (reparameterised) and their log-probabilities."""
        mean, log_std = self.body(obs).chunk(2, dim=-1)
        log_std = log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        if deterministic:
            pre = mean
        else:
            noise = torch.randn(mean.shape, generator=generator, dtype=mean.dtype)
            pre = mean + log_std.exp() * noise
        z = (pre - mean) * torch.exp(-log_std)
        log_prob = (-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        # log |d tanh(u) / du| = 2 (log 2 − u − softplus(−2u)), numerically stable
        log_prob = log_prob - (2 * (math.log(2) - pre - nn.functional.softplus(-2 * pre))).sum(-1)
        return torch.tanh(pre), log_prob


class SAC(StateArrays):
    """Actor, twin critics, target critics, temperature and their optimisers."""

    STATE = ("actor", "critics", "critic_targets", "log_alpha")

    def __init__(self, obs_dim: int, action_dim: int, config: SACConfig, seed: int) -> None:
        actor_seed, c1_seed, c2_seed, noise_seed = spawn_seeds(seed, 4)
        self.config = config
        self.actor = init_module(TanhGaussianActor(obs_dim, action_dim, config.hidden), actor_seed)
        self.critics = (
            init_module(Critic(obs_dim, action_dim, config.hidden), c1_seed),
            init_module(Critic(obs_dim, action_dim, config.hidden), c2_seed),
        )
        self.critic_targets = tuple(copy.deepcopy(c).requires_grad_(False) for c in self.critics)
        self.log_alpha = torch.tensor(math.log(config.init_alpha), requires_grad=True)
        self.target_entropy = -float(action_dim)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=config.lr)
        critic_params = [p for c in self.critics for p in c.parameters()]
        self.critic_optimizer = torch.optim.Adam(critic_params, lr=config.lr)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=config.lr)
        self.generator = torch_generator(noise_seed)

    @property
    def alpha(self) -> float:
        return float(self.log_alpha.detach().exp())

    def act(self, obs: np.ndarray | torch.Tensor, deterministic: bool = False) -> np.ndarray:
        """Actions for a batch of observations (noise from the learner's own generator)."""
        with torch.no_grad():
            action, _ = self.actor(
                torch.as_tensor(obs, dtype=torch.float32), self.generator, deterministic
            )
        return action.numpy().astype(np.float64)

    def critic_loss(
        self,
        obs: torch.Tensor,
        action: torch.Tensor,
        reward: torch.Tensor,
        next_obs: torch.Tensor,
        terminated: torch.Tensor,
    ) -> torch.Tensor:
        """Sum of the twin critics' squared TD errors against the soft clipped double-Q target
        (``obs`` may carry gradients into an upstream module; ``next_obs`` is detached)."""
        with torch.no_grad():
            next_action, next_log_prob = self.actor(next_obs.detach(), self.generator)
            q_next = torch.minimum(
                self.critic_targets[0](next_obs, next_action),
                self.critic_targets[1](next_obs, next_action),
            )
            soft = q_next - self.alpha * next_log_prob
            target = self.config.reward_scale * reward + self.config.gamma * (1 - terminated) * soft
        return sum(
            (nn.functional.mse_loss(c(obs, action), target) for c in self.critics),
            torch.zeros(()),
        )

    def actor_and_alpha_step(self, obs: torch.Tensor) -> float:
        """One actor step (maximise min-Q − α log π) and one temperature step; the actor loss."""
        obs = obs.detach()
        action, log_prob = self.actor(obs, self.generator)
        q = torch.minimum(self.critics[0](obs, action), self.critics[1](obs, action))
        actor_loss = (self.alpha * log_prob - q).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_optimizer.step()
        if self.config.auto_alpha:
            alpha_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()
            self.alpha_optimizer.zero_grad(set_to_none=True)
            alpha_loss.backward()
            self.alpha_optimizer.step()
        return float(actor_loss.detach())

    def update_targets(self) -> None:
        for target, critic in zip(self.critic_targets, self.critics, strict=True):
            soft_update(target, critic, self.config.tau)

    def update(self, batch: Batch) -> float:
        """One plain SAC step on a replay batch; returns the critic loss."""
        fields = ("obs", "action", "reward", "next_obs", "terminated")
        obs, action, reward, next_obs, terminated = (
            torch.as_tensor(batch[k], dtype=torch.float32) for k in fields
        )
        loss = self.critic_loss(obs, action, reward, next_obs, terminated)
        self.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.critic_optimizer.step()
        self.actor_and_alpha_step(obs)
        self.update_targets()
        return float(loss.detach())
