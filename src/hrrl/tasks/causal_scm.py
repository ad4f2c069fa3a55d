"""A two-level nested contextual causal bandit (NCCB): a hierarchical SCM with an exact oracle.

The problem class of Nested Causal Thompson Sampling (seeds/003, line 2): "a hierarchical SCM where
each level's action sets the next level's context distribution". The abstract gives no equations,
so the mechanisms below are **our choice**, kept inside an explicit, documented function class:

* exogenous context ``u ~ N(u_mean, u_std²)`` (scalar; an *exogenous shift* moves ``u_mean``);
* meta (strategic) level: the agent sees ``u`` and picks ``a1 ∈ {0..K1-1}``; the inner context is
  ``c = θ1[a1] · φ1(u) + σ1 ε1`` with ``φ1(u) = (1, u, …, u^d1)`` (default ``d1 = 1``);
* inner (tactical) level: the agent sees ``c`` and picks ``a2 ∈ {0..K2-1}``; the reward is
  ``y = θ2[a2] · φ2(c) + σ2 ε2`` with ``φ2(c) = (1, c, …, c^d2)`` (default ``d2 = 2``, so the best
  inner arm changes with ``c``).

``ε1, ε2 ~ N(0, 1)`` independent. The function class is therefore "per-arm polynomial mechanisms of
known degree with Gaussian noise"; an instance is the pair of coefficient tables ``(θ1, θ2)``,
drawn by :func:`sample_scm` from a Gaussian prior. The oracle value
``V*(u) = max_a1 E_c[max_a2 f2(a2, c)]`` and the value of any inner response are computed by
Gauss–Hermite quadrature over ``c`` (exact for polynomial responses of degree < 2G, and to ~1e-10
for the piecewise-polynomial max here with ``G = 40``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """``(…,) → (…, degree + 1)``: ``(1, x, x², …)``."""
    x = np.asarray(x, dtype=float)
    return np.stack([x**k for k in range(degree + 1)], axis=-1)


def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with ``E[g(Z)] ≈ Σ w_i g(z_i)`` for ``Z ~ N(0, 1)``."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(n)
    return nodes, weights / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class NestedSCM:
    """One NCCB instance: coefficients, noise levels and the exogenous distribution."""

    theta1: np.ndarray
    """Meta mechanism coefficients, ``(K1, d1 + 1)``: ``E[c | u, a1] = θ1[a1] · φ1(u)``."""
    theta2: np.ndarray
    """Inner mechanism coefficients, ``(K2, d2 + 1)``: ``E[y | c, a2] = θ2[a2] · φ2(c)``."""
    sigma1: float = 0.5
    """Standard deviation of the inner context around its mean."""
    sigma2: float = 0.5
    """Standard deviation of the reward around its mean."""
    u_mean: float = 0.0
    """Mean of the exogenous context (the training distribution has 0)."""
    u_std: float = 1.0
    """Standard deviation of the exogenous context."""
    quadrature: int = 40
    """Gauss–Hermite nodes for expectations over ``c``."""

    @property
    def n_meta(self) -> int:
        return int(self.theta1.shape[0])

    @property
    def n_inner(self) -> int:
        return int(self.theta2.shape[0])

    def shifted(self, u_mean: float) -> NestedSCM:
        """The same mechanisms under an exogenous shift (only ``u``'s distribution moves)."""
        return NestedSCM(
            self.theta1, self.theta2, self.sigma1, self.sigma2, u_mean, self.u_std, self.quadrature
        )

    # --- mechanisms -----------------------------------------------------------------------------

    def context_mean(self, u: np.ndarray) -> np.ndarray:
        """``E[c | u, a1]`` for every meta arm: ``(…,) → (…, K1)``."""
        return poly_features(u, self.theta1.shape[1] - 1) @ self.theta1.T

    def reward_mean(self, c: np.ndarray) -> np.ndarray:
        """``E[y | c, a2]`` for every inner arm: ``(…,) → (…, K2)``."""
        return poly_features(c, self.theta2.shape[1] - 1) @ self.theta2.T

    def sample_u(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return self.u_mean + self.u_std * rng.standard_normal(n)

    def sample_context(self, u: float, a1: int, rng: np.random.Generator) -> float:
        return float(self.context_mean(np.asarray(u))[a1] + self.sigma1 * rng.standard_normal())

    def sample_reward(self, c: float, a2: int, rng: np.random.Generator) -> float:
        return float(self.reward_mean(np.asarray(c))[a2] + self.sigma2 * rng.standard_normal())

    # --- oracle ---------------------------------------------------------------------------------

    def context_nodes(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature contexts ``(…, K1, G)`` and weights ``(G,)`` of ``c | u, a1``."""
        z, w = gauss_hermite(self.quadrature)
        return self.context_mean(u)[..., None] + self.sigma1 * z, w

    def optimal_value(self, u: np.ndarray) -> np.ndarray:
        """``V*(u) = max_a1 E[max_a2 f2(a2, c) | u, a1]`` (recursive optimum), ``(…,)``."""
        return self.meta_values(u).max(axis=-1)

    def meta_values(self, u: np.ndarray) -> np.ndarray:
        """``E[max_a2 f2(a2, c) | u, a1]`` for every meta arm, ``(…, K1)``."""
        nodes, w = self.context_nodes(u)
        return self.reward_mean(nodes).max(axis=-1) @ w

    def response_value(self, u: float, a1: int, inner_policy) -> float:
        """Expected reward of meta arm ``a1`` at ``u`` when the inner arm is ``inner_policy(c)``
        (a vectorised map from contexts to arms)."""
        nodes, w = self.context_nodes(np.asarray(u))
        c = nodes[a1]
        arms = np.asarray(inner_policy(c), dtype=np.int64)
        return float(self.reward_mean(c)[np.arange(c.size), arms] @ w)


def sample_scm(
    rng: np.random.Generator,
    n_meta: int = 3,
    n_inner: int = 3,
    meta_degree: int = 1,
    inner_degree: int = 2,
    prior_std: tuple[float, ...] = (1.0, 1.0, 0.3),
    sigma1: float = 0.5,
    sigma2: float = 0.5,
) -> NestedSCM:
    """An instance with every coefficient ``θ[k] ~ N(0, prior_std[k]²)`` (the degree-k term)."""
    s1 = np.asarray(prior_std[: meta_degree + 1])
    s2 = np.asarray(prior_std[: inner_degree + 1])
    theta1 = rng.standard_normal((n_meta, meta_degree + 1)) * s1
    theta2 = rng.standard_normal((n_inner, inner_degree + 1)) * s2
    return NestedSCM(theta1=theta1, theta2=theta2, sigma1=sigma1, sigma2=sigma2)


__all__ = [
    "REWARD_RANGE",
    "NestedSCM",
    "gauss_hermite",
    "gibbs_policy_value",
    "joint_commit_gap",
    "poly_features",
    "pseudo_regret",
    "sample_scm",
    "scaled",
    "scaled_mean",
    "uniform_policy_value",
]


# --- oracles of policies on a known SCM -----------------------------------------------------------

REWARD_RANGE = (-10.0, 10.0)
"""Rewards are mapped to ``[0, 1]`` by ``clip((y + 10) / 20)`` for the PAC-Bayes certificate."""


def pseudo_regret(scm: NestedSCM, agent: Any, u: float, a1: int) -> float:
    """Regret of meta arm ``a1`` then ``agent.inner_actions`` at ``u`` against the optimum."""
    return float(scm.optimal_value(np.asarray(u))) - scm.response_value(u, a1, agent.inner_actions)


def scaled(y: np.ndarray) -> np.ndarray:
    lo, hi = REWARD_RANGE
    return np.clip((y - lo) / (hi - lo), 0.0, 1.0)


def scaled_mean(values: np.ndarray) -> np.ndarray:
    """Value in the certificate's units (``E[ỹ] ≈ (E[y] − lo) / (hi − lo)``; clipping is rare)."""
    lo, hi = REWARD_RANGE
    return (values - lo) / (hi - lo)


def uniform_policy_value(scm: NestedSCM, u_val: np.ndarray) -> float:
    """Mean scaled value over ``u_val`` of the uniform legacy policy (both levels uniform)."""
    nodes, w = scm.context_nodes(u_val)  # (U, K1, G)
    per_pair = np.einsum("ukgj,g->ukj", scm.reward_mean(nodes), w)
    return float(np.mean(scaled_mean(per_pair.mean(axis=(1, 2)))))


def gibbs_policy_value(
    scm: NestedSCM, agent: Any, u_val: np.ndarray, rng: np.random.Generator
) -> float:
    """Exact (quadrature) value of the Gibbs policy at ``u_val``, averaged over 64 draws.

    ``agent``: an NCTS learner (posteriors ``meta``/``inner`` with ``sample``, and
    ``meta_policy``/``inner_policy`` for given parameters)."""
    t1 = agent.meta.sample(rng, 64)
    t2 = agent.inner.sample(rng, 64)
    nodes, w = scm.context_nodes(u_val)  # (U, K1, G)
    rows = np.arange(u_val.size)
    values = []
    for m in range(t1.shape[0]):
        a1 = agent.meta_policy(t1[m], t2[m], u_val)
        c = nodes[rows, a1]  # (U, G)
        a2 = agent.inner_policy(t2[m], c)
        rewards = np.take_along_axis(scm.reward_mean(c), a2[..., None], axis=-1)[..., 0]
        values.append(float((rewards @ w).mean()))
    return float(np.mean(scaled_mean(np.asarray(values))))


def joint_commit_gap(scm: NestedSCM, u: np.ndarray) -> float:
    """Mean per-episode regret of committing to ``(a1, a2)`` before ``c`` with the *true* model:
    the price of the joint commit that no amount of learning removes."""
    nodes, w = scm.context_nodes(u)
    joint = np.einsum("ukgj,g->ukj", scm.reward_mean(nodes), w).max(axis=(1, 2))
    return float(np.mean(scm.optimal_value(u) - joint))
