"""PEARL: off-policy meta-RL with probabilistic context variables (Rakelly et al. 2019).

A context encoder maps each transition ``c = (s, a, r, s')`` of a task to a Gaussian factor
``N(μ_φ(c), σ²_φ(c))``; the posterior over the task variable ``z`` is their product,
``σ² = 1 / Σ_n 1/σ²_n``, ``μ = σ² Σ_n μ_n/σ²_n``, regularised by ``KL(q(z | c) ‖ N(0, I))``.
A soft actor-critic (:mod:`hrrl.agents.sac`) acts on ``(s, z)``: the critics' loss is
back-propagated into the encoder (with the KL term), the actor sees ``z`` detached. Each
training task has its own off-policy replay buffer (:class:`hrrl.core.replay.ReplayBuffer`) for
the RL batches, and an encoder buffer holding only its most recently collected data (the context
is drawn from it, as in the paper, so the context matches what the current policy collects).

Adaptation needs no gradient: on a new task the first episode is run with ``z`` from the prior,
each later one with ``z`` sampled from the posterior given every transition seen so far.

The learner knows no particular domain: it is handed a ``rollout(act, tasks)`` that runs one
episode per task with ``act(obs (K, d)) → actions (K, a)`` and returns :class:`Episodes`; that
rollout (the task's batched simulator) owns the stepping, so PEARL has no episode loop of its own
(:mod:`hrrl.core.rollout`). :meth:`PEARL.meta_train` logs each iteration through the shared
:class:`~hrrl.core.logging.Logger` (``logger``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from hrrl.agents.sac import SAC, SACConfig
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.networks import mlp
from hrrl.core.replay import ReplayBuffer
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator

FIELDS = ("obs", "action", "reward", "next_obs", "terminated")


@dataclass(frozen=True)
class Episodes:
    """One episode per task, ``K`` tasks × ``T`` steps; rows with ``valid`` False are padding."""

    obs: np.ndarray
    """(K, T, d) observation before each action."""
    action: np.ndarray
    """(K, T, a) action taken."""
    reward: np.ndarray
    """(K, T) reward."""
    next_obs: np.ndarray
    """(K, T, d) observation after the action."""
    terminated: np.ndarray
    """(K, T) 1.0 where the episode terminated (not truncated) at that step."""
    valid: np.ndarray
    """(K, T) True for steps actually taken."""

    def returns(self) -> np.ndarray:
        """(K,) undiscounted return of each episode."""
        return np.sum(np.where(self.valid, self.reward, 0.0), axis=1)

    def task(self, k: int) -> dict[str, np.ndarray]:
        """The valid transitions of task ``k`` as replay fields (float32)."""
        rows = self.valid[k]
        return {f: np.asarray(getattr(self, f)[k][rows], dtype=np.float32) for f in FIELDS}


Rollout = Callable[[Callable[[np.ndarray], np.ndarray], np.ndarray], Episodes]
"""``rollout(act, tasks)``: one episode per task, acting with ``act(obs (K, d))``."""


@dataclass(frozen=True)
class PEARLConfig:
    latent_dim: int = 5
    """Dimension of the task variable z."""
    encoder_hidden: tuple[int, ...] = (64, 64)
    """Hidden layers of the context encoder (ReLU)."""
    encoder_lr: float = 3e-4
    """Adam learning rate of the encoder."""
    kl_lambda: float = 0.1
    """Weight of KL(q(z | c) ‖ N(0, I)) in the encoder loss."""
    sac: SACConfig = field(default_factory=SACConfig)
    """The actor-critic on (s, z)."""
    meta_batch: int = 10
    """Tasks per gradient step."""
    batch_size: int = 128
    """RL transitions per task per gradient step."""
    context_size: int = 64
    """Context transitions per task per gradient step."""
    initial_episodes: int = 2
    """Episodes per training task (z from the prior) before training starts."""
    tasks_per_iteration: int = 5
    """Training tasks whose data is refreshed each iteration."""
    prior_episodes: int = 1
    """Per refreshed task: episodes with z from the prior (they become its encoder buffer)."""
    posterior_episodes: int = 1
    """Per refreshed task: then episodes with z from the posterior (RL buffer only)."""
    gradient_steps: int = 50
    """Gradient steps per iteration."""
    buffer_capacity: int = 100_000
    """Per-task replay capacity (transitions)."""


@dataclass
class PEARLLog:
    train_return: list[float] = field(default_factory=list)
    """Mean return of the posterior-z training episodes, per iteration."""
    critic_loss: list[float] = field(default_factory=list)
    """Critic loss of the last gradient step, per iteration."""
    kl: list[float] = field(default_factory=list)
    """Mean KL(q(z | c) ‖ prior) of the last gradient step, per iteration."""


class PEARL(StateArrays):
    """Context encoder + SAC on (s, z); off-policy meta-training and gradient-free adaptation."""

    STATE = ("encoder", "sac")

    def __init__(self, obs_dim: int, action_dim: int, config: PEARLConfig, seed: int) -> None:
        encoder_seed, sac_seed, rng_seed, z_seed = spawn_seeds(seed, 4)
        self.config = config
        self.obs_dim, self.action_dim = obs_dim, action_dim
        context_dim = 2 * obs_dim + action_dim + 1
        self.encoder = init_module(
            mlp([context_dim, *config.encoder_hidden, 2 * config.latent_dim]), encoder_seed
        )
        self.encoder_optimizer = torch.optim.Adam(self.encoder.parameters(), lr=config.encoder_lr)
        self.sac = SAC(obs_dim + config.latent_dim, action_dim, config.sac, sac_seed)
        self.rng = make_rng(rng_seed)
        self.z_generator = torch_generator(z_seed)
        self.env_steps = 0
        """Environment steps collected for meta-training."""

    # --- the posterior over z -----------------------------------------------------------------
    def posterior(
        self, context: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Product-of-Gaussians posterior (mean, variance), each (K, latent), from ``context``
        (K, C, context_dim); ``mask`` (K, C) drops padding rows. No rows: the prior N(0, I)."""
        mean_i, raw = self.encoder(context).chunk(2, dim=-1)
        precision = 1.0 / nn.functional.softplus(raw).clamp(min=1e-7)
        if mask is not None:
            precision = precision * mask[..., None].to(precision.dtype)
        total = precision.sum(dim=1)
        empty = total <= 0
        variance = torch.where(empty, torch.ones_like(total), 1.0 / total.clamp(min=1e-12))
        mean = torch.where(
            empty, torch.zeros_like(total), variance * (mean_i * precision).sum(dim=1)
        )
        return mean, variance

    def sample_z(self, mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
        """A reparameterised sample ``μ + σ ε`` (ε from the learner's own generator)."""
        noise = torch.randn(mean.shape, generator=self.z_generator, dtype=mean.dtype)
        return mean + variance.sqrt() * noise

    @staticmethod
    def kl_to_prior(mean: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
        """KL(N(μ, σ²) ‖ N(0, I)) per task (K,)."""
        return 0.5 * (variance + mean.pow(2) - 1.0 - variance.log()).sum(-1)

    def infer_z(self, context: list[dict[str, np.ndarray]]) -> torch.Tensor:
        """z ~ q(z | context) for each task's list of transitions (prior where it has none)."""
        longest = max((len(c["reward"]) for c in context), default=0)
        dim = 2 * self.obs_dim + self.action_dim + 1
        padded = np.zeros((len(context), max(longest, 1), dim), dtype=np.float32)
        mask = np.zeros((len(context), max(longest, 1)), dtype=bool)
        for k, c in enumerate(context):
            n = len(c["reward"])
            if n:
                padded[k, :n] = context_rows(c)
                mask[k, :n] = True
        with torch.no_grad():
            mean, variance = self.posterior(torch.from_numpy(padded), torch.from_numpy(mask))
            return self.sample_z(mean, variance)

    # --- acting ---------------------------------------------------------------------------------
    def actor(self, z: torch.Tensor, deterministic: bool) -> Callable[[np.ndarray], np.ndarray]:
        """``act(obs (K, d))`` for task ``k`` conditioned on ``z[k]``."""
        z_np = z.numpy()

        def act(obs: np.ndarray) -> np.ndarray:
            conditioned = np.concatenate([obs, z_np], axis=-1).astype(np.float32)
            return self.sac.act(conditioned, deterministic)

        return act

    def act(self, obs: np.ndarray, context: list[dict[str, np.ndarray]]) -> np.ndarray:
        """Deterministic actions for one observation per task given its context so far."""
        return self.actor(self.infer_z(context), deterministic=True)(obs)

    # --- meta-training ----------------------------------------------------------------------
    def meta_train(
        self,
        rollout: Rollout,
        tasks: np.ndarray,
        iterations: int,
        log: PEARLLog | None = None,
        logger: Logger | None = None,
    ) -> PEARLLog:
        """Algorithm 1 of the paper, on the training ``tasks`` (one row per task); each
        iteration's entries of ``log`` also go to ``logger``."""
        cfg = self.config
        log = log if log is not None else PEARLLog()
        n_tasks = len(tasks)
        buffers = [ReplayBuffer(cfg.buffer_capacity) for _ in range(n_tasks)]
        encoder_data: list[dict[str, np.ndarray]] = [{} for _ in range(n_tasks)]
        everyone = np.arange(n_tasks)
        self._collect(rollout, tasks, everyone, buffers, encoder_data, cfg.initial_episodes, 0)
        for _ in range(iterations):
            chosen = self.rng.choice(n_tasks, min(cfg.tasks_per_iteration, n_tasks), replace=False)
            returns = self._collect(
                rollout, tasks, chosen, buffers, encoder_data,
                cfg.prior_episodes, cfg.posterior_episodes,
            )  # fmt: skip
            log.train_return.append(float(np.mean(returns)) if returns else float("nan"))
            critic, kl = 0.0, 0.0
            for _ in range(cfg.gradient_steps):
                critic, kl = self.gradient_step(buffers, encoder_data)
            log.critic_loss.append(critic)
            log.kl.append(kl)
            row = {"return": log.train_return[-1], "critic_loss": critic, "kl": kl}
            log_step(logger, len(log.kl) - 1, row)
        return log

    def _collect(
        self,
        rollout: Rollout,
        tasks: np.ndarray,
        chosen: np.ndarray,
        buffers: list[ReplayBuffer],
        encoder_data: list[dict[str, np.ndarray]],
        prior_episodes: int,
        posterior_episodes: int,
    ) -> list[float]:
        """Refresh ``chosen`` tasks: prior-z episodes replace their encoder buffers (and go to
        replay), then posterior-z episodes go to replay only; the posterior episodes' returns."""
        fresh: list[list[dict[str, np.ndarray]]] = [[] for _ in chosen]
        zeros = torch.zeros(len(chosen), self.config.latent_dim)
        for _ in range(prior_episodes):
            z = self.sample_z(zeros, torch.ones_like(zeros))
            episodes = rollout(self.actor(z, deterministic=False), tasks[chosen])
            self._store(episodes, chosen, buffers)
            for i in range(len(chosen)):
                fresh[i].append(episodes.task(i))
        if prior_episodes > 0:
            for i, k in enumerate(chosen):
                encoder_data[k] = concat(fresh[i])
        returns: list[float] = []
        for _ in range(posterior_episodes):
            z = self.infer_z([encoder_data[k] for k in chosen])
            episodes = rollout(self.actor(z, deterministic=False), tasks[chosen])
            self._store(episodes, chosen, buffers)
            returns.extend(episodes.returns().tolist())
        return returns

    def _store(self, episodes: Episodes, chosen: np.ndarray, buffers: list[ReplayBuffer]) -> None:
        for i, k in enumerate(chosen):
            data = episodes.task(i)
            self.env_steps += len(data["reward"])
            if len(data["reward"]):
                buffers[k].add(data)

    def gradient_step(
        self, buffers: list[ReplayBuffer], encoder_data: list[dict[str, np.ndarray]]
    ) -> tuple[float, float]:
        """One step on ``meta_batch`` tasks: critic + KL into the encoder and critics, then the
        actor and temperature on (s, z.detach()), then the targets. (critic loss, mean KL)."""
        cfg = self.config
        ready = [
            k for k, b in enumerate(buffers) if len(b) and len(encoder_data[k].get("reward", ()))
        ]
        ids = self.rng.choice(ready, min(cfg.meta_batch, len(ready)), replace=False)
        context = np.stack(
            [
                context_rows(encoder_data[k])[
                    self.rng.integers(0, len(encoder_data[k]["reward"]), cfg.context_size)
                ]
                for k in ids
            ]
        )
        batches = [buffers[k].sample(cfg.batch_size, self.rng) for k in ids]
        obs, action, reward, next_obs, terminated = (
            torch.as_tensor(np.stack([b[f] for b in batches]), dtype=torch.float32) for f in FIELDS
        )
        mean, variance = self.posterior(torch.from_numpy(context))
        z = self.sample_z(mean, variance)
        kl = self.kl_to_prior(mean, variance).mean()
        zb = z[:, None, :].expand(-1, cfg.batch_size, -1)
        obs_z = torch.cat([obs, zb], dim=-1).reshape(-1, self.obs_dim + cfg.latent_dim)
        next_z = torch.cat([next_obs, zb.detach()], dim=-1).reshape(obs_z.shape)
        critic = self.sac.critic_loss(
            obs_z, action.reshape(-1, self.action_dim), reward.reshape(-1), next_z,
            terminated.reshape(-1),
        )  # fmt: skip
        self.encoder_optimizer.zero_grad(set_to_none=True)
        self.sac.critic_optimizer.zero_grad(set_to_none=True)
        (critic + cfg.kl_lambda * kl).backward()
        self.encoder_optimizer.step()
        self.sac.critic_optimizer.step()
        self.sac.actor_and_alpha_step(obs_z)
        self.sac.update_targets()
        return float(critic.detach()), float(kl.detach())

    # --- adaptation -----------------------------------------------------------------------------
    def adapt_and_evaluate(self, rollout: Rollout, tasks: np.ndarray, episodes: int) -> np.ndarray:
        """(K, episodes) returns on new tasks: episode 0 with z from the prior, episode e with
        z from the posterior given episodes 0..e−1 (deterministic actions, as in the paper)."""
        context: list[list[dict[str, np.ndarray]]] = [[] for _ in tasks]
        out = np.zeros((len(tasks), episodes))
        for e in range(episodes):
            z = self.infer_z([concat(c) for c in context])
            batch = rollout(self.actor(z, deterministic=True), tasks)
            out[:, e] = batch.returns()
            for k in range(len(tasks)):
                context[k].append(batch.task(k))
        return out


def context_rows(data: dict[str, np.ndarray]) -> np.ndarray:
    """(M, 2d + a + 1) rows ``[s, a, r, s']`` of a task's transitions."""
    return np.concatenate(
        [data["obs"], data["action"], data["reward"][:, None], data["next_obs"]], axis=-1
    ).astype(np.float32)


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Transitions of several episodes of one task, concatenated (empty fields when none)."""
    if not parts:
        return {"obs": np.zeros((0, 0)), "action": np.zeros((0, 0)), "reward": np.zeros(0),
                "next_obs": np.zeros((0, 0)), "terminated": np.zeros(0)}  # fmt: skip
    return {f: np.concatenate([p[f] for p in parts]) for f in FIELDS}
