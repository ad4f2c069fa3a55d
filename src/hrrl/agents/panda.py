"""PANDA and bilevel baselines for an upper level over a regularised zero-sum Markov game.

PANDA (seeds/003, line 8) is "a penalty-based first-order policy-gradient method based on the
Nikaido-Isoda function" that "avoids computing UL hypergradients and does not require
second-order information". The abstract gives no update rule, so the one here is our reading of
it. With ``L(x; μ, ν)`` the lower-level game value (max player ``μ``, min player ``ν``) and the
Nikaido–Isoda gap ``ψ(x; μ, ν) = max_μ' L(x; μ', ν) − min_ν' L(x; μ, ν') ≥ 0`` (zero exactly at
the saddle point), the bilevel problem ``min_x f(x, μ*(x), ν*(x))`` is relaxed to the penalty
problem ``min_{x, μ, ν} f(x, μ, ν) + ρ ψ(x; μ, ν)``, i.e. the single min–max problem

    min_{x, μ, ν} max_{μ', ν'}  Φ_ρ = f(x, μ, ν) + ρ [L(x; μ', ν) − L(x; μ, ν')],

solved by gradient descent on ``(x, μ, ν)`` and ascent on ``(μ', ν')`` with softmax policies:
per iteration ``lower_steps`` simultaneous steps on the four policies (the followers descend
``Φ_ρ / ρ``, so their dynamics do not depend on ``ρ``), then one step on ``x`` along
``∇_x Φ_ρ``. Every gradient is a first-order policy gradient (here exact, by differentiating the
closed-form value); no Hessian or hypergradient is formed.

Baselines (both form the hypergradient, which PANDA avoids):

* :class:`ImplicitHypergradient` — exact implicit differentiation of the equilibrium (AID with an
  exact lower-level solve): gradient descent on ``F(x)`` itself, the reference.
* :class:`UnrolledGDA` — iterative differentiation (ITD): ``K`` steps of gradient descent–ascent
  on the policies from a warm start, then back-propagation of ``f`` through the unrolled steps
  (second-order through autograd), the standard "naive unrolled" bilevel baseline.

A *problem* is any object with ``x_dim``, ``shape = (S, A, B)``, ``game_value(x, μ, ν)``,
``upper_objective(x, μ, ν)`` (torch, differentiable) and, for the implicit baseline,
``hypergradient(x, warm) → (F, ∇F, z)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from hrrl.core.checkpoint import load_checkpoint, save_checkpoint
from hrrl.core.learner import StateArrays

DTYPE = torch.float64


class BilevelGame(Protocol):
    x_dim: int
    shape: tuple[int, int, int]

    def game_value(self, x, mu, nu) -> torch.Tensor: ...

    def upper_objective(self, x, mu, nu) -> torch.Tensor: ...


@dataclass(frozen=True)
class PANDAConfig:
    """Penalty-augmented Nikaido–Isoda descent–ascent."""

    penalty: float = 10.0
    """``ρ``: weight of the Nikaido–Isoda gap."""
    lr_x: float = 1.0
    """Step on the upper-level variable ``x``."""
    lr_policy: float = 1.0
    """Step on the follower logits ``(μ, ν)`` along ``∇ Φ_ρ / ρ``."""
    lr_response: float = 1.0
    """Ascent step on the best-response logits ``(μ', ν')``."""
    lower_steps: int = 10
    """Policy steps (all four policies at once) per step on ``x``."""
    init_scale: float = 0.0
    """Std of the random initial logits (0: uniform policies)."""
    seed: int = 0
    """Seed for the initial logits."""


def _init(shape: tuple[int, ...], scale: float, gen: torch.Generator) -> torch.Tensor:
    return scale * torch.randn(shape, generator=gen, dtype=DTYPE)


class _Optimizer(StateArrays):
    """Shared state handling: named float64 tensors, an iteration counter, save/load. Under the
    learner contract (:mod:`hrrl.core.learner`) the learned state is those tensors."""

    kind = "base"
    names: tuple[str, ...] = ()
    STATE = ("state",)

    def step(self, game: Any) -> dict[str, float]:
        """One iteration on ``game``; returns the iteration's diagnostics."""
        raise NotImplementedError

    def __init__(self, config: Any, x_dim: int, shape: tuple[int, int, int]) -> None:
        self.config = config
        self.x_dim, self.shape = x_dim, tuple(shape)
        s, a, b = shape
        gen = torch.Generator().manual_seed(int(config.seed))
        sizes = {"x": (x_dim,), "mu": (s, a), "nu": (s, b), "mu_br": (s, a), "nu_br": (s, b)}
        self.state = {n: _init(sizes[n], config.init_scale, gen) for n in self.names}
        self.state["x"] = torch.zeros(x_dim, dtype=DTYPE)
        self.iterations = 0

    @property
    def x(self) -> torch.Tensor:
        return self.state["x"]

    def save(self, folder: str | Path) -> Path:
        state = {"kind": self.kind, "config": asdict(self.config), "x_dim": self.x_dim,
                 "shape": list(self.shape), "iterations": self.iterations}  # fmt: skip
        return save_checkpoint(folder, {"state": self.state}, state)

    @classmethod
    def load(cls, folder: str | Path):
        tensors, state = load_checkpoint(folder)
        config_cls = {"panda": PANDAConfig, "implicit": ImplicitConfig, "unrolled": UnrolledConfig}
        opt = cls(config_cls[state["kind"]](**state["config"]), state["x_dim"], state["shape"])
        opt.state = {k: v.to(DTYPE) for k, v in tensors["state"].items()}
        opt.iterations = int(state["iterations"])
        return opt


class PANDA(_Optimizer):
    """One :meth:`step` = one descent–ascent iteration on ``Φ_ρ`` (first-order only)."""

    kind = "panda"
    names = ("x", "mu", "nu", "mu_br", "nu_br")

    def policies(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.softmax(self.state["mu"], -1), torch.softmax(self.state["nu"], -1)

    def _lower_step(self, game: BilevelGame) -> None:
        """One simultaneous step on the policies: ascent of the best-response logits on their
        game values, descent of the follower logits on ``Φ_ρ / ρ``."""
        cfg, st = self.config, self.state
        x = st["x"]
        logits = {k: st[k].clone().requires_grad_(True) for k in ("mu", "nu", "mu_br", "nu_br")}
        mu, nu, mu_br, nu_br = (torch.softmax(logits[k], -1) for k in logits)
        high = game.game_value(x, mu_br, nu)
        low = game.game_value(x, mu, nu_br)
        phi = game.upper_objective(x, mu, nu) / cfg.penalty + high - low
        g_mu_br, g_nu_br = torch.autograd.grad(high - low, (logits["mu_br"], logits["nu_br"]),
                                               retain_graph=True)  # fmt: skip
        g_mu, g_nu = torch.autograd.grad(phi, (logits["mu"], logits["nu"]))
        st["mu_br"] = (st["mu_br"] + cfg.lr_response * g_mu_br).detach()
        st["nu_br"] = (st["nu_br"] + cfg.lr_response * g_nu_br).detach()
        st["mu"] = (st["mu"] - cfg.lr_policy * g_mu).detach()
        st["nu"] = (st["nu"] - cfg.lr_policy * g_nu).detach()

    def x_gradient(self, game: BilevelGame) -> tuple[torch.Tensor, float, float]:
        """``∇_x Φ_ρ`` at the current policies, with ``f`` and the Nikaido–Isoda gap estimate."""
        st = self.state
        xs = st["x"].clone().requires_grad_(True)
        mu, nu, mu_br, nu_br = (torch.softmax(st[k], -1) for k in ("mu", "nu", "mu_br", "nu_br"))
        upper = game.upper_objective(xs, mu, nu)
        gap = game.game_value(xs, mu_br, nu) - game.game_value(xs, mu, nu_br)
        (g_x,) = torch.autograd.grad(upper + self.config.penalty * gap, (xs,))
        return g_x, float(upper.detach()), float(gap.detach())

    def step(self, game: BilevelGame) -> dict[str, float]:
        """``lower_steps`` policy steps, then one step on ``x`` along ``∇_x Φ_ρ``."""
        for _ in range(self.config.lower_steps):
            self._lower_step(game)
        g_x, upper, gap = self.x_gradient(game)
        self.state["x"] = (self.state["x"] - self.config.lr_x * g_x).detach()
        self.iterations += 1
        return {"upper": upper, "ni_gap_estimate": gap}


@dataclass(frozen=True)
class ImplicitConfig:
    """Gradient descent on ``F(x)`` with the exact implicit hypergradient."""

    lr_x: float = 1.0
    """Step on ``x``."""
    init_scale: float = 0.0
    """Unused (kept for a uniform interface)."""
    seed: int = 0
    """Unused (deterministic)."""


class ImplicitHypergradient(_Optimizer):
    kind = "implicit"
    names = ("x",)

    def __init__(self, config: ImplicitConfig, x_dim: int, shape) -> None:
        super().__init__(config, x_dim, shape)
        self._warm: torch.Tensor | None = None

    def step(self, game: Any) -> dict[str, float]:
        value, grad, self._warm = game.hypergradient(self.state["x"], self._warm)
        self.state["x"] = (self.state["x"] - self.config.lr_x * grad).detach()
        self.iterations += 1
        return {"upper": value}


@dataclass(frozen=True)
class UnrolledConfig:
    """Iterative differentiation through ``K`` unrolled descent–ascent steps."""

    lr_x: float = 1.0
    """Step on ``x``."""
    lr_policy: float = 1.0
    """Lower-level descent–ascent step on the logits."""
    unroll: int = 5
    """``K``: unrolled steps per iteration (warm-started from the last iterate)."""
    init_scale: float = 0.0
    """Std of the random initial logits."""
    seed: int = 0
    """Seed for the initial logits."""


class UnrolledGDA(_Optimizer):
    kind = "unrolled"
    names = ("x", "mu", "nu")

    def policies(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.softmax(self.state["mu"], -1), torch.softmax(self.state["nu"], -1)

    def step(self, game: BilevelGame) -> dict[str, float]:
        cfg = self.config
        xs = self.state["x"].clone().requires_grad_(True)
        lmu, lnu = self.state["mu"].clone(), self.state["nu"].clone()
        for _ in range(cfg.unroll):
            if not lmu.requires_grad:
                lmu.requires_grad_(True)
                lnu.requires_grad_(True)
            value = game.game_value(xs, torch.softmax(lmu, -1), torch.softmax(lnu, -1))
            g_mu, g_nu = torch.autograd.grad(value, (lmu, lnu), create_graph=True)
            lmu, lnu = lmu + cfg.lr_policy * g_mu, lnu - cfg.lr_policy * g_nu
        upper = game.upper_objective(xs, torch.softmax(lmu, -1), torch.softmax(lnu, -1))
        (g_x,) = torch.autograd.grad(upper, (xs,))
        self.state["x"] = (self.state["x"] - cfg.lr_x * g_x).detach()
        self.state["mu"], self.state["nu"] = lmu.detach(), lnu.detach()
        self.iterations += 1
        return {"upper": float(upper.detach())}


def make_optimizer(kind: str, config: Any, x_dim: int, shape) -> _Optimizer:
    return {"panda": PANDA, "implicit": ImplicitHypergradient, "unrolled": UnrolledGDA}[kind](
        config, x_dim, shape
    )


def iterations_to_stationarity(norms_sq: np.ndarray, epsilons: np.ndarray) -> np.ndarray:
    """First iteration ``k`` with ``‖∇F(x_k)‖² ≤ ε`` for each ε (``nan`` if never)."""
    out = np.full(len(epsilons), np.nan)
    for i, eps in enumerate(epsilons):
        hit = np.nonzero(np.asarray(norms_sq) <= eps)[0]
        if hit.size:
            out[i] = float(hit[0])
    return out


__all__ = [
    "PANDA",
    "ImplicitConfig",
    "ImplicitHypergradient",
    "PANDAConfig",
    "UnrolledConfig",
    "UnrolledGDA",
    "iterations_to_stationarity",
    "make_optimizer",
]
