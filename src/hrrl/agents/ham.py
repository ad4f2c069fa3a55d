"""HAMQ-learning (Parr & Russell 1998): Q-learning over the choice points of a machine hierarchy.

The learner runs a :class:`~hrrl.core.machines.HAM` against an environment: between choice points
the machines act deterministically (given the environment states); at a choice point the learner
picks ε-greedily among the allowed choices. Its values ``Q(s, m, c)`` are indexed by environment
state, joint machine state (the call stack, a *choice point*) and choice. When the next choice
point (s', m') is reached after τ primitive steps with discounted reward ``R = Σ_{i<τ} γ^i r_i``:

    Q(s, m, c) ← Q(s, m, c) + α [R + γ^τ max_{c'} Q(s', m', c') − Q(s, m, c)]

(no bootstrap if the environment terminated; a choice cut by a time-limit truncation is dropped,
not treated as termination). This is the SMDP Q-learning of the HAM-induced SMDP.

:func:`ham_expected_steps` evaluates the greedy policy exactly on a known model: the Markov chain
on (state, action point) pairs, with choices resolved by the greedy selection (ties uniform).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hrrl.core.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from hrrl.core.learner import StateArrays
from hrrl.core.machines import HAM, Act, Choose, Control
from hrrl.core.rollout import Episode, Step, run_episode
from hrrl.solvers.markov_chain import absorption_times


@dataclass(frozen=True)
class HamQConfig:
    """Hyper-parameters of :class:`HamQLearner`."""

    alpha: float = 0.25
    """Step size of every update."""
    epsilon: float = 0.1
    """Exploration rate at every choice point."""
    gamma: float = 0.9
    """Discount per primitive step."""
    initial_q: float = 0.0
    """Initial value of every Q(s, m, c)."""


@dataclass(frozen=True)
class HamEpisode(Episode):
    """What one episode did."""

    choices: int
    """Choice points met."""


class HamQLearner(StateArrays):
    """ε-greedy choices at the HAM's choice points, learning Q(s, m, c) by HAMQ."""

    STATE = ("q",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, ham: HAM, config: HamQConfig, rng: np.random.Generator) -> None:
        self.ham = ham
        self.config = config
        self.rng = rng
        shape = (ham.n_states, len(ham.choice_points), ham.n_choices)
        self.q = np.full(shape, float(config.initial_q))

    def _masked(self, state: int, point: int) -> np.ndarray:
        return np.where(self.ham.available(point, state), self.q[state, point], -np.inf)

    def select(self, state: int, point: int, epsilon: float) -> int:
        allowed = np.flatnonzero(self.ham.available(point, state))
        if allowed.size == 0:
            raise ValueError(
                f"no choice allowed at {self.ham.choice_points[point]} in state {state}"
            )
        if self.rng.random() < epsilon:
            return int(allowed[self.rng.integers(allowed.size)])
        values = self.q[state, point, allowed]
        best = allowed[values >= values.max()]
        return int(best[self.rng.integers(best.size)])

    def run_episode(self, env: Any, seed: int | None = None, learn: bool = True) -> HamEpisode:
        cfg, ham = self.config, self.ham
        control: Control | None = None  # the machine starts at the first observation
        pending: tuple[int, int, int] | None = None  # (state, choice point, choice) awaiting update
        ret, tau = 0.0, 0
        choices = 0

        def act(obs: Any) -> int:
            """Run the machine through its choice points up to its next primitive action."""
            nonlocal control, pending, ret, tau, choices
            state = int(obs)
            if control is None:
                control = ham.start(state)
            while True:
                node = ham.node(control)
                if not isinstance(node, Choose):
                    assert isinstance(node, Act)
                    return int(node.action(state))
                point = ham.choice_index[control]
                if learn and pending is not None:
                    best = float(self._masked(state, point).max())
                    self._update(pending, ret + cfg.gamma**tau * best)
                choice = self.select(state, point, cfg.epsilon)
                pending, ret, tau = (state, point, choice), 0.0, 0
                choices += 1
                control = ham.after_choice(control, choice, state)

        def observe(step: Step) -> None:
            nonlocal control, ret, tau
            ret += cfg.gamma**tau * step.reward
            tau += 1
            if step.terminated:
                if learn and pending is not None:
                    self._update(pending, ret)
            elif not step.truncated:
                assert control is not None
                control = ham.after_action(control, int(step.next_obs))

        ep = run_episode(env, act, observe, seed)
        truncated = ep.truncated and not ep.terminated  # a goal reached on the last step counts
        return HamEpisode(ep.steps, ep.total_reward, ep.terminated, truncated, choices)

    def _update(self, key: tuple[int, int, int], target: float) -> None:
        self.q[key] += self.config.alpha * (target - self.q[key])

    def greedy_selection(self, tol: float = 0.0) -> np.ndarray:
        """(S, P, C) probabilities of the greedy choice: uniform over ties, 0 where forbidden."""
        allowed = np.stack([self.ham.available(p, s) for s in range(self.ham.n_states)
                            for p in range(len(self.ham.choice_points))])  # fmt: skip
        allowed = allowed.reshape(self.q.shape)
        masked = np.where(allowed, self.q, -np.inf)
        best = masked.max(axis=2, keepdims=True)
        ties = allowed & (masked >= best - tol)
        counts = ties.sum(axis=2, keepdims=True)
        return np.divide(ties, counts, out=np.zeros(ties.shape), where=counts > 0)

    # ------------------------------------------------------------------------------ save/load
    def save(self, folder: str | Path) -> Path:
        """Q as safetensors; config, RNG and the choice points' names (to check on load) as JSON."""
        state = {
            "config": asdict(self.config),
            "rng": rng_state(self.rng),
            "choice_points": [self.ham.describe(c) for c in self.ham.choice_points],
        }
        return save_checkpoint(folder, {"q": {"table": self.q}}, state)

    @classmethod
    def load(cls, folder: str | Path, ham: HAM) -> HamQLearner:
        """Restore onto ``ham``, which must have the same choice points as the saved one."""
        groups, state = load_checkpoint(folder)
        names = [ham.describe(c) for c in ham.choice_points]
        if names != state["choice_points"]:
            raise ValueError("the checkpoint was saved for a HAM with different choice points")
        learner = cls(ham, HamQConfig(**state["config"]), restore_rng(state["rng"]))
        learner.q = groups["q"]["table"].numpy().astype(float).copy()
        return learner


# ---------------------------------------------------------------------------------- evaluation
def ham_expected_steps(
    ham: HAM, dynamics: np.ndarray, goal: np.ndarray, selection: np.ndarray
) -> np.ndarray:
    """Expected primitive steps to ``goal`` from each state under the HAM and ``selection``.

    ``selection[s, p, c]`` is the probability of choice c at choice point p in state s. The chain
    runs on (state, action point) pairs; ``inf`` where the goal is not reached with probability
    one, 0 at goal states.
    """
    S = ham.n_states
    A = len(ham.action_points)
    memo: dict[tuple[Control, int], dict[int, float]] = {}

    def spread(control: Control, state: int, depth: int = 0) -> dict[int, float]:
        """Distribution over action points reached from ``control`` without a primitive step."""
        key = (control, state)
        if key in memo:
            return memo[key]
        if depth > 64:
            raise ValueError("choices loop without acting")
        node = ham.node(control)
        if isinstance(node, Act):
            out = {ham.action_index[control]: 1.0}
        else:
            point = ham.choice_index[control]
            out = {}
            for c in np.flatnonzero(selection[state, point] > 0):
                nxt = ham.after_choice(control, int(c), state)
                for a, p in spread(nxt, state, depth + 1).items():
                    out[a] = out.get(a, 0.0) + float(selection[state, point, c]) * p
        memo[key] = out
        return out

    def pid(state: int, point: int) -> int:
        return state * A + point

    rows, cols, vals = [], [], []
    for s in np.flatnonzero(~goal):
        for a_idx, control in enumerate(ham.action_points):
            node = ham.node(control)
            assert isinstance(node, Act)
            act = int(node.action(int(s)))
            for nxt in np.flatnonzero(dynamics[s, act] > 0):
                prob = float(dynamics[s, act, nxt])
                if goal[nxt]:
                    continue
                after = ham.after_action(control, int(nxt))
                for b, p in spread(after, int(nxt)).items():
                    rows.append(pid(int(s), a_idx))
                    cols.append(pid(int(nxt), b))
                    vals.append(prob * p)
    n = S * A
    M = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    pair_times = absorption_times(M, np.repeat(~goal, A))
    steps = np.zeros(S)
    for s in np.flatnonzero(~goal):
        start = spread(ham.start(int(s)), int(s))
        times = [pair_times[pid(int(s), a)] for a in start]
        steps[s] = (
            np.inf
            if any(np.isinf(times))
            else sum(p * pair_times[pid(int(s), a)] for a, p in start.items())
        )
    return steps
