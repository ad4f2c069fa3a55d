"""The options framework (Sutton, Precup & Singh 1999) for finite states and actions.

An :class:`Option` is a triple (initiation set I, policy π, termination condition β): it may be
started in any state of I, then takes π's action in every state until, on entering a state s', it
stops with probability β(s'). Options are executed call-and-return: the policy over options chooses
only when the running option has stopped. A primitive action is the one-step option that is
available everywhere and always stops (β ≡ 1).

Two learners of option values Q(s, o), one class (:class:`OptionQLearner`) with the rule chosen by
its config:

* **SMDP Q-learning**: one update per executed option, when it stops after k steps with discounted
  return G: ``Q(s, o) ← Q(s, o) + α [G + γ^k max_{o' ∈ O(s')} Q(s', o') − Q(s, o)]``.
* **Intra-option Q-learning**: after *every* primitive step (s, a, r, s'), every Markov option o
  whose policy would have taken a in s is updated:
  ``Q(s, o) ← Q(s, o) + α [r + γ U(s', o) − Q(s, o)]`` with the continuation value
  ``U(s', o) = (1 − β_o(s')) Q(s', o) + β_o(s') max_{o'} Q(s', o')``.

Both bootstrap unless the environment *terminated*; a time-limit *truncation* is never treated as
termination. Option termination (β), goal termination and truncation are kept separate signals.

:func:`expected_primitive_steps` evaluates a (greedy) policy over options exactly, on a known
model, as the expected number of primitive steps to the goal under call-and-return execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from hrrl.core.tabular import epsilon_greedy, q_learning_target, td_update


@dataclass(frozen=True)
class Option:
    """A Markov option with a deterministic policy over a finite state set."""

    name: str
    """Label used in reports."""
    initiation: np.ndarray
    """Boolean (S,): states where the option may be started."""
    policy: np.ndarray
    """Int (S,): the action taken in each state, −1 where the option never acts."""
    termination: np.ndarray
    """Float (S,): β(s), the probability of stopping on entering s."""

    @classmethod
    def primitive(cls, action: int, n_states: int, name: str | None = None) -> Option:
        """The one-step option of ``action``: available everywhere, always stops (β ≡ 1)."""
        return cls(
            name=name or f"a{action}",
            initiation=np.ones(n_states, dtype=bool),
            policy=np.full(n_states, action, dtype=np.int64),
            termination=np.ones(n_states),
        )


class OptionSet:
    """Options stacked into (S, O) tables, with the lookups the learners need precomputed."""

    def __init__(self, options: Sequence[Option], n_actions: int) -> None:
        if not options:
            raise ValueError("an option set needs at least one option")
        self.options = list(options)
        self.names = [o.name for o in self.options]
        self.available = np.stack([o.initiation for o in self.options], axis=1).astype(bool)
        self.policy = np.stack([o.policy for o in self.options], axis=1).astype(np.int64)
        self.beta = np.stack([o.termination for o in self.options], axis=1).astype(float)
        self.n_states, self.n_options = self.available.shape
        self.n_actions = int(n_actions)
        self._check()
        self.available_at = [np.flatnonzero(row) for row in self.available]
        self.consistent = [
            [np.flatnonzero(self.policy[s] == a) for a in range(self.n_actions)]
            for s in range(self.n_states)
        ]

    def _check(self) -> None:
        if np.any(self.available & (self.policy < 0)):
            raise ValueError(
                "an option must define its action in every state of its initiation set"
            )
        if not np.all(self.available.any(axis=1)):
            raise ValueError("every state needs at least one available option")
        if np.any((self.beta < 0) | (self.beta > 1)):
            raise ValueError("termination probabilities must lie in [0, 1]")

    def __len__(self) -> int:
        return self.n_options


def primitive_options(n_states: int, n_actions: int) -> list[Option]:
    """One primitive option per action: an option set of these alone is flat Q-learning."""
    return [Option.primitive(a, n_states) for a in range(n_actions)]


# -------------------------------------------------------------------------------- update rules
def max_available(q: np.ndarray, state: int, options: OptionSet) -> float:
    """``max_{o ∈ O(state)} Q(state, o)``: the greedy value over the options available there."""
    return float(np.max(q[state, options.available_at[state]]))


def continuation(option_value: float, best_value: float, beta: float) -> float:
    """``U = (1 − β) Q(s', o) + β max_{o'} Q(s', o')`` from its three ingredients."""
    stay = option_value if beta < 1.0 else 0.0
    return float((1.0 - beta) * stay + beta * best_value)


def continuation_value(q: np.ndarray, next_state: int, option: int, options: OptionSet) -> float:
    """``U(s', o) = (1 − β_o(s')) Q(s', o) + β_o(s') max_{o'} Q(s', o')``."""
    beta = float(options.beta[next_state, option])
    best = max_available(q, next_state, options)
    return continuation(float(q[next_state, option]), best, beta)


def smdp_q_update(
    q: np.ndarray,
    state: int,
    option: int,
    discounted_return: float,
    duration: int,
    next_state: int,
    terminated: bool,
    options: OptionSet,
    gamma: float,
    alpha: float,
) -> float:
    """SMDP Q-learning after option ``option`` ran ``duration`` steps from ``state``; the TD error.

    ``discounted_return`` is ``Σ_{i<k} γ^i r_{t+i}``; the bootstrap is discounted by ``γ^k``.
    """
    next_row = q[next_state, options.available_at[next_state]]
    target = q_learning_target(discounted_return, next_row, gamma**duration, terminated)
    return td_update(q, (state, option), target, alpha)


def intra_option_q_update(
    q: np.ndarray,
    state: int,
    action: int,
    reward: float,
    next_state: int,
    terminated: bool,
    options: OptionSet,
    gamma: float,
    alpha: float,
) -> np.ndarray:
    """Intra-option Q-learning from one primitive transition; returns the updated option indices.

    Every option whose policy takes ``action`` in ``state`` is updated. All targets are computed
    before any value changes, so the result does not depend on the order of the options.
    """
    updated = options.consistent[state][action]
    targets = [
        reward if terminated else reward + gamma * continuation_value(q, next_state, o, options)
        for o in updated
    ]
    for o, target in zip(updated, targets, strict=True):
        td_update(q, (state, int(o)), float(target), alpha)
    return updated


# ------------------------------------------------------------------------------------- learner
@dataclass(frozen=True)
class OptionQConfig:
    """Hyper-parameters of :class:`OptionQLearner`."""

    learning: Literal["smdp", "intra-option"] = "intra-option"
    """Update rule: SMDP Q-learning or intra-option Q-learning."""
    alpha: float = 0.125
    """Step size α of every update."""
    epsilon: float = 0.1
    """Exploration rate of the ε-greedy policy over the available options."""
    gamma: float = 0.9
    """Discount factor γ per primitive step."""
    initial_q: float = 0.0
    """Initial value of every Q(s, o)."""


@dataclass(frozen=True)
class EpisodeResult:
    """What one training episode did."""

    steps: int
    """Primitive steps taken."""
    decisions: int
    """Options chosen by the policy over options."""
    total_reward: float
    """Undiscounted sum of rewards."""
    terminated: bool
    """The environment reached a terminal state."""
    truncated: bool
    """The environment's time limit cut the episode."""


class OptionQLearner:
    """ε-greedy call-and-return control over an :class:`OptionSet`, learning Q(s, o)."""

    def __init__(self, options: OptionSet, config: OptionQConfig, rng: np.random.Generator) -> None:
        if config.learning not in ("smdp", "intra-option"):
            raise ValueError(f"unknown learning rule {config.learning!r}")
        self.options = options
        self.config = config
        self.rng = rng
        self.q = np.full((options.n_states, options.n_options), float(config.initial_q))

    def select(self, state: int, epsilon: float) -> int:
        """ε-greedy among the options available in ``state`` (random tie-break)."""
        avail = self.options.available_at[state]
        return int(avail[epsilon_greedy(self.q[state, avail], epsilon, self.rng)])

    def run_episode(self, env: Any, seed: int | None = None, learn: bool = True) -> EpisodeResult:
        """One episode of ``env`` (a gymnasium env with discrete states), learning as it goes."""
        cfg, opts = self.config, self.options
        state, _ = env.reset(seed=seed)
        state = int(state)
        steps = decisions = 0
        total = 0.0
        option = -1
        start = duration = 0
        ret = 0.0
        while True:
            if option < 0:
                option = self.select(state, cfg.epsilon)
                start, duration, ret = state, 0, 0.0
                decisions += 1
            action = int(opts.policy[state, option])
            next_state, reward, terminated, truncated, _ = env.step(action)
            next_state, reward = int(next_state), float(reward)
            ret += cfg.gamma**duration * reward
            duration += 1
            steps += 1
            total += reward
            if learn and cfg.learning == "intra-option":
                intra_option_q_update(
                    self.q,
                    state,
                    action,
                    reward,
                    next_state,
                    terminated,
                    opts,
                    cfg.gamma,
                    cfg.alpha,
                )
            option_stops = terminated or self.rng.random() < opts.beta[next_state, option]
            if learn and cfg.learning == "smdp" and option_stops:
                smdp_q_update(
                    self.q, start, option, ret, duration, next_state, terminated, opts,
                    cfg.gamma, cfg.alpha,
                )  # fmt: skip
            # Truncation in the middle of an option: SMDP Q-learning has no complete sample for
            # it, so the partial option is dropped (it is *not* treated as a termination).
            state = next_state
            if option_stops:
                option = -1
            if terminated or truncated:
                return EpisodeResult(steps, decisions, total, bool(terminated), bool(truncated))

    def greedy_selection(self, tol: float = 0.0) -> np.ndarray:
        """(S, O) probabilities of the greedy policy over options: uniform over its ties."""
        return greedy_selection(self.q, self.options, tol)


def greedy_selection(q: np.ndarray, options: OptionSet, tol: float = 0.0) -> np.ndarray:
    """Uniform over the available options within ``tol`` of the best, per state."""
    masked = np.where(options.available, q, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    ties = options.available & (masked >= best - tol)
    return ties / ties.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------- evaluation
def expected_primitive_steps(
    dynamics: np.ndarray, goal: np.ndarray, options: OptionSet, selection: np.ndarray
) -> np.ndarray:
    """Expected primitive steps to reach ``goal`` from each state, under call-and-return execution.

    ``dynamics[s, a, s']`` are the move probabilities, ``goal`` a boolean (S,) mask of absorbing
    goal states and ``selection[s, o]`` the probability that the policy over options picks ``o``
    when a choice is due in ``s``. The process is the Markov chain on (state, running option)
    pairs: from (s, o) the option's action is taken, s' drawn; the episode ends if s' is a goal,
    otherwise o continues with probability 1 − β_o(s') and a new option is drawn from
    ``selection[s']`` with probability β_o(s'). States from which the goal is not reached with
    probability one get ``inf``; goal states get 0.
    """
    S, O = options.n_states, options.n_options
    pair_id = np.full((S, O), -1, dtype=np.int64)
    valid = (options.policy >= 0) & ~goal[:, None]
    pair_id[valid] = np.arange(int(valid.sum()))
    ps, po = np.nonzero(valid)
    n = ps.size
    move = dynamics[ps, options.policy[ps, po], :]  # (n, S)
    rows, nxt = np.nonzero(move)
    prob = move[rows, nxt]
    inside = ~goal[nxt]
    rows, nxt, prob = rows[inside], nxt[inside], prob[inside]
    beta = options.beta[nxt, po[rows]]
    stay = (1.0 - beta) * prob
    keep = stay > 0
    stay_cols = pair_id[nxt[keep], po[rows[keep]]]
    if np.any(stay_cols < 0):
        raise ValueError("an option continues into a state where it has no action")
    M_stay = sp.csr_matrix((stay[keep], (rows[keep], stay_cols)), shape=(n, n))
    switch = sp.csr_matrix((beta * prob, (rows, nxt)), shape=(n, S))
    sel_s, sel_o = np.nonzero(selection * ~goal[:, None])
    if np.any(pair_id[sel_s, sel_o] < 0):
        raise ValueError("the selection picks an option that has no action in that state")
    choose = sp.csr_matrix((selection[sel_s, sel_o], (sel_s, pair_id[sel_s, sel_o])), shape=(S, n))
    M = (M_stay + switch @ choose).tocsr()
    pair_steps = _absorption_times(M)
    state_steps = np.zeros(S)
    for s in np.flatnonzero(~goal):
        chosen = np.flatnonzero(selection[s] > 0)
        times = pair_steps[pair_id[s, chosen]]
        state_steps[s] = np.inf if np.any(np.isinf(times)) else selection[s, chosen] @ times
    return state_steps


def _absorption_times(M: sp.csr_matrix) -> np.ndarray:
    """Expected steps to absorption of the substochastic chain ``M`` (``inf`` where not sure)."""
    n = M.shape[0]
    leaks = 1.0 - np.asarray(M.sum(axis=1)).ravel() > 1e-12
    graph = (M > 0).astype(np.int8).tocsr()
    reaches_goal = _backward_closure(graph, leaks)
    can_fail = _backward_closure(graph, ~reaches_goal)
    finite = ~can_fail
    times = np.full(n, np.inf)
    if finite.any():
        idx = np.flatnonzero(finite)
        sub = M[idx][:, idx]
        system = sp.identity(idx.size, format="csc") - sub.tocsc()
        times[idx] = np.atleast_1d(spsolve(system, np.ones(idx.size)))
    return times


def _backward_closure(graph: sp.csr_matrix, seeds: np.ndarray) -> np.ndarray:
    """States with a path (in ``graph``) to some state of ``seeds``, the seeds included."""
    reached = seeds.copy()
    while True:
        grown = reached | (graph @ reached.astype(np.int8) > 0)
        if np.array_equal(grown, reached):
            return reached
        reached = grown


def mean_expected_steps(steps: np.ndarray, starts: np.ndarray) -> float:
    """The mean of ``steps`` over the start states ``starts`` (a boolean mask)."""
    return float(np.mean(steps[starts]))
