"""HRRL v2: a manager that plans subgoals with learned cost-to-go, and a worker that reaches them.

**Manager.** Best-first search over the real model (moves and forbidden states are in the
observation) from the start to the target, ordered by ``f = g + h`` where ``h`` is the learned
goal-conditioned cost-to-go of :mod:`hrrl.agents.hrrl.value`:

* goal inside the network's window: ``h = max(lb, V[gap])`` (the network's steps to the goal);
* goal beyond it: ``h = lb(gap) + e(x) + ρ · (lb(gap) − lb(AHEAD))``, where ``lb`` is the exact
  free-line lower bound (no forbidden states; parity and residues included), ``e(x)`` the learned
  excess of crossing the next window (``min_d V[d] − lb(d)`` over the window's far cells: a
  sealed lane or a wall ahead makes it large) and ``ρ`` the learned excess per move of this field
  (the median of ``e / lb(AHEAD)`` over sampled positions).

The search prunes every node with ``g + lb > budget`` (sound: ``lb`` never overestimates), and
reopens a node reached again with a smaller ``g``, so it is complete: when it stops without a
path, no path exists within the budget (or the node budget ran out, reported as such). Because
the learned ``h`` may overestimate, the path found need not be the shortest: its optimality is
measured, never assumed. ``weight = 0`` (the *uniform* ablation) drops the learned terms (plain
A* on ``lb``: optimal, but with more expansions).

The manager emits subgoals: the plan's position every ``spacing`` cells (coarse waypoints, and
every change of move: lane switches and backward steps).

**Budgeted manager** (``decision_expansions > 0``, :func:`plan_budgeted`). A receding-horizon
planner: each decision is a best-first lookahead of at most ``decision_expansions`` node pops from
the current subgoal, ordered by ``g + h`` with the learned ``h`` above (``lb`` for the uniform
ablation), and commits to the first ``commit`` fraction of the path to its best frontier node:
that position is the next subgoal. Here the learned values *decide* (which frontier node, hence
which lane and which subgoal), and the search is incomplete: when a decision finds no successor
the exhaustive search runs from the start (counted apart) to certify infeasibility or find the
path. docs/HARD.md measures it against the same manager with ``lb`` instead of the learned
values under the same budget.

**Worker.** Reaches each subgoal in the number of moves the manager allotted, by a depth-limited
lookahead over the model ordered by the learned values (cheapest landing first), pruned by the
free-line bound. Its expansions are counted apart from the manager's.

Expansions are counted per problem (manager pops, worker nodes) and compared with breadth-first
search in the reports.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field, replace

import numpy as np

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.features import FreeLine, free_line
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.problem import Problem

CHUNK = 4096
"""Positions whose heuristic is computed in one network batch."""
RHO_SAMPLES = 256
"""Positions sampled to estimate a field's excess per move."""


@dataclass(frozen=True, kw_only=True)
class ManagerConfig:
    """How the manager and the worker search."""

    weight: float = 1.0
    """Weight of the learned terms of the learned cost-to-go (0: uniform values: no learned
    term anywhere, ties broken by depth)."""
    inflate: bool = False
    """Order the search by ``g + learned h`` (bounded-suboptimal, fewer expansions) instead of
    ``g + lb`` with the learned ``h`` breaking ties (optimal: ``lb`` is consistent)."""
    max_expansions: int = 3_000_000
    """Node budget of the manager's search per problem."""
    spacing: int = 32
    """Cells between consecutive subgoals (at most ``value.AHEAD``)."""
    worker_expansions: int = 5_000
    """Node budget of the worker's lookahead per subgoal."""
    decision_expansions: int = 0
    """Node budget of the manager's lookahead per decision (0: one complete search per
    problem, the exhaustive mode). With a budget the manager is a receding-horizon planner
    (:func:`plan_budgeted`): each decision searches ``decision_expansions`` nodes ahead of the
    current subgoal, ordered by ``g + h`` (learned ``h``; ``lb`` when uniform), and commits to
    a prefix of the path to its best frontier node."""
    commit: float = 0.5
    """Fraction of the best frontier path a budgeted decision commits to (the next subgoal)."""
    margin: float = 0.0
    """Learned excess (moves over the free-line bound) below this is ignored: only confident
    learned penalties (sealed lanes, walls) change the order."""
    use_rho: bool = True
    """Add the field's learned excess per move (``ρ``) to far estimates."""
    reuse: bool = False
    """Budgeted manager: keep the search tree below the committed subgoal for the next decision
    (its nodes re-rooted, ``g`` shifted by the subgoal's depth; every other node is dropped)
    instead of restarting from the subgoal, so each decision's pops deepen the tree the last
    decisions grew (the per-decision budget is unchanged)."""


@dataclass
class PlanStats:
    """What planning one problem cost and produced."""

    manager_expansions: int = 0
    worker_expansions: int = 0
    decisions: int = 0
    """Manager decisions = subgoals emitted."""
    worker_fallbacks: int = 0
    """Subgoals the worker's lookahead failed to reach (the manager's segment is used)."""
    exhausted: str | None = None
    """Why no plan: ``"no path within budget"`` or ``"node budget"``."""
    fallback: bool = False
    """The budgeted manager failed (dead end or steps ran out) and the exhaustive search ran:
    to certify infeasibility, or to find the path the budgeted one missed."""
    certify_expansions: int = 0
    """Nodes popped by that exhaustive search (counted apart from the manager's)."""
    max_decision_expansions: int = 0
    """Most nodes one budgeted decision popped (never above ``decision_expansions``)."""
    subgoals: list[int] = field(default_factory=list)


class _Field:
    """The problem's model around a window: free cells and the lazy learned heuristic."""

    def __init__(
        self,
        problem: Problem,
        net: V.NumpyValue | None,
        weight: float,
        margin: float = 0.0,
        use_rho: bool = True,
    ) -> None:
        self.problem = problem
        self.target = problem.target
        moves = problem.actions
        reach = max(abs(a) for a in moves)
        budget = problem.max_steps
        s, t = problem.start, problem.target
        if problem.monotone:
            lo, hi = min(s, t), max(s, t)
        else:
            up = max([a for a in moves if a > 0], default=0)
            dn = max([-a for a in moves if a < 0], default=0)
            lo = max(min(s, t) - budget * dn, t - budget * up, min(s, t) - budget * reach)
            hi = min(max(s, t) + budget * up, t + budget * dn, max(s, t) + budget * reach)
            lo, hi = min(lo, s, t), max(hi, s, t)
        self.lo, self.hi = lo, hi
        pad = V.AHEAD + V.BEHIND + V.MAX_MOVE
        self.base = lo - pad
        size = hi - lo + 1 + 2 * pad
        self.dead = np.zeros(size, dtype=bool)
        if problem.forbidden:
            f = np.fromiter(problem.forbidden, dtype=np.int64) - self.base
            self.dead[f[(f >= 0) & (f < size)]] = True
        self.dead[:pad] = True
        self.dead[size - pad :] = True
        self.lines: dict[int, FreeLine] = {
            1: free_line(tuple(moves)),
            -1: free_line(tuple(-a for a in moves)),
        }
        self.net, self.weight, self.margin = net, weight, margin
        self.h = np.full(hi - lo + 1, np.nan, dtype=np.float32)
        self.lb = np.full(hi - lo + 1, np.nan, dtype=np.float32)
        self.rho = 0.0
        if net is not None and weight > 0 and use_rho:
            self.rho = self._estimate_rho()

    # ---- lower bound and learned values ---------------------------------------------------
    def _lb(self, positions: np.ndarray) -> np.ndarray:
        gap = self.target - positions
        sigma = np.where(gap >= 0, 1, -1)
        out = np.empty(positions.shape, dtype=np.float64)
        for s in (1, -1):
            rows = sigma == s
            if rows.any():
                out[rows] = self.lines[s].steps(np.abs(gap[rows]))
        return out

    def _values(self, positions: np.ndarray) -> np.ndarray:
        """(n, WIDTH) learned steps to each goal offset, oriented toward the target."""
        assert self.net is not None
        sigma = np.where(self.target >= positions, 1, -1)
        offsets = np.arange(V.WIDTH) - V.BEHIND
        cells = positions[:, None] + sigma[:, None] * offsets[None, :] - self.base
        dead = self.dead[np.clip(cells, 0, self.dead.size - 1)]
        out = np.empty((positions.size, V.WIDTH), dtype=np.float32)
        for s in (1, -1):
            rows = np.flatnonzero(sigma == s)
            if rows.size:
                rel = tuple(s * a for a in self.problem.actions)
                hot = V.move_onehot(rel)
                out[rows] = np.minimum(
                    self.net(V.inputs(dead[rows], hot)) + V.window_lb(rel), V.CAP
                )
        return out

    def _excess(self, positions: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Learned excess of crossing the window's far end (min over its last free cells)."""
        sigma = np.where(self.target >= positions, 1, -1)
        far = np.arange(V.AHEAD - 16, V.AHEAD)
        best = np.full(positions.size, V.CAP, dtype=np.float64)
        for s in (1, -1):
            rows = np.flatnonzero(sigma == s)
            if not rows.size:
                continue
            lbs = self.lines[s].steps(far)
            cells = positions[rows, None] + s * far[None, :] - self.base
            free = ~self.dead[np.clip(cells, 0, self.dead.size - 1)]
            ex = values[rows][:, far + V.BEHIND] - lbs[None, :]
            ex = np.where(free & np.isfinite(lbs)[None, :], ex, V.CAP)
            best[rows] = ex.min(axis=1)
        return np.maximum(best, 0.0)

    def _estimate_rho(self) -> float:
        rng = np.random.default_rng(0)  # fixed: the estimate is a function of the field only
        start = self.problem.start
        sign = 1 if self.target >= start else -1
        span = abs(self.target - start)
        if span < 2 * V.AHEAD:
            return 0.0
        # Positions sampled from the start toward the target (mirror-symmetric: a reverse
        # problem gets the estimate of its mirror image).
        pos = start + sign * rng.integers(0, span - V.AHEAD, size=RHO_SAMPLES)
        pos = pos[~self.dead[pos - self.base]]
        if not pos.size:
            return 0.0
        e = self._excess(pos, self._values(pos))
        scale = float(self.lines[sign].steps(np.array([V.AHEAD - 8]))[0])
        e = e[e < V.EXCESS_CAP - 0.5]
        return float(np.median(e) / scale) if e.size and scale > 0 else 0.0

    def fill(self, position: int) -> None:
        """Compute lb and h for the chunk holding ``position``."""
        k = (position - self.lo) // CHUNK
        a = self.lo + k * CHUNK
        b = min(self.hi, a + CHUNK - 1)
        pos = np.arange(a, b + 1, dtype=np.int64)
        lb = self._lb(pos)
        self.lb[a - self.lo : b - self.lo + 1] = lb
        if self.net is None or self.weight <= 0:
            self.h[a - self.lo : b - self.lo + 1] = lb
            return
        free = ~self.dead[pos - self.base]
        h = lb.copy()
        rows = np.flatnonzero(free & np.isfinite(lb))
        if rows.size:
            p = pos[rows]
            vals = self._values(p)
            gap = np.abs(self.target - p)
            near = gap < V.AHEAD
            learned = np.empty(rows.size)
            idx = np.clip(gap + V.BEHIND, 0, V.WIDTH - 1)
            learned[near] = np.maximum(lb[rows][near], vals[np.flatnonzero(near), idx[near]])
            far = ~near
            if far.any():
                pf = p[far]
                toward = np.where(self.target >= pf, 1, -1)  # the free line toward the target
                scale = np.where(
                    toward > 0,
                    self.lines[1].steps(np.array([V.AHEAD]))[0],
                    self.lines[-1].steps(np.array([V.AHEAD]))[0],
                )
                e = self._excess(pf, vals[far])
                lbf = lb[rows][far]
                learned[far] = lbf + e + self.rho * np.maximum(lbf - scale, 0.0)
            excess = np.maximum(learned - lb[rows] - self.margin, 0.0)
            h[rows] = lb[rows] + self.weight * excess
        self.h[a - self.lo : b - self.lo + 1] = h

    def lb_at(self, position: int) -> float:
        i = position - self.lo
        if math.isnan(self.lb[i]):
            self.fill(position)
        return float(self.lb[i])

    def h_at(self, position: int) -> float:
        i = position - self.lo
        if math.isnan(self.h[i]):
            self.fill(position)
        return float(self.h[i])

    def is_dead(self, position: int) -> bool:
        return bool(self.dead[position - self.base])


def estimates(
    problem: Problem, net: V.NumpyValue | None, config: ManagerConfig, positions: list[int]
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """The budgeted manager's cost-to-go estimates ``h`` (learned; ``lb`` when uniform) and the
    free-line bound ``lb`` at free ``positions``, and the field's ``(lo, hi)`` (for measurement:
    what the search orders its nodes by)."""
    fld = _Field(problem, net, max(config.weight, 0.0), config.margin, config.use_rho)
    learned = net is not None and config.weight > 0
    lb = np.array([fld.lb_at(x) for x in positions])
    h = np.array([fld.h_at(x) for x in positions]) if learned else lb.copy()
    return h, lb, (fld.lo, fld.hi)


def plan(
    problem: Problem, net: V.NumpyValue | None, config: ManagerConfig
) -> tuple[list[int] | None, PlanStats]:
    """The manager's path (start → target within the budget) or ``None``, and its statistics."""
    path, stats, _ = _plan(problem, net, config)
    return path, stats


def _plan(
    problem: Problem, net: V.NumpyValue | None, config: ManagerConfig
) -> tuple[list[int] | None, PlanStats, _Field]:
    stats = PlanStats()
    fld = _Field(problem, net, max(config.weight, 0.0))
    start, target, budget = problem.start, problem.target, problem.max_steps
    lo, hi = fld.lo, fld.hi
    n = hi - lo + 1
    monotone = problem.monotone
    sign = 1 if target > start else -1
    moves = sorted(problem.actions, key=lambda a: -a * sign)  # largest forward move first
    inf = 1 << 60
    g = [inf] * n
    parent = [-1] * n
    dead = bytes(fld.dead[lo - fld.base : hi - fld.base + 1])
    lbv: list[float] = [0.0] * n
    tie: list[float] = [0.0] * n
    filled = bytearray((n + CHUNK - 1) // CHUNK)
    learned = net is not None and config.weight > 0
    inflate = config.weight > 0 and config.inflate

    def fill(j: int) -> None:
        c = j // CHUNK
        a, b = c * CHUNK, min(n, (c + 1) * CHUNK)
        fld.fill(lo + a)
        lbv[a:b] = fld.lb[a:b].tolist()
        if learned:
            tie[a:b] = fld.h[a:b].tolist()
        filled[c] = 1

    s0 = start - lo
    fill(s0)
    if lbv[s0] > budget:
        stats.exhausted = "no path within budget"
        return None, stats, fld
    g[s0] = 0
    first = tie[s0] if inflate else lbv[s0]
    heap: list[tuple[float, float, int, int]] = [(first, tie[s0], 0, s0)]
    expansions = 0
    found = False
    t_idx = target - lo
    limit = config.max_expansions
    push, pop = heapq.heappush, heapq.heappop
    while heap:
        _, _, neg_g, j = pop(heap)
        gx = -neg_g
        if gx != g[j]:
            continue  # stale entry
        if j == t_idx:
            found = True
            break
        expansions += 1
        if expansions > limit:
            stats.exhausted = "node budget"
            break
        gn = gx + 1
        for a in moves:
            k = j + a
            if k < 0 or k >= n or dead[k]:
                continue
            if monotone and (k - t_idx) * sign > 0:
                continue
            if gn >= g[k]:
                continue
            if not filled[k // CHUNK]:
                fill(k)
            if gn + lbv[k] > budget:
                continue
            g[k] = gn
            parent[k] = j
            push(heap, (gn + (tie[k] if inflate else lbv[k]), tie[k], -gn, k))
    stats.manager_expansions = expansions
    if not found:
        stats.exhausted = stats.exhausted or "no path within budget"
        return None, stats, fld
    path = [t_idx]
    while path[-1] != s0:
        path.append(parent[path[-1]])
    path.reverse()
    return [lo + j for j in path], stats, fld


def plan_budgeted(
    problem: Problem, net: V.NumpyValue | None, config: ManagerConfig
) -> tuple[list[int] | None, PlanStats, _Field]:
    """Receding-horizon manager: a budgeted lookahead per decision, then a committed subgoal.

    Each decision runs best-first search from the current subgoal over the model, ordered by
    ``g + h`` (the learned cost-to-go; ``lb`` for the uniform manager), ties to the deeper node,
    pruned by ``steps used + g + lb > budget``; it stops at the target or after
    ``decision_expansions`` pops, and commits to the first ``commit`` fraction of the path to
    its best frontier node: that position is the next subgoal. Positions already on the
    committed path are never revisited. When a decision finds no successor (a dead end, or no
    way to finish within the budget by ``lb``), the budgeted manager has failed and the
    exhaustive search of :func:`_plan` runs from the start (ordered by ``g + lb``, complete):
    it certifies infeasibility or finds the path; ``stats.fallback`` and
    ``stats.certify_expansions`` record it."""
    stats = PlanStats()
    fld = _Field(problem, net, max(config.weight, 0.0), config.margin, config.use_rho)
    start, target, budget = problem.start, problem.target, problem.max_steps
    moves = sorted(problem.actions, key=lambda a: -a * (1 if target > start else -1))
    monotone, sign = problem.monotone, (1 if target > start else -1)
    learned = net is not None and config.weight > 0
    heur = fld.h_at if learned else fld.lb_at
    path = [start]
    on_path = {start}
    limit = max(1, config.decision_expansions)
    failed = fld.lb_at(start) > budget
    g: dict[int, int] = {start: 0}
    parent: dict[int, int] = {}
    heap: list[tuple[float, int, int]] = [(heur(start), 0, start)]
    closed: set[int] = set()
    while not failed and path[-1] != target:
        x, used = path[-1], len(path) - 1
        if not config.reuse or x not in g:
            g, parent, closed = {x: 0}, {}, set()
            heap = [(heur(x), 0, x)]
        pops, reached = 0, False
        while heap and pops < limit:
            _, neg_g, j = heapq.heappop(heap)
            if -neg_g != g[j] or j in closed:
                continue
            if j == target:
                reached = True
                break
            closed.add(j)
            pops += 1
            gn = -neg_g + 1
            for a in moves:
                k = j + a
                if k < fld.lo or k > fld.hi or fld.is_dead(k) or k in on_path:
                    continue
                if monotone and (k - target) * sign > 0:
                    continue
                if gn >= g.get(k, 1 << 60) or used + gn + fld.lb_at(k) > budget:
                    continue
                g[k], parent[k] = gn, j
                closed.discard(k)
                heapq.heappush(heap, (gn + heur(k), -gn, k))
        stats.manager_expansions += pops
        stats.max_decision_expansions = max(stats.max_decision_expansions, pops)
        stats.decisions += 1
        if reached:
            node = target
        else:
            while heap and -heap[0][1] != g[heap[0][2]]:
                heapq.heappop(heap)
            if not heap:
                failed = True
                break
            node = heap[0][2]
        seg = [node]
        while seg[-1] != x:
            seg.append(parent[seg[-1]])
        seg = seg[-2::-1]  # x excluded, node last
        if node != target:
            seg = seg[: max(1, math.ceil(config.commit * len(seg)))]
        path.extend(seg)
        on_path.update(seg)
        stats.subgoals.append(seg[-1])
        if config.reuse:
            g, parent, closed, heap = _reroot(seg[-1], g, parent, closed, heap, on_path)
    if not failed:
        return path, stats, fld
    stats.fallback = True
    full, full_stats, _ = _plan(problem, None, replace(config, weight=0.0))
    stats.certify_expansions = full_stats.manager_expansions
    stats.exhausted = full_stats.exhausted
    return full, stats, fld


def _reroot(
    root: int,
    g: dict[int, int],
    parent: dict[int, int],
    closed: set[int],
    heap: list[tuple[float, int, int]],
    on_path: set[int],
) -> tuple[dict[int, int], dict[int, int], set[int], list[tuple[float, int, int]]]:
    """The search tree below ``root`` (the committed subgoal), re-rooted there: ``g`` shifted
    by ``root``'s depth, parents kept, open entries kept with their ``f`` shifted alike; nodes
    not below ``root`` (or on the committed path) are dropped."""
    g0 = g[root]
    below: dict[int, bool] = {root: True}

    def under(k: int) -> bool:
        trail = []
        while k not in below:
            if k in on_path or k not in parent:
                below[k] = False
                break
            trail.append(k)
            k = parent[k]
        verdict = below[k]
        for t in trail:
            below[t] = verdict
        return verdict

    keep = {k: v - g0 for k, v in g.items() if under(k)}
    new_parent = {k: parent[k] for k in keep if k != root}
    new_heap = [(f - g0, ng + g0, k) for f, ng, k in heap if k in keep and -ng == g[k]]
    heapq.heapify(new_heap)
    return keep, new_parent, closed & keep.keys(), new_heap


def subgoals(path: list[int], spacing: int) -> list[int]:
    """Indices into ``path`` of the manager's subgoals: every change of move, and at least one
    every ``spacing`` cells; the target last."""
    out: list[int] = []
    last = 0
    for i in range(1, len(path)):
        change = i + 1 < len(path) and path[i + 1] - path[i] != path[i] - path[i - 1]
        far = i + 1 < len(path) and abs(path[i + 1] - path[last]) > spacing
        if change or far or i == len(path) - 1:
            out.append(i)
            last = i
    return out


def work(
    problem: Problem,
    path: list[int],
    goals: list[int],
    fld: _Field,
    config: ManagerConfig,
    stats: PlanStats,
) -> list[int]:
    """The worker: reach each subgoal in the allotted moves by lookahead; returns the path."""
    out = [path[0]]
    prev = 0
    moves = problem.actions
    monotone = problem.monotone
    target = problem.target
    sign = 1 if target > problem.start else -1
    for k in goals:
        goal, steps = path[k], k - prev
        seg = _reach(out[-1], goal, steps, moves, fld, monotone, target, sign, config, stats)
        if seg is None:
            stats.worker_fallbacks += 1
            seg = path[prev + 1 : k + 1]
        out.extend(seg)
        prev = k
    return out


def _reach(
    x: int,
    goal: int,
    steps: int,
    moves: tuple[int, ...],
    fld: _Field,
    monotone: bool,
    target: int,
    sign: int,
    config: ManagerConfig,
    stats: PlanStats,
) -> list[int] | None:
    """Depth-first lookahead: a path x → goal of exactly ``steps`` moves (cheapest h first)."""
    budget = config.worker_expansions
    reach = max(abs(m) for m in moves)
    count = 0
    stack: list[tuple[int, int, list[int]]] = [(x, 0, [])]
    while stack:
        pos, depth, trail = stack.pop()
        count += 1
        if count > budget:
            break
        if pos == goal and depth == steps:
            stats.worker_expansions += count
            return trail
        if depth == steps:
            continue
        left = steps - depth - 1
        options = []
        for a in moves:
            y = pos + a
            if y < fld.lo or y > fld.hi or fld.is_dead(y) or (y == target and y != goal):
                continue
            if monotone and (y - target) * sign > 0:
                continue
            gap = goal - y
            if gap and abs(gap) > left * reach:
                continue
            if gap == 0 and left:
                continue
            options.append((fld.h_at(y), y))
        options.sort(reverse=True)  # the stack pops the cheapest last-pushed
        for _, y in options:
            stack.append((y, depth + 1, [*trail, y]))
    stats.worker_expansions += count
    return None


@dataclass
class ManagerPolicy:
    """Acting with the manager and worker (``NumberLinePolicy``, with ``act_repeat``)."""

    net: V.NumpyValue | None
    config: ManagerConfig = field(default_factory=ManagerConfig)
    name: str = "hrrl-v2"
    stats: dict[str, PlanStats] = field(default_factory=dict)
    _paths: list[list[int] | None] = field(default_factory=list)

    def solve(self, problem: Problem) -> tuple[list[int] | None, PlanStats]:
        if self.config.decision_expansions > 0:
            path, stats, fld = plan_budgeted(problem, self.net, self.config)
            if path is None:
                return None, stats
            # The worker's waypoints: the manager's subgoals, plus one every ``spacing`` cells
            # inside long committed segments (so each lookahead stays local).
            goals = subgoals(path, min(self.config.spacing, V.AHEAD))
            if not stats.fallback:
                where = {p: i for i, p in enumerate(path)}
                goals = sorted(set(goals) | {where[p] for p in stats.subgoals})
            return work(problem, path, goals, fld, self.config, stats), stats
        path, stats, fld = _plan(problem, self.net, self.config)
        if path is None:
            return None, stats
        goals = subgoals(path, min(self.config.spacing, V.AHEAD))
        stats.decisions = len(goals)
        stats.subgoals = [path[k] for k in goals]
        return work(problem, path, goals, fld, self.config, stats), stats

    def begin(self, env: NumberLineVectorEnv) -> None:
        self._paths = []
        for i, problem in enumerate(env.problems):
            path, stats = self.solve(problem)
            self._paths.append(path)
            self.stats[problem.id or str(i)] = stats

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        return self.act_repeat(env)[0]

    def act_repeat(self, env: NumberLineVectorEnv) -> tuple[np.ndarray, np.ndarray]:
        n = env.num_envs
        actions = np.zeros(n, dtype=np.int64)
        repeats = np.ones(n, dtype=np.int64)
        for i in range(n):
            path = self._paths[i] if i < len(self._paths) else None
            steps = int(env.steps[i])
            moves = env.moves[i]
            if path is None or steps >= len(path) - 1:
                actions[i] = int(np.argmax(moves * env.sign[i])) if env.sign[i] else 0
                continue
            step = path[steps + 1] - path[steps]
            actions[i] = int(np.flatnonzero(moves == step)[0])
            run = 1
            while steps + run < len(path) - 1 and path[steps + run + 1] - path[steps + run] == step:
                run += 1
            repeats[i] = run
        return actions, repeats


# ---- ablations: the worker without the manager ------------------------------------------------
def walk(
    problem: Problem,
    net: V.NumpyValue | None,
    goals: list[int],
    *,
    depth: int = 3,
    stats: PlanStats | None = None,
) -> list[int]:
    """The worker alone (no manager): from goal to goal (the last is the target), each move
    chosen by a ``depth``-move lookahead over the model scored by the learned cost-to-go of the
    current goal; a goal passed or unreachable is dropped (as the paper's tracker does).
    ``goals = [target]`` is the flat ablation; the paper's waypoints are the fixed-waypoint one."""
    stats = stats if stats is not None else PlanStats()
    path = [problem.start]
    budget = problem.max_steps
    sign = 1 if problem.target > problem.start else -1
    fields: dict[int, _Field] = {}
    k = 0
    while len(path) - 1 < budget and path[-1] != problem.target:
        x = path[-1]
        while k < len(goals) - 1 and (goals[k] - x) * sign <= 0:
            k += 1
        if goals[k] not in fields:  # the field from here to this goal, built when first pursued
            fields[goals[k]] = _Field(_retarget(problem, x, goals[k]), net, 1.0)
        fld = fields[goals[k]]
        best, move = math.inf, None
        for a in problem.actions:
            y = x + a
            if not fld.lo <= y <= fld.hi or fld.is_dead(y) or y in problem.forbidden:
                continue
            if problem.monotone and (y - problem.target) * sign > 0:
                continue
            score = 1 + _lookahead(y, fld, problem, depth - 1, stats)
            if score < best:
                best, move = score, y
        stats.decisions += 1
        if move is None and k < len(goals) - 1:  # the waypoint cannot be hit: pass it
            legal = [
                x + a
                for a in problem.actions
                if x + a not in problem.forbidden
                and not (problem.monotone and (x + a - problem.target) * sign > 0)
            ]
            move = min(legal, key=lambda y: abs(goals[k] - y), default=None)
        if move is None:
            break
        path.append(move)
        if move in problem.forbidden:
            break
    return path


def _lookahead(x: int, fld: _Field, problem: Problem, depth: int, stats: PlanStats) -> float:
    stats.worker_expansions += 1
    if x == fld.target:
        return 0.0
    if depth == 0:
        return fld.h_at(x)
    best = math.inf
    sign = 1 if fld.target > problem.start else -1
    for a in problem.actions:
        y = x + a
        if not fld.lo <= y <= fld.hi or fld.is_dead(y):
            continue
        if problem.monotone and (y - fld.target) * sign > 0:
            continue
        best = min(best, 1 + _lookahead(y, fld, problem, depth - 1, stats))
    return best


def _retarget(problem: Problem, start: int, goal: int) -> Problem:
    """The problem from ``start`` to ``goal`` (the field and budget of the original; a forbidden
    goal stays forbidden for moves, see ``walk``)."""
    forbidden = problem.forbidden - {goal}
    return replace(problem, start=start, target=goal, forbidden=frozenset(forbidden))


@dataclass
class WalkerPolicy:
    """The flat / fixed-waypoint ablations as a ``NumberLinePolicy`` (paths computed in begin)."""

    net: V.NumpyValue | None
    waypoints: str = "none"
    """``none`` (flat: the target only) or ``paper`` (the paper's fixed waypoints)."""
    name: str = "hrrl-v2-flat"
    stats: dict[str, PlanStats] = field(default_factory=dict)
    _paths: list[list[int] | None] = field(default_factory=list)

    def solve(self, problem: Problem) -> tuple[list[int], PlanStats]:
        from hrrl.agents.hrrl.decomposition import paper_waypoints

        goals = [problem.target]
        if self.waypoints == "paper":
            goals = paper_waypoints(problem.start, problem.target)
        stats = PlanStats(subgoals=list(goals))
        return walk(problem, self.net, goals, stats=stats), stats

    def begin(self, env: NumberLineVectorEnv) -> None:
        self._paths = []
        for i, problem in enumerate(env.problems):
            path, stats = self.solve(problem)
            self._paths.append(path)
            self.stats[problem.id or str(i)] = stats

    act = ManagerPolicy.act
    act_repeat = ManagerPolicy.act_repeat
