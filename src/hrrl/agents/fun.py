"""FeUdal Networks (FuN; Vezhnevets et al. 2017): a manager that sets directions in a learned
latent space and a worker rewarded for moving along them.

Per step ``t`` (one env; the network is batched over envs):

* perception ``z_t = f_percept(x_t)`` (an MLP here) is shared by both levels;
* **manager**: latent state ``s_t = ReLU(W z_t)`` (dimension ``d``); a *dilated LSTM* with
  ``r`` cores — at step ``t`` only core ``t mod r`` (``t`` counted from the episode's start) reads
  ``s_t`` and updates its state, and the output is the mean of the ``r`` cores' hidden states, so
  each core ticks once every ``r`` steps and the output pools the last ``r`` updates. A linear
  head gives ``ĝ_t``; the goal is the unit direction ``g_t = ĝ_t / ‖ĝ_t‖``. A second head is the
  manager's critic ``V^M``. The manager is trained by the **transition policy gradient**
  ``A^M_t ∇_θ cos(s_{t+c} − s_t, g_t(θ))`` with ``A^M_t = R^M_t − V^M(x_t)`` (extrinsic return,
  discount ``gamma_manager``); ``s_{t+c} − s_t`` is a constant in that gradient, and where the
  episode ends within ``c`` steps its last state stands for ``s_{t+c}``.
* **worker**: an LSTM over ``z_t`` gives ``U_t`` (``A × k``); the goals of the last ``c`` steps
  (detached: no gradient flows from the worker into the manager through them) are summed and
  embedded, ``w_t = φ(Σ_{i=0}^{c−1} g_{t−i})`` (``φ`` linear, no bias, ``d → k``); the policy is
  ``softmax(U_t w_t)``. It is trained by A2C on ``r_t + α r^I_t`` with discount
  ``gamma_worker``; the intrinsic reward of the step that reaches ``s_{t+1}`` is
  ``r^I = (1/c) Σ_{i=1}^{c} cos(s_{t+1} − s_{t+1−i}, g_{t+1−i})``, averaged over the ``i`` that
  lie inside the episode (zero at its first step).

The manager emits a direction at every step (as in the paper); "every c steps" is the time
scale: each dilated-LSTM core updates once every ``r = c`` steps, the worker's goal embedding
pools ``c`` goals, and a goal is judged by the state ``c`` steps later.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hrrl.core import ppo
from hrrl.core.networks import mlp
from hrrl.core.recurrent import (
    ActorAgent,
    Segment,
    State,
    a2c_loss,
    gradient_step,
    next_of,
    sample_categorical,
)


@dataclass(frozen=True)
class FuNConfig:
    hidden: int = 64
    """Units of the perception MLP's two layers and of the worker's LSTM."""
    latent: int = 32
    """d: the manager's latent state and goal dimension (and its dilated LSTM's hidden size)."""
    goal_embedding: int = 16
    """k: the worker's goal-embedding size."""
    horizon: int = 4
    """c: the manager's horizon (goal pooling, intrinsic-reward window, transition gradient)."""
    radius: int = 4
    """r: cores of the dilated LSTM (the paper uses r = c)."""
    alpha: float = 0.1
    """Weight of the intrinsic reward in the worker's reward."""
    gamma_worker: float = 0.95
    gamma_manager: float = 0.99
    gae_lambda: float = 0.95
    """GAE λ of the worker's advantages (the manager uses its n-step return, λ = 1)."""
    rollout_steps: int = 16
    """Steps per env per update (the BPTT length)."""
    lr: float = 1e-3
    value_coef: float = 0.5
    entropy_coef: float = 0.01
    max_grad_norm: float = 0.5


def intrinsic_reward(
    s_now: torch.Tensor, s_hist: torch.Tensor, g_hist: torch.Tensor, valid: torch.Tensor
) -> torch.Tensor:
    """``mean_i cos(s_now − s_hist[:, i], g_hist[:, i])`` over the ``valid`` ``i`` (0 if none).

    ``s_now (N, d)``, ``s_hist``/``g_hist (N, c, d)`` (most recent first), ``valid (N, c)`` bool.
    """
    cos = F.cosine_similarity(s_now[:, None, :] - s_hist, g_hist, dim=-1, eps=1e-8)
    count = valid.sum(dim=1)
    total = (cos * valid).sum(dim=1)
    return torch.where(count > 0, total / count.clamp(min=1), torch.zeros_like(total))


def horizon_targets(
    s_next: torch.Tensor, episode_end: torch.Tensor, horizon: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each step ``t`` of a segment, ``s_{t+c}`` (or the episode's last state if it ends
    first) and whether it lies inside the segment. ``s_next[t]`` is the state after step ``t``."""
    steps = s_next.shape[0]
    target = torch.zeros_like(s_next)
    frozen = torch.zeros_like(episode_end)
    time = torch.arange(steps)
    for k in range(horizon):
        idx = time + k
        inside = (idx < steps)[:, None].expand_as(episode_end)
        pos = idx.clamp(max=steps - 1)
        take = inside & ~frozen
        target = torch.where(take[..., None], s_next[pos], target)
        frozen = frozen | (take & episode_end[pos])
    reached = (time + horizon - 1 < steps)[:, None].expand_as(episode_end)
    return target, frozen | reached


class DilatedLSTM(nn.Module):
    """``r`` LSTM cores sharing weights; a row's core ``index`` alone reads the input and updates.

    State ``h``, ``c`` ``(N, r, H)``; the output is the mean of the cores' hidden states.
    """

    def __init__(self, input_size: int, hidden_size: int, radius: int) -> None:
        super().__init__()
        self.radius = radius
        self.cell = nn.LSTMCell(input_size, hidden_size)

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, index: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = torch.arange(x.shape[0])
        h_new, c_new = self.cell(x, (h[rows, index], c[rows, index]))
        mask = F.one_hot(index, self.radius).bool()[..., None]
        h = torch.where(mask, h_new[:, None, :], h)
        c = torch.where(mask, c_new[:, None, :], c)
        return h.mean(dim=1), h, c


class FuNNet(nn.Module):
    """Perception, manager (dilated LSTM, goal and value heads), worker (LSTM, U, φ, value)."""

    def __init__(self, obs_size: int, n_actions: int, config: FuNConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.n_actions = n_actions
        self.percept = mlp([obs_size, c.hidden, c.hidden], output_activation=nn.ReLU)
        self.mspace = nn.Sequential(nn.Linear(c.hidden, c.latent), nn.ReLU())
        self.manager = DilatedLSTM(c.latent, c.latent, c.radius)
        self.goal_head = nn.Linear(c.latent, c.latent)
        self.manager_value = nn.Linear(c.latent, 1)
        self.worker = nn.LSTMCell(c.hidden, c.hidden)
        self.u_head = nn.Linear(c.hidden, n_actions * c.goal_embedding)
        self.phi = nn.Linear(c.latent, c.goal_embedding, bias=False)
        self.worker_value = nn.Linear(c.hidden + c.goal_embedding, 1)

    def initial_state(self, n: int) -> State:
        c = self.config
        return {
            "mh": torch.zeros(n, c.radius, c.latent),
            "mc": torch.zeros(n, c.radius, c.latent),
            "wh": torch.zeros(n, c.hidden),
            "wc": torch.zeros(n, c.hidden),
            "s_hist": torch.zeros(n, c.horizon, c.latent),
            "g_hist": torch.zeros(n, c.horizon, c.latent),
            "age": torch.zeros(n, dtype=torch.long),
        }

    def forward_step(
        self, obs: torch.Tensor, state: State
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], State]:
        """Worker logits, this step's quantities and the next state."""
        c = self.config
        age = state["age"]
        z = self.percept(obs)
        s = self.mspace(z)
        valid = torch.arange(c.horizon)[None, :] < age[:, None]
        r_int = intrinsic_reward(s.detach(), state["s_hist"], state["g_hist"], valid)
        m_out, mh, mc = self.manager(s, state["mh"], state["mc"], age % c.radius)
        goal = F.normalize(self.goal_head(m_out), dim=-1, eps=1e-8)
        pooled = goal.detach() + state["g_hist"][:, : c.horizon - 1].sum(dim=1)
        w = self.phi(pooled)
        wh, wc = self.worker(z, (state["wh"], state["wc"]))
        u = self.u_head(wh).view(-1, self.n_actions, c.goal_embedding)
        logits = torch.einsum("nak,nk->na", u, w)
        out = {
            "goal": goal,
            "s": s.detach(),
            "intrinsic": r_int,
            "value_m": self.manager_value(m_out)[:, 0],
            "value_w": self.worker_value(torch.cat([wh, w], dim=-1))[:, 0],
        }
        new_state = {
            "mh": mh,
            "mc": mc,
            "wh": wh,
            "wc": wc,
            "s_hist": torch.cat([s.detach()[:, None], state["s_hist"][:, :-1]], dim=1),
            "g_hist": torch.cat([goal.detach()[:, None], state["g_hist"][:, :-1]], dim=1),
            "age": age + 1,
        }
        return logits, out, new_state

    def step(
        self, obs: torch.Tensor, state: State, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], State]:
        logits, out, state = self.forward_step(obs, state)
        actions, log_probs, entropy = sample_categorical(logits, generator)
        return actions, {**out, "log_prob": log_probs, "entropy": entropy}, state

    def peek(self, obs: torch.Tensor, state: State) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            _, out, _ = self.forward_step(obs, state)
        return {k: out[k] for k in ("s", "intrinsic", "value_m", "value_w")}


def transition_policy_loss(
    advantages: torch.Tensor,
    s: torch.Tensor,
    targets: torch.Tensor,
    goals: torch.Tensor,
    valid: torch.Tensor,
) -> torch.Tensor:
    """``−mean_valid A^M_t cos(s_{t+c} − s_t, g_t)``; only ``goals`` carries gradient."""
    direction = (targets - s).detach()
    cos = F.cosine_similarity(direction, goals, dim=-1, eps=1e-8)
    weight = valid.float()
    return -(advantages.detach() * cos * weight).sum() / weight.sum().clamp(min=1.0)


class FuNAgent(ActorAgent):
    """FeUdal Networks trained on a vector env (A2C-style updates for both levels)."""

    rollout_grad = True
    actor: FuNNet

    def __init__(self, obs_size: int, n_actions: int, config: FuNConfig, seed: int) -> None:
        if config.rollout_steps < config.horizon:
            raise ValueError("rollout_steps must be at least the horizon c")
        self.config = config
        self._setup(FuNNet(obs_size, n_actions, config), config.lr, seed)

    def update(self, segment: Segment, progress: float) -> dict[str, float]:
        c, rec = self.config, segment.records
        r_int = next_of(segment, "intrinsic")
        worker_loss = a2c_loss(
            rec["log_prob"],
            rec["entropy"],
            rec["value_w"],
            segment.rewards + c.alpha * r_int,
            next_of(segment, "value_w"),
            segment,
            c.gamma_worker,
            c.gae_lambda,
            c.value_coef,
            c.entropy_coef,
        )
        adv_m, ret_m = ppo.gae(
            segment.rewards,
            rec["value_m"].detach(),
            next_of(segment, "value_m"),
            segment.terminated,
            segment.episode_end,
            c.gamma_manager,
            1.0,
        )
        targets, valid = horizon_targets(next_of(segment, "s"), segment.episode_end, c.horizon)
        manager_loss = transition_policy_loss(adv_m, rec["s"], targets, rec["goal"], valid)
        manager_loss = manager_loss + c.value_coef * (ret_m - rec["value_m"]).pow(2).mean()
        params = list(self.actor.parameters())
        loss = gradient_step(self.optimizer, params, worker_loss + manager_loss, c.max_grad_norm)
        return {"loss": loss, "intrinsic": float(r_int.mean())}
