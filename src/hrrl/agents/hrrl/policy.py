"""Acting: the learned HRRL policy, greedy on its Q-values, with numpy weights and memoization.

For the ``local`` feature set every decision is a function of the canonical situation (reduced
gap, clipped slack, relative moves, dead-state window), so decisions are memoized on it: equal
situations give bit-identical features, hence the same greedy action, so the cache changes no
result. Small batches (≤ ``SCALAR_BATCH`` sub-envs: long single problems) build the situation key
in plain Python from a sorted forbidden list; large batches compute features in numpy.

``mask=True`` (reported separately, labelled) removes moves whose landing is dead (a forbidden
state, or past the target when every move goes the same way) unless every move is.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hrrl.agents.hrrl import features as F
from hrrl.agents.hrrl.config import HRRLConfig
from hrrl.agents.hrrl.decomposition import WaypointTracker
from hrrl.agents.hrrl.loading import load_network
from hrrl.agents.hrrl.network import INVALID, NumpyScorer
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.policies import unsafe_moves

SCALAR_BATCH = 64
"""Up to this many running sub-envs, situation keys are built in plain Python (with runs)."""
PREFETCH = 256
"""Positions decided per batch when a long walk meets a new situation."""
LAND_BAD = 2
"""Index of the "landing is dead" feature in the local set."""


def greedy_actions(scores: np.ndarray, bad: np.ndarray | None) -> np.ndarray:
    """Argmax of the scores; with ``bad`` given, bad moves are removed unless all are."""
    if bad is not None:
        keep_all = bad.all(axis=1, keepdims=True)
        scores = np.where(bad & ~keep_all, INVALID, scores)
    return scores.argmax(axis=1)


@dataclass(frozen=True)
class _Heading:
    """Facts about one problem's relative moves toward a goal on one side."""

    moves: tuple[int, ...]
    low: int
    high: int
    cut: int
    largest: int
    table: np.ndarray
    table_low: int
    table_high: int

    @classmethod
    def of(cls, moves: tuple[int, ...]) -> _Heading:
        line = F.free_line(moves)
        low, high = min(F.window_bounds(moves)[0], 0), F.window_bounds(moves)[1]
        return cls(
            moves, low, high, F.gap_cut(moves), line.largest, line.table, line.low, line.high
        )

    def free_steps(self, gap: int) -> float:
        shift = 0
        if gap > self.table_high:
            shift = (gap - self.table_high + self.largest - 1) // self.largest
            gap -= shift * self.largest
        return float(self.table[gap - self.table_low]) + shift


@dataclass
class _ScalarEnv:
    """What the Python situation key needs about one problem."""

    forbidden: list[int]
    headings: dict[int, _Heading]
    monotone: bool
    sorted_forbidden: np.ndarray


def _scalar_env(forbidden: frozenset[int], actions: tuple[int, ...], monotone: bool) -> _ScalarEnv:
    headings = {s: _Heading.of(tuple(s * a for a in actions)) for s in (1, -1)}
    ordered = sorted(forbidden)
    return _ScalarEnv(ordered, headings, bool(monotone), np.asarray(ordered, dtype=np.int64))


def situations_ahead(
    info: _ScalarEnv, position: int, goal: int, slack: int, count: int
) -> tuple[F.Situations, list[tuple]]:
    """Situations (and their keys) of the next ``count`` free positions toward ``goal``, each
    with the given slack: the decisions a walk keeping its slack will ask for."""
    sigma = 1 if goal >= position else -1
    h = info.headings[sigma]
    gap = abs(goal - position)
    positions = position + sigma * np.arange(min(count, gap))
    forb = info.sorted_forbidden
    offsets = np.arange(h.low, h.high + 1)
    cells = positions[:, None] + sigma * offsets[None, :]
    where = np.minimum(np.searchsorted(forb, cells), max(forb.size - 1, 0))
    dead = forb[where] == cells if forb.size else np.zeros(cells.shape, dtype=bool)
    keep = ~dead[:, -h.low]
    positions, dead = positions[keep], dead[keep]
    gaps = np.abs(goal - positions)
    if info.monotone:
        dead |= offsets[None, :] > gaps[:, None]
    reduced = np.where(gaps < h.cut, gaps, h.cut + (gaps - h.cut) % h.largest)
    n = len(positions)
    moves = np.broadcast_to(np.asarray(h.moves, dtype=np.int64), (n, len(h.moves)))
    slacks = np.full(n, slack, dtype=np.int64)
    packed = np.packbits(dead, axis=1, bitorder="little")
    keys = [
        (int(g), slack, h.moves, h.low, h.high, int.from_bytes(row.tobytes(), "little"))
        for g, row in zip(reduced.tolist(), packed, strict=True)
    ]
    return F.Situations(reduced, slacks, np.array(moves), dead, h.low), keys


def situation_key(info: _ScalarEnv, position: int, steps_left: int, goal: int) -> tuple:
    """The canonical situation of one state, as a hashable key (see ``features.Situations``)."""
    sigma = 1 if goal >= position else -1
    h = info.headings[sigma]
    gap = abs(goal - position)
    minimum = h.free_steps(gap)
    slack = -F.SLACK_CLIP if minimum == np.inf else steps_left - int(minimum)
    slack = max(-F.SLACK_CLIP, min(F.SLACK_CLIP, slack))
    if sigma > 0:
        lo_pos, hi_pos = position + h.low, position + h.high
    else:
        lo_pos, hi_pos = position - h.high, position - h.low
    forb = info.forbidden
    bits = 0
    for f in forb[bisect.bisect_left(forb, lo_pos) : bisect.bisect_right(forb, hi_pos)]:
        bits |= 1 << (sigma * (f - position) - h.low)
    if info.monotone and gap < h.high:
        for o in range(max(gap + 1, h.low), h.high + 1):
            bits |= 1 << (o - h.low)
    reduced = gap if gap < h.cut else h.cut + (gap - h.cut) % h.largest
    return (reduced, slack, h.moves, h.low, h.high, bits)


def cruise_repeats(info: _ScalarEnv, position: int, goal: int, key: tuple, move: int) -> int:
    """How many times ``move`` can be made in a row with the situation provably unchanged (so
    the greedy decision is the same each time): only for the largest forward move, while the
    gap stays beyond the cut and no forbidden state enters the (empty) window."""
    _, _, _, _, high, bits = key
    sigma = 1 if goal >= position else -1
    h = info.headings[sigma]
    if bits or sigma * move != h.largest:
        return 1
    gap = abs(goal - position)
    if gap < h.cut:
        return 1
    more = (gap - h.cut) // h.largest
    forb = info.forbidden
    if sigma > 0:
        j = bisect.bisect_right(forb, position + high)
        distance = forb[j] - position if j < len(forb) else None
    else:
        j = bisect.bisect_left(forb, position - high) - 1
        distance = position - forb[j] if j >= 0 else None
    if distance is not None:
        more = min(more, (distance - high - 1) // h.largest)
    return 1 + max(0, more)


@dataclass
class HRRLPolicy:
    """The learned policy (``NumberLinePolicy`` protocol, plus the ``act_repeat`` hook)."""

    scorer: NumpyScorer
    config: HRRLConfig
    mask: bool = False
    name: str = "hrrl"
    cache: dict[object, int] = field(default_factory=dict)
    _tracker: WaypointTracker | None = None
    _scalar: dict[int, _ScalarEnv] = field(default_factory=dict)

    def begin(self, env: NumberLineVectorEnv) -> None:
        exact = self.config.decomposition and self.config.waypoints == "exact"
        self._tracker = WaypointTracker.for_problems(list(env.problems), exact=exact)
        self._scalar = {}

    def goals(self, env: NumberLineVectorEnv) -> np.ndarray:
        if self._tracker is None:
            self.begin(env)
        assert self._tracker is not None
        return self._tracker.goals(env.position, env.start)

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        return self.act_repeat(env)[0]

    def act_repeat(self, env: NumberLineVectorEnv) -> tuple[np.ndarray, np.ndarray]:
        """Greedy actions and how many times each may be repeated without a new decision."""
        goals = self.goals(env)
        actions = np.zeros(env.num_envs, dtype=np.int64)
        repeats = np.ones(env.num_envs, dtype=np.int64)
        rows = np.flatnonzero(_running(env))
        if rows.size == 0:
            return actions, repeats
        if self.config.feature_set != "local":
            feats = F.env_features(self.config.feature_set, env, goals)
            return greedy_actions(self.scorer(feats), self._bad(env, feats)), repeats
        if rows.size <= SCALAR_BATCH:
            self._act_scalar(env, goals, rows, actions, repeats)
        else:
            actions[rows] = self._act_vector(env, goals[rows], rows)
        return actions, repeats

    def _bad(self, env: NumberLineVectorEnv, feats: np.ndarray) -> np.ndarray | None:
        if not self.mask:
            return None
        if self.config.feature_set == "local":
            return feats[:, :, LAND_BAD] > 0.5
        return unsafe_moves(env)

    def _decide(self, situations: F.Situations) -> np.ndarray:
        feats = F.local_features(situations)
        return greedy_actions(self.scorer(feats), self._bad_local(feats))

    def _bad_local(self, feats: np.ndarray) -> np.ndarray | None:
        return feats[:, :, LAND_BAD] > 0.5 if self.mask else None

    def _act_scalar(
        self,
        env: NumberLineVectorEnv,
        goals: np.ndarray,
        rows: np.ndarray,
        actions: np.ndarray,
        repeats: np.ndarray,
    ) -> None:
        for i in rows.tolist():
            info = self._scalar.get(i)
            if info is None:
                problem = env.problems[i]
                info = _scalar_env(problem.forbidden, problem.actions, env.sign[i] != 0)
                self._scalar[i] = info
            position, goal = int(env.position[i]), int(goals[i])
            key = situation_key(info, position, int(env.budget[i] - env.steps[i]), goal)
            action = self.cache.get(key)
            if action is None:
                self._prefetch(info, position, goal, key[1])
                action = self.cache.get(key)
            if action is None:
                action = int(self._decide(situation_of_key(key))[0])
                self.cache[key] = action
            actions[i] = action
            repeats[i] = cruise_repeats(info, position, goal, key, int(env.moves[i, action]))

    def _prefetch(self, info: _ScalarEnv, position: int, goal: int, slack: int) -> None:
        """Decide the next ``PREFETCH`` positions' situations in one batch (exact: each decision
        is stored under its own situation key)."""
        situations, keys = situations_ahead(info, position, goal, slack, PREFETCH)
        if not keys:
            return
        for key, action in zip(keys, self._decide(situations).tolist(), strict=True):
            self.cache[key] = action

    def _act_vector(
        self, env: NumberLineVectorEnv, goals: np.ndarray, rows: np.ndarray
    ) -> np.ndarray:
        s = F.situations_from_env(env, goals, rows)
        keys = np.concatenate(
            [s.gap[:, None], s.slack[:, None], s.moves, s.dead.astype(np.int64)], axis=1
        )
        tags = [(s.low, row.tobytes()) for row in keys]
        out = np.empty(len(rows), dtype=np.int64)
        missing = []
        for j, tag in enumerate(tags):
            action = self.cache.get(tag)
            if action is None:
                missing.append(j)
            else:
                out[j] = action
        if missing:
            sub = np.asarray(missing)
            subset = F.Situations(s.gap[sub], s.slack[sub], s.moves[sub], s.dead[sub], s.low)
            decided = self._decide(subset)
            for j, action in zip(missing, decided.tolist(), strict=True):
                out[j] = action
                self.cache[tags[j]] = action
        return out


def _running(env: NumberLineVectorEnv) -> np.ndarray:
    """Sub-envs whose episode is not over (target, budget, forbidden landing or overshoot)."""
    position = env.position
    over = (env.position == env.target) | (env.steps >= env.budget)
    passed = ((env.sign > 0) & (position > env.target)) | ((env.sign < 0) & (position < env.target))
    dead = env.is_forbidden(np.arange(env.num_envs), position)
    return ~(over | passed | dead)


def situation_of_key(key: tuple) -> F.Situations:
    """A one-row :class:`Situations` from a situation key."""
    gap, slack, moves, low, high, bits = key
    width = high - low + 1
    dead = np.array([(bits >> j) & 1 for j in range(width)], dtype=bool)[None, :]
    return F.Situations(
        gap=np.array([gap], dtype=np.int64),
        slack=np.array([slack], dtype=np.int64),
        moves=np.array([moves], dtype=np.int64),
        dead=dead,
        low=low,
    )


def load_policy(path: Path, *, mask: bool = False) -> HRRLPolicy:
    """The trained policy of a run dir (or of the checkpoint file in it)."""
    network, config = load_network(Path(path))
    name = "hrrl" + ("+mask" if mask else "")
    return HRRLPolicy(scorer=NumpyScorer(network.state_dict()), config=config, mask=mask, name=name)
