"""Taxi (gymnasium ``Taxi-v4``; Dietterich 2000): its exact model, exact policy evaluation, the
optimal reference by value iteration, and the paper's MAXQ task graph.

The model is gymnasium's ``P`` plus, for ``fickle_passenger=True``, the hidden flag "the
destination will change on the first move with the passenger aboard" as extra state, so that a
policy's expected return over the 200-step horizon can be computed exactly
(:func:`exact_return`) instead of estimated from episodes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
from scipy import sparse

from hrrl.core.task_graph import Child, Node, Primitive, Subtask, TaskGraph
from hrrl.solvers.value_iteration import TabularModel, value_iteration

TAXI_ID = "Taxi-v4"
N_OBS = 500
N_ACTIONS = 6
HORIZON = 200

Outcome = tuple[float, int, float, bool]
"""``(probability, next model state, reward, terminated)``."""


class HierarchicalExecution(Protocol):
    """What :func:`maxq_return` needs of a MAXQ learner: its graph and greedy execution."""

    @property
    def graph(self) -> TaskGraph: ...

    def greedy_child(self, node: int, obs: int, rng: np.random.Generator) -> int: ...

    def descend(
        self, stack: tuple[int, ...], obs: int, choose: Callable[[int, int], int]
    ) -> tuple[int, tuple[int, ...]]: ...

    def unwind(self, stack: tuple[int, ...], obs: int, terminated: bool) -> tuple[int, ...]: ...


# ----- the model: gymnasium's P plus the hidden fickle-passenger flag -----


@dataclass(frozen=True)
class TaxiModel:
    """Model states, their transitions per action, what the agent observes, where episodes start."""

    transitions: list[list[list[Outcome]]]
    """``transitions[m][a]``: outcomes of action ``a`` in model state ``m``."""
    start: list[tuple[float, int]]
    """``(probability, model state)`` of the start distribution."""
    n_obs: int
    """Observations are ``m % n_obs``."""


def _fickle_outcomes(obs: int, outcomes: list[tuple]) -> list[Outcome]:
    """Outcomes of a model state whose hidden flag says the destination will change on the first
    move with the passenger aboard (gymnasium ``TaxiEnv.step``); the flag clears when it does."""
    cell, passenger, dest = taxi_decode(obs)
    result: list[Outcome] = []
    for prob, nxt, reward, done in outcomes:
        next_cell, next_passenger, _ = taxi_decode(nxt)
        if passenger == 4 and next_cell != cell:
            others = [d for d in range(4) if d != dest]
            for new_dest in others:
                moved = (next_cell * 5 + next_passenger) * 4 + new_dest
                result.append((prob / len(others), moved, reward, done))
        else:
            result.append((prob, nxt + N_OBS, reward, done))
    return result


def taxi_model(env: gym.Env) -> TaxiModel:
    """The exact model of a gymnasium Taxi env (with its fickle flag as hidden state if on)."""
    taxi: Any = env.unwrapped  # gymnasium's TaxiEnv: P, initial_state_distrib, fickle_*
    P = taxi.P
    d0 = taxi.initial_state_distrib
    base = [[list(P[s][a]) for a in range(N_ACTIONS)] for s in range(N_OBS)]
    if not taxi.fickle_passenger:
        start = [(float(p), s) for s, p in enumerate(d0) if p > 0]
        return TaxiModel(base, start, N_OBS)
    q = float(taxi.fickle_probability)
    flagged = [[_fickle_outcomes(s, base[s][a]) for a in range(N_ACTIONS)] for s in range(N_OBS)]
    start = [(float(p) * (1 - q), s) for s, p in enumerate(d0) if p > 0]
    start += [(float(p) * q, s + N_OBS) for s, p in enumerate(d0) if p > 0]
    return TaxiModel(base + flagged, start, N_OBS)


def exact_return(
    model: TaxiModel,
    act: Callable[[int, Hashable], tuple[int, Hashable]],
    advance: Callable[[Hashable, int, bool], Hashable],
    memory0: Hashable,
    horizon: int = HORIZON,
) -> float:
    """Expected return over ``horizon`` steps of a deterministic policy with memory.

    ``act(obs, memory) -> (action, memory while acting)``, ``advance(memory, next_obs,
    terminated) -> memory``. The reachable ``(model state, memory)`` pairs are enumerated and the
    finite-horizon Bellman expectation equation iterated on them (sparse).
    """
    index: dict[tuple[int, Hashable], int] = {}
    queue: deque[tuple[int, Hashable]] = deque()

    def node(key: tuple[int, Hashable]) -> int:
        if key not in index:
            index[key] = len(index)
            queue.append(key)
        return index[key]

    start = [(p, node((m, memory0))) for p, m in model.start]
    rows, cols, probs, rewards = [], [], [], []
    while queue:
        m, memory = queue.popleft()
        i = index[(m, memory)]
        action, running = act(m % model.n_obs, memory)
        expected = 0.0
        for p, nxt, reward, done in model.transitions[m][action]:
            expected += p * reward
            if not done:
                j = node((nxt, advance(running, nxt % model.n_obs, False)))
                rows.append(i)
                cols.append(j)
                probs.append(p)
        rewards.append((i, expected))
    n = len(index)
    P = sparse.csr_matrix((probs, (rows, cols)), shape=(n, n))
    r = np.zeros(n)
    for i, value in rewards:
        r[i] = value
    v = np.zeros(n)
    for _ in range(horizon):
        v_next = r + P @ v
        if np.max(np.abs(v_next - v)) < 1e-12:
            v = v_next
            break
        v = v_next
    return float(sum(p * v[i] for p, i in start))


def flat_return(model: TaxiModel, policy: np.ndarray) -> float:
    """Exact return of a stationary policy on observations."""
    return exact_return(model, lambda obs, _m: (int(policy[obs]), None), lambda *_: None, None)


@dataclass(frozen=True)
class Reference:
    optimal_return: float
    """Return of value iteration's policy on the true model (the convergence reference)."""
    upper_bound: float
    """Optimum when the hidden fickle flag is visible (equals the above when there is none)."""


def reference(env: gym.Env) -> Reference:
    """Value iteration (γ = 1) on gymnasium's ``P``; for the fickle variant also on the flagged
    model, whose optimum bounds what any observation-based policy can reach."""
    model = taxi_model(env)
    taxi: Any = env.unwrapped
    tabular = TabularModel.from_gymnasium_P(taxi.P, N_OBS, N_ACTIONS)
    _, q = value_iteration(tabular, gamma=1.0)
    optimal = flat_return(model, np.argmax(q[:N_OBS], axis=1))
    if len(model.transitions) == N_OBS:
        return Reference(optimal, optimal)
    flagged = _dense_model(model)
    v_flag, _q_flag = value_iteration(flagged, gamma=1.0)
    upper = float(sum(p * v_flag[m] for p, m in model.start))
    return Reference(optimal, upper)


def _dense_model(model: TaxiModel) -> TabularModel:
    n = len(model.transitions)
    P = np.zeros((n + 1, N_ACTIONS, n + 1))
    R = np.zeros((n + 1, N_ACTIONS))
    for m, row in enumerate(model.transitions):
        for a, outcomes in enumerate(row):
            for p, nxt, reward, done in outcomes:
                P[m, a, n if done else nxt] += p
                R[m, a] += p * reward
    P[n, :, n] = 1.0
    terminal = np.zeros(n + 1, dtype=bool)
    terminal[n] = True
    return TabularModel(P, R, terminal)


def maxq_return(
    learner: HierarchicalExecution,
    model: TaxiModel,
    rng: np.random.Generator,
    polling: bool = False,
) -> float:
    """Exact return of MAXQ's greedy policy (ties broken once per (node, obs)): hierarchical
    execution (children run until they terminate) or, with ``polling``, hierarchical greedy
    execution that re-descends from the root at every step (Dietterich 2000, section 6)."""
    cache: dict[tuple[int, int], int] = {}

    def choose(node: int, obs: int) -> int:
        if (node, obs) not in cache:
            cache[(node, obs)] = learner.greedy_child(node, obs, rng)
        return cache[(node, obs)]

    def act(obs: int, stack: Hashable) -> tuple[int, Hashable]:
        assert isinstance(stack, tuple)
        return learner.descend(stack, obs, choose)

    def advance(stack: Hashable, obs: int, terminated: bool) -> Hashable:
        assert isinstance(stack, tuple)
        return (learner.graph.root,) if polling else learner.unwind(stack, obs, terminated)

    return exact_return(model, act, advance, (learner.graph.root,))


# ----- the Taxi task graph (Dietterich 2000, figure 2) -----

TAXI_LANDMARKS = (0, 4, 20, 23)
"""Grid cells (row * 5 + col) of the R, G, Y, B locations of gymnasium's Taxi."""
IN_TAXI = 4
"""Passenger-location value meaning "in the taxi"."""


def taxi_decode(state: int) -> tuple[int, int, int]:
    """``(taxi cell 0..24, passenger location 0..4, destination 0..3)`` of a Taxi state."""
    return state // 20, (state // 4) % 5, state % 4


def _taxi_cell(s: int) -> int:
    return s // 20


def _taxi_passenger(s: int) -> int:
    return (s // 4) % 5


def _taxi_destination(s: int) -> int:
    return s % 4


def _pickup_class(s: int) -> int:
    """1 if a pickup is legal (taxi on the waiting passenger), else 0."""
    passenger = _taxi_passenger(s)
    return int(passenger != IN_TAXI and _taxi_cell(s) == TAXI_LANDMARKS[passenger])


def _putdown_class(s: int) -> int:
    """0: illegal (−10); 1: passenger left at another landmark (−1); 2: delivered (+20)."""
    if _taxi_passenger(s) != IN_TAXI or _taxi_cell(s) not in TAXI_LANDMARKS:
        return 0
    return 2 if _taxi_cell(s) == TAXI_LANDMARKS[_taxi_destination(s)] else 1


def _constant(value: int) -> Callable[[int], int]:
    return lambda s: value


def _at_cell(cell: int) -> Callable[[int], bool]:
    return lambda s: _taxi_cell(s) == cell


def taxi_graph(abstract: bool = True, n_states: int = 500) -> TaskGraph:
    """Dietterich's Taxi graph: Root → Get/Put; Get → Navigate(passenger), Pickup;
    Put → Navigate(destination), Putdown; Navigate(t) → North/South/East/West.

    With ``abstract`` the paper's abstractions (max-node irrelevance, leaf irrelevance, result
    distribution irrelevance, termination): a move's reward is one value; Pickup's two values
    (legal / illegal) and Putdown's three (gymnasium lets a passenger out at any landmark for −1);
    Navigate(t) sees the taxi cell; Get's Navigate completion sees the passenger location, its
    Pickup completion the taxi cell and passenger location; Put likewise with the destination;
    the Root's Get completion sees passenger location and destination, its Put completion the
    destination. Without it every table is indexed by the full state.
    """

    def key(fn: Callable[[int], int], n: int) -> tuple[Callable[[int], int], int]:
        return (fn, n) if abstract else ((lambda s: s), n_states)

    moves = ("South", "North", "East", "West")
    nodes: list[Node] = [Primitive(name, a, *key(lambda s: 0, 1)) for a, name in enumerate(moves)]
    nodes.append(Primitive("Pickup", 4, *key(_pickup_class, 2)))
    nodes.append(Primitive("Putdown", 5, *key(_putdown_class, 3)))
    nav0 = len(nodes)
    for t, cell in enumerate(TAXI_LANDMARKS):
        children = tuple(Child(moves[a], _constant(a), *key(_taxi_cell, 25)) for a in range(4))
        nodes.append(Subtask(f"Navigate({t})", children, _at_cell(cell)))
    get_children = (
        Child("Navigate(passenger)", lambda s: nav0 + _taxi_passenger(s), *key(_taxi_passenger, 4)),
        Child("Pickup", lambda s: 4, *key(lambda s: _taxi_cell(s) * 4 + _taxi_passenger(s), 100)),
    )
    put_children = (
        Child(
            "Navigate(destination)",
            lambda s: nav0 + _taxi_destination(s),
            *key(_taxi_destination, 4),
        ),
        Child(
            "Putdown", lambda s: 5, *key(lambda s: _taxi_cell(s) * 4 + _taxi_destination(s), 100)
        ),
    )
    get_id, put_id = len(nodes), len(nodes) + 1
    nodes.append(
        Subtask(
            "Get", get_children, lambda s: _taxi_passenger(s) in (IN_TAXI, _taxi_destination(s))
        )
    )
    nodes.append(Subtask("Put", put_children, lambda s: _taxi_passenger(s) != IN_TAXI))
    root_children = (
        Child(
            "Get",
            lambda s: get_id,
            *key(lambda s: _taxi_passenger(s) * 4 + _taxi_destination(s), 16),
        ),
        Child("Put", lambda s: put_id, *key(_taxi_destination, 4)),
    )
    nodes.append(
        Subtask("Root", root_children, lambda s: _taxi_passenger(s) == _taxi_destination(s))
    )
    return TaskGraph(tuple(nodes), root=len(nodes) - 1)
