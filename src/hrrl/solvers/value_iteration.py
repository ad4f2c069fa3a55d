"""Value iteration on an explicit tabular model (the oracle for tabular learners).

The model is ``P[s, a, s']`` transition probabilities and ``R[s, a, s']`` rewards (or ``R[s, a]``
expected rewards), with an optional ``terminal`` mask of absorbing states whose value is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TabularModel:
    P: np.ndarray
    """Transition probabilities, shape (S, A, S); rows sum to one."""
    R: np.ndarray
    """Rewards, shape (S, A, S) or expected rewards (S, A)."""
    terminal: np.ndarray
    """Boolean (S,): absorbing states with value zero."""

    @property
    def expected_reward(self) -> np.ndarray:
        if self.R.ndim == 2:
            return self.R
        return np.einsum("ijk,ijk->ij", self.P, self.R)

    @classmethod
    def from_gymnasium_P(
        cls, P: dict[int, dict[int, list[tuple]]], n_states: int, n_actions: int
    ) -> TabularModel:
        """From gymnasium toy-text ``P[s][a] = [(prob, next, reward, terminated), ...]``.

        A transition that terminates leads to an absorbing copy: its reward counts, nothing after
        it. Encoded by routing terminal transitions to an extra absorbing state ``n_states``.
        """
        S = n_states + 1
        probs = np.zeros((S, n_actions, S))
        rewards = np.zeros((S, n_actions))
        for s, row in P.items():
            for a, outcomes in row.items():
                for prob, nxt, reward, done in outcomes:
                    target = n_states if done else nxt
                    probs[s, a, target] += prob
                    rewards[s, a] += prob * reward
        probs[n_states, :, n_states] = 1.0
        terminal = np.zeros(S, dtype=bool)
        terminal[n_states] = True
        return cls(probs, rewards, terminal)


def value_iteration(
    model: TabularModel, gamma: float, tol: float = 1e-10, max_iter: int = 100_000
) -> tuple[np.ndarray, np.ndarray]:
    """Optimal state values ``V`` and action values ``Q`` (shape (S, A)) to tolerance ``tol``."""
    r = model.expected_reward
    V = np.zeros(model.P.shape[0])
    for _ in range(max_iter):
        Q = r + gamma * model.P @ V
        Q[model.terminal] = 0.0
        V_new = Q.max(axis=1)
        if np.max(np.abs(V_new - V)) < tol:
            V = V_new
            break
        V = V_new
    Q = r + gamma * model.P @ V
    Q[model.terminal] = 0.0
    return V, Q


def policy_evaluation(
    model: TabularModel,
    policy: np.ndarray,
    gamma: float,
    tol: float = 1e-10,
    max_iter: int = 100_000,
) -> np.ndarray:
    """Values of a deterministic ``policy`` (S,) by iterating the Bellman expectation equation."""
    r = model.expected_reward
    S = model.P.shape[0]
    idx = np.arange(S)
    P_pi = model.P[idx, policy]
    r_pi = r[idx, policy]
    V = np.zeros(S)
    for _ in range(max_iter):
        V_new = np.where(model.terminal, 0.0, r_pi + gamma * P_pi @ V)
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    return V
