"""Nested Causal Thompson Sampling (NCTS) and a joint-regression Thompson baseline.

NCTS (seeds/003, line 2) "draws one mechanism-factorised belief per episode and acts recursively
under it". Here a *nested contextual causal bandit* has two levels: the agent sees an exogenous
context ``u``, picks a meta arm ``a1``, then sees the inner context ``c`` that ``a1`` caused and
picks an inner arm ``a2``, and receives ``y``. NCTS keeps one conjugate Bayesian linear regression
per mechanism and arm — ``c | u, a1`` on features ``φ1(u)`` and ``y | c, a2`` on ``φ2(c)``
(polynomials of configured degree, known noise) — and per episode:

1. draws one sample ``θ̃ = (θ̃1, θ̃2)`` from the factorised posterior;
2. **recursive commit**: picks ``a1 = argmax E_{c ~ N(θ̃1[a1]·φ1(u), σ1²)}[max_a2 θ̃2[a2]·φ2(c)]``
   (Gauss–Hermite quadrature), then after seeing ``c`` picks ``a2 = argmax θ̃2[a2]·φ2(c)``;
   the **joint commit** ablation picks the pair ``(a1, a2)`` before ``c`` is seen;
3. updates the two mechanism posteriors with ``(u, a1, c)`` and ``(c, a2, y)``.

:class:`JointRegressionTS` is the baseline: one Bayesian regression of ``y`` on ``u`` per arm
pair ``(a1, a2)``, on random Fourier features (an RFF approximation of a GP with an RBF kernel) or
on polynomial features, committing to the pair at the start of the episode (it never models
``c``). The polynomial variant with degree ``d1·d2`` contains the true ``E[y | u, a1, a2]`` of a
polynomial SCM, so it is "the same function class" seen jointly.

The PAC-Bayes helpers at the end certify an off-policy lower bound on a Gibbs policy's value from
logged data (see :func:`pac_bayes_kl_lower`); which bound the paper proves is not in its abstract,
so this certificate is our construction (documented in the NCTS experiment report).

Nothing here knows a particular SCM: contexts are scalars, mechanisms are polynomial in them.

No episode loop (:mod:`hrrl.core.rollout`): an "episode" of a nested causal bandit is one round
of two decisions whose second observation (``c``) is drawn by the SCM *given* the first decision,
with no state carried to the next round, so the learner exposes ``begin_episode(u) → a1``,
``act_inner(c) → a2`` and ``update(u, a1, c, a2, y)`` and the task's SCM drives the round; a
gymnasium-style reset/step wrapper would add nothing but an adapter.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.core.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from hrrl.core.learner import StateArrays


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """``(…,) → (…, degree + 1)``: ``(1, x, x², …)``."""
    x = np.asarray(x, dtype=float)
    return np.stack([x**k for k in range(degree + 1)], axis=-1)


def _hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(n)
    return nodes, weights / math.sqrt(2.0 * math.pi)


# --- conjugate Bayesian linear regression, one per arm -------------------------------------------


@dataclass
class BayesLinearArms(StateArrays):
    """``K`` independent Bayesian linear regressions ``y = w_k · x + N(0, noise²)``,
    ``w_k ~ N(0, diag(prior_var))``; the posterior is kept as precision ``Λ_k`` and
    ``b_k = Σ x y / noise²`` so that ``mean = Λ⁻¹ b``, ``cov = Λ⁻¹`` (exact, order-free)."""

    STATE = ("precision", "b")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    precision: np.ndarray
    """``(K, d, d)`` posterior precision matrices."""
    b: np.ndarray
    """``(K, d)`` precision-weighted means."""
    noise: float
    """Known observation noise standard deviation."""

    @classmethod
    def prior(cls, k: int, prior_var: np.ndarray, noise: float) -> BayesLinearArms:
        prior_var = np.asarray(prior_var, dtype=float)
        precision = np.broadcast_to(np.diag(1.0 / prior_var), (k, prior_var.size, prior_var.size))
        return cls(precision.copy(), np.zeros((k, prior_var.size)), float(noise))

    def update(self, arm: int, x: np.ndarray, y: float) -> None:
        x = np.asarray(x, dtype=float)
        self.precision[arm] += np.outer(x, x) / self.noise**2
        self.b[arm] += x * y / self.noise**2

    def mean(self) -> np.ndarray:
        return np.linalg.solve(self.precision, self.b[..., None])[..., 0]

    def cov(self) -> np.ndarray:
        return np.linalg.inv(self.precision)

    def sample(self, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
        """Posterior draws: ``(K, d)``, or ``(n, K, d)`` when ``n`` is given."""
        chol = np.linalg.cholesky(self.cov())
        shape = (1 if n is None else n, *self.b.shape)
        z = rng.standard_normal(shape)
        draws = self.mean()[None] + np.einsum("kij,nkj->nki", chol, z)
        return draws[0] if n is None else draws


def gaussian_kl(mean_q, cov_q, mean_p, cov_p) -> float:
    """``KL(N(mean_q, cov_q) || N(mean_p, cov_p))``, batched over leading axes and summed."""
    d = mean_q.shape[-1]
    inv_p = np.linalg.inv(cov_p)
    diff = (mean_p - mean_q)[..., None]
    trace = np.einsum("...ij,...ji->...", inv_p, cov_q)
    maha = (np.swapaxes(diff, -1, -2) @ inv_p @ diff)[..., 0, 0]
    logdet = np.linalg.slogdet(cov_p)[1] - np.linalg.slogdet(cov_q)[1]
    return float(np.sum(0.5 * (trace + maha - d + logdet)))


# --- NCTS ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NCTSConfig:
    """Nested Causal Thompson Sampling on a two-level nested causal bandit."""

    n_meta: int = 3
    """Meta (strategic) arms."""
    n_inner: int = 3
    """Inner (tactical) arms."""
    meta_degree: int = 1
    """Degree of the polynomial features ``φ1(u)`` of the meta mechanism ``c | u, a1``."""
    inner_degree: int = 2
    """Degree of the polynomial features ``φ2(c)`` of the inner mechanism ``y | c, a2``."""
    meta_noise: float = 0.5
    """Known noise std of the inner context (``σ1``)."""
    inner_noise: float = 0.5
    """Known noise std of the reward (``σ2``)."""
    prior_std: tuple[float, ...] = (1.0, 1.0, 0.3)
    """Prior std of the degree-k coefficient (entry k), both mechanisms."""
    commit: str = "recursive"
    """``recursive``: a2 chosen after c is seen; ``joint``: (a1, a2) chosen before."""
    quadrature: int = 16
    """Gauss–Hermite nodes for the expectation over ``c`` in the meta decision."""
    seed: int = 0
    """Seed of the agent's generator (posterior draws, tie-breaks)."""

    def __post_init__(self) -> None:
        if self.commit not in ("recursive", "joint"):
            raise ValueError(f"commit must be 'recursive' or 'joint', not {self.commit!r}")


class NCTSAgent(StateArrays):
    """Acts with :meth:`begin_episode` (→ a1) and :meth:`act_inner` (→ a2), learns with
    :meth:`update`; :meth:`inner_actions` gives the current belief's inner response to many
    contexts at once (for exact evaluation)."""

    STATE = ("meta", "inner")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    name = "NCTS"

    def __init__(self, config: NCTSConfig) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.meta = BayesLinearArms.prior(
            config.n_meta, self._prior_var(config.meta_degree), config.meta_noise
        )
        self.inner = BayesLinearArms.prior(
            config.n_inner, self._prior_var(config.inner_degree), config.inner_noise
        )
        self.episodes = 0
        self._theta1: np.ndarray | None = None
        self._theta2: np.ndarray | None = None
        self._committed_inner: int | None = None

    def _prior_var(self, degree: int) -> np.ndarray:
        std = np.asarray(self.config.prior_std, dtype=float)
        if std.size < degree + 1:
            std = np.concatenate([std, np.full(degree + 1 - std.size, std[-1])])
        return std[: degree + 1] ** 2

    # --- acting ---------------------------------------------------------------------------------

    def meta_scores(
        self, u: float, theta1: np.ndarray, theta2: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(K1, K2)`` expected reward of ``(a1, a2)`` if a2 is fixed, and ``(K1,)`` recursive
        value ``E_c[max_a2 …]`` — both under the belief ``(θ1, θ2)``."""
        cfg = self.config
        z, w = _hermite(cfg.quadrature)
        means = poly_features(np.asarray(u), cfg.meta_degree) @ theta1.T
        c = means[:, None] + cfg.meta_noise * z  # (K1, G)
        values = poly_features(c, cfg.inner_degree) @ theta2.T  # (K1, G, K2)
        return np.einsum("kgj,g->kj", values, w), values.max(axis=-1) @ w

    def begin_episode(self, u: float, greedy: bool = False) -> int:
        """Draw this episode's belief (posterior mean if ``greedy``) and return the meta arm."""
        if greedy:
            self._theta1, self._theta2 = self.meta.mean(), self.inner.mean()
        else:
            self._theta1, self._theta2 = self.meta.sample(self.rng), self.inner.sample(self.rng)
        joint, recursive = self.meta_scores(u, self._theta1, self._theta2)
        if self.config.commit == "recursive":
            self._committed_inner = None
            return int(np.argmax(recursive))
        a1, a2 = np.unravel_index(int(np.argmax(joint)), joint.shape)
        self._committed_inner = int(a2)
        return int(a1)

    def inner_actions(self, contexts: np.ndarray) -> np.ndarray:
        """Inner arms the current belief plays at each context (the committed arm if joint)."""
        contexts = np.asarray(contexts, dtype=float)
        if self._committed_inner is not None:
            return np.full(contexts.shape, self._committed_inner, dtype=np.int64)
        if self._theta2 is None:
            raise RuntimeError("begin_episode must be called first")
        values = poly_features(contexts, self.config.inner_degree) @ self._theta2.T
        return values.argmax(axis=-1)

    def act_inner(self, c: float) -> int:
        return int(self.inner_actions(np.asarray([c]))[0])

    def update(self, u: float, a1: int, c: float, a2: int, y: float) -> None:
        """Each mechanism's posterior learns from its own parents (the factorisation)."""
        self.meta.update(a1, poly_features(np.asarray(u), self.config.meta_degree), c)
        self.inner.update(a2, poly_features(np.asarray(c), self.config.inner_degree), y)
        self.episodes += 1

    # --- certificate support --------------------------------------------------------------------

    def posterior_kl(self) -> float:
        """``KL(posterior || prior)`` of both mechanisms (the PAC-Bayes complexity term)."""
        cfg = self.config
        total = 0.0
        for post, degree in ((self.meta, cfg.meta_degree), (self.inner, cfg.inner_degree)):
            prior_cov = np.diag(self._prior_var(degree))
            k = post.b.shape[0]
            total += gaussian_kl(
                post.mean(),
                post.cov(),
                np.zeros_like(post.b),
                np.broadcast_to(prior_cov, (k, *prior_cov.shape)),
            )
        return total

    def meta_policy(
        self, theta1: np.ndarray, theta2: np.ndarray, u: np.ndarray, grid: int = 513
    ) -> np.ndarray:
        """Recursive meta arms a belief ``(θ1, θ2)`` plays at each context ``u (n,)``.

        The recursive value ``g(m) = E_{c ~ N(m, σ1²)}[max_a2 θ2[a2]·φ2(c)]`` depends on ``u``
        only through the context mean ``m``, so for many contexts it is tabulated on ``grid``
        points spanning the means and linearly interpolated (error ~1e-5 on these scales; it
        can only matter at near-ties of the meta arms)."""
        cfg = self.config
        z, w = _hermite(cfg.quadrature)
        means = poly_features(u, cfg.meta_degree) @ theta1.T  # (n, K1)
        if means.size <= grid:
            ctx = means[..., None] + cfg.meta_noise * z
            values = (poly_features(ctx, cfg.inner_degree) @ theta2.T).max(axis=-1) @ w
            return values.argmax(axis=-1)
        m_grid = np.linspace(means.min(), means.max(), grid)
        ctx = m_grid[:, None] + cfg.meta_noise * z
        g = (poly_features(ctx, cfg.inner_degree) @ theta2.T).max(axis=-1) @ w
        pos = (means - m_grid[0]) / (m_grid[1] - m_grid[0] + 1e-300)
        low = np.clip(pos.astype(np.int64), 0, grid - 2)
        frac = pos - low
        return (g[low] * (1.0 - frac) + g[low + 1] * frac).argmax(axis=-1)

    def inner_policy(self, theta2: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Inner arms a belief ``θ2`` plays at each context ``c`` (any shape)."""
        return (poly_features(c, self.config.inner_degree) @ theta2.T).argmax(axis=-1)

    def gibbs_actions(
        self, u: np.ndarray, c: np.ndarray, n_samples: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Recursive actions ``(M, n)`` of ``M`` posterior draws on logged ``(u_i, c_i)``: the meta
        arm each draw picks at ``u_i`` and the inner arm it picks at ``c_i``."""
        t1 = self.meta.sample(rng, n_samples)  # (M, K1, d1)
        t2 = self.inner.sample(rng, n_samples)  # (M, K2, d2)
        a1 = np.stack([self.meta_policy(t1[m], t2[m], u) for m in range(n_samples)])
        a2 = np.stack([self.inner_policy(t2[m], c) for m in range(n_samples)])
        return a1, a2

    # --- persistence ----------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        tensors = {
            "meta": {"precision": self.meta.precision, "b": self.meta.b},
            "inner": {"precision": self.inner.precision, "b": self.inner.b},
        }
        state = {
            "kind": "ncts",
            "config": asdict(self.config),
            "episodes": self.episodes,
            "rng": rng_state(self.rng),
        }
        return save_checkpoint(folder, tensors, state)

    @classmethod
    def load(cls, folder: str | Path) -> NCTSAgent:
        tensors, state = load_checkpoint(folder)
        config = state["config"]
        config["prior_std"] = tuple(config["prior_std"])
        agent = cls(NCTSConfig(**config))
        for name in ("meta", "inner"):
            post = getattr(agent, name)
            post.precision = tensors[name]["precision"].numpy().astype(float)
            post.b = tensors[name]["b"].numpy().astype(float)
        agent.episodes = int(state["episodes"])
        agent.rng = restore_rng(state["rng"])
        return agent


# --- joint regression baseline --------------------------------------------------------------------


@dataclass(frozen=True)
class JointTSConfig:
    """Thompson sampling on one Bayesian regression of ``y`` on ``u`` per arm pair."""

    n_meta: int = 3
    """Meta arms."""
    n_inner: int = 3
    """Inner arms."""
    features: str = "rff"
    """``rff``: random Fourier features of an RBF kernel (≈ GP); ``poly``: polynomial."""
    n_features: int = 64
    """Random Fourier features (``rff``)."""
    lengthscale: float = 1.0
    """RBF lengthscale in units of ``u`` (``rff``)."""
    signal_std: float = 2.0
    """GP signal std (``rff``): prior std of the function around the bias."""
    bias_std: float = 2.0
    """Prior std of the constant feature (``rff``)."""
    degree: int = 2
    """Polynomial degree in ``u`` (``poly``)."""
    prior_std: float = 2.0
    """Prior std of every polynomial coefficient (``poly``)."""
    noise: float = 1.0
    """Assumed std of ``y`` given ``(u, a1, a2)`` (context noise propagated plus reward noise)."""
    seed: int = 0
    """Seed for the random features and posterior draws."""

    def __post_init__(self) -> None:
        if self.features not in ("rff", "poly"):
            raise ValueError(f"features must be 'rff' or 'poly', not {self.features!r}")


class JointRegressionTS(StateArrays):
    """Joint-commit Thompson sampling over arm pairs; the same acting interface as NCTS."""

    STATE = ("post",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, config: JointTSConfig) -> None:
        self.config = config
        self.name = "RFF-GP joint TS" if config.features == "rff" else "Polynomial joint TS"
        feature_rng = np.random.default_rng([config.seed, 1])
        self.rng = np.random.default_rng([config.seed, 2])
        self.omega = feature_rng.standard_normal(config.n_features) / config.lengthscale
        self.phase = feature_rng.uniform(0.0, 2.0 * np.pi, config.n_features)
        if config.features == "rff":
            prior_var = np.concatenate([[config.bias_std**2], np.ones(config.n_features)])
        else:
            prior_var = np.full(config.degree + 1, config.prior_std**2)
        self.post = BayesLinearArms.prior(config.n_meta * config.n_inner, prior_var, config.noise)
        self.episodes = 0
        self._pair: tuple[int, int] | None = None

    def features(self, u: np.ndarray) -> np.ndarray:
        cfg = self.config
        u = np.asarray(u, dtype=float)
        if cfg.features == "poly":
            return poly_features(u, cfg.degree)
        scale = cfg.signal_std * math.sqrt(2.0 / cfg.n_features)
        rff = scale * np.cos(u[..., None] * self.omega + self.phase)
        return np.concatenate([np.ones((*u.shape, 1)), rff], axis=-1)

    def begin_episode(self, u: float, greedy: bool = False) -> int:
        weights = self.post.mean() if greedy else self.post.sample(self.rng)
        scores = weights @ self.features(np.asarray(u))
        pair = np.unravel_index(int(np.argmax(scores)), (self.config.n_meta, self.config.n_inner))
        self._pair = (int(pair[0]), int(pair[1]))
        return self._pair[0]

    def inner_actions(self, contexts: np.ndarray) -> np.ndarray:
        if self._pair is None:
            raise RuntimeError("begin_episode must be called first")
        return np.full(np.shape(contexts), self._pair[1], dtype=np.int64)

    def act_inner(self, c: float) -> int:
        return int(self.inner_actions(np.asarray([c]))[0])

    def update(self, u: float, a1: int, c: float, a2: int, y: float) -> None:
        self.post.update(a1 * self.config.n_inner + a2, self.features(np.asarray(u)), y)
        self.episodes += 1

    def save(self, folder: str | Path) -> Path:
        tensors = {"post": {"precision": self.post.precision, "b": self.post.b}}
        state = {
            "kind": "joint-ts",
            "config": asdict(self.config),
            "episodes": self.episodes,
            "rng": rng_state(self.rng),
        }
        return save_checkpoint(folder, tensors, state)

    @classmethod
    def load(cls, folder: str | Path) -> JointRegressionTS:
        tensors, state = load_checkpoint(folder)
        agent = cls(JointTSConfig(**state["config"]))
        agent.post.precision = tensors["post"]["precision"].numpy().astype(float)
        agent.post.b = tensors["post"]["b"].numpy().astype(float)
        agent.episodes = int(state["episodes"])
        agent.rng = restore_rng(state["rng"])
        return agent


# --- PAC-Bayes certificate ------------------------------------------------------------------------


def kl_bernoulli(p: float, q: float) -> float:
    """``kl(p || q)`` between Bernoulli distributions (``p, q ∈ [0, 1]``)."""
    eps = 1e-15
    q = min(max(q, eps), 1 - eps)
    out = 0.0
    if p > 0:
        out += p * math.log(p / q)
    if p < 1:
        out += (1 - p) * math.log((1 - p) / (1 - q))
    return out


def kl_inverse_lower(p_hat: float, budget: float) -> float:
    """The smallest ``q ≤ p_hat`` with ``kl(p_hat || q) ≤ budget`` (bisection, 1e-12)."""
    lo, hi = 0.0, p_hat
    if kl_bernoulli(p_hat, 0.0) <= budget:
        return 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if kl_bernoulli(p_hat, mid) > budget:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return hi


def pac_bayes_kl_lower(p_hat: float, kl_qp: float, n: int, delta: float) -> float:
    """PAC-Bayes-kl lower bound (Seeger 2002; Maurer 2004) on the mean ``p`` of a ``[0, 1]``
    quantity: with probability ``≥ 1 − δ``, simultaneously for all posteriors ``Q``,
    ``kl(p̂_Q || p_Q) ≤ (KL(Q || P) + ln(2√n / δ)) / n``."""
    budget = (kl_qp + math.log(2.0 * math.sqrt(n) / delta)) / n
    return kl_inverse_lower(p_hat, budget)


def anytime_delta(delta: float, n: int) -> float:
    """``δ_n = δ / (n (n + 1))``: a union bound over every data size ``n ≥ 1`` (Σ δ_n = δ), so a
    certificate checked after each new datum holds at all times at once."""
    return delta / (n * (n + 1))


def empirical_bernstein_lower(values: np.ndarray, delta: float) -> float:
    """Maurer & Pontil (2009) lower bound on the mean of i.i.d. ``[0, 1]`` values."""
    m = values.size
    var = float(values.var(ddof=1)) if m > 1 else 0.25
    log_term = math.log(2.0 / delta)
    return float(values.mean()) - math.sqrt(2 * var * log_term / m) - 7 * log_term / (3 * (m - 1))


@dataclass(frozen=True)
class Certificate:
    """An off-policy value certificate for a Gibbs policy ``π_Q`` from logged data."""

    n: int
    """Logged episodes."""
    estimate: float
    """Importance-weighted estimate of the policy's value (scaled-reward units)."""
    lower: float
    """Certified lower bound on the value (holds with probability ≥ 1 − δ, anytime)."""
    kl: float
    """``KL(Q || P)``."""
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> float:
        return self.estimate - self.lower


def certify_gibbs_value(
    matches: np.ndarray,
    scaled_reward: np.ndarray,
    propensity: np.ndarray,
    kl_qp: float,
    delta: float,
) -> Certificate:
    """Certify ``V(π_Q) = E[ỹ]`` of the Gibbs policy from logged data.

    ``matches (M, n)`` says whether posterior draw ``m`` would have played the logged arms of
    episode ``i`` (at both levels); ``scaled_reward (n,)`` in ``[0, 1]``; ``propensity (n,)`` the
    behaviour probability of the logged arms (product over levels). The importance-weighted term
    ``1[match] ỹ p_min / propensity`` is in ``[0, 1]``; its Gibbs mean is estimated from the ``M``
    draws with an empirical-Bernstein lower bound (δ/2; given the data each draw's mean lies in
    ``[0, mean_i ỹ_i p_min / propensity_i]``, the range used) and bounded by PAC-Bayes-kl (δ/2,
    anytime over ``n``). Returns value-scale numbers (divided back by ``p_min``).
    """
    n = scaled_reward.size
    p_min = float(propensity.min())
    weighted = scaled_reward * p_min / propensity  # (n,) in [0, 1]
    per_draw = (matches * weighted[None, :]).mean(axis=1)  # Gibbs risk of each draw on the data
    # given the data, the draws' values are i.i.d. in [0, mean(weighted)]: rescale for Bernstein
    scale = max(float(weighted.mean()), 1e-12)
    p_hat_lower = max(0.0, scale * empirical_bernstein_lower(per_draw / scale, delta / 2))
    lower = pac_bayes_kl_lower(p_hat_lower, kl_qp, n, anytime_delta(delta / 2, n))
    return Certificate(
        n=n,
        estimate=float(per_draw.mean()) / p_min,
        lower=lower / p_min,
        kl=kl_qp,
        extras={"mc_lower": p_hat_lower / p_min, "draws": int(matches.shape[0])},
    )


__all__ = [
    "BayesLinearArms",
    "Certificate",
    "JointRegressionTS",
    "JointTSConfig",
    "NCTSAgent",
    "NCTSConfig",
    "anytime_delta",
    "certify_gibbs_value",
    "gaussian_kl",
    "kl_bernoulli",
    "kl_inverse_lower",
    "pac_bayes_kl_lower",
    "poly_features",
]
