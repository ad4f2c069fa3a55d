"""Relational features of the HRRL agent: the paper's state features and our local per-action set.

Three feature sets, one per ``HRRLConfig.features`` / ``relational_features`` choice; each gives a
``(N, K, D)`` array: one row per (state, action) pair, scored by a network with shared weights.

* ``paper`` (§3.1): the paper's relational state (progress, remaining and time ratios, log gap,
  gap magnitude, is_close, is_far, danger proximity, constraint pressure, phase, theoretical
  minimum steps, efficiency ratio) repeated for every action, plus the action's move / largest.
* ``raw``: the raw observation (position, target, steps left; / 100) plus the move (ablation).
* ``local`` (ours, the default): everything is relative to the current position in the direction
  of the target, and depends on the gap only through scale-free quantities, so a local situation
  gives the same features at T = 100 and T = 10^6. Per action: the progress, whether the landing is
  dead (forbidden, or past the target when every move goes the same way), whether it is the
  target, the gap after the move in largest moves (clipped), the free-line excess
  ``d_free(gap') − gap'/L`` (``d_free``: fewest moves on the line without forbidden states, an
  exact parity/residue-aware lower bound), the budget slack after the move, the dead states in a
  window around the landing, and how many 1- and 2-move continuations from the landing are safe.

Choices where the paper is silent (documented here and tested):

* ``danger_proximity`` = ``1 − (o − 1) / (2L)`` for the nearest forbidden state ``o`` positions
  ahead within ``2L`` (L = largest move), else 0; ``constraint_pressure`` = the fraction of the
  next ``2L`` states that are forbidden.
* phase: **precision** when the gap is ≤ 10 (the paper's is_close), else **exploration** when a
  forbidden state lies within ``2L`` ahead (obstacle negotiation), else **navigation**.

The local set is computed from a canonical :class:`Situation` (reduced gap, clipped slack, moves,
dead-state window): equal situations give bit-identical features, so acting can memoize decisions
on the situation (see ``policy.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hrrl.envs.numberline_dynamics import classify
from hrrl.envs.rewards import FORBIDDEN, OVERSHOOT

GAP_CLIP = 6
"""The gap after a move is given in largest moves, clipped to [-3, GAP_CLIP]."""
AHEAD = 20
"""Dead-state window after each landing (positions)."""
BEHIND = 4
"""Dead-state window before each landing (positions)."""
SLACK_CLIP = 24
"""State slack (steps left − free-line minimum) is clipped to ±SLACK_CLIP."""
CLOSE = 10
"""is_close: gap ≤ CLOSE (the paper's rule)."""
PHASES = ("exploration", "navigation", "precision")
LOCAL_STATE_DIM = 7
LOCAL_ACTION_DIM = 16 + BEHIND + AHEAD
PAPER_STATE_NAMES = (
    "progress_ratio",
    "remaining_ratio",
    "time_ratio",
    "log_gap",
    "gap_magnitude",
    "is_close",
    "is_far",
    "danger_proximity",
    "constraint_pressure",
    "phase_exploration",
    "phase_navigation",
    "phase_precision",
    "theoretical_min_steps",
    "efficiency_ratio",
)


def feature_dim(feature_set: str) -> int:
    """Width D of the (N, K, D) features of a feature set."""
    dims = {
        "local": LOCAL_ACTION_DIM + LOCAL_STATE_DIM,
        "paper": 2 + len(PAPER_STATE_NAMES),
        "raw": 2 + 3,
    }
    return dims[feature_set]


# ---- the free line: fewest moves without forbidden states --------------------------------------
@dataclass(frozen=True)
class FreeLine:
    """Exact fewest moves ``d(r)`` to cover a remaining gap ``r`` with the relative moves, on a line
    without forbidden states (``inf`` when impossible); periodic beyond ``periodic_from``."""

    moves: tuple[int, ...]
    table: np.ndarray
    low: int
    high: int
    largest: int
    """Largest forward move."""
    periodic_from: int
    """For r ≥ periodic_from: d(r + largest) = d(r) + 1."""

    def steps(self, gaps: np.ndarray) -> np.ndarray:
        r = np.asarray(gaps, dtype=np.int64)
        shift = np.zeros_like(r)
        above = r > self.high
        if above.any():
            k = (r[above] - self.high + self.largest - 1) // self.largest
            shift[above] = k
            r = r.copy()
            r[above] -= k * self.largest
        below = r < self.low
        out = np.full(r.shape, np.inf)
        inside = ~below
        out[inside] = self.table[r[inside] - self.low] + shift[inside]
        return out


@functools.lru_cache(maxsize=8192)
def free_line(moves: tuple[int, ...]) -> FreeLine:
    """BFS over remaining gaps for one relative move set (cached per move set)."""
    largest = max([m for m in moves if m > 0], default=1)
    spread = max(abs(m) for m in moves)
    high = 16 * spread * spread + 64
    low = -high if min(moves) < 0 else 0
    table = np.full(high - low + 1, np.inf)
    table[-low] = 0.0
    step = np.asarray(moves, dtype=np.int64)
    frontier = np.array([0], dtype=np.int64)
    depth = 0
    while frontier.size:
        depth += 1
        nxt = (frontier[:, None] + step[None, :]).ravel()
        nxt = nxt[(nxt >= low) & (nxt <= high)]
        fresh = np.zeros(table.size, dtype=bool)
        fresh[nxt - low] = True
        fresh &= np.isinf(table)
        table[fresh] = depth
        frontier = np.flatnonzero(fresh) + low
    periodic_from = _periodic_start(table, low, high, largest)
    return FreeLine(moves, table, low, high, largest, periodic_from)


def _periodic_start(table: np.ndarray, low: int, high: int, largest: int) -> int:
    """Smallest r0 with d(r + L) = d(r) + 1 for every r in [r0, high − L]."""
    r = np.arange(max(low, 0), high - largest + 1)
    a, b = table[r - low], table[r + largest - low]
    with np.errstate(invalid="ignore"):
        good = (a + 1 == b) | (np.isinf(a) & np.isinf(b))
    bad = np.flatnonzero(~good)
    return int(r[bad[-1]] + 1) if bad.size else int(max(low, 0))


def gap_cut(moves: tuple[int, ...]) -> int:
    """Gaps at or beyond this are reduced modulo the largest move without changing any feature."""
    line = free_line(moves)
    top = max(moves)
    window_high = 3 * top + AHEAD
    return max(line.periodic_from, GAP_CLIP * line.largest, CLOSE + 1) + top + window_high + 1


def reduce_gap(gap: int, moves: tuple[int, ...]) -> int:
    cut = gap_cut(moves)
    if gap < cut:
        return gap
    return cut + (gap - cut) % free_line(moves).largest


def window_bounds(moves: tuple[int, ...]) -> tuple[int, int]:
    """Offsets [low, high] (relative, toward the target) the local features read."""
    return 3 * min(min(moves), 0) - BEHIND, 3 * max(moves) + AHEAD


# ---- situations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Situations:
    """Canonical local situations of N states (everything the local features depend on)."""

    gap: np.ndarray
    """(N,) reduced gap to the (sub)goal, > 0."""
    slack: np.ndarray
    """(N,) steps left − free-line minimum, clipped to ±SLACK_CLIP."""
    moves: np.ndarray
    """(N, K) moves relative to the direction of the goal."""
    dead: np.ndarray
    """(N, W) dead states at offsets low .. low + W − 1."""
    low: int


def situations_from_env(
    env: object, goal: np.ndarray | None = None, rows: np.ndarray | None = None
) -> Situations:
    """Situations of the sub-envs ``rows`` (default all) of a ``NumberLineVectorEnv``; ``goal``
    (per selected row) defaults to the target."""
    if rows is None:
        rows = np.arange(len(env.position))  # type: ignore[attr-defined]
    position = env.position[rows]  # type: ignore[attr-defined]
    target = env.target[rows] if goal is None else goal  # type: ignore[attr-defined]
    sigma = np.where(target >= position, 1, -1)
    moves = sigma[:, None] * env.moves[rows]  # type: ignore[attr-defined]
    gap = np.abs(target - position)
    steps_left = env.budget[rows] - env.steps[rows]  # type: ignore[attr-defined]
    low = int(min(3 * min(int(moves.min()), 0) - BEHIND, 0))
    high = int(3 * moves.max() + AHEAD)
    offsets = np.arange(low, high + 1)
    cells = position[:, None] + sigma[:, None] * offsets[None, :]
    forbidden = env.is_forbidden(rows[:, None], cells)  # type: ignore[attr-defined]
    # The environment's termination rule, seen from the goal: a monotone problem overshoots
    # past the goal (``sign`` = direction to the goal); a mixed one (sign 0) never does. A
    # forbidden goal stays dead (waypoints may be forbidden), so ``forbidden`` is or-ed back.
    monotone = env.sign[rows] != 0  # type: ignore[attr-defined]
    outcome = classify(cells, target[:, None], (sigma * monotone)[:, None], forbidden)
    dead = forbidden | (outcome == FORBIDDEN) | (outcome == OVERSHOOT)
    reduced = np.empty_like(gap)
    slack = np.empty_like(gap)
    for key in {tuple(row) for row in moves.tolist()}:
        rows = np.flatnonzero((moves == np.asarray(key)).all(axis=1))
        line = free_line(key)
        cut, period = gap_cut(key), line.largest
        g = gap[rows]
        reduced[rows] = np.where(g < cut, g, cut + (g - cut) % period)
        slack[rows] = _clipped_slack(steps_left[rows], line.steps(g))
    return Situations(reduced, slack, moves, dead, low)


def _clipped_slack(steps_left: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        raw = np.where(np.isinf(minimum), -SLACK_CLIP, steps_left - np.nan_to_num(minimum))
    return np.clip(raw, -SLACK_CLIP, SLACK_CLIP).astype(np.int64)


# ---- the local feature set ----------------------------------------------------------------------
def local_features(s: Situations) -> np.ndarray:
    """(N, K, D) local relational features of canonical situations (see module docstring)."""
    n, k = s.moves.shape
    rows = np.arange(n)[:, None]
    largest = np.abs(s.moves).max(axis=1).astype(np.float64)[:, None]
    gap = s.gap[:, None]
    after = gap - s.moves
    d_after, d_now = _free_steps(s.moves, after, s.gap)
    is_target = after == 0
    dead_at = _dead_lookup(s, rows)
    land_bad = dead_at(s.moves) & ~is_target
    excess = d_after - after / largest
    unreachable = np.isinf(excess)
    with np.errstate(invalid="ignore"):
        slack = s.slack[:, None] + d_now[:, None] - 1 - d_after
    slack = np.where(np.isfinite(slack), slack, -2.0)
    depth1, depth2, best2 = _lookahead(s, dead_at, is_target, land_bad, largest)
    escapes = _escapes(s, dead_at, is_target, land_bad)
    window = _landing_window(s, dead_at)
    ahead_density = window[:, :, BEHIND:].mean(axis=2)
    per_action = [
        np.ones((n, k)),
        np.clip(s.moves / largest, -2, 1),
        land_bad,
        is_target,
        np.clip(after / largest, -3, GAP_CLIP),
        np.abs(after) <= CLOSE,
        np.where(unreachable, 6.0, np.clip(np.nan_to_num(excess, posinf=6.0), 0, 6)),
        unreachable,
        np.clip(slack, -2, 8) / 4.0,
        depth1,
        depth2,
        best2,
        *escapes,
        ahead_density,
    ]
    action_part = np.concatenate(
        [np.stack(per_action, axis=2).astype(np.float32), window.astype(np.float32)], axis=2
    )
    state = local_state_features(s, largest[:, 0])
    state_part = np.broadcast_to(state[:, None, :], (n, k, state.shape[1]))
    return np.concatenate([action_part, state_part], axis=2)


def _free_steps(
    moves: np.ndarray, after: np.ndarray, gap: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    d_after = np.empty(after.shape)
    d_now = np.empty(gap.shape)
    for key in {tuple(row) for row in moves.tolist()}:
        rows = np.flatnonzero((moves == np.asarray(key)).all(axis=1))
        line = free_line(key)
        d_after[rows] = line.steps(after[rows])
        d_now[rows] = line.steps(gap[rows])
    return d_after, d_now


DeadLookup = Callable[[np.ndarray], np.ndarray]


def _dead_lookup(s: Situations, rows: np.ndarray) -> DeadLookup:
    width = s.dead.shape[1]

    def dead_at(offsets: np.ndarray) -> np.ndarray:
        index = offsets - s.low
        inside = (index >= 0) & (index < width)
        r = np.broadcast_to(
            rows.reshape(rows.shape + (1,) * (offsets.ndim - rows.ndim)), offsets.shape
        )
        return np.where(inside, s.dead[r, np.clip(index, 0, width - 1)], False)

    return dead_at


def _lookahead(
    s: Situations,
    dead_at: DeadLookup,
    is_target: np.ndarray,
    land_bad: np.ndarray,
    largest: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractions of safe 1- and 2-move continuations after each landing, and the best 2-move
    progress (in units of 2 largest moves) along a safe continuation."""
    gap = s.gap[:, None, None]
    m1 = s.moves[:, :, None]
    second = m1 + s.moves[:, None, :]  # (N, K, K)
    hit2 = second == gap
    ok2 = hit2 | ~dead_at(second)
    third = second[:, :, :, None] + s.moves[:, None, None, :]  # (N, K, K, K)
    ok3 = (third == gap[..., None]) | ~dead_at(third)
    ok23 = ok2[..., None] & (hit2[..., None] | ok3)
    progress = np.where(
        hit2[..., None], 1.0, (third - m1[..., None]) / (2 * largest[..., None, None])
    )
    best = np.where(ok23, np.minimum(progress, 1.0), -1.0).max(axis=(2, 3))
    depth1 = ok2.mean(axis=2)
    depth2 = ok23.mean(axis=(2, 3))
    done = is_target
    depth1 = np.where(done, 1.0, np.where(land_bad, 0.0, depth1))
    depth2 = np.where(done, 1.0, np.where(land_bad, 0.0, depth2))
    best = np.where(done, 1.0, np.where(land_bad, -1.0, best))
    return depth1, depth2, best


def _escapes(
    s: Situations, dead_at: DeadLookup, is_target: np.ndarray, land_bad: np.ndarray
) -> list[np.ndarray]:
    """For depth d = 1, 2, 3: whether some d-move continuation from the landing stays off dead
    states (or reaches the goal first): a dead end d moves deep shows as 0."""
    gap = s.gap[:, None]
    moves = s.moves
    n, k = moves.shape
    # safe[d]: (N, K, K^d) safety of every path of d continuation moves after each landing
    reach = moves[:, :, None]
    alive = np.ones((n, k, 1), dtype=bool)
    finished = np.zeros((n, k, 1), dtype=bool)
    out = []
    for _ in range(3):
        reach = (reach[:, :, :, None] + moves[:, None, None, :]).reshape(n, k, -1)
        alive = np.repeat(alive, k, axis=2)
        finished = np.repeat(finished, k, axis=2)
        hit = reach == gap[:, :, None]
        alive = alive & (finished | hit | ~dead_at(reach))
        finished = finished | hit
        exists = alive.any(axis=2)
        out.append(np.where(is_target, True, np.where(land_bad, False, exists)))
    return out


def _landing_window(s: Situations, dead_at: DeadLookup) -> np.ndarray:
    rel = np.concatenate([np.arange(-BEHIND, 0), np.arange(1, AHEAD + 1)])
    return dead_at(s.moves[:, :, None] + rel[None, None, :])


def local_state_features(s: Situations, largest: np.ndarray) -> np.ndarray:
    """(N, 7): is_close, phase one-hot (3), danger_proximity, constraint_pressure, slack."""
    danger, pressure = _danger(s, largest)
    phase = phase_ids(s.gap, pressure > 0)
    onehot = np.eye(3)[phase]
    return np.column_stack([s.gap <= CLOSE, onehot, danger, pressure, s.slack / SLACK_CLIP]).astype(
        np.float32
    )


def _danger(s: Situations, largest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Danger proximity and constraint pressure over the next 2L states (forbidden only: dead
    states past the target are excluded by stopping at the goal)."""
    n = len(s.gap)
    span = (2 * largest).astype(np.int64)
    offsets = np.arange(1, int(span.max()) + 1)
    index = offsets[None, :] - s.low
    within = (offsets[None, :] <= span[:, None]) & (offsets[None, :] < s.gap[:, None])
    index = np.clip(index, 0, s.dead.shape[1] - 1)
    hits = s.dead[np.arange(n)[:, None], index] & within
    pressure = hits.sum(axis=1) / span
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)
    danger = np.where(first > 0, 1.0 - (first - 1) / span, 0.0)
    return danger, pressure


def phase_ids(gap: np.ndarray, danger_ahead: np.ndarray) -> np.ndarray:
    """0 exploration (forbidden state within 2L ahead), 1 navigation, 2 precision (gap ≤ 10)."""
    return np.where(gap <= CLOSE, 2, np.where(danger_ahead, 0, 1))


# ---- the paper's feature set --------------------------------------------------------------------
def paper_state_features(
    position: np.ndarray,
    steps: np.ndarray,
    target: np.ndarray,
    start: np.ndarray,
    budget: np.ndarray,
    largest: np.ndarray,
    danger: np.ndarray,
    pressure: np.ndarray,
) -> np.ndarray:
    """(N, 14) the paper's relational state, in the order of ``PAPER_STATE_NAMES``."""
    span = (target - start).astype(np.float64)
    gap = np.abs(target - position).astype(np.float64)
    scale = np.abs(span)
    progress = (position - start) / span
    remaining = (target - position) / span
    time_ratio = steps / budget
    log_gap = np.log(gap + 1) / np.log(scale + 1)
    magnitude = gap / scale
    close = gap <= CLOSE
    far = gap >= scale / 2
    phase = np.eye(3)[phase_ids(gap, pressure > 0)]
    min_steps = np.ceil(gap / largest)
    efficiency = min_steps / (budget - steps + 1)
    columns = [progress, remaining, time_ratio, log_gap, magnitude, close, far, danger, pressure]
    return np.column_stack([*columns, phase, min_steps, efficiency])


def relational_state(problem: object, position: int, step: int) -> dict[str, float]:
    """The paper's relational state of one state, by name (``theoretical_min_steps`` raw)."""
    from hrrl.envs.numberline_vector import NumberLineVectorEnv

    env = NumberLineVectorEnv([problem], reward="sparse")  # type: ignore[list-item]
    env.reset(seed=0)
    env.position[0], env.steps[0] = position, step
    values = _paper_state_from_env(env)[0]
    return {name: float(v) for name, v in zip(PAPER_STATE_NAMES, values, strict=True)}


def _paper_state_from_env(env: object) -> np.ndarray:
    s = situations_from_env(env)
    largest = np.abs(s.moves).max(axis=1).astype(np.float64)
    danger, pressure = _danger(s, largest)
    return paper_state_features(
        env.position,  # type: ignore[attr-defined]
        env.steps,  # type: ignore[attr-defined]
        env.target,  # type: ignore[attr-defined]
        env.start,  # type: ignore[attr-defined]
        env.budget,  # type: ignore[attr-defined]
        largest,
        danger,
        pressure,
    )


def paper_features(env: object, goal: np.ndarray | None = None) -> np.ndarray:
    """(N, K, 16): valid, move / largest, then the paper's state (min steps / budget)."""
    state = _paper_state_from_env(env) if goal is None else _paper_state_goal(env, goal)
    state[:, 12] = state[:, 12] / env.budget  # type: ignore[attr-defined]
    return _with_moves(env, state)


def _paper_state_goal(env: object, goal: np.ndarray) -> np.ndarray:
    saved = env.target.copy()  # type: ignore[attr-defined]
    env.target[:] = goal  # type: ignore[attr-defined]
    try:
        return _paper_state_from_env(env)
    finally:
        env.target[:] = saved  # type: ignore[attr-defined]


def raw_features(env: object, goal: np.ndarray | None = None) -> np.ndarray:
    """(N, K, 5): valid, move / largest, position, target, steps left (each / 100)."""
    target = env.target if goal is None else goal  # type: ignore[attr-defined]
    state = np.column_stack(
        [env.position, target, env.budget - env.steps]  # type: ignore[attr-defined]
    ).astype(np.float64)
    return _with_moves(env, state / 100.0)


def _with_moves(env: object, state: np.ndarray) -> np.ndarray:
    moves = env.moves.astype(np.float64)  # type: ignore[attr-defined]
    n, k = moves.shape
    largest = np.abs(moves).max(axis=1, keepdims=True)
    per_action = np.stack([np.ones((n, k)), moves / largest], axis=2)
    state_part = np.broadcast_to(state[:, None, :], (n, k, state.shape[1]))
    return np.concatenate([per_action, state_part], axis=2).astype(np.float32)


def env_features(feature_set: str, env: object, goal: np.ndarray | None = None) -> np.ndarray:
    """(N, K, D) features of every sub-env for a feature set name."""
    if feature_set == "local":
        return local_features(situations_from_env(env, goal))
    if feature_set == "paper":
        return paper_features(env, goal)
    if feature_set == "raw":
        return raw_features(env, goal)
    raise ValueError(f"unknown feature set {feature_set!r}")
