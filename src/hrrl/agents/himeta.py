"""HiMeta (seed 002): tri-level hierarchical meta-RL with macro-actions, and the baselines that are
the same machine with levels removed.

* **High level** — a task encoder: per step, tanh embeddings of ``[s_t, a_{t−1}, r_{t−1},
  done_{t−1}]`` feed a GRU whose hidden state is kept across the episodes of a trial; an MLP gives
  K logits and ``y`` is a Gumbel-softmax sample in training, the plain softmax at evaluation. It is
  trained through the critic ``V(s, y)`` (the value loss reaches the encoder through ``y``) plus
  ``KL(softmax ‖ uniform)``. Only transitions *into* ``s_t`` are seen (no future leak).
* **Intermediate level** — a macro-action VAE: ``q(z | s, y.detach())`` with ``z`` in action space;
  the decoder predicts the goal ego-state from ``(ego(s), z)`` (``decoder_target`` "all"/"other"
  swaps input and target for the ablation). Loss: MSE + ``KL(q ‖ π_LL(· | s, y, z))`` with the
  low-level policy (detached) as the prior. The goal is the ego state at the end of the current
  chunk of ``k`` steps (CD), ``k`` steps ahead (CM) or where ``argmax y`` next changes (ST).
* **Low level** — a Gaussian PPO actor on ``[s, y, z]`` (tanh mean, state-independent clamped
  log σ) with the shared :mod:`hrrl.core.ppo`.

``grad_flow``: ``detached`` (PPO acts on the stored ``y``, ``z``: it trains only the actor),
``ppo_vae`` (PPO's gradient reaches the VAE encoder through ``z``) or ``e2e`` (and the task
encoder through ``y``). Defects of the public code fixed here (design notes): z's mean comes from
the mean head; PPO recomputes log-probs on exactly the inputs the actor acted on; the encoder never
sees the future; decoder targets are raw states (no trainable embedding); evaluation uses the
softmax, not Gumbel noise.

``high``: ``categorical`` (HiMeta), ``none`` (y has no dimensions), ``oracle`` (y = one-hot task id)
or ``rl2`` (the GRU's hidden state *is* y, trained end to end by PPO and the critic: RL²-PPO).
Multi-task PPO = ``high="none", macro=False``; its oracle = ``high="oracle", macro=False``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hrrl.core import ppo
from hrrl.core.checkpoint import load_checkpoint, save_checkpoint
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.networks import mlp
from hrrl.core.rollout import TrialStep, run_trial
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator


class MultiTaskVectorEnv(Protocol):
    """What the trainer needs from an environment: a same-step-autoreset vector env whose
    sub-envs can be given task indices; ``info["success"]`` per step."""

    num_envs: int
    horizon: int

    def set_tasks(self, task_index: np.ndarray) -> None: ...
    def reset(self, *, seed: int | None = None, options: dict | None = None) -> Any: ...
    def step(self, actions: np.ndarray) -> Any: ...


@dataclass(frozen=True)
class HiMetaConfig:
    obs_dim: int
    """Observation size."""
    act_dim: int
    """Action size (z has as many dimensions)."""
    ego_indices: tuple[int, ...]
    """Observation indices of the ego-state."""
    n_task_ids: int = 16
    """Size of the oracle's one-hot task id."""
    high: str = "categorical"
    """categorical | none | oracle | rl2."""
    macro: bool = True
    """Use the macro-action level (False: z ≡ 0, no VAE)."""
    categories: int = 5
    """K, the number of task categories."""
    tau: float = 1.0
    """Gumbel-softmax temperature."""
    encoder_hidden: int = 64
    """GRU units of the task encoder."""
    width: int = 128
    """Width of the MLPs (actor, critic, VAE)."""
    goal_strategy: str = "CD"
    """CD (chunk end) | CM (k steps ahead) | ST (where argmax y changes)."""
    goal_horizon: int = 5
    """k of CD / CM."""
    decoder_target: str = "ego"
    """ego | all | other: which state dimensions the decoder reads and predicts."""
    grad_flow: str = "detached"
    """detached | ppo_vae | e2e."""
    critic_coef: float = 0.5
    """Weight of the value loss (its gradient also trains the task encoder through y)."""
    uniform_kl_coef: float = 0.01
    """Weight of KL(softmax(logits) ‖ uniform)."""
    vae_kl_coef: float = 0.05
    """Weight of KL(q(z | s, y) ‖ π_LL(· | s, y, z))."""
    log_std_bounds: tuple[float, float] = (-4.0, 0.5)
    """Clamp of the actor's and the VAE's log σ."""
    reward_scale: float = 0.1
    """Rewards are multiplied by this before PPO."""
    num_envs: int = 50
    """Parallel envs (trials) per iteration."""
    trial_episodes: int = 2
    """Episodes of one task per trial (recurrent state kept across them)."""
    ppo: ppo.PPOConfig = field(default_factory=ppo.PPOConfig)
    """The low level's PPO."""

    def __post_init__(self) -> None:
        checks = {
            "high": ("categorical", "none", "oracle", "rl2"),
            "goal_strategy": ("CD", "CM", "ST"),
            "decoder_target": ("ego", "all", "other"),
            "grad_flow": ("detached", "ppo_vae", "e2e"),
        }
        for name, allowed in checks.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}")

    @property
    def y_dim(self) -> int:
        return {
            "categorical": self.categories,
            "none": 0,
            "oracle": self.n_task_ids,
            "rl2": self.encoder_hidden,
        }[self.high]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ego_indices"] = list(self.ego_indices)
        data["log_std_bounds"] = list(self.log_std_bounds)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HiMetaConfig:
        data = dict(data)
        data["ppo"] = ppo.PPOConfig(**data["ppo"])
        data["ego_indices"] = tuple(data["ego_indices"])
        data["log_std_bounds"] = tuple(data["log_std_bounds"])
        return cls(**data)


class HiMetaNet(nn.Module):
    """Every network of the three levels."""

    def __init__(self, c: HiMetaConfig) -> None:
        super().__init__()
        self.c = c
        s, a, y, w = c.obs_dim, c.act_dim, c.y_dim, c.width
        ego = len(c.ego_indices)
        if c.high in ("categorical", "rl2"):
            self.embed = nn.Sequential(nn.Linear(s + a + 2, 64), nn.Tanh())
            self.gru = nn.GRU(64, c.encoder_hidden)
        if c.high == "categorical":
            self.head = mlp([c.encoder_hidden, w, c.categories], nn.Tanh)
        self.critic = mlp([s + y, w, w, 1], nn.Tanh)
        self.actor = mlp([s + y + a, w, w, a], nn.Tanh)
        self.log_std = nn.Parameter(torch.full((a,), -0.5))
        if c.macro:
            self.vae_enc = mlp([s + y, w, w, 2 * a], nn.Tanh)
            dec_in = {"ego": ego, "all": s, "other": s - ego}[c.decoder_target]
            self.vae_dec = mlp([dec_in + a, w, w, dec_in], nn.Tanh)
        other = [i for i in range(s) if i not in set(c.ego_indices)]
        idx = {"ego": list(c.ego_indices), "all": list(range(s)), "other": other}
        self.register_buffer("target_idx", torch.as_tensor(idx[c.decoder_target]))

    # --- high level -------------------------------------------------------------------------
    def encode(
        self, x: torch.Tensor, hidden: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (T, B, s+a+2)`` → GRU features ``(T, B, H)`` and the last hidden state."""
        if hidden is None:
            hidden = torch.zeros(1, x.shape[1], self.c.encoder_hidden)
        out, hidden = self.gru(self.embed(x), hidden)
        return out, hidden

    def task_y(
        self, features: torch.Tensor, gumbel: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``y`` from encoder features (categorical: softmax, Gumbel-perturbed when ``gumbel``)."""
        if self.c.high == "rl2":
            return features, None
        logits = self.head(features)
        noisy = logits if gumbel is None else logits + gumbel
        return torch.softmax(noisy / self.c.tau, dim=-1), logits

    # --- intermediate level ------------------------------------------------------------------
    def macro(self, s: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.c.log_std_bounds
        mean, log_std = self.vae_enc(torch.cat([s, y], -1)).chunk(2, -1)
        return torch.tanh(mean), log_std.clamp(lo, hi)

    def decode(self, s: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.vae_dec(torch.cat([s[..., self.target_idx], z], -1))

    # --- low level ---------------------------------------------------------------------------
    def policy(
        self, s: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = self.c.log_std_bounds
        mean = torch.tanh(self.actor(torch.cat([s, y, z], -1)))
        return mean, self.log_std.clamp(lo, hi).expand_as(mean)

    def value(self, s: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.critic(torch.cat([s, y], -1))[..., 0]


@dataclass
class Rollout:
    """One iteration's trials, ``(T, N, …)``."""

    obs: torch.Tensor
    enc_in: torch.Tensor
    actions: torch.Tensor
    log_probs: torch.Tensor
    rewards: torch.Tensor
    values: torch.Tensor
    next_values: torch.Tensor
    terminated: torch.Tensor
    ends: torch.Tensor
    next_obs: torch.Tensor
    y: torch.Tensor
    z: torch.Tensor
    gumbel: torch.Tensor
    eps: torch.Tensor
    success: np.ndarray
    """Success flag per step ``(T, N)`` (numpy)."""


def _one_hot(task: np.ndarray, n: int) -> torch.Tensor:
    return F.one_hot(torch.as_tensor(task), n).float()


class HiMeta(StateArrays):
    """Trainer + acting for one configuration: ``train_iteration(env, tasks)``, ``evaluate``,
    ``save`` / ``load`` (safetensors + JSON, no pickle: the whole training state, Adam included).
    Under the learner contract (:mod:`hrrl.core.learner`) its learned state is the network."""

    STATE = ("net",)

    def __init__(self, config: HiMetaConfig, seed: int) -> None:
        self.config = config
        self.seed = seed
        init_seed, torch_seed, np_seed = spawn_seeds(seed, 3)
        self.net = init_module(HiMetaNet(config), init_seed)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.ppo.lr, eps=1e-5)
        self.generator = torch_generator(torch_seed)
        self.rng = make_rng(np_seed)
        self.iterations = 0
        self.steps = 0
        self.extra: dict[str, Any] = {}
        """JSON kept with a checkpoint by :meth:`save` (empty for a fresh agent)."""

    # --- acting ------------------------------------------------------------------------------
    def _noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(shape, generator=self.generator)

    def _gumbel(self, shape: tuple[int, ...]) -> torch.Tensor:
        u = torch.rand(shape, generator=self.generator).clamp(1e-10, 1 - 1e-7)
        return -torch.log(-torch.log(u))

    @torch.no_grad()
    def play(
        self, env: MultiTaskVectorEnv, task: np.ndarray, train: bool, seed: int | None = None
    ) -> Rollout:
        """One trial per sub-env (``trial_episodes`` episodes of its task, recurrent state kept);
        ``train`` samples (Gumbel y, sampled z and a), otherwise softmax y, mean z, mean a."""
        c, net = self.config, self.net
        n = env.num_envs
        env.set_tasks(task)
        obs_np, _ = env.reset(seed=seed if seed is not None else int(self.rng.integers(2**31)))
        T = env.horizon * c.trial_episodes
        hidden = None
        prev = torch.zeros(n, c.act_dim + 2)
        oracle = _one_hot(task, c.n_task_ids) if c.high == "oracle" else None
        keys = [
            "obs",
            "enc",
            "act",
            "logp",
            "rew",
            "val",
            "nval",
            "term",
            "end",
            "nobs",
            "y",
            "z",
            "g",
            "eps",
            "succ",
        ]
        buf: dict[str, list] = {k: [] for k in keys}
        cur: dict[str, torch.Tensor] = {}

        def act(obs_np: np.ndarray) -> torch.Tensor:
            """Task belief y (the GRU runs on across the trial), macro-action z, action a."""
            nonlocal hidden
            s = torch.from_numpy(obs_np).float()
            x = torch.cat([s, prev], -1)
            g = self._gumbel((n, c.categories)) if train else torch.zeros(n, c.categories)
            if c.high in ("categorical", "rl2"):
                feats, hidden = net.encode(x[None], hidden)
                y, _ = net.task_y(feats[0], g if (train and c.high == "categorical") else None)
            elif c.high == "oracle":
                assert oracle is not None
                y = oracle
            else:
                y = torch.zeros(n, 0)
            eps = self._noise((n, c.act_dim)) if train else torch.zeros(n, c.act_dim)
            if c.macro:
                z_mean, z_log_std = net.macro(s, y)
                z = z_mean + torch.exp(z_log_std) * eps
            else:
                z = torch.zeros(n, c.act_dim)
            mean, log_std = net.policy(s, y, z)
            a = mean + torch.exp(log_std) * self._noise(mean.shape) if train else mean
            logp = ppo.gaussian_log_prob(a, mean, log_std)
            cur.update(s=s, x=x, g=g, y=y, eps=eps, z=z, logp=logp)
            return a

        def step(a: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
            obs_np, r, term, trunc, info = env.step(a.numpy())
            return obs_np, r, np.logical_or(term, trunc), {**info, "terminated": term}

        def observe(st: TrialStep) -> None:
            nonlocal prev
            info, a, y = st.info, st.action, cur["y"]
            nobs = np.array(st.next_obs, copy=True)
            if "final_obs" in info:
                rows = info["_final_obs"]
                nobs[rows] = info["final_obs"][rows]
            ns = torch.from_numpy(nobs).float()
            rew = torch.from_numpy(np.asarray(st.reward, dtype=np.float64)).float() * c.reward_scale
            for key, val in zip(
                keys,
                (
                    cur["s"],
                    cur["x"],
                    a,
                    cur["logp"],
                    rew,
                    net.value(cur["s"], y),
                    net.value(ns, y),
                    info["terminated"],
                    st.episode_end,
                    ns,
                    y,
                    cur["z"],
                    cur["g"],
                    cur["eps"],
                    info["success"],
                ),
                strict=True,
            ):
                buf[key].append(val)
            done_t = torch.from_numpy(st.episode_end).float()[:, None]
            prev = torch.cat([a.clamp(-1, 1), rew[:, None], done_t], -1)

        run_trial(step, obs_np, T, act, observe)
        st = {k: torch.stack([torch.as_tensor(v) for v in buf[k]]) for k in keys if k != "succ"}
        return Rollout(
            obs=st["obs"], enc_in=st["enc"], actions=st["act"], log_probs=st["logp"],
            rewards=st["rew"], values=st["val"], next_values=st["nval"],
            terminated=st["term"], ends=st["end"], next_obs=st["nobs"], y=st["y"], z=st["z"],
            gumbel=st["g"], eps=st["eps"], success=np.stack(buf["succ"]),
        )  # fmt: skip

    # --- learning ----------------------------------------------------------------------------
    def goal_index(self, ro: Rollout, horizon: int) -> torch.Tensor:
        """For each step t, the step τ ≥ t whose next state is the macro-action's goal."""
        c = self.config
        T, n = ro.rewards.shape
        t = np.arange(T)
        ep_end = (t // horizon + 1) * horizon - 1
        k = c.goal_horizon
        if c.goal_strategy == "CD":
            pos = t % horizon
            tau = np.minimum(t - pos + (pos // k + 1) * k - 1, ep_end)
            return torch.from_numpy(np.repeat(tau[:, None], n, 1))
        if c.goal_strategy == "CM" or c.high not in ("categorical",):
            return torch.from_numpy(np.repeat(np.minimum(t + k - 1, ep_end)[:, None], n, 1))
        arg = ro.y.argmax(-1).numpy()
        out = np.zeros((T, n), dtype=np.int64)
        nxt = np.full(n, T - 1)
        for i in reversed(range(T)):
            change = np.ones(n, bool) if i == ep_end[i] else arg[i + 1] != arg[i]
            nxt = np.where(change, i, nxt)
            out[i] = nxt
        return torch.from_numpy(out)

    def update(self, ro: Rollout, horizon: int) -> dict[str, float]:
        c, net = self.config, self.net
        adv, ret = ppo.gae(
            ro.rewards, ro.values, ro.next_values, ro.terminated, ro.ends,
            c.ppo.gamma, c.ppo.gae_lambda,
        )  # fmt: skip
        if c.ppo.normalize_advantages:
            adv = ppo.normalize(adv)
        _T, n = ro.rewards.shape
        goal = None
        if c.macro:
            tau = self.goal_index(ro, horizon)
            goal = ro.next_obs.gather(0, tau[..., None].expand(-1, -1, c.obs_dim))
            goal = goal[..., net.target_idx]

        def loss_fn(idx: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
            s = ro.obs[:, idx]
            stats: dict[str, float] = {}
            loss = torch.zeros(())
            logits = None
            if c.high in ("categorical", "rl2"):
                feats, _ = net.encode(ro.enc_in[:, idx], None)
                gumbel = ro.gumbel[:, idx] if c.high == "categorical" else None
                y_new, logits = net.task_y(feats, gumbel)
            else:
                y_new = ro.y[:, idx]
            y_act = y_new if c.high == "rl2" or c.grad_flow == "e2e" else ro.y[:, idx]
            z_act = ro.z[:, idx]
            if c.macro:
                z_mean, z_log_std = net.macro(s, y_new.detach())
                z_new = z_mean + torch.exp(z_log_std) * ro.eps[:, idx]
                if c.grad_flow != "detached":
                    z_act = z_new
                recon = (net.decode(s, z_new) - goal[:, idx]).pow(2).mean()
                with torch.no_grad():
                    p_mean, p_log_std = net.policy(s, ro.y[:, idx], z_new.detach())
                kl = ppo.gaussian_kl(z_mean, z_log_std, p_mean, p_log_std).mean()
                loss = loss + recon + c.vae_kl_coef * kl
                stats.update(vae_recon=float(recon.detach()), vae_kl=float(kl.detach()))
            mean, log_std = net.policy(s, y_act, z_act)
            logp = ppo.gaussian_log_prob(ro.actions[:, idx], mean, log_std)
            pg, pstats = ppo.clipped_surrogate(logp, ro.log_probs[:, idx], adv[:, idx], c.ppo.clip)
            entropy = ppo.gaussian_entropy(log_std).mean()
            value_loss = (net.value(s, y_new) - ret[:, idx]).pow(2).mean()
            loss = loss + pg - c.ppo.entropy_coef * entropy + c.critic_coef * value_loss
            if logits is not None:
                log_q = torch.log_softmax(logits, -1)
                uniform_kl = (log_q.exp() * (log_q + np.log(c.categories))).sum(-1).mean()
                loss = loss + c.uniform_kl_coef * uniform_kl
                stats["y_uniform_kl"] = float(uniform_kl.detach())
            stats.update(
                pstats, value_loss=float(value_loss.detach()), entropy=float(entropy.detach())
            )
            return loss, stats

        params = list(net.parameters())
        return ppo.optimise(self.optimizer, params, loss_fn, n, c.ppo, self.rng)

    def train_iteration(self, env: MultiTaskVectorEnv, task: np.ndarray) -> dict[str, float]:
        """One rollout of trials + one update; returns diagnostics incl. ``success`` (the last
        episode of each training trial) and ``steps``."""
        started = time.perf_counter()
        ro = self.play(env, task, train=True)
        stats = self.update(ro, env.horizon)
        self.iterations += 1
        steps = ro.rewards.numel()
        self.steps += steps
        last = ro.success[-env.horizon :].any(0)
        stats.update(
            success=float(last.mean()),
            return_=float(ro.rewards.sum(0).mean() / self.config.reward_scale),
            steps=self.steps,
            steps_per_s=steps / (time.perf_counter() - started),
        )
        return stats

    def evaluate(
        self, env: MultiTaskVectorEnv, task: np.ndarray, seed: int
    ) -> tuple[np.ndarray, Rollout]:
        """Deterministic trials; success per sub-env = success at any step of the last episode."""
        ro = self.play(env, task, train=False, seed=seed)
        return ro.success[-env.horizon :].any(0), ro

    # --- persistence -------------------------------------------------------------------------
    def save(self, folder: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Weights, optimiser and generators (no pickle); ``extra``: JSON the caller wants kept
        with them (e.g. a training curve), read back as ``agent.extra`` after :meth:`load`."""
        from hrrl.core.checkpoint import rng_state

        state = {
            "config": self.config.to_json(),
            "seed": self.seed,
            "iterations": self.iterations,
            "steps": self.steps,
            "rng": rng_state(self.rng),
            "torch_generator": self.generator.get_state().tolist(),
            "extra": extra or {},
        }
        optim = {
            f"{i}.{k}": v
            for i, st in self.optimizer.state_dict()["state"].items()
            for k, v in st.items()
        }
        return save_checkpoint(folder, {"net": self.net.state_dict(), "optim": optim}, state)

    @classmethod
    def load(cls, folder: str | Path) -> HiMeta:
        from hrrl.core.checkpoint import restore_rng

        groups, state = load_checkpoint(folder)
        agent = cls(HiMetaConfig.from_json(state["config"]), state["seed"])
        agent.net.load_state_dict(groups["net"])
        opt_state = agent.optimizer.state_dict()
        per_param: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in groups.get("optim", {}).items():
            i, _, name = key.partition(".")
            per_param.setdefault(int(i), {})[name] = value
        opt_state["state"] = per_param
        agent.optimizer.load_state_dict(opt_state)
        agent.iterations, agent.steps = state["iterations"], state["steps"]
        agent.rng = restore_rng(state["rng"])
        agent.generator.set_state(torch.tensor(state["torch_generator"], dtype=torch.uint8))
        agent.extra = dict(state.get("extra", {}))
        return agent


VARIANTS: dict[str, dict[str, Any]] = {
    "HiMeta": {},
    "MT-PPO": {"high": "none", "macro": False},
    "MT-PPO (oracle id)": {"high": "oracle", "macro": False},
    "RL²-PPO": {"high": "rl2", "macro": False},
    "no high level": {"high": "none"},
    "no macro-actions": {"macro": False},
    "oracle y": {"high": "oracle"},
}
"""Named configurations: HiMeta, the baselines and the level ablations (overrides of the base)."""


def make_config(base: HiMetaConfig, **overrides: Any) -> HiMetaConfig:
    return replace(base, **overrides)


def train(
    agent: HiMeta,
    env: MultiTaskVectorEnv,
    task: np.ndarray,
    total_steps: int,
    on_iteration: Callable[[int, dict[str, float]], None] | None = None,
    logger: Logger | None = None,
) -> list[dict[str, float]]:
    """Train until ``total_steps`` env steps; returns the per-iteration diagnostics (also to
    ``logger``, at the env steps spent)."""
    history = []
    while agent.steps < total_steps:
        stats = agent.train_iteration(env, task)
        history.append(stats)
        log_step(logger, agent.steps, stats)
        if on_iteration is not None:
            on_iteration(agent.iterations, stats)
    return history
