"""The manager's learned goal-conditioned cost-to-go (HRRL v2), trained by reinforcement learning.

``V(window, moves)[d]``: the fewest moves from the current position to the goal ``d`` cells ahead
(``d`` in ``[-BEHIND, AHEAD)``), for every goal in the window at once (a universal value function
whose output has one unit per goal offset). The input is local and oriented toward the goal side:
the forbidden bitmap of the cells ``[-BEHIND, AHEAD)`` around the position and a one-hot of the
relative moves in ``[-MAX_MOVE, MAX_MOVE]``. Nothing in it depends on absolute positions or the
target's size, so the same network serves T = 100 and T = 10^6, any move set (|move| ≤ 16) and
either direction.

Learning is fitted value iteration / TD(0) on the Bellman optimality equation of the
shortest-path MDP (reward −1 per move), with a target network, on randomly drawn local fields:

    V(x)[d] = 0 if d = 0, else 1 + min over moves a of V(x + a)[d − a]

where a landing on a forbidden cell, or past the goal when every move goes one way, costs
``CAP``. Every sampled transition updates the values of *all* goals in the window (hindsight
relabelling of the transition to every goal it could serve: Kaelbling's all-goals updating). The
exact solver is never called: the targets come from the model (moves and forbidden cells are in
the observation) and the network's own bootstrapped values.

Training fields ("design for the class", not for a generator): random move sets of 2–4 moves with
|move| ≤ 16, a negative move in ~30 %; Bernoulli fields of density 0–35 %; in ~40 % a lane band
(all residues modulo the largest move forbidden but one or two, one lane sealed); in ~20 % short
forbidden runs.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from hrrl.core.seeding import init_module, spawn_seeds

BEHIND = 8
"""Cells behind the position in the window (toward the start)."""
AHEAD = 64
"""Cells ahead of the position (toward the goal); goal offsets are in [-BEHIND, AHEAD)."""
WIDTH = BEHIND + AHEAD
MAX_MOVE = 16
"""Moves up to this size (either sign) are encoded; larger ones are invisible to the network."""
MOVES_DIM = 2 * MAX_MOVE + 1
CAP = 96.0
"""Value of a dead end (and the clip of every value)."""
EXCESS_CAP = 24.0
"""The network predicts the excess over the free-line bound, clipped here: a dead end is
"at least 24 moves worse than the free line" (small targets keep the regression well scaled)."""
PAD = MAX_MOVE
"""Extra field cells on each side so every successor window is known."""


@dataclass(frozen=True, kw_only=True)
class ValueConfig:
    """Training of the goal-conditioned value network."""

    hidden: int = 64
    """Width of the two hidden layers."""
    iterations: int = 3000
    """Gradient steps."""
    batch_size: int = 256
    """Local fields per gradient step."""
    lr: float = 1e-3
    """Adam learning rate."""
    target_every: int = 10
    """Gradient steps between target-network copies."""
    max_density: float = 0.35
    """Largest Bernoulli density of the training fields."""
    expectile: float = 0.5
    """Asymmetry of the regression toward the Bellman target: the network fits this expectile
    of the target (``0.5``: the mean, plain squared error). Below 0.5 an overestimate costs
    ``(1 − τ) / τ`` times an underestimate of the same size, so the learned excess is pulled
    toward the free-line bound wherever the target is uncertain (cells beyond the window, the
    network's own noise) and stays large only where it is consistently large (sealed lanes,
    walls): an optimistic, near-admissible cost-to-go for the manager's search."""


class ValueNet(nn.Module):
    """MLP: (forbidden window, move one-hot) → steps to each goal offset of the window."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(WIDTH + MOVES_DIM, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, WIDTH),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@functools.lru_cache(maxsize=65536)
def window_lb(moves: tuple[int, ...]) -> np.ndarray:
    """(WIDTH,) fewest moves from 0 to each goal offset on a line without forbidden states
    (``inf`` when no combination of moves gets there; the last move may not pass the goal when
    every move goes forward, which never shortens a path anyway)."""
    moves = tuple(m for m in moves if m != 0)
    span = 4 * (AHEAD + BEHIND + 2 * MAX_MOVE)
    dist = {0: 0}
    frontier = [0]
    depth = 0
    while frontier:
        depth += 1
        nxt = []
        for p in frontier:
            for m in moves:
                q = p + m
                if -span <= q <= span and q not in dist:
                    dist[q] = depth
                    nxt.append(q)
        frontier = nxt
    return np.array([dist.get(d, np.inf) for d in range(-BEHIND, AHEAD)], dtype=np.float32)


class NumpyValue:
    """The network's forward pass for acting (numpy in, numpy out; torch on one thread inside,
    ~10× faster than numpy's BLAS on this machine): outputs the excess over :func:`window_lb`
    (add it back for steps), clipped to [0, EXCESS_CAP]."""

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        self.layers = [
            (
                state[f"body.{i}.weight"].detach().float().T.contiguous(),
                state[f"body.{i}.bias"].detach().float(),
            )
            for i in (0, 2, 4)
        ]

    def state_dict(self) -> dict[str, torch.Tensor]:
        out = {}
        for i, (w, b) in zip((0, 2, 4), self.layers, strict=True):
            out[f"body.{i}.weight"], out[f"body.{i}.bias"] = w.T.contiguous(), b
        return out

    def __call__(self, x: np.ndarray) -> np.ndarray:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.no_grad():
                h = torch.as_tensor(np.asarray(x, dtype=np.float32))
                for i, (w, b) in enumerate(self.layers):
                    h = torch.addmm(b, h, w)
                    if i < 2:
                        h = torch.relu(h)
                return h.clamp(0.0, EXCESS_CAP).numpy()
        finally:
            torch.set_num_threads(threads)


def move_onehot(moves: tuple[int, ...]) -> np.ndarray:
    """(MOVES_DIM,) one-hot of the relative moves (moves beyond ±MAX_MOVE are dropped)."""
    out = np.zeros(MOVES_DIM, dtype=np.float32)
    for m in moves:
        if abs(m) <= MAX_MOVE:
            out[m + MAX_MOVE] = 1.0
    return out


def inputs(dead: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Network input rows from (N, WIDTH) dead bits and (N, MOVES_DIM) or (MOVES_DIM,) one-hots."""
    n = dead.shape[0]
    hot = np.broadcast_to(onehot, (n, MOVES_DIM))
    return np.concatenate([dead.astype(np.float32), hot], axis=1)


# ---- training fields ----------------------------------------------------------------------------
def _move_sets(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 4) relative moves, 0-padded: 2–4 distinct moves, |move| ≤ 16, some negative."""
    out = np.zeros((n, 4), dtype=np.int64)
    for i in range(n):
        k = int(rng.integers(2, 5))
        top = int(rng.choice([5, 8, 10, 16], p=[0.35, 0.3, 0.15, 0.2]))
        moves = rng.choice(np.arange(1, top + 1), size=min(k, top), replace=False)
        if rng.random() < 0.3:
            j = int(rng.integers(len(moves)))
            moves[j] = -min(int(moves[j]), 8)
            if len(set(moves.tolist())) < len(moves):
                moves[j] = -1 if -1 not in moves else moves[j]
        out[i, : len(moves)] = moves
    return out


def _fields(rng: np.random.Generator, moves: np.ndarray) -> np.ndarray:
    """(n, PAD + WIDTH + PAD) forbidden cells around a free position (cell ``PAD + BEHIND``)."""
    n = moves.shape[0]
    length = 2 * PAD + WIDTH
    density = rng.uniform(0.0, 0.35, size=(n, 1)) * (rng.random((n, 1)) < 0.85)
    field = rng.random((n, length)) < density
    largest = np.maximum(np.abs(moves).max(axis=1), 1)
    for i in np.flatnonzero(rng.random(n) < 0.4):  # a lane band
        m = int(largest[i])
        lo = int(rng.integers(0, length - m))
        hi = int(rng.integers(lo + m, length + 1))
        keep = rng.choice(m, size=min(m, int(rng.integers(1, 3))), replace=False)
        cells = np.arange(lo, hi)
        band = ~np.isin((cells - lo) % m, keep)
        field[i, cells[band]] = True
        if rng.random() < 0.5:
            seal = lo + int(keep[0]) + m * int(rng.integers(0, max(1, (hi - lo) // m)))
            field[i, min(seal, length - 1)] = True
    for i in np.flatnonzero(rng.random(n) < 0.2):  # short runs
        m = int(largest[i])
        for _ in range(int(rng.integers(1, 4))):
            s = int(rng.integers(0, length))
            field[i, s : s + int(rng.integers(1, m + 1))] = True
    field[:, PAD + BEHIND] = False
    return field


def _windows(field: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """(n, WIDTH) window of each field around cell ``PAD + BEHIND + shift``."""
    cols = PAD + shift[:, None] + np.arange(WIDTH)[None, :]
    return np.take_along_axis(field, cols, axis=1)


def _onehots(moves: np.ndarray) -> np.ndarray:
    out = np.zeros((moves.shape[0], MOVES_DIM), dtype=np.float32)
    rows, cols = np.nonzero(moves)
    out[rows, moves[rows, cols] + MAX_MOVE] = 1.0
    return out


def td_targets(
    field: np.ndarray, moves: np.ndarray, successor_values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Bellman targets (n, WIDTH) and the mask of goals they are defined for.

    ``successor_values[i, j]`` is the (target) network's (WIDTH,) output at the landing of move
    ``moves[i, j]``. A forbidden landing, a move past the goal when every move goes forward, and a
    successor goal outside the window cost ``CAP``."""
    n = field.shape[0]
    d = np.arange(WIDTH) - BEHIND  # goal offsets
    best = np.full((n, WIDTH), CAP, dtype=np.float32)
    monotone = (moves >= 0).all(axis=1)
    for j in range(moves.shape[1]):
        a = moves[:, j]
        valid = a != 0
        landing_dead = field[np.arange(n), PAD + BEHIND + a] & valid
        nd = d[None, :] - a[:, None]  # the goal seen from the landing
        inside = (nd >= -BEHIND) & (nd < AHEAD)
        idx = np.clip(nd + BEHIND, 0, WIDTH - 1)
        v = np.take_along_axis(successor_values[:, j], idx, axis=1)
        v = np.where(inside, v, CAP)
        passed = monotone[:, None] & (nd < 0)
        v = np.where(passed | landing_dead[:, None] | ~valid[:, None], CAP, v)
        best = np.minimum(best, np.minimum(1.0 + v, CAP))
    best[:, BEHIND] = 0.0
    goal_free = ~field[:, PAD : PAD + WIDTH]
    return best, goal_free


def train_value(
    config: ValueConfig, seed: int, *, log: list[dict[str, float]] | None = None
) -> tuple[ValueNet, dict[str, float]]:
    """Fitted value iteration with all-goal relabelling; returns the network and timings."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    started, cpu = time.perf_counter(), time.process_time()
    net_seed, data_seed = spawn_seeds(seed, 2)
    net = init_module(ValueNet(config.hidden), net_seed)
    target = ValueNet(config.hidden)
    target.load_state_dict(net.state_dict())
    optim = torch.optim.Adam(net.parameters(), lr=config.lr)
    rng = np.random.default_rng(data_seed)
    losses: list[float] = []
    try:
        for step in range(config.iterations):
            moves = _move_sets(rng, config.batch_size)
            field = _fields(rng, moves)
            hot = _onehots(moves)
            x = inputs(_windows(field, np.zeros(len(moves), dtype=np.int64)), hot)
            succ_in = np.concatenate(
                [inputs(_windows(field, moves[:, j]), hot) for j in range(moves.shape[1])]
            )
            lbs = np.stack([window_lb(tuple(m)) for m in moves.tolist()])
            with torch.no_grad():
                succ = target(torch.as_tensor(succ_in)).clamp(0.0, EXCESS_CAP).numpy()
            succ = succ.reshape(moves.shape[1], len(moves), WIDTH).transpose(1, 0, 2)
            succ = np.minimum(succ + lbs[:, None, :], CAP)
            goal, mask = td_targets(field, moves, succ)
            mask &= np.isfinite(lbs)
            goal = np.clip(goal - np.where(np.isfinite(lbs), lbs, 0.0), 0.0, EXCESS_CAP)
            pred = net(torch.as_tensor(x))
            m = torch.as_tensor(mask, dtype=torch.float32)
            diff = pred - torch.as_tensor(goal)
            err = (diff / 4.0) ** 2
            if config.expectile != 0.5:  # 0.5: the plain squared error (older runs bit-exact)
                tau = config.expectile
                err = err * torch.where(diff > 0, 2.0 * (1.0 - tau), 2.0 * tau)
            loss = (err * m).sum() / m.sum()
            optim.zero_grad()
            loss.backward()
            optim.step()
            losses.append(float(loss.detach()))
            if (step + 1) % config.target_every == 0:
                target.load_state_dict(net.state_dict())
            if log is not None and (step + 1) % 500 == 0:
                log.append({"step": step + 1, "loss": float(np.mean(losses[-500:]))})
    finally:
        torch.set_num_threads(torch_threads)
    timing = {
        "value_training_time_s": time.perf_counter() - started,
        "value_training_cpu_s": time.process_time() - cpu,
        "value_final_loss": float(np.mean(losses[-100:])) if losses else float("nan"),
    }
    return net, timing
