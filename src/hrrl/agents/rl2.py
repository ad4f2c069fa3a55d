"""RL² (Duan et al. 2016) on Bernoulli bandits: a GRU policy trained with PPO across tasks.

The policy sees, at each pull, the one-hot previous action, the previous reward and the progress
``t / n`` (:func:`hrrl.envs.bandits.encode_observations`). Its GRU hidden state is carried across
the ``n`` pulls of a trial and reset to zeros at the start of every trial, so whatever it learns
about the current bandit lives in the hidden state: the "fast" learner is the recurrent dynamics,
the "slow" learner is PPO on the weights. Training rolls out ``batch_trials`` trials on fresh
tasks ``p ~ U[0, 1]^k`` at once with :class:`~hrrl.envs.bandits.BatchedBernoulliBandit`, then
recomputes the whole sequences with one ``nn.GRU`` call for the PPO loss (GAE, clipped surrogate
and minibatching from the shared :mod:`hrrl.core.ppo`). Performance is the
undiscounted total reward of the trial; the learner discounts (``gamma``) and uses GAE, which
cuts the variance of the credit assignment over a long trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hrrl.core import ppo
from hrrl.core.schedules import LinearSchedule
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator
from hrrl.envs.bandits import BatchedBernoulliBandit, observation_size


@dataclass(frozen=True)
class RL2Config:
    hidden_size: int = 64
    """GRU hidden units."""
    lr: float = 1e-2
    """Adam learning rate."""
    gamma: float = 0.95
    """Discount for the learner (evaluation is the undiscounted total; < 1 speeds learning)."""
    gae_lambda: float = 0.9
    """GAE λ (low values lean on the learned value function: less variance, more bias)."""
    clip: float = 0.2
    """PPO ratio clipping."""
    epochs: int = 1
    """PPO passes over each batch of trials."""
    minibatches: int = 2
    """Minibatches (of whole trials) per epoch."""
    value_coef: float = 0.5
    """Weight of the value loss (values are in units of reward / n)."""
    entropy_start: float = 0.01
    """Entropy bonus at the start of training."""
    entropy_end: float = 0.0
    """Entropy bonus at the end of training (linear decay)."""
    max_grad_norm: float = 1.0
    """Gradient-norm clipping."""
    batch_trials: int = 256
    """Trials (fresh bandits) rolled out per update."""
    updates: int = 300
    """Number of PPO updates (batches of trials)."""


class RL2Policy(nn.Module):
    """GRU over the pull history, with a softmax policy head and a value head."""

    def __init__(self, k: int, hidden_size: int) -> None:
        super().__init__()
        self.k = k
        self.hidden_size = hidden_size
        self.gru = nn.GRU(observation_size(k), hidden_size, batch_first=True)
        self.policy_head = nn.Linear(hidden_size, k)
        self.value_head = nn.Linear(hidden_size, 1)

    def initial_state(self, batch: int) -> torch.Tensor:
        """The hidden state at the start of every trial: zeros ``(1, B, H)``."""
        return torch.zeros(1, batch, self.hidden_size)

    def step(
        self, obs: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One pull: ``obs (B, d)``, hidden ``(1, B, H)`` → logits, value ``(B,)``, new hidden."""
        out, hidden = self.gru(obs[:, None, :], hidden)
        features = out[:, 0]
        return self.policy_head(features), self.value_head(features)[:, 0], hidden

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Whole trials from a fresh state: ``obs (B, T, d)`` → logits ``(B, T, k)``, values."""
        out, _ = self.gru(obs, self.initial_state(obs.shape[0]))
        return self.policy_head(out), self.value_head(out)[..., 0]


@dataclass(frozen=True)
class Rollout:
    """A batch of complete trials, time along axis 1."""

    obs: torch.Tensor
    """Observations the policy acted on, ``(B, T, d)``."""
    actions: torch.Tensor
    """Arms pulled, int64 ``(B, T)``."""
    log_probs: torch.Tensor
    """Log-probabilities of the pulled arms under the acting policy."""
    values: torch.Tensor
    """Value estimates (discounted reward still to come, over n) at each pull."""
    rewards: torch.Tensor
    """Rewards (0/1) of each pull."""


def play_rl2_trials(
    policy: RL2Policy,
    env: BatchedBernoulliBandit,
    tasks: np.ndarray | None,
    env_rng: np.random.Generator,
    generator: torch.Generator,
    batch_size: int | None = None,
    greedy: bool = False,
) -> Rollout:
    """Play one trial per task (fresh hidden state each), sampling arms with ``generator``."""
    obs_np = env.reset(env_rng, tasks, batch_size)
    batch = env.batch_size
    hidden = policy.initial_state(batch)
    steps: dict[str, list[torch.Tensor]] = {k: [] for k in ("obs", "act", "logp", "val", "rew")}
    with torch.no_grad():
        for _ in range(env.n_pulls):
            obs = torch.from_numpy(obs_np)
            logits, value, hidden = policy.step(obs, hidden)
            log_probs = torch.log_softmax(logits, dim=-1)
            if greedy:
                actions = log_probs.argmax(dim=-1)
            else:
                actions = torch.multinomial(log_probs.exp(), 1, generator=generator)[:, 0]
            obs_np, rewards, _ = env.step(actions.numpy())
            steps["obs"].append(obs)
            steps["act"].append(actions)
            steps["logp"].append(log_probs.gather(1, actions[:, None])[:, 0])
            steps["val"].append(value)
            steps["rew"].append(torch.from_numpy(rewards).float())
    stacked = {key: torch.stack(vals, dim=1) for key, vals in steps.items()}
    return Rollout(
        obs=stacked["obs"],
        actions=stacked["act"],
        log_probs=stacked["logp"],
        values=stacked["val"],
        rewards=stacked["rew"],
    )


def gae_advantages(
    rewards: torch.Tensor, values: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE over ``(B, T)`` trials that terminate after the last step (the shared
    :func:`hrrl.core.ppo.gae`, time moved to axis 0); returns (advantages, returns)."""
    values_t = values.T
    next_values = torch.cat([values_t[1:], torch.zeros_like(values_t[:1])])
    ends = torch.zeros_like(values_t, dtype=torch.bool)
    ends[-1] = True
    advantages, returns = ppo.gae(rewards.T, values_t, next_values, ends, ends, gamma, lam)
    return advantages.T, returns.T


def ppo_loss(
    policy: RL2Policy,
    batch: Rollout,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    config: RL2Config,
    entropy_coef: float,
) -> torch.Tensor:
    """Clipped-ratio policy loss + value loss − entropy bonus, averaged over pulls."""
    logits, values = policy(batch.obs)
    log_probs_all = torch.log_softmax(logits, dim=-1)
    log_probs = log_probs_all.gather(2, batch.actions[..., None])[..., 0]
    policy_loss, _ = ppo.clipped_surrogate(log_probs, batch.log_probs, advantages, config.clip)
    value_loss = (values - returns).pow(2).mean()
    entropy = -(log_probs_all.exp() * log_probs_all).sum(-1).mean()
    return policy_loss + config.value_coef * value_loss - entropy_coef * entropy


def ppo_update(
    policy: RL2Policy,
    optimizer: torch.optim.Optimizer,
    rollout: Rollout,
    config: RL2Config,
    entropy_coef: float,
    rng: np.random.Generator,
) -> float:
    """PPO epochs over minibatches of whole trials; returns the last minibatch loss."""
    n_pulls = rollout.rewards.shape[1]
    advantages, returns = gae_advantages(
        rollout.rewards / n_pulls, rollout.values, config.gamma, config.gae_lambda
    )
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    batch = rollout.rewards.shape[0]
    loss_value = 0.0
    for idx in ppo.minibatch_indices(batch, config.minibatches, config.epochs, rng):
        minibatch = Rollout(*(getattr(rollout, f)[idx] for f in Rollout.__dataclass_fields__))
        loss = ppo_loss(policy, minibatch, advantages[idx], returns[idx], config, entropy_coef)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(policy.parameters(), config.max_grad_norm)
        optimizer.step()
        loss_value = float(loss.detach())
    return loss_value


def train_rl2(
    k: int,
    n_pulls: int,
    config: RL2Config,
    seed: int,
    on_update: Callable[[int, float], None] | None = None,
) -> tuple[RL2Policy, list[float]]:
    """Train one RL² policy for ``(n_pulls, k)``; returns it and the mean total per update."""
    init_seed, env_seed, torch_seed, shuffle_seed = spawn_seeds(seed, 4)
    policy = init_module(RL2Policy(k, config.hidden_size), init_seed)
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.lr)
    entropy = LinearSchedule(config.entropy_start, config.entropy_end)
    env = BatchedBernoulliBandit(k, n_pulls)
    env_rng, shuffle_rng = make_rng(env_seed), make_rng(shuffle_seed)
    generator = torch_generator(torch_seed)
    curve: list[float] = []
    for update in range(config.updates):
        rollout = play_rl2_trials(policy, env, None, env_rng, generator, config.batch_trials)
        mean_total = float(rollout.rewards.sum(dim=1).mean())
        curve.append(mean_total)
        coef = entropy(update / max(config.updates - 1, 1))
        ppo_update(policy, optimizer, rollout, config, coef, shuffle_rng)
        if on_update is not None:
            on_update(update, mean_total)
    return policy, curve


def evaluate_rl2(
    policy: RL2Policy,
    tasks: np.ndarray,
    n_pulls: int,
    env_rng: np.random.Generator,
    generator: torch.Generator,
    greedy: bool = False,
) -> np.ndarray:
    """Total reward of one ``n_pulls`` trial per task (e.g. held-out bandits), ``(B,)``."""
    env = BatchedBernoulliBandit(policy.k, n_pulls)
    rollout = play_rl2_trials(policy, env, tasks, env_rng, generator, greedy=greedy)
    return rollout.rewards.sum(dim=1).numpy().astype(np.float64)
