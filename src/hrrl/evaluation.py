"""Evaluate a method on a problem suite: solver verdicts, batched rollouts, validated paths.

For every problem the exact solver runs first: problems it proves infeasible are reported
``infeasible`` with its reason and never rolled out. Feasible problems are rolled out together in
:class:`NumberLineVectorEnv` batches (grouped by budget, so long problems do not hold short ones
and memory stays bounded); every path is validated by the independent path checker. Result rows
follow ``shared/SPEC.md`` as typed :class:`~hrrl.result.ResultRow` records.

``elapsed_s`` of a rolled-out row is the wall time of its batch divided by the batch size, plus
its own solver time.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from gymnasium.vector import AutoresetMode

from hrrl.envs.numberline_dynamics import outcome_of
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.rewards import FORBIDDEN, OVERSHOOT, SUCCESS
from hrrl.errors import InputError
from hrrl.policies import NumberLinePolicy
from hrrl.problem import Problem
from hrrl.result import CategorySummary, ResultRow, Status, summarize
from hrrl.solvers.checker import check_path, check_trajectory
from hrrl.solvers.numberline import Solution, solve

__all__ = [
    "CategorySummary",
    "ResultRow",
    "evaluate",
    "failure_reason",
    "optimal_rows",
    "rollout",
    "summarize",
]

BATCH_SIZE = 4096
"""Problems rolled out together (sorted by budget, so long problems share batches)."""


@dataclass(frozen=True)
class Rollout:
    path: list[int]
    solved: bool


def rollout(
    problems: Sequence[Problem],
    policy: NumberLinePolicy,
    progress: Callable[[int], None] | None = None,
) -> list[Rollout]:
    """Run ``policy`` on every problem; problems are batched by action count and budget."""
    results: list[Rollout | None] = [None] * len(problems)
    for batch in _batches(problems):
        outcomes = _rollout_batch([problems[i] for i in batch], policy)
        for index, outcome in zip(batch, outcomes, strict=True):
            results[index] = outcome
        if progress is not None:
            progress(len(batch))
    return [r for r in results if r is not None]


def _batches(problems: Sequence[Problem]) -> list[list[int]]:
    """Indices grouped by action count, sorted by budget, at most ``BATCH_SIZE`` per batch."""
    groups: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(problems):
        groups[len(p.actions)].append(i)
    batches: list[list[int]] = []
    for indices in groups.values():
        indices.sort(key=lambda i: problems[i].max_steps)
        batches.extend(indices[k : k + BATCH_SIZE] for k in range(0, len(indices), BATCH_SIZE))
    return batches


def horizon(problem: Problem) -> int:
    """Most moves an episode can last: the budget, or fewer when every move goes one way."""
    if problem.monotone:
        return min(problem.max_steps, problem.gap // min(abs(a) for a in problem.actions) + 1)
    return problem.max_steps


def _rollout_batch(problems: list[Problem], policy: NumberLinePolicy) -> list[Rollout]:
    env = NumberLineVectorEnv(problems, autoreset_mode=AutoresetMode.DISABLED, reward="sparse")
    env.reset(seed=0)
    policy.begin(env)
    n = len(problems)
    segments = _Segments()
    solved = np.zeros(n, dtype=bool)
    running = np.ones(n, dtype=bool)
    act_repeat = getattr(policy, "act_repeat", None)
    while running.any():
        idx = np.flatnonzero(running)
        if act_repeat is not None:
            actions, repeats = act_repeat(env)
            repeats = np.asarray(repeats, dtype=np.int64)[idx]
        else:
            actions, repeats = policy.act(env), np.ones(idx.size, dtype=np.int64)
        actions = np.asarray(actions, dtype=np.int64)[idx]
        start = env.position[idx].copy()
        made, terminated, truncated, outcome = env.repeat_moves(idx, actions, repeats)
        segments.add(idx, start, env.moves[idx, actions], made)
        solved[idx] |= outcome == SUCCESS
        running[idx] = ~(terminated | truncated)
    paths = segments.paths(n, [p.start for p in problems])
    return [Rollout(paths[i], bool(solved[i])) for i in range(n)]


class _Segments:
    """Runs of equal moves per sub-env, expanded into paths at the end (memory ∝ decisions)."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, env: np.ndarray, start: np.ndarray, move: np.ndarray, count: np.ndarray) -> None:
        self._parts.append((env.copy(), start.copy(), move.copy(), count.copy()))

    def paths(self, n: int, starts: Sequence[int]) -> list[list[int]]:
        if not self._parts:
            return [[s] for s in starts]
        env, start, move, count = (np.concatenate(x) for x in zip(*self._parts, strict=True))
        order = np.argsort(env, kind="stable")
        env, start, move, count = env[order], start[order], move[order], count[order]
        total = int(count.sum())
        seg_of_step = np.repeat(np.arange(count.size), count)
        first_step = np.cumsum(count) - count
        k = np.arange(total) - first_step[seg_of_step] + 1
        positions = start[seg_of_step] + move[seg_of_step] * k
        per_env = np.bincount(env, weights=count, minlength=n).astype(np.int64)
        bounds = np.concatenate(([0], np.cumsum(per_env)))
        return [[starts[i], *positions[bounds[i] : bounds[i + 1]].tolist()] for i in range(n)]


def optimal_rows(problems: Sequence[Problem | ResultRow]) -> list[ResultRow]:
    """Result rows of the exact solver itself (``--method optimal``)."""
    return evaluate(problems, None)


def evaluate(
    problems: Sequence[Problem | ResultRow],
    policy: NumberLinePolicy | None,
    progress: Callable[[int], None] | None = None,
) -> list[ResultRow]:
    """SPEC result rows for each problem, in input order (``policy=None``: the solver).

    An input that is already a :class:`ResultRow` (an invalid line, made where its file was
    parsed) is passed through; a problem's ``extra`` keys (e.g. ``category``) go to its row.
    """
    rows: list[ResultRow | None] = [None] * len(problems)
    verdicts: dict[int, tuple[Problem, Solution, float]] = {}
    for i, item in enumerate(problems):
        if isinstance(item, ResultRow):
            rows[i] = item
            continue
        started = time.perf_counter()
        try:
            verdict = solve(item)
        except InputError as exc:
            rows[i] = ResultRow.invalid(item.id, str(exc), item.extra)
            continue
        elapsed = time.perf_counter() - started
        if not verdict.feasible:
            rows[i] = _row(item, "infeasible", None, None, verdict.reason, elapsed)
        elif policy is None:
            assert verdict.path is not None
            path = list(verdict.path)
            _assert_valid(item, path, solved=True)
            rows[i] = _row(item, "solved", path, verdict.steps, None, elapsed)
        else:
            verdicts[i] = (item, verdict, elapsed)
    if policy is not None and verdicts:
        to_roll = list(verdicts)
        started = time.perf_counter()
        outcomes = rollout([verdicts[i][0] for i in to_roll], policy, progress)
        share = (time.perf_counter() - started) / len(to_roll)
        for i, outcome in zip(to_roll, outcomes, strict=True):
            problem, verdict, solver_time = verdicts[i]
            _assert_valid(problem, outcome.path, outcome.solved)
            status: Status = "solved" if outcome.solved else "failed"
            reason = None if outcome.solved else failure_reason(problem, outcome.path)
            rows[i] = _row(
                problem, status, outcome.path, verdict.steps, reason, solver_time + share
            )
    return [r for r in rows if r is not None]


def _assert_valid(problem: Problem, path: list[int], solved: bool) -> None:
    verdict = check_path(problem, path) if solved else check_trajectory(problem, path)
    if not verdict:
        raise AssertionError(f"invalid path for {problem.id!r}: {verdict.reason}")


def failure_reason(problem: Problem, path: Sequence[int]) -> str:
    """Why a run that did not reach the target ended, judged by the environment's own rule
    (:func:`hrrl.envs.numberline_dynamics.outcome_of`)."""
    end = path[-1]
    outcome = outcome_of(problem, end)
    if outcome == FORBIDDEN:
        return f"landed on the forbidden state {end} at step {len(path) - 1}"
    if outcome == OVERSHOOT:
        return f"passed the target: reached {end} at step {len(path) - 1}"
    return f"budget of {problem.max_steps} steps spent at position {end}"


def _row(
    problem: Problem,
    status: Status,
    path: list[int] | None,
    optimal: int | None,
    reason: str | None,
    elapsed: float,
) -> ResultRow:
    return ResultRow(
        id=problem.id,
        status=status,
        steps=len(path) - 1 if path is not None else None,
        path=tuple(path) if path is not None else None,
        optimal_steps=optimal,
        reason=reason,
        elapsed_s=elapsed,
        extra=problem.extra,
    )
