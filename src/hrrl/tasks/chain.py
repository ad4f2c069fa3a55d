"""The stochastic decision chain of Kulkarni et al. (2016, section 4.1): its optimal values by
value iteration on the Markov state (position, visited the last state), and the best policy that
sees only the position (all memoryless policies evaluated exactly).
"""

from __future__ import annotations

import itertools

import numpy as np

from hrrl.envs.chain import augmented_index, augmented_model
from hrrl.solvers.value_iteration import TabularModel, value_iteration

N_STATES = 6
START = 2
HORIZON = 100


def finite_horizon_values(model: TabularModel, policy: np.ndarray, horizon: int) -> np.ndarray:
    """Expected undiscounted return over ``horizon`` steps of a deterministic policy."""
    idx = np.arange(model.P.shape[0])
    P, r = model.P[idx, policy], model.expected_reward[idx, policy]
    v = np.zeros(len(idx))
    for _ in range(horizon):
        v = np.where(model.terminal, 0.0, r + P @ v)
    return v


def optimal_values(horizon: int = HORIZON) -> dict[str, float]:
    """Start-state values: optimal (infinite and finite horizon) and best position-only policy."""
    model = augmented_model(N_STATES)
    start = augmented_index(START, False, N_STATES)
    v_inf, q = value_iteration(model, gamma=1.0)
    optimal_h = finite_horizon_values(model, np.argmax(q, axis=1), horizon)[start]
    best_memoryless = max(
        finite_horizon_values(model, _lift(np.array(actions)), horizon)[start]
        for actions in itertools.product((0, 1), repeat=N_STATES)
    )
    return {
        "optimal_infinite_horizon": float(v_inf[start]),
        "optimal_horizon": float(optimal_h),
        "best_position_only_policy": float(best_memoryless),
    }


def _lift(position_policy: np.ndarray) -> np.ndarray:
    """A policy on positions (obs 0..5) as a policy on (position, visited) states."""
    return np.concatenate([position_policy, position_policy])
