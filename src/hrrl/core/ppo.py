"""One PPO for the library: GAE with bootstrapping at truncation, the clipped surrogate, Gaussian
and categorical log-probabilities, and a minibatch loop.

Time runs along axis 0 of every ``(T, N)`` array. Truncation is *not* termination: a step that
ends an episode by time limit still bootstraps from the value of the real next state (the
``final_obs`` a same-step-autoreset vector env returns), while a terminal step does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class PPOConfig:
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.9
    """GAE λ."""
    clip: float = 0.2
    """Ratio clipping."""
    epochs: int = 5
    """Passes over each batch."""
    minibatches: int = 4
    """Minibatches per epoch."""
    lr: float = 3e-4
    """Adam learning rate."""
    value_coef: float = 0.5
    """Weight of the value loss."""
    entropy_coef: float = 0.01
    """Entropy bonus."""
    max_grad_norm: float = 0.5
    """Gradient-norm clipping."""
    normalize_advantages: bool = True
    """Standardise advantages over the batch."""


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    terminated: torch.Tensor,
    episode_end: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over ``(T, N)`` arrays; returns (advantages, returns).

    ``next_values[t]`` is V of the state reached after step t (the final observation when the
    episode ended there); ``terminated[t]`` stops bootstrapping; ``episode_end[t]`` (terminated or
    truncated) stops the λ-trace from running into the next episode. The last row bootstraps from
    ``next_values[-1]`` unless terminated.
    """
    not_term = 1.0 - terminated.float()
    not_end = 1.0 - episode_end.float()
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + gamma * next_values[t] * not_term[t] - values[t]
        running = delta + gamma * lam * running * not_end[t]
        advantages[t] = running
    return advantages, advantages + values


def clipped_surrogate(
    log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's clipped policy loss (to minimise) and diagnostics (approx. KL, clip fraction)."""
    log_ratio = log_probs - old_log_probs
    ratio = torch.exp(log_ratio)
    clipped = torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    loss = -torch.min(ratio * advantages, clipped * advantages).mean()
    with torch.no_grad():
        approx_kl = float(((ratio - 1) - log_ratio).mean())
        clip_frac = float(((ratio - 1).abs() > clip).float().mean())
    return loss, {"approx_kl": approx_kl, "clip_frac": clip_frac}


LOG_2PI = math.log(2 * math.pi)


def gaussian_log_prob(
    actions: torch.Tensor, mean: torch.Tensor, log_std: torch.Tensor
) -> torch.Tensor:
    """Log-density of a diagonal Gaussian, summed over the last axis."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z.pow(2) - log_std - 0.5 * LOG_2PI).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    return (log_std + 0.5 * (1.0 + LOG_2PI)).sum(-1)


def gaussian_kl(
    mean_q: torch.Tensor, log_std_q: torch.Tensor, mean_p: torch.Tensor, log_std_p: torch.Tensor
) -> torch.Tensor:
    """KL(q ‖ p) of diagonal Gaussians, summed over the last axis."""
    var_q, var_p = torch.exp(2 * log_std_q), torch.exp(2 * log_std_p)
    kl = log_std_p - log_std_q + (var_q + (mean_q - mean_p).pow(2)) / (2 * var_p) - 0.5
    return kl.sum(-1)


def categorical_log_prob(logits: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits, dim=-1)
    return log_probs.gather(-1, actions[..., None])[..., 0]


def categorical_entropy(logits: torch.Tensor) -> torch.Tensor:
    log_probs = torch.log_softmax(logits, dim=-1)
    return -(log_probs.exp() * log_probs).sum(-1)


def minibatch_indices(
    n: int, minibatches: int, epochs: int, rng: np.random.Generator
) -> Iterator[torch.Tensor]:
    """``epochs`` shuffled passes over ``range(n)`` split into ``minibatches`` index tensors."""
    for _ in range(epochs):
        for rows in np.array_split(rng.permutation(n), minibatches):
            yield torch.from_numpy(rows)


def optimise(
    optimizer: torch.optim.Optimizer,
    params: list[nn.Parameter],
    loss_fn: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]],
    n: int,
    config: PPOConfig,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Run ``loss_fn(indices)`` over PPO's epochs × minibatches with gradient clipping; returns
    the diagnostics averaged over minibatches (and ``loss``)."""
    totals: dict[str, float] = {}
    count = 0
    for idx in minibatch_indices(n, config.minibatches, config.epochs, rng):
        loss, stats = loss_fn(idx)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        optimizer.step()
        stats = {**stats, "loss": float(loss.detach())}
        for key, value in stats.items():
            totals[key] = totals.get(key, 0.0) + value
        count += 1
    return {key: value / max(count, 1) for key, value in totals.items()}


def normalize(advantages: torch.Tensor) -> torch.Tensor:
    return (advantages - advantages.mean()) / (advantages.std() + 1e-8)
