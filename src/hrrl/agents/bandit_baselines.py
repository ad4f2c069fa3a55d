"""Classic Bernoulli-bandit policies, batched over many trials: the baselines of RL² (Duan 2016).

Every policy chooses arms for ``B`` trials at once from the per-arm success and pull counts
(:class:`BanditHistory`); ties are broken uniformly at random with the policy's generator.
Methods whose index is undefined for an arm never pulled (Greedy, ε-greedy, UCB1) pull the untried
arms first, in random order — unless ``use_prior`` is set, in which case they use Beta(1, 1)
pseudo-counts (posterior means) and pull no arm by force; with ``k ≥ n`` the forced first pulls
alone use up the whole trial.

* :class:`RandomPolicy` — uniform arm.
* :class:`GreedyPolicy` — highest empirical mean.
* :class:`EpsilonGreedyPolicy` — uniform arm with probability ε, else greedy.
* :class:`UCB1Policy` — ``mean + c·sqrt(ln t / pulls)`` with ``c = sqrt(2)`` (Auer et al. 2002).
* :class:`ThompsonPolicy` — sample ``p_a ~ Beta(1 + s_a, 1 + f_a)`` and pull the best sample.
* :class:`FiniteHorizonGittinsPolicy` — the finite-horizon Gittins index (Kaufmann 2018) of each
  arm's Beta posterior with the number of pulls left, computed by calibration dynamic
  programming (feasible for every (n, k) here: cost O(n³) per horizon, independent of k).
* :class:`BayesOptimalPolicy` — the exact Bayes-optimal policy for the uniform Beta(1, 1) prior
  and horizon ``n``, by dynamic programming over the multiset of the arms' posterior counts.
  Feasible only for small ``n`` (``n = 10``: every k; ``n = 100``: the state space is
  astronomically large) — see :func:`bayes_optimal_feasible`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import numpy as np
import torch

from hrrl.core.rollout import run_trial
from hrrl.envs.bandits import BatchedBernoulliBandit


@dataclass
class BanditHistory:
    """Per-trial, per-arm counts of successes and pulls after ``t`` of ``n_pulls`` pulls."""

    successes: np.ndarray
    """Successes of each arm, int64 ``(B, k)``."""
    pulls: np.ndarray
    """Pulls of each arm, int64 ``(B, k)``."""
    n_pulls: int
    """Trial length (horizon)."""
    t: int = 0
    """Pulls made so far in each trial."""

    @classmethod
    def empty(cls, batch: int, k: int, n_pulls: int) -> BanditHistory:
        zeros = np.zeros((batch, k), dtype=np.int64)
        return cls(successes=zeros, pulls=zeros.copy(), n_pulls=n_pulls)

    @property
    def failures(self) -> np.ndarray:
        return self.pulls - self.successes

    def record(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        rows = np.arange(actions.shape[0])
        self.pulls[rows, actions] += 1
        self.successes[rows, actions] += rewards.astype(np.int64)
        self.t += 1


class BanditPolicy(Protocol):
    @property
    def name(self) -> str: ...

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        """One arm per trial, int64 ``(B,)``."""
        ...


def argmax_random_tiebreak(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax of ``values (B, k)``, choosing uniformly among the tied maxima."""
    is_max = values == values.max(axis=1, keepdims=True)
    noise = rng.random(values.shape)
    return np.argmax(np.where(is_max, noise, -1.0), axis=1)


def posterior_means(history: BanditHistory) -> np.ndarray:
    """Beta(1, 1)-posterior means ``(1 + successes) / (2 + pulls)`` (0.5 for untried arms)."""
    return (1.0 + history.successes) / (2.0 + history.pulls)


def arm_values(history: BanditHistory, use_prior: bool) -> np.ndarray:
    """Posterior means if ``use_prior``, else empirical means (``+inf`` for untried arms)."""
    return posterior_means(history) if use_prior else empirical_means(history)


def empirical_means(history: BanditHistory) -> np.ndarray:
    """Successes / pulls, with ``+inf`` for untried arms (so they are pulled first)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        means = history.successes / history.pulls
    return np.where(history.pulls > 0, means, np.inf)


@dataclass(frozen=True)
class RandomPolicy:
    """Uniformly random arm."""

    name: str = "Random"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        batch, k = history.pulls.shape
        return np.asarray(rng.integers(0, k, size=batch))


@dataclass(frozen=True)
class GreedyPolicy:
    """Highest empirical mean (untried arms first) or posterior mean; ties at random."""

    use_prior: bool = False
    """Rank by the Beta(1, 1) posterior mean (untried arms count as 0.5, no forced first pull)."""
    name: str = "Greedy"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        return argmax_random_tiebreak(arm_values(history, self.use_prior), rng)


@dataclass(frozen=True)
class EpsilonGreedyPolicy:
    """Uniform arm with probability ``epsilon``, else :class:`GreedyPolicy`'s choice."""

    epsilon: float = 0.1
    """Exploration probability."""
    use_prior: bool = False
    """Greedy part ranks by the Beta(1, 1) posterior mean instead of the empirical mean."""
    name: str = "ε-greedy (ε=0.1)"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        batch, k = history.pulls.shape
        greedy = argmax_random_tiebreak(arm_values(history, self.use_prior), rng)
        explore = rng.random(batch) < self.epsilon
        return np.where(explore, rng.integers(0, k, size=batch), greedy)


def ucb1_indices(
    history: BanditHistory, c: float = math.sqrt(2.0), use_prior: bool = False
) -> np.ndarray:
    """``mean_a + c·sqrt(ln t / pulls_a)`` with ``t`` the pulls so far; ``+inf`` if untried.

    With ``use_prior``: ``(1 + s_a) / (2 + pulls_a) + c·sqrt(ln max(t, 1) / (1 + pulls_a))``,
    Beta(1, 1) pseudo-counts that make the index finite for untried arms.
    """
    total = max(history.t, 1)
    if use_prior:
        return posterior_means(history) + c * np.sqrt(math.log(total) / (1.0 + history.pulls))
    with np.errstate(divide="ignore", invalid="ignore"):
        bonus = c * np.sqrt(math.log(total) / history.pulls)
        index = history.successes / history.pulls + bonus
    return np.where(history.pulls > 0, index, np.inf)


@dataclass(frozen=True)
class UCB1Policy:
    """UCB1 (Auer, Cesa-Bianchi & Fischer 2002): pull each arm once, then the highest index."""

    c: float = math.sqrt(2.0)
    """Exploration constant; ``sqrt(2)`` is the textbook ``sqrt(2 ln t / n_a)`` bonus."""
    use_prior: bool = False
    """Beta(1, 1) pseudo-counts instead of pulling every arm once (see :func:`ucb1_indices`)."""
    name: str = "UCB1"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        return argmax_random_tiebreak(ucb1_indices(history, self.c, self.use_prior), rng)


@dataclass(frozen=True)
class ThompsonPolicy:
    """Thompson sampling with a uniform Beta(1, 1) prior on every arm."""

    name: str = "Thompson sampling"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        samples = rng.beta(1.0 + history.successes, 1.0 + history.failures)
        return argmax_random_tiebreak(samples, rng)


# --- finite-horizon Gittins index ----------------------------------------------------------------


@lru_cache(maxsize=4)
def finite_horizon_gittins_table(n_pulls: int, grid_size: int = 201) -> np.ndarray:
    """``G[r, s, f]``: the finite-horizon Gittins index of a Beta(1 + s, 1 + f) arm, r pulls left.

    Calibration (Kaufmann 2018): ``G`` is the constant reward ``λ`` per pull at which retiring
    now (``r·λ``) equals playing the arm optimally with the option to retire later,
    ``V_r(s, f; λ) = max(r·λ, μ(1 + V_{r−1}(s+1, f)) + (1 − μ) V_{r−1}(s, f+1))``, ``μ = (1+s)
    / (2+s+f)``. ``V`` is solved for a grid of ``λ`` at once; ``continue − r·λ`` is decreasing
    and piecewise linear in ``λ``, so the crossing is linearly interpolated between grid points.
    Entries with ``s + f > n_pulls − r`` are unreachable and left as computed.
    """
    size = n_pulls + 1
    lam = np.linspace(0.0, 1.0, grid_size)[:, None, None]
    s = np.arange(size)[:, None]
    f = np.arange(size)[None, :]
    mean = (1.0 + s) / (2.0 + s + f)
    value = np.zeros((grid_size, size + 1, size + 1))
    table = np.zeros((n_pulls + 1, size, size))
    for r in range(1, n_pulls + 1):
        cont = mean * (1.0 + value[:, 1:, :-1]) + (1.0 - mean) * value[:, :-1, 1:]
        table[r] = _crossing(cont - r * lam, lam[:, 0, 0])
        value[:, :-1, :-1] = np.maximum(r * lam, cont)
    return table


def _crossing(diff: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Per state, the ``λ`` where the decreasing ``diff[:, s, f]`` crosses zero (interpolated)."""
    positive = diff > 0
    last = np.clip(positive.sum(axis=0) - 1, 0, lam.size - 2)
    lo = np.take_along_axis(diff, last[None], axis=0)[0]
    hi = np.take_along_axis(diff, last[None] + 1, axis=0)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(lo > hi, lo / (lo - hi), 0.0)
    step = lam[1] - lam[0]
    crossing = lam[last] + np.clip(frac, 0.0, 1.0) * step
    return np.where(positive.any(axis=0), crossing, 0.0)


@dataclass(frozen=True)
class FiniteHorizonGittinsPolicy:
    """Highest finite-horizon Gittins index given the pulls left (Kaufmann 2018)."""

    n_pulls: int
    """Horizon the index table is computed for."""
    name: str = "Gittins (finite-horizon)"
    """Label in reports."""

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        table = finite_horizon_gittins_table(self.n_pulls)
        remaining = self.n_pulls - history.t
        index = table[remaining, history.successes, history.failures]
        return argmax_random_tiebreak(index, rng)


# --- exact Bayes-optimal policy ------------------------------------------------------------------

ArmStates = tuple[tuple[int, int], ...]
"""Sorted ``(successes, failures)`` of the arms pulled at least once."""


def bayes_optimal_feasible(n_pulls: int, k: int) -> bool:
    """Whether the exact DP is cheap enough here (states grow ~exponentially in ``min(n, k)``)."""
    return n_pulls <= 12 or k <= 1


@dataclass
class BayesOptimalPolicy:
    """The Bayes-optimal policy under i.i.d. U[0, 1] arms and horizon ``n_pulls`` (exact DP).

    The posterior state is the multiset of the arms' ``(successes, failures)``; arms with equal
    counts are interchangeable, so the value function is memoised on the sorted tuple of the
    tried arms' counts (untried arms are ``(0, 0)``).
    """

    k: int
    """Number of arms."""
    n_pulls: int
    """Horizon."""
    name: str = "Bayes-optimal (exact DP)"
    """Label in reports."""
    _values: dict[ArmStates, float] = field(default_factory=dict, repr=False)

    def value(self, arms: ArmStates = ()) -> float:
        """Expected reward of the pulls left from posterior state ``arms``, acting optimally."""
        cached = self._values.get(arms)
        if cached is not None:
            return cached
        best = max(self._arm_values(arms).values(), default=0.0)
        self._values[arms] = best
        return best

    def _arm_values(self, arms: ArmStates) -> dict[tuple[int, int], float]:
        """Expected remaining reward of pulling an arm in each distinct posterior state now."""
        if sum(s + f for s, f in arms) >= self.n_pulls:
            return {}
        choices = set(arms)
        if len(arms) < self.k:
            choices.add((0, 0))
        return {arm: self._pull_value(arms, arm) for arm in choices}

    def _pull_value(self, arms: ArmStates, arm: tuple[int, int]) -> float:
        s, f = arm
        mean = (1.0 + s) / (2.0 + s + f)
        win = self.value(_replace_arm(arms, arm, (s + 1, f)))
        lose = self.value(_replace_arm(arms, arm, (s, f + 1)))
        return mean * (1.0 + win) + (1.0 - mean) * lose

    def select(self, history: BanditHistory, rng: np.random.Generator) -> np.ndarray:
        actions = np.empty(history.pulls.shape[0], dtype=np.int64)
        for row in range(actions.size):
            actions[row] = self._select_one(history.successes[row], history.failures[row], rng)
        return actions

    def _select_one(
        self, successes: np.ndarray, failures: np.ndarray, rng: np.random.Generator
    ) -> int:
        counts = list(zip(successes.tolist(), failures.tolist(), strict=True))
        arms = tuple(sorted(c for c in counts if c != (0, 0)))
        arm_values = self._arm_values(arms)
        per_arm = np.array([arm_values[c] for c in counts])
        return int(argmax_random_tiebreak(per_arm[None], rng)[0])


def _replace_arm(arms: ArmStates, old: tuple[int, int], new: tuple[int, int]) -> ArmStates:
    items = list(arms)
    if old != (0, 0):
        items.remove(old)
    items.append(new)
    return tuple(sorted(items))


# --- playing trials ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BanditLearnerConfig:
    """What a :class:`BanditLearner` is built for (its config in checkpoints)."""

    policy: str
    """The policy's report label."""
    k: int
    """Arms."""
    n_pulls: int
    """Trial length."""
    batch: int
    """Trials played side by side."""


class BanditLearner:
    """A bandit baseline under the learner contract (:mod:`hrrl.core.learner`): its policy acts on
    the counts it has learned (:class:`BanditHistory`), ``update`` records each pull's reward."""

    def __init__(
        self, policy: BanditPolicy, k: int, n_pulls: int, batch: int, rng: np.random.Generator
    ) -> None:
        self.policy = policy
        self.config = BanditLearnerConfig(policy.name, k, n_pulls, batch)
        self.history = BanditHistory.empty(batch, k, n_pulls)
        self.rng = rng

    def act(self) -> np.ndarray:
        """One arm per trial, int64 ``(B,)``."""
        return self.policy.select(self.history, self.rng)

    def update(self, actions: np.ndarray, rewards: np.ndarray) -> None:
        self.history.record(actions, rewards)

    def state_arrays(self) -> dict[str, torch.Tensor]:
        h = self.history
        return {
            "successes": torch.from_numpy(h.successes.copy()),
            "pulls": torch.from_numpy(h.pulls.copy()),
            "t": torch.tensor([h.t], dtype=torch.int64),
        }

    def load_state_arrays(self, arrays: Mapping[str, torch.Tensor]) -> None:
        h = self.history
        np.copyto(h.successes, arrays["successes"].numpy())
        np.copyto(h.pulls, arrays["pulls"].numpy())
        h.t = int(arrays["t"][0])


def play_trials(
    policy: BanditPolicy,
    env: BatchedBernoulliBandit,
    tasks: np.ndarray,
    env_rng: np.random.Generator,
    policy_rng: np.random.Generator,
) -> np.ndarray:
    """Play one trial of ``env.n_pulls`` pulls on each task (:func:`~hrrl.core.rollout.run_trial`:
    one pull per step, no observation beyond the rewards); total reward per trial ``(B,)``."""
    env.reset(env_rng, tasks)
    learner = BanditLearner(policy, env.k, env.n_pulls, tasks.shape[0], policy_rng)
    return run_trial(
        lambda actions: (None, env.pull(actions), False, {}),
        None,
        env.n_pulls,
        lambda _: learner.act(),
        lambda step: learner.update(step.action, step.reward),
    )
