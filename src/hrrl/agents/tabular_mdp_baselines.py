"""Classical model-based learners for episodic tabular MDPs, batched over many trials: the MDP
baselines of RL² (Duan et al. 2016 §5): random, Greedy, ε-greedy, PSRL, BEB and UCRL2.

Every learner keeps, per trial, the counts of observed transitions ``(s, a, s')`` and the sums of
rewards of each ``(s, a)`` (:class:`MDPHistory`); at the start of each episode it builds a model
from them and plans the whole ``H``-step episode by finite-horizon value iteration
(:func:`hrrl.core.tabular.finite_horizon_q`), then acts greedily on ``Q[h, s]`` (ties broken
uniformly at random).
The learners know nothing about where the MDPs come from except the conjugate prior they are given
(:class:`NormalDirichletPrior`: flat Dirichlet transitions, normal mean rewards with known noise).

* :class:`RandomMDPPolicy` — uniform actions.
* :class:`GreedyMDPPolicy` — value iteration on the posterior-mean MDP (the empirical MDP where
  data exist, shrunk towards the prior), optionally ε-greedy.
* :class:`PSRLPolicy` — posterior sampling (Osband et al. 2013): one MDP drawn from the posterior
  per episode.
* :class:`BEBPolicy` — Bayesian exploration bonus (Kolter & Ng 2009): posterior-mean MDP with
  reward bonus ``β / (1 + n(s, a))``.
* :class:`UCRL2Policy` — optimism in the face of uncertainty (Jaksch et al. 2010): extended value
  iteration over the L1 confidence sets of the transitions plus a reward confidence bonus, both
  widths scaled by ``scale`` (rewards here are Gaussian, not in [0, 1], so the scale is tuned).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from hrrl.core.rollout import TrialStep, run_trial
from hrrl.core.tabular import finite_horizon_q


@dataclass(frozen=True)
class NormalDirichletPrior:
    """Conjugate prior: ``P(·|s,a) ~ Dirichlet(alpha·1)``, ``μ(s,a) ~ N(mean, std²)``, rewards
    ``~ N(μ(s,a), noise_std²)``."""

    alpha: float = 1.0
    mean: float = 1.0
    std: float = 1.0
    noise_std: float = 1.0


@dataclass
class MDPHistory:
    """Per-trial counts: ``counts (B, S, A, S)`` transitions, ``reward_sum (B, S, A)``."""

    counts: np.ndarray
    reward_sum: np.ndarray
    horizon: int
    steps: int = 0

    @classmethod
    def empty(cls, batch: int, n_states: int, n_actions: int, horizon: int) -> MDPHistory:
        return cls(
            np.zeros((batch, n_states, n_actions, n_states)),
            np.zeros((batch, n_states, n_actions)),
            horizon,
        )

    @property
    def visits(self) -> np.ndarray:
        return self.counts.sum(axis=-1)

    def record(
        self, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        rows = np.arange(states.shape[0])
        self.counts[rows, states, actions, next_states] += 1
        self.reward_sum[rows, states, actions] += rewards
        self.steps += 1

    def posterior(self, prior: NormalDirichletPrior) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dirichlet parameters ``(B, S, A, S)``, reward posterior means and stds ``(B, S, A)``."""
        n = self.visits
        precision = 1.0 / prior.std**2 + n / prior.noise_std**2
        mean = (prior.mean / prior.std**2 + self.reward_sum / prior.noise_std**2) / precision
        return prior.alpha + self.counts, mean, 1.0 / np.sqrt(precision)

    def posterior_mean_mdp(self, prior: NormalDirichletPrior) -> tuple[np.ndarray, np.ndarray]:
        alphas, reward_mean, _ = self.posterior(prior)
        return alphas / alphas.sum(-1, keepdims=True), reward_mean


def optimistic_transitions(p_hat: np.ndarray, radius: np.ndarray, V: np.ndarray) -> np.ndarray:
    """The distribution in ``{p : ||p − p̂||₁ ≤ radius}`` (within the simplex) maximising ``p·V``
    (Jaksch et al. 2010, Fig. 2): mass ``radius/2`` moved to the best state, taken from the worst.

    ``p_hat (B, S, A, S)``, ``radius (B, S, A)``, ``V (B, S)``; returns ``(B, S, A, S)``."""
    p = p_hat.copy()
    order = np.argsort(V, axis=1, kind="stable")
    rows = np.arange(p.shape[0])
    best = order[:, -1]
    p[rows, :, :, best] = np.minimum(1.0, p_hat[rows, :, :, best] + radius / 2)
    excess = p.sum(-1) - 1.0
    for j in range(order.shape[1] - 1):
        idx = order[:, j]
        take = np.minimum(p[rows, :, :, idx], np.maximum(excess, 0.0))
        p[rows, :, :, idx] -= take
        excess -= take
    return p


def extended_value_iteration(
    p_hat: np.ndarray, r_upper: np.ndarray, radius: np.ndarray, horizon: int
) -> np.ndarray:
    """Finite-horizon optimistic ``Q[b, h, s, a]``: the best MDP in the confidence set, per step."""
    batch, n_states, n_actions = r_upper.shape
    Q = np.zeros((batch, horizon, n_states, n_actions))
    V = np.zeros((batch, n_states))
    for h in range(horizon - 1, -1, -1):
        p = optimistic_transitions(p_hat, radius, V)
        Q[:, h] = r_upper + np.einsum("bsat,bt->bsa", p, V)
        V = Q[:, h].max(axis=-1)
    return Q


class MDPPolicy(Protocol):
    @property
    def name(self) -> str: ...

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        """``Q (B, H, S, A)`` for the coming episode, or None to act uniformly at random."""
        ...

    @property
    def epsilon(self) -> float: ...


@dataclass(frozen=True)
class RandomMDPPolicy:
    name: str = "Random"
    epsilon: float = 1.0

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        return None


@dataclass(frozen=True)
class GreedyMDPPolicy:
    """Value iteration on the posterior-mean MDP; with probability ε a uniform action."""

    prior: NormalDirichletPrior = NormalDirichletPrior()
    epsilon: float = 0.0
    name: str = "Greedy"

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        P, R = history.posterior_mean_mdp(self.prior)
        return finite_horizon_q(P, R, history.horizon)


def sample_dirichlet(alphas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One Dirichlet draw per row of ``alphas (..., S)`` (normalised gammas)."""
    g = rng.gamma(alphas)
    return g / g.sum(-1, keepdims=True)


@dataclass(frozen=True)
class PSRLPolicy:
    """Posterior sampling: plan in one MDP drawn from the posterior at each episode start."""

    prior: NormalDirichletPrior = NormalDirichletPrior()
    name: str = "PSRL"
    epsilon: float = 0.0

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        alphas, mean, std = history.posterior(self.prior)
        P = sample_dirichlet(alphas, rng)
        R = mean + std * rng.standard_normal(mean.shape)
        return finite_horizon_q(P, R, history.horizon)


@dataclass(frozen=True)
class BEBPolicy:
    """Posterior-mean MDP with the exploration bonus ``beta / (1 + n(s, a))`` on rewards."""

    beta: float = 1.0
    prior: NormalDirichletPrior = NormalDirichletPrior()
    name: str = "BEB"
    epsilon: float = 0.0

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        P, R = history.posterior_mean_mdp(self.prior)
        return finite_horizon_q(P, R + self.beta / (1.0 + history.visits), history.horizon)


@dataclass(frozen=True)
class UCRL2Policy:
    """Extended value iteration over UCRL2's confidence sets (widths times ``scale``)."""

    scale: float = 1.0
    delta: float = 0.05
    name: str = "UCRL2"
    epsilon: float = 0.0

    def plan(self, history: MDPHistory, rng: np.random.Generator) -> np.ndarray | None:
        _, n_states, n_actions, _ = history.counts.shape
        n = np.maximum(history.visits, 1.0)
        t = max(history.steps, 1)
        visited = history.visits > 0
        r_hat = np.where(visited, history.reward_sum / n, 0.0)
        p_hat = np.where(visited[..., None], history.counts / n[..., None], 1.0 / n_states)
        log_term = np.log(2 * n_states * n_actions * t / self.delta)
        r_upper = r_hat + self.scale * np.sqrt(7 * log_term / (2 * n))
        radius = self.scale * np.sqrt(14 * n_states * np.log(2 * n_actions * t / self.delta) / n)
        return extended_value_iteration(p_hat, r_upper, radius, history.horizon)


def greedy_actions(q_rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of ``q_rows (B, A)`` with uniform tie-breaking."""
    is_max = q_rows >= q_rows.max(axis=1, keepdims=True) - 1e-12
    return np.argmax(np.where(is_max, rng.random(q_rows.shape), -1.0), axis=1)


class TabularTrialEnv(Protocol):
    """What :func:`play_mdp_trials` needs of a batched episodic tabular environment."""

    n_states: int
    n_actions: int
    horizon: int
    states: np.ndarray
    episode_end: bool

    @property
    def trial_length(self) -> int: ...

    def reset(self, rng: np.random.Generator, tasks: Any) -> np.ndarray: ...

    def transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class MDPLearnerConfig:
    """What an :class:`MDPLearner` is built for (its config in checkpoints)."""

    policy: str
    """The policy's report label."""
    n_states: int
    n_actions: int
    horizon: int
    """Steps per episode (a plan covers one episode)."""
    batch: int
    """Trials played side by side."""


class MDPLearner:
    """A tabular-MDP baseline under the learner contract (:mod:`hrrl.core.learner`): it plans from
    its history at each episode start, acts ε-greedily on the plan, and records each transition.
    Its learned state is the history and the current plan."""

    def __init__(
        self,
        policy: MDPPolicy,
        n_states: int,
        n_actions: int,
        horizon: int,
        batch: int,
        rng: np.random.Generator,
    ) -> None:
        self.policy = policy
        self.config = MDPLearnerConfig(policy.name, n_states, n_actions, horizon, batch)
        self.history = MDPHistory.empty(batch, n_states, n_actions, horizon)
        self.plan: np.ndarray | None = None
        self.rng = rng

    def act(self, states: np.ndarray) -> np.ndarray:
        """One action per trial in ``states`` (a new plan first when an episode starts)."""
        batch, h = self.config.batch, self.history.steps % self.config.horizon
        if h == 0:
            self.plan = self.policy.plan(self.history, self.rng)
        explore = self.rng.random(batch) < self.policy.epsilon
        random_actions = np.asarray(self.rng.integers(0, self.config.n_actions, size=batch))
        if self.plan is None:
            return random_actions
        chosen = greedy_actions(self.plan[np.arange(batch), h, states], self.rng)
        return np.where(explore, random_actions, chosen)

    def update(
        self, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        self.history.record(states, actions, rewards, next_states)

    def state_arrays(self) -> dict[str, torch.Tensor]:
        c, h = self.config, self.history
        plan = np.zeros((c.batch, c.horizon, c.n_states, c.n_actions))
        if self.plan is not None:
            plan[...] = self.plan
        return {
            "counts": torch.from_numpy(h.counts.copy()),
            "reward_sum": torch.from_numpy(h.reward_sum.copy()),
            "steps": torch.tensor([h.steps], dtype=torch.int64),
            "plan": torch.from_numpy(plan),
            "planned": torch.tensor([self.plan is not None]),
        }

    def load_state_arrays(self, arrays: Mapping[str, torch.Tensor]) -> None:
        h = self.history
        np.copyto(h.counts, arrays["counts"].numpy())
        np.copyto(h.reward_sum, arrays["reward_sum"].numpy())
        h.steps = int(arrays["steps"][0])
        self.plan = arrays["plan"].numpy().copy() if bool(arrays["planned"][0]) else None


def play_mdp_trials(
    policy: MDPPolicy,
    env: TabularTrialEnv,
    tasks: Any,
    env_rng: np.random.Generator,
    rng: np.random.Generator,
) -> np.ndarray:
    """Total reward of one trial per task, ``(B,)``: an :class:`MDPLearner` plans at each episode
    start, acts, records (:func:`~hrrl.core.rollout.run_trial`; the observation is the current
    states)."""
    env.reset(env_rng, tasks)
    learner = MDPLearner(policy, env.n_states, env.n_actions, env.horizon, env.states.shape[0], rng)

    def step(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, dict[str, Any]]:
        states, rewards, next_states = env.transition(actions)
        return env.states, rewards, env.episode_end, {"states": states, "next": next_states}

    def observe(step: TrialStep) -> None:
        learner.update(step.info["states"], step.action, step.reward, step.info["next"])

    return run_trial(step, env.states, env.trial_length, learner.act, observe)
