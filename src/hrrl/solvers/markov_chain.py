"""Exact evaluation of a policy over options on a known finite model: the absorbing Markov chain of
call-and-return execution, solved for the expected number of primitive steps to the goal.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from hrrl.core.options import OptionSet


def greedy_selection(q: np.ndarray, options: OptionSet, tol: float = 0.0) -> np.ndarray:
    """Uniform over the available options within ``tol`` of the best, per state."""
    masked = np.where(options.available, q, -np.inf)
    best = masked.max(axis=1, keepdims=True)
    ties = options.available & (masked >= best - tol)
    return ties / ties.sum(axis=1, keepdims=True)


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
    pair_steps = absorption_times(M)
    state_steps = np.zeros(S)
    for s in np.flatnonzero(~goal):
        chosen = np.flatnonzero(selection[s] > 0)
        times = pair_steps[pair_id[s, chosen]]
        state_steps[s] = np.inf if np.any(np.isinf(times)) else selection[s, chosen] @ times
    return state_steps


def absorption_times(M: sp.csr_matrix, live: np.ndarray | None = None) -> np.ndarray:
    """Expected steps to absorption of the substochastic chain ``M`` (``inf`` where not sure).

    ``live`` marks the transient states (default: all); the others count as already absorbed
    (time 0 is not assigned to them: they stay ``inf`` and never enter the linear system)."""
    n = M.shape[0]
    live = np.ones(n, dtype=bool) if live is None else live
    leaks = live & (1.0 - np.asarray(M.sum(axis=1)).ravel() > 1e-12)
    graph = (M > 0).astype(np.int8).tocsr()
    reaches_goal = _backward_closure(graph, leaks)
    can_fail = _backward_closure(graph, live & ~reaches_goal)
    finite = live & ~can_fail
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
