"""Small tabular entropy-regularised zero-sum Markov games with an incentive-design upper level.

The bilevel problem of PANDA (seeds/003, line 8): "the LL problem is a regularized min-max
zero-sum Markov game and the UL objective is optimized through the saddle-point equilibrium
induced by the LL game". The abstract names incentive design as an application but gives no
benchmark, so this instance is **our choice**:

* lower level: ``S`` states, the max player picks ``a ∈ A``, the min player ``b ∈ B``; transition
  ``P(s' | s, a, b)``; reward to the max player ``r_x(s, a, b) = r0(s, a, b) + x[s, a]`` (``x`` is
  the designer's incentive on the max player's actions); discount ``γ``; both players entropy
  regularised with temperature ``τ``:
  ``L(x; μ, ν) = E_ρ0 Σ_t γ^t (r_x(s_t, a_t, b_t) + τ H(μ(·|s_t)) − τ H(ν(·|s_t)))``.
  ``max_μ min_ν L`` has a unique saddle point ``(μ*(x), ν*(x))`` (the regularised game is
  strongly concave–convex per state; Cen et al. 2021), which :func:`solve_equilibrium` computes to
  machine precision (damped best-response iteration, then Newton on the optimality system).
* upper level: ``F(x) = f(x, μ*(x), ν*(x))`` with ``f(x, μ, ν) = (1 − γ) Σ_s d^{μ,ν}(s) c(s) +
  λ/2 ‖x‖²``: a designer cost ``c`` of the states the equilibrium visits plus the incentive's
  cost. ``F`` is non-convex in ``x``.

Exact hypergradients: the equilibrium ``z = (V, μ, ν)`` solves ``G(z, x) = 0`` with
``μ_s = softmax(Q_s ν_s / τ)``, ``ν_s = softmax(−Q_sᵀ μ_s / τ)``, ``V_s = μ_sᵀ Q_s ν_s + τ H(μ_s)
− τ H(ν_s)``, ``Q_s = r_x(s) + γ P_s V``; by the implicit function theorem ``∇F = ∂_x f −
(∂_x G)ᵀ (∂_z G)⁻ᵀ ∂_z f`` (:func:`hypergradient`). Everything is float64 torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

DTYPE = torch.float64


@dataclass(frozen=True)
class RegularizedMarkovGame:
    """A bilevel instance: the regularised zero-sum game and the designer's objective."""

    transition: torch.Tensor
    """``P[s, a, b, s']``."""
    reward: torch.Tensor
    """Base reward to the max player ``r0[s, a, b]``."""
    initial: torch.Tensor
    """Initial state distribution ``ρ0[s]``."""
    cost: torch.Tensor
    """Designer cost of each state ``c[s]``."""
    gamma: float = 0.8
    """Discount."""
    tau: float = 1.0
    """Entropy temperature of both players."""
    incentive_cost: float = 0.1
    """``λ`` of the incentive's cost ``λ/2 ‖x‖²``."""

    @property
    def shape(self) -> tuple[int, int, int]:
        s, a, b, _ = self.transition.shape
        return int(s), int(a), int(b)

    @property
    def x_dim(self) -> int:
        s, a, _ = self.shape
        return s * a

    # --- values ---------------------------------------------------------------------------------

    def rewards(self, x: torch.Tensor) -> torch.Tensor:
        s, a, _ = self.shape
        return self.reward + x.reshape(s, a)[:, :, None]

    def policy_matrices(self, x, mu, nu) -> tuple[torch.Tensor, torch.Tensor]:
        """Regularised one-step reward ``r_π (S,)`` and transition ``P_π (S, S)`` of ``(μ, ν)``."""
        joint = mu[:, :, None] * nu[:, None, :]
        ent_mu = -(mu * torch.log(mu)).sum(-1)
        ent_nu = -(nu * torch.log(nu)).sum(-1)
        r = (joint * self.rewards(x)).sum((1, 2)) + self.tau * (ent_mu - ent_nu)
        p = torch.einsum("sab,sabt->st", joint, self.transition)
        return r, p

    def values(self, x, mu, nu) -> torch.Tensor:
        """``V^{μ,ν}`` by an exact linear solve."""
        r, p = self.policy_matrices(x, mu, nu)
        eye = torch.eye(r.shape[0], dtype=DTYPE)
        return torch.linalg.solve(eye - self.gamma * p, r)

    def game_value(self, x, mu, nu) -> torch.Tensor:
        """``L(x; μ, ν) = ρ0 · V^{μ,ν}`` (what the max player maximises)."""
        return self.initial @ self.values(x, mu, nu)

    def occupancy(self, mu, nu) -> torch.Tensor:
        """Normalised discounted state occupancy ``d = (1 − γ) ρ0ᵀ (I − γ P_π)⁻¹``."""
        joint = mu[:, :, None] * nu[:, None, :]
        p = torch.einsum("sab,sabt->st", joint, self.transition)
        eye = torch.eye(p.shape[0], dtype=DTYPE)
        return (1 - self.gamma) * torch.linalg.solve((eye - self.gamma * p).T, self.initial)

    def upper_objective(self, x, mu, nu) -> torch.Tensor:
        """``f(x, μ, ν) = d^{μ,ν} · c + λ/2 ‖x‖²``."""
        return self.occupancy(mu, nu) @ self.cost + 0.5 * self.incentive_cost * (x @ x)

    def hypergradient(self, x, warm=None):
        """``(F(x), ∇F(x), z*)``: see :func:`hypergradient`."""
        return hypergradient(self, x, warm)

    # --- equilibrium ----------------------------------------------------------------------------

    def unpack(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        s, a, b = self.shape
        return z[:s], z[s : s + s * a].reshape(s, a), z[s + s * a :].reshape(s, b)

    def residual(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``G(z, x)``: zero exactly at the regularised equilibrium ``z = (V, μ, ν)``."""
        v, mu, nu = self.unpack(z)
        q = self.rewards(x) + self.gamma * torch.einsum("sabt,t->sab", self.transition, v)
        mu_br = torch.softmax(torch.einsum("sab,sb->sa", q, nu) / self.tau, -1)
        nu_br = torch.softmax(-torch.einsum("sab,sa->sb", q, mu) / self.tau, -1)
        ent_mu = -(mu * torch.log(mu)).sum(-1)
        ent_nu = -(nu * torch.log(nu)).sum(-1)
        value = torch.einsum("sa,sab,sb->s", mu, q, nu) + self.tau * (ent_mu - ent_nu)
        return torch.cat([v - value, (mu - mu_br).reshape(-1), (nu - nu_br).reshape(-1)])


def _jacobian(fn, arg: torch.Tensor) -> torch.Tensor:
    return torch.autograd.functional.jacobian(fn, arg, vectorize=True)


def solve_equilibrium(
    game: RegularizedMarkovGame,
    x: torch.Tensor,
    warm: torch.Tensor | None = None,
    tol: float = 1e-12,
) -> torch.Tensor:
    """The regularised saddle point ``z* = (V, μ, ν)`` at ``x`` (flat, float64).

    Newton's method on ``G(z, x) = 0`` with the exact Jacobian and a backtracking line search on
    ``‖G‖`` that keeps the policies interior, from ``warm`` or from uniform policies; damped
    best-response iteration takes over if Newton stalls. Raises ``RuntimeError`` if the residual
    does not reach ``tol``."""
    s, a, b = game.shape
    x = x.detach()

    def fn(zz: torch.Tensor) -> torch.Tensor:
        return game.residual(zz, x)

    def interior(zz: torch.Tensor) -> bool:
        _, mu, nu = game.unpack(zz)
        return bool((mu > 0).all() and (nu > 0).all())

    if warm is not None:
        z = warm.detach().clone()
    else:
        z = torch.cat([torch.zeros(s, dtype=DTYPE), torch.full((s * a,), 1.0 / a, dtype=DTYPE),
                       torch.full((s * b,), 1.0 / b, dtype=DTYPE)])  # fmt: skip
    g = fn(z)
    for _ in range(200):
        norm = float(g.abs().max())
        if norm < tol:
            return z
        step = torch.linalg.solve(_jacobian(fn, z), g)
        t = 1.0
        while t > 1e-6:
            cand = z - t * step
            if interior(cand):
                g_cand = fn(cand)
                if float(g_cand.abs().max()) < norm * (1 - 1e-4 * t) or norm < 1e-9:
                    break
            t *= 0.5
        if t <= 1e-6:  # Newton stalled: a damped fixed-point step instead
            cand = z - 0.1 * g
            g_cand = fn(cand)
        z, g = cand, g_cand
    raise RuntimeError(f"equilibrium solve did not converge (residual {g.abs().max():.2e})")


def hypergradient(
    game: RegularizedMarkovGame, x: torch.Tensor, warm: torch.Tensor | None = None
) -> tuple[float, torch.Tensor, torch.Tensor]:
    """``(F(x), ∇F(x), z*)`` by implicit differentiation of the equilibrium conditions."""
    x = x.detach()
    z = solve_equilibrium(game, x, warm)
    jz = _jacobian(lambda zz: game.residual(zz, x), z)
    jx = _jacobian(lambda xx: game.residual(z, xx), x)
    zz = z.clone().requires_grad_(True)
    xx = x.clone().requires_grad_(True)
    _, mu, nu = game.unpack(zz)
    value = game.upper_objective(xx, mu, nu)
    gz, gx = torch.autograd.grad(value, (zz, xx))
    w = torch.linalg.solve(jz.T, gz)
    return float(value.detach()), gx - jx.T @ w, z


def upper_value(game: RegularizedMarkovGame, x: torch.Tensor, warm=None) -> float:
    """``F(x) = f(x, μ*(x), ν*(x))``."""
    z = solve_equilibrium(game, x, warm)
    _, mu, nu = game.unpack(z)
    return float(game.upper_objective(x, mu, nu))


def best_response_values(
    game: RegularizedMarkovGame, x: torch.Tensor, mu: torch.Tensor, nu: torch.Tensor
) -> tuple[float, float]:
    """``(max_μ' L(x; μ', ν), min_ν' L(x; μ, ν'))`` by soft value iteration (to 1e-13)."""
    tau, gamma = game.tau, game.gamma
    r = game.rewards(x)
    ent_nu = -(nu * torch.log(nu)).sum(-1)
    ent_mu = -(mu * torch.log(mu)).sum(-1)
    p_a = torch.einsum("sabt,sb->sat", game.transition, nu)
    p_b = torch.einsum("sabt,sa->sbt", game.transition, mu)
    r_a = torch.einsum("sab,sb->sa", r, nu) - tau * ent_nu[:, None]
    r_b = torch.einsum("sab,sa->sb", r, mu) + tau * ent_mu[:, None]
    v_max = torch.zeros(game.shape[0], dtype=DTYPE)
    v_min = torch.zeros(game.shape[0], dtype=DTYPE)
    for _ in range(2000):
        new_max = tau * torch.logsumexp((r_a + gamma * p_a @ v_max) / tau, -1)
        new_min = -tau * torch.logsumexp(-(r_b + gamma * p_b @ v_min) / tau, -1)
        done = max((new_max - v_max).abs().max(), (new_min - v_min).abs().max()) < 1e-14
        v_max, v_min = new_max, new_min
        if done:
            break
    return float(game.initial @ v_max), float(game.initial @ v_min)


def nikaido_isoda_gap(game, x, mu, nu) -> float:
    """``max_μ' L(μ', ν) − min_ν' L(μ, ν') ≥ 0``, zero exactly at the saddle point."""
    hi, lo = best_response_values(game, x, mu, nu)
    return hi - lo


def sample_game(
    rng: np.random.Generator,
    n_states: int = 4,
    n_max: int = 2,
    n_min: int = 2,
    gamma: float = 0.8,
    tau: float = 1.0,
    incentive_cost: float = 0.1,
) -> RegularizedMarkovGame:
    """Random instance: Dirichlet(1) transitions, rewards U[−1, 1], uniform ρ0, costs U[0, 1]."""
    p = rng.dirichlet(np.ones(n_states), size=(n_states, n_max, n_min))
    r = rng.uniform(-1.0, 1.0, (n_states, n_max, n_min))
    cost = rng.uniform(0.0, 1.0, n_states)
    return RegularizedMarkovGame(
        transition=torch.as_tensor(p, dtype=DTYPE),
        reward=torch.as_tensor(r, dtype=DTYPE),
        initial=torch.full((n_states,), 1.0 / n_states, dtype=DTYPE),
        cost=torch.as_tensor(cost, dtype=DTYPE),
        gamma=gamma,
        tau=tau,
        incentive_cost=incentive_cost,
    )


__all__ = [
    "DTYPE",
    "RegularizedMarkovGame",
    "best_response_values",
    "hypergradient",
    "nikaido_isoda_gap",
    "sample_game",
    "solve_equilibrium",
    "upper_value",
]
