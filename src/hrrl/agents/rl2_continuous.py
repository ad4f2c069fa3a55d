"""RL² (Duan et al. 2016) for continuous actions: a GRU Gaussian policy trained with PPO over
trials of several episodes of the same task.

At every step the GRU sees the observation, the previous action, the previous reward and a flag
marking the first step of an episode; its hidden state is carried across the episodes of a trial
(reset only between trials), so what it learns about the task in episode 1 can shape episode 2.
Training rolls out ``batch_trials`` trials on fresh tasks at once, then recomputes the whole
sequences with one ``nn.GRU`` call for the PPO loss (GAE over the whole trial, clipped
surrogate, minibatches of whole trials: the shared :mod:`hrrl.core.ppo`). The discrete-action
bandit version is :mod:`hrrl.agents.rl2`.

The learner knows no particular domain: it is handed a :class:`TrialEnv` (batched trials of
fixed-length episodes) and a task sampler.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from hrrl.core import ppo
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.rollout import TrialStep, run_trial
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator


class TrialEnv(Protocol):
    """Batched trials: ``reset(tasks) → obs (K, d)``; ``step(actions (K, a)) → (obs, rewards
    (K,), episode_end)`` where ``episode_end`` says the step closed an episode of every trial."""

    def reset(self, tasks: np.ndarray) -> np.ndarray: ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]: ...


@dataclass(frozen=True)
class RL2ContinuousConfig:
    hidden_size: int = 64
    """GRU hidden units."""
    lr: float = 1e-3
    """Adam learning rate."""
    ppo_config: ppo.PPOConfig = field(
        default_factory=lambda: ppo.PPOConfig(
            gamma=0.99,
            gae_lambda=0.95,
            epochs=4,
            minibatches=4,
            entropy_coef=0.0,
            max_grad_norm=1.0,
        )
    )
    """PPO settings (its ``lr`` is ignored: ``lr`` above)."""
    batch_trials: int = 64
    """Trials (fresh tasks) per update."""
    init_log_std: float = -0.5
    """Initial log standard deviation of the Gaussian policy (state-independent, learned)."""
    reward_scale: float = 0.1
    """Rewards are multiplied by this for the learner (reported returns are unscaled)."""


class RL2GaussianPolicy(nn.Module):
    """GRU over ``[obs, previous action, previous reward, episode-start flag]``; Gaussian head
    with a learned state-independent log-std; value head."""

    def __init__(self, obs_dim: int, action_dim: int, config: RL2ContinuousConfig) -> None:
        super().__init__()
        self.hidden_size = config.hidden_size
        self.gru = nn.GRU(obs_dim + action_dim + 2, config.hidden_size, batch_first=True)
        self.mean_head = nn.Linear(config.hidden_size, action_dim)
        self.value_head = nn.Linear(config.hidden_size, 1)
        self.log_std: nn.Parameter = nn.Parameter(torch.full((action_dim,), config.init_log_std))

    def forward(
        self, inputs: torch.Tensor, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``inputs (B, T, in)`` → means ``(B, T, a)``, values ``(B, T)``, last hidden."""
        if hidden is None:
            hidden = torch.zeros(1, inputs.shape[0], self.hidden_size)
        out, hidden = self.gru(inputs, hidden)
        return self.mean_head(out), self.value_head(out)[..., 0], hidden


@dataclass(frozen=True)
class Trials:
    """Rolled-out trials, time along axis 1."""

    inputs: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    """Unscaled rewards (B, T)."""


class RL2Continuous(StateArrays):
    """A continuous-action RL² learner (the learner contract: its policy is the state)."""

    STATE = ("policy",)

    def __init__(self, obs_dim: int, action_dim: int, config: RL2ContinuousConfig, seed: int):
        init_seed, noise_seed, shuffle_seed = spawn_seeds(seed, 3)
        self.config = config
        self.action_dim = action_dim
        self.policy = RL2GaussianPolicy(obs_dim, action_dim, config)
        init_module(self.policy, init_seed)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr)
        self.generator = torch_generator(noise_seed)
        self.rng = make_rng(shuffle_seed)
        self.env_steps = 0
        """Environment steps used for meta-training."""

    def play(
        self, env: TrialEnv, tasks: np.ndarray, steps: int, deterministic: bool = False
    ) -> Trials:
        """One trial of ``steps`` steps per task (fresh hidden state each, carried across the
        trial's episodes: :func:`~hrrl.core.rollout.run_trial`)."""
        obs = env.reset(tasks)
        batch = len(tasks)
        prev_action = np.zeros((batch, self.action_dim))
        prev_reward = np.zeros(batch)
        start = np.ones(batch)
        hidden: torch.Tensor | None = None
        record: dict[str, list[torch.Tensor]] = {k: [] for k in ("in", "act", "lp", "v", "r")}

        def act(obs: np.ndarray) -> torch.Tensor:
            """One GRU step on ``obs ‖ previous action, reward, episode-start flag``."""
            nonlocal hidden
            row = np.concatenate([obs, prev_action, prev_reward[:, None], start[:, None]], -1)
            inputs = torch.as_tensor(row, dtype=torch.float32)[:, None, :]
            mean, value, hidden = self.policy(inputs, hidden)
            mean, log_std = mean[:, 0], self.policy.log_std.expand(batch, -1)
            action = mean
            if not deterministic:
                noise = torch.randn(mean.shape, generator=self.generator)
                action = mean + log_std.exp() * noise
            record["in"].append(inputs[:, 0])
            record["lp"].append(ppo.gaussian_log_prob(action, mean, log_std))
            record["v"].append(value[:, 0])
            return action

        def step(action: torch.Tensor) -> tuple[np.ndarray, np.ndarray, bool, dict[str, Any]]:
            obs, reward, ended = env.step(action.numpy().astype(np.float64))
            return obs, reward, ended, {}

        def observe(step: TrialStep) -> None:
            nonlocal prev_action, prev_reward, start
            record["act"].append(step.action)
            record["r"].append(torch.as_tensor(step.reward, dtype=torch.float32))
            prev_action, prev_reward = step.action.numpy().astype(np.float64), step.reward
            start = np.full(batch, 1.0 if step.episode_end else 0.0)

        with torch.no_grad():
            run_trial(step, obs, steps, act, observe)
        s = {k: torch.stack(v, dim=1) for k, v in record.items()}
        return Trials(s["in"], s["act"], s["lp"], s["v"], s["r"])

    def update(self, trials: Trials) -> dict[str, float]:
        """PPO epochs over minibatches of whole trials (GAE over the trial, which ends at its
        last step)."""
        cfg = self.config.ppo_config
        rewards = (trials.rewards * self.config.reward_scale).T
        values = trials.values.T
        next_values = torch.cat([values[1:], torch.zeros_like(values[:1])])
        ends = torch.zeros_like(values, dtype=torch.bool)
        ends[-1] = True
        adv, returns = ppo.gae(rewards, values, next_values, ends, ends, cfg.gamma, cfg.gae_lambda)
        adv, returns = ppo.normalize(adv.T), returns.T

        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
            mean, value, _ = self.policy(trials.inputs[idx])
            log_std = self.policy.log_std.expand_as(mean)
            log_probs = ppo.gaussian_log_prob(trials.actions[idx], mean, log_std)
            loss, stats = ppo.clipped_surrogate(
                log_probs, trials.log_probs[idx], adv[idx], cfg.clip
            )
            value_loss = (value - returns[idx]).pow(2).mean()
            entropy = ppo.gaussian_entropy(self.policy.log_std)
            total = loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
            return total, stats

        params = list(self.policy.parameters())
        return ppo.optimise(self.optimizer, params, loss_fn, len(adv), cfg, self.rng)

    def train(
        self,
        env: TrialEnv,
        sample_tasks: Callable[[int], np.ndarray],
        steps_per_trial: int,
        updates: int,
        logger: Logger | None = None,
    ) -> list[float]:
        """``updates`` PPO updates on fresh tasks; the mean trial return of each batch (also to
        ``logger`` with the update's statistics, at the env steps spent)."""
        curve = []
        for _ in range(updates):
            trials = self.play(env, sample_tasks(self.config.batch_trials), steps_per_trial)
            self.env_steps += trials.rewards.numel()
            curve.append(float(trials.rewards.sum(dim=1).mean()))
            stats = self.update(trials)
            log_step(logger, self.env_steps, {"mean_return": curve[-1], **stats})
        return curve

    def evaluate(self, env: TrialEnv, tasks: np.ndarray, episodes: int, horizon: int) -> np.ndarray:
        """(K, episodes) return of each episode of one trial per task (stochastic policy)."""
        trials = self.play(env, tasks, episodes * horizon)
        return trials.rewards.numpy().reshape(len(tasks), episodes, horizon).sum(-1)
