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

:class:`Option` and :class:`OptionSet` are data (:mod:`hrrl.core.options`); the exact evaluator of
a policy over options on a known model (:func:`expected_primitive_steps`) is a solver
(:mod:`hrrl.solvers.markov_chain`). Both are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from hrrl.core.learner import StateArrays
from hrrl.core.options import Option, OptionSet, primitive_options
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.core.tabular import epsilon_greedy, q_learning_target, td_update
from hrrl.solvers.markov_chain import (
    expected_primitive_steps,
    greedy_selection,
    mean_expected_steps,
)

__all__ = [
    "EpisodeResult",
    "Option",
    "OptionQConfig",
    "OptionQLearner",
    "OptionSet",
    "continuation",
    "continuation_value",
    "expected_primitive_steps",
    "greedy_selection",
    "intra_option_q_update",
    "max_available",
    "mean_expected_steps",
    "primitive_options",
    "smdp_q_update",
]


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
        reward
        if terminated
        else reward + gamma * continuation_value(q, next_state, int(o), options)
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
class EpisodeResult(Episode):
    """What one training episode did."""

    decisions: int
    """Options chosen by the policy over options."""


class OptionQLearner(StateArrays):
    """ε-greedy call-and-return control over an :class:`OptionSet`, learning Q(s, o)."""

    STATE = ("q",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

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
        option, decisions = -1, 0
        start = duration = 0
        ret = 0.0

        def act(obs: Any) -> int:
            nonlocal option, decisions, start, duration, ret
            state = int(obs)
            if option < 0:
                option = self.select(state, cfg.epsilon)
                start, duration, ret = state, 0, 0.0
                decisions += 1
            return int(opts.policy[state, option])

        def observe(step: Step) -> None:
            nonlocal option, duration, ret
            state, next_state, reward = int(step.obs), int(step.next_obs), step.reward
            ret += cfg.gamma**duration * reward
            duration += 1
            if learn and cfg.learning == "intra-option":
                intra_option_q_update(
                    self.q, state, step.action, reward, next_state, step.terminated, opts,
                    cfg.gamma, cfg.alpha,
                )  # fmt: skip
            option_stops = step.terminated or self.rng.random() < opts.beta[next_state, option]
            if learn and cfg.learning == "smdp" and option_stops:
                smdp_q_update(
                    self.q, start, option, ret, duration, next_state, step.terminated, opts,
                    cfg.gamma, cfg.alpha,
                )  # fmt: skip
            # Truncation in the middle of an option: SMDP Q-learning has no complete sample for
            # it, so the partial option is dropped (it is *not* treated as a termination).
            if option_stops:
                option = -1

        ep = run_episode(env, act, observe, seed)
        return EpisodeResult(ep.steps, ep.total_reward, ep.terminated, ep.truncated, decisions)

    def greedy_selection(self, tol: float = 0.0) -> np.ndarray:
        """(S, O) probabilities of the greedy policy over options: uniform over its ties."""
        return greedy_selection(self.q, self.options, tol)
