"""RL² (Duan et al. 2016): a GRU policy trained with PPO across tasks.

The learner knows no particular domain: it plays *trials* of any batched meta-RL environment
(:class:`BatchedTrialEnv`: e.g. :class:`~hrrl.envs.bandits.BatchedBernoulliBandit`, one trial =
``n`` pulls, or :class:`~hrrl.envs.random_mdps.BatchedRandomMDP`, one trial = ``n`` episodes of a
tabular MDP). The environment's observation carries what the recurrent policy needs (previous
action, reward, and for MDPs the state and the done flag, as in seed 004 line 63). The GRU hidden
state is carried across every step of a trial — across the inner episodes of an MDP trial too —
and reset to zeros at the start of every trial, so whatever the policy learns about the current
task lives in the hidden state: the "fast" learner is the recurrent dynamics, the "slow" learner
is PPO on the weights. Training rolls out ``batch_trials`` trials on fresh tasks at once, then
recomputes the whole sequences with one ``nn.GRU`` call for the PPO loss (GAE, clipped surrogate
and minibatching from the shared :mod:`hrrl.core.ppo`). Performance is the undiscounted total
reward of the trial; the learner discounts (``gamma``) and uses GAE.

:class:`RL2Learner` holds the policy, optimiser and generators; it saves and loads under the
learner contract (:mod:`hrrl.core.learner`) and checkpoints its whole training state
(:meth:`RL2Learner.save_progress` / :meth:`RL2Learner.resume`) so a long run resumes where it
stopped and ends exactly as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
import torch
from torch import nn

from hrrl.core import ppo
from hrrl.core.checkpoint import (
    load_checkpoint,
    load_optimizer_tensors,
    optimizer_tensors,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.rollout import run_trial
from hrrl.core.schedules import LinearSchedule
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator


class BatchedTrialEnv(Protocol):
    """A batch of meta-RL trials stepped together (numpy in, numpy out)."""

    @property
    def n_actions(self) -> int: ...

    @property
    def trial_length(self) -> int: ...

    @property
    def observation_size(self) -> int: ...

    @property
    def batch_size(self) -> int: ...

    def reset(
        self, rng: np.random.Generator, tasks: Any = None, batch_size: int | None = None
    ) -> np.ndarray: ...

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]: ...


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
    """Trials (fresh tasks) rolled out per update."""
    updates: int = 300
    """Number of PPO updates (batches of trials)."""


class RL2Policy(nn.Module):
    """GRU over the trial's history, with a softmax policy head and a value head."""

    def __init__(self, obs_size: int, n_actions: int, hidden_size: int) -> None:
        super().__init__()
        self.n_actions = n_actions
        self.hidden_size = hidden_size
        self.gru = nn.GRU(obs_size, hidden_size, batch_first=True)
        self.policy_head = nn.Linear(hidden_size, n_actions)
        self.value_head = nn.Linear(hidden_size, 1)

    def initial_state(self, batch: int) -> torch.Tensor:
        """The hidden state at the start of every trial: zeros ``(1, B, H)``."""
        return torch.zeros(1, batch, self.hidden_size)

    def step(
        self, obs: torch.Tensor, hidden: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One step: ``obs (B, d)``, hidden ``(1, B, H)`` → logits, value ``(B,)``, new hidden."""
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
    """Actions taken, int64 ``(B, T)``."""
    log_probs: torch.Tensor
    """Log-probabilities of the actions under the acting policy."""
    values: torch.Tensor
    """Value estimates (discounted reward still to come, over T) at each step."""
    rewards: torch.Tensor
    """Rewards of each step."""


def play_rl2_trials(
    policy: RL2Policy,
    env: BatchedTrialEnv,
    tasks: Any,
    env_rng: np.random.Generator,
    generator: torch.Generator,
    batch_size: int | None = None,
    greedy: bool = False,
) -> Rollout:
    """Play one trial per task (fresh hidden state each, :func:`~hrrl.core.rollout.run_trial`),
    sampling actions with ``generator``."""
    obs_np = env.reset(env_rng, tasks, batch_size)
    hidden = policy.initial_state(env.batch_size)
    steps: dict[str, list[torch.Tensor]] = {k: [] for k in ("obs", "act", "logp", "val", "rew")}

    def act(obs_np: np.ndarray) -> np.ndarray:
        """One GRU step (the hidden state runs on across the trial's episodes)."""
        nonlocal hidden
        obs = torch.from_numpy(obs_np)
        logits, value, hidden = policy.step(obs, hidden)
        log_probs = torch.log_softmax(logits, dim=-1)
        if greedy:
            actions = log_probs.argmax(dim=-1)
        else:
            actions = torch.multinomial(log_probs.exp(), 1, generator=generator)[:, 0]
        steps["obs"].append(obs)
        steps["act"].append(actions)
        steps["logp"].append(log_probs.gather(1, actions[:, None])[:, 0])
        steps["val"].append(value)
        return actions.numpy()

    def step(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, dict[str, Any]]:
        obs, rewards, trial_over = env.step(actions)
        return obs, rewards, trial_over, {}

    with torch.no_grad():
        run_trial(step, obs_np, env.trial_length, act,
                  lambda s: steps["rew"].append(torch.from_numpy(s.reward).float()))  # fmt: skip
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
    """Clipped-ratio policy loss + value loss − entropy bonus, averaged over steps."""
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
    trial_length = rollout.rewards.shape[1]
    advantages, returns = gae_advantages(
        rollout.rewards / trial_length, rollout.values, config.gamma, config.gae_lambda
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


class RL2Learner(StateArrays):
    """RL² on one batched trial environment: policy, Adam, generators and progress.

    ``STATE`` (the learner contract) is the policy; :meth:`save_progress` adds what a resumed
    run needs to continue exactly (Adam's moments, every generator, the updates done, the curve).
    """

    STATE: ClassVar[tuple[str, ...]] = ("policy",)

    def __init__(self, env: BatchedTrialEnv, config: RL2Config, seed: int) -> None:
        self.env = env
        self.config = config
        init_seed, env_seed, torch_seed, shuffle_seed = spawn_seeds(seed, 4)
        self.policy = init_module(
            RL2Policy(env.observation_size, env.n_actions, config.hidden_size), init_seed
        )
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=config.lr)
        self.env_rng, self.shuffle_rng = make_rng(env_seed), make_rng(shuffle_seed)
        self.generator = torch_generator(torch_seed)
        self.updates_done = 0
        self.curve: list[float] = []
        self.train_seconds = 0.0
        """Wall time spent in :meth:`update`, summed over every resumed part of the run."""
        self.time_recorded = True
        """False when the run resumed from a checkpoint written before training time was saved:
        :attr:`train_seconds` then misses the time before that checkpoint."""
        self.resumed_at = 0
        """Updates already done in the checkpoint this run resumed from (0: a fresh start)."""
        self._entropy = LinearSchedule(config.entropy_start, config.entropy_end)

    def update(self) -> float:
        """One PPO update on ``batch_trials`` fresh trials; returns their mean total reward."""
        config = self.config
        started = time.perf_counter()
        rollout = play_rl2_trials(
            self.policy, self.env, None, self.env_rng, self.generator, config.batch_trials
        )
        mean_total = float(rollout.rewards.sum(dim=1).mean())
        coef = self._entropy(self.updates_done / max(config.updates - 1, 1))
        ppo_update(self.policy, self.optimizer, rollout, config, coef, self.shuffle_rng)
        self.updates_done += 1
        self.curve.append(mean_total)
        self.train_seconds += time.perf_counter() - started
        return mean_total

    def train(
        self,
        on_update: Callable[[int, float], None] | None = None,
        checkpoint: Path | None = None,
        checkpoint_every: int = 50,
        stop_after: int | None = None,
        logger: Logger | None = None,
    ) -> list[float]:
        """Run the remaining of ``config.updates`` updates (resuming from ``checkpoint`` when it
        holds a save of this run), saving progress there every ``checkpoint_every`` updates;
        ``stop_after`` ends early once that many updates are done (to split a long run). The
        save goes to a subfolder named by a digest of the config, so a changed config starts
        afresh instead of resuming someone else's run. ``logger`` gets each update's mean total
        reward."""
        if checkpoint is not None:
            digest = hashlib.sha256(json.dumps(vars(self.config)).encode()).hexdigest()[:12]
            checkpoint = Path(checkpoint) / digest
            self.resume(checkpoint)
        end = self.config.updates if stop_after is None else min(stop_after, self.config.updates)
        while self.updates_done < end:
            mean_total = self.update()
            log_step(logger, self.updates_done - 1, {"mean_total": mean_total})
            if on_update is not None:
                on_update(self.updates_done - 1, mean_total)
            last = self.updates_done == end
            if checkpoint is not None and (self.updates_done % checkpoint_every == 0 or last):
                self.save_progress(checkpoint)
        return self.curve

    def evaluate(
        self,
        tasks: Any,
        env_rng: np.random.Generator,
        generator: torch.Generator,
        greedy: bool = False,
        env: BatchedTrialEnv | None = None,
    ) -> np.ndarray:
        """Total reward of one trial per task (e.g. held-out tasks), ``(B,)``."""
        return evaluate_rl2(self.policy, env or self.env, tasks, env_rng, generator, greedy)

    # --- checkpoint / resume ----------------------------------------------------------------

    def save_progress(self, folder: Path) -> Path:
        """Everything a resumed run needs, as safetensors + JSON (no pickle)."""
        tensors = {
            "policy": dict(self.policy.state_dict()),
            "adam": optimizer_tensors(self.optimizer),
            "generator": {"state": self.generator.get_state()},
        }
        state = {
            "config": vars(self.config),
            "updates_done": self.updates_done,
            "curve": self.curve,
            "train_seconds": self.train_seconds,
            "time_recorded": self.time_recorded,
            "env_rng": rng_state(self.env_rng),
            "shuffle_rng": rng_state(self.shuffle_rng),
        }
        return save_checkpoint(folder, tensors, state)

    def resume(self, folder: Path) -> bool:
        """Continue from :meth:`save_progress`'s folder if it holds this config; True if so."""
        try:
            groups, state = load_checkpoint(folder)
        except FileNotFoundError:
            return False
        if state.get("config") != vars(self.config):
            raise ValueError(f"{folder} holds a run with another config")
        self.policy.load_state_dict(groups["policy"])
        load_optimizer_tensors(self.optimizer, groups.get("adam", {}))
        self.generator.set_state(groups["generator"]["state"])
        self.env_rng = restore_rng(state["env_rng"])
        self.shuffle_rng = restore_rng(state["shuffle_rng"])
        self.updates_done = int(state["updates_done"])
        self.curve = [float(v) for v in state["curve"]]
        self.train_seconds = float(state.get("train_seconds", 0.0))
        self.time_recorded = "train_seconds" in state and bool(state.get("time_recorded", True))
        self.resumed_at = self.updates_done
        return True


def train_rl2(
    env: BatchedTrialEnv,
    config: RL2Config,
    seed: int,
    on_update: Callable[[int, float], None] | None = None,
    checkpoint: Path | None = None,
) -> tuple[RL2Policy, list[float]]:
    """Train one RL² policy on ``env``'s task distribution; returns it and the mean total per
    update (resuming from / saving to ``checkpoint`` when given)."""
    learner = RL2Learner(env, config, seed)
    curve = learner.train(on_update, checkpoint)
    return learner.policy, curve


def evaluate_rl2(
    policy: RL2Policy,
    env: BatchedTrialEnv,
    tasks: Any,
    env_rng: np.random.Generator,
    generator: torch.Generator,
    greedy: bool = False,
) -> np.ndarray:
    """Total reward of one trial per task (e.g. held-out tasks), ``(B,)``."""
    rollout = play_rl2_trials(policy, env, tasks, env_rng, generator, greedy=greedy)
    return rollout.rewards.sum(dim=1).numpy().astype(np.float64)
