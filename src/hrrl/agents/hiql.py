"""Offline goal-conditioned learners on fixed datasets: GCIQL (flat) and HIQL (hierarchical),
with CARL's contrastive subgoal representation as an option of HIQL.

Both use :mod:`hrrl.core.offline_gcrl` (goal sampling, expectile loss, AWR, the training loop).

* **GCIQL** (goal-conditioned IQL): ``Q(s, a, g)`` regressed on ``r + γ m V(s', g)``, ``V(s, g)``
  on the target ``Q̄(s, a, g)`` with the expectile loss, and a Gaussian policy ``π(a | s, g)`` by AWR
  with advantage ``Q̄(s, a, g) − V(s, g)``.
* **HIQL** (Park et al. 2023): one action-free value ``V(s, g) = v([s, φ(s, g)])`` learned with the
  expectile loss on ``r + γ m V̄(s', g)`` (weights from the target network's advantage); a
  high-level policy outputs the *representation* ``φ(s, s_{t+k})`` of a subgoal ``k`` steps ahead,
  by AWR with advantage ``V(s_{t+k}, g) − V(s, g)``; a low-level policy ``π(a | s, z)`` reaches a
  subgoal representation ``z`` by AWR with advantage ``V(s', s_{t+k}) − V(s, s_{t+k})``.
  Simplifications (ours): one value network (HIQL uses two, with the min as target), a
  representation of size 10 normalised to length √10, policies read φ with a stop-gradient.
* **CARL-HIQL** (``subgoal_rep="carl"``; seeds/003 line 9): the subgoal space is a contrastive
  representation ``ψ(s_t, s_{t+k})`` of a local transition, aligned by InfoNCE with an embedding of
  the action chunk ``a_{t:t+k}`` that made it (our reading of "aligning these contexts with the
  action sequences they require"); the high level outputs ``ψ`` of its subgoal, the low level
  reads ``ψ``; the value and its φ are unchanged.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hrrl.core.learner import StateArrays
from hrrl.core.networks import mlp, soft_update
from hrrl.core.offline_gcrl import (
    GaussianPolicy,
    GoalNormalised,
    GoalSampling,
    awr_weights,
    expectile_loss,
    steps_to_go,
)
from hrrl.core.seeding import init_module, spawn_seeds


@dataclass(frozen=True)
class OfflineGCConfig:
    gamma: float = 0.99
    hidden: tuple[int, ...] = (128, 128)
    lr: float = 1e-3
    tau: float = 0.05
    """Polyak rate of the target networks."""
    expectile: float = 0.7
    temperature: float = 3.0
    """AWR inverse temperature β (HIQL: both levels)."""
    subgoal_steps: int = 25
    """HIQL's k."""
    rep_dim: int = 10
    subgoal_rep: str = "value"
    """HIQL's subgoal space: ``"value"`` (φ of the value, as in HIQL) or ``"carl"``."""
    carl_temperature: float = 0.1
    """InfoNCE temperature (on cosine similarities)."""
    batch_size: int = 256

    def sampling(self) -> GoalSampling:
        chunk = self.subgoal_steps if self.subgoal_rep == "carl" else 0
        return GoalSampling(gamma=self.gamma, subgoal_steps=self.subgoal_steps, chunk=chunk)


M = TypeVar("M", bound=nn.Module)


def _init(module: M, seed: int) -> M:
    """:func:`hrrl.core.seeding.init_module`, keeping the module's type."""
    init_module(module, seed)
    return module


def _adam(*modules: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam([p for m in modules for p in m.parameters()], lr=lr)


class _Learner(StateArrays):
    """Shared acting helpers: numpy in, numpy out, no gradients."""

    config: Any
    """What the learner was built with (saved with it)."""
    hp: OfflineGCConfig
    """The offline-GCRL hyper-parameters inside it."""

    def act(self, obs: np.ndarray, goals: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self._act(torch.as_tensor(obs, dtype=torch.float32),
                            torch.as_tensor(goals, dtype=torch.float32))  # fmt: skip
        return out.numpy()

    def _act(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class GCIQLAgent(_Learner):
    """Flat goal-conditioned IQL with an AWR policy."""

    STATE = ("q", "target_q", "v", "actor")

    def __init__(self, obs_dim: int, action_dim: int, config: OfflineGCConfig, seed: int) -> None:
        self.config = self.hp = config
        h = config.hidden
        s_q, s_v, s_pi = spawn_seeds(seed, 3)
        self.q = _init(mlp([2 * obs_dim + action_dim, *h, 1]), s_q)
        self.target_q = copy.deepcopy(self.q)
        self.v = _init(mlp([2 * obs_dim, *h, 1]), s_v)
        self.actor = _init(GaussianPolicy(2 * obs_dim, action_dim, h, tanh_mean=True), s_pi)
        self.q_opt = _adam(self.q, lr=config.lr)
        self.v_opt = _adam(self.v, lr=config.lr)
        self.actor_opt = _adam(self.actor, lr=config.lr)

    def value(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        return self.v(torch.cat([obs, goals], -1)).squeeze(-1)

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        cfg = self.config
        s, a, g = batch["obs"], batch["actions"], batch["value_goals"]
        with torch.no_grad():
            q_bar = self.target_q(torch.cat([s, g, a], -1)).squeeze(-1)
            target = batch["rewards"] + cfg.gamma * batch["masks"] * self.value(
                batch["next_obs"], g
            )
        v_loss = expectile_loss(q_bar - self.value(s, g), cfg.expectile)
        q_loss = F.mse_loss(self.q(torch.cat([s, g, a], -1)).squeeze(-1), target)
        ga = batch["actor_goals"]
        with torch.no_grad():
            adv = self.target_q(torch.cat([s, ga, a], -1)).squeeze(-1) - self.value(s, ga)
        pi_loss = self.actor.awr_loss(torch.cat([s, ga], -1), a, awr_weights(adv, cfg.temperature))
        for opt, loss in ((self.v_opt, v_loss), (self.q_opt, q_loss), (self.actor_opt, pi_loss)):
            opt.zero_grad()
            loss.backward()
            opt.step()
        soft_update(self.target_q, self.q, cfg.tau)
        return {"v_loss": v_loss.item(), "q_loss": q_loss.item(), "actor_loss": pi_loss.item()}

    def _act(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        return self.actor.mean(torch.cat([obs, goals], -1))


class GoalValue(nn.Module):
    """``V(s, g) = v([s, φ(s, g)])`` with HIQL's goal representation ``φ``."""

    def __init__(self, obs_dim: int, rep_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.rep = GoalNormalised(2 * obs_dim, rep_dim, hidden)
        self.body = mlp([obs_dim + rep_dim, *hidden, 1])

    def forward(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([obs, self.rep(torch.cat([obs, goals], -1))], -1)).squeeze(-1)


class HIQLAgent(_Learner):
    """HIQL; with ``subgoal_rep="carl"``, CARL's contrastive subgoal space (see module doc)."""

    STATE: ClassVar[tuple[str, ...]] = ("value", "target_value", "high_actor", "low_actor", "carl")

    def __init__(self, obs_dim: int, action_dim: int, config: OfflineGCConfig, seed: int) -> None:
        if config.subgoal_rep not in ("value", "carl"):
            raise ValueError("subgoal_rep must be 'value' or 'carl'")
        self.config: Any = config
        self.hp = config
        h, d = config.hidden, config.rep_dim
        s_v, s_hi, s_lo, s_c = spawn_seeds(seed, 4)
        self.value = _init(GoalValue(obs_dim, d, h), s_v)
        self.target_value = copy.deepcopy(self.value)
        self.high_actor = _init(GaussianPolicy(2 * obs_dim, d, h, tanh_mean=False), s_hi)
        self.low_actor = _init(GaussianPolicy(obs_dim + d, action_dim, h, tanh_mean=True), s_lo)
        self.carl: dict[str, nn.Module] = {}
        if config.subgoal_rep == "carl":
            chunk_dim = config.subgoal_steps * action_dim
            self.carl = {
                "context": _init(GoalNormalised(2 * obs_dim, d, h), s_c),
                "actions": _init(GoalNormalised(chunk_dim, d, h), s_c + 1),
            }
            self.carl_opt = _adam(*self.carl.values(), lr=config.lr)
        self.value_opt = _adam(self.value, lr=config.lr)
        self.high_opt = _adam(self.high_actor, lr=config.lr)
        self.low_opt = _adam(self.low_actor, lr=config.lr)

    def subgoal_rep(self, obs: torch.Tensor, subgoals: torch.Tensor) -> torch.Tensor:
        """The representation the high level outputs and the low level reads (no gradient)."""
        with torch.no_grad():
            pair = torch.cat([obs, subgoals], -1)
            if self.hp.subgoal_rep == "carl":
                return self.carl["context"](pair)
            return self.value.rep(pair)

    def cost(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        """Learned reachability cost: the steps to go that ``V(s, g)`` stands for."""
        with torch.no_grad():
            return steps_to_go(self.value(obs, goals), self.hp.gamma)

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        cfg = self.hp
        s, s2, g = batch["obs"], batch["next_obs"], batch["value_goals"]
        with torch.no_grad():
            q = batch["rewards"] + cfg.gamma * batch["masks"] * self.target_value(s2, g)
            sign = q - self.target_value(s, g)
        v_loss = expectile_loss(q - self.value(s, g), cfg.expectile, sign)
        self.value_opt.zero_grad()
        v_loss.backward()
        self.value_opt.step()
        soft_update(self.target_value, self.value, cfg.tau)
        losses = {"v_loss": v_loss.item()}
        if self.carl:
            losses["infonce"] = self._carl_step(batch)
        sub, goal = batch["subgoals"], batch["actor_goals"]
        with torch.no_grad():
            adv_hi = self.value(sub, goal) - self.value(s, goal)
            adv_lo = self.value(s2, sub) - self.value(s, sub)
        z = self.subgoal_rep(s, sub)
        hi_loss = self.high_actor.awr_loss(
            torch.cat([s, goal], -1), z, awr_weights(adv_hi, cfg.temperature)
        )
        lo_loss = self.low_actor.awr_loss(
            torch.cat([s, z], -1), batch["actions"], awr_weights(adv_lo, cfg.temperature)
        )
        for opt, loss in ((self.high_opt, hi_loss), (self.low_opt, lo_loss)):
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.update(high_loss=hi_loss.item(), low_loss=lo_loss.item())
        return losses

    def _carl_step(self, batch: dict[str, torch.Tensor]) -> float:
        """Symmetric InfoNCE between local contexts ``(s_t, s_{t+k})`` and their action chunks."""
        ctx = self.carl["context"](torch.cat([batch["chunk_obs"], batch["chunk_end"]], -1))
        act = self.carl["actions"](batch["chunk_actions"])
        logits = ctx @ act.T / (self.hp.rep_dim * self.hp.carl_temperature)
        labels = torch.arange(len(logits))
        loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
        self.carl_opt.zero_grad()
        loss.backward()
        self.carl_opt.step()
        return loss.item()

    def low_act(self, obs: torch.Tensor, rep: torch.Tensor) -> torch.Tensor:
        return self.low_actor.mean(torch.cat([obs, rep], -1))

    def _act(self, obs: torch.Tensor, goals: torch.Tensor) -> torch.Tensor:
        return self.low_act(obs, self.high_actor.mean(torch.cat([obs, goals], -1)))

    def embed(self, obs: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Subgoal representations of local transitions ``obs → ends`` (for pictures)."""
        return self.subgoal_rep(torch.as_tensor(obs, dtype=torch.float32),
                                torch.as_tensor(ends, dtype=torch.float32)).numpy()  # fmt: skip


def build_offline_agent(kind: str, obs_dim: int, action_dim: int, config: OfflineGCConfig,
                        seed: int) -> Any:  # fmt: skip
    """``"gciql"`` or ``"hiql"`` (CARL is ``hiql`` with ``subgoal_rep="carl"``)."""
    if kind == "gciql":
        return GCIQLAgent(obs_dim, action_dim, config, seed)
    if kind == "hiql":
        return HIQLAgent(obs_dim, action_dim, config, seed)
    raise ValueError(f"unknown offline agent {kind!r}")
