"""``NumberLineVectorEnv``: N independent number-line problems stepped at once in numpy.

Follows Gymnasium's ``VectorEnv`` API, autoreset included (``NEXT_STEP``, the default, as in
``SyncVectorEnv``; ``SAME_STEP``; or ``DISABLED`` with ``reset(options={"reset_mask": m})``).
Sub-env ``i`` behaves exactly like a :class:`~hrrl.envs.numberline.NumberLineEnv` seeded with
``seed + i``: same problems, same observations, rewards and episode ends, step for step (tested).

Everything a policy needs is public: ``position``, ``steps``, ``target``, ``start``, ``budget``,
``moves`` (N, K), ``problems`` and :meth:`is_forbidden`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from hrrl.envs.numberline import PAPER_EXAMPLE, ProblemSampler, observation_space
from hrrl.envs.numberline_dynamics import ForbiddenIndex, advance, direction
from hrrl.envs.rewards import DEFAULT_REWARD, RewardFn, Transition, get_reward
from hrrl.problem import Problem
from hrrl.suites.distribution import ProblemBatch

BatchSampler = Callable[[np.random.Generator, int], "list[Problem] | ProblemBatch"]
"""Draws ``n`` problems at once, as objects or as a :class:`ProblemBatch` of arrays (fastest:
:meth:`hrrl.suites.distribution.ProblemDistribution.draw_batch`)."""


class _LazyProblems(Sequence[Problem]):
    """``env.problems``: a read-only sequence that builds each problem on first access."""

    def __init__(self, env: NumberLineVectorEnv) -> None:
        self._env = env

    def __len__(self) -> int:
        return self._env.num_envs

    def __getitem__(self, i: int) -> Problem:  # type: ignore[override]
        if isinstance(i, slice):
            return [self._env.problem(j) for j in range(self._env.num_envs)[i]]
        if i < 0:
            i += self._env.num_envs
        return self._env.problem(int(i))


class NumberLineVectorEnv(VectorEnv):
    """N number-line problems in numpy; see the module docstring.

    Give ``problems`` (one per sub-env, or one shared by ``num_envs``), or with ``num_envs``:
    a ``sampler`` (each sub-env draws a new problem from its own generator at every reset,
    exactly like N seeded single envs), or a ``batch_sampler`` (all sub-envs that reset in a step
    draw their problems together from one generator: much faster, same distribution, but not
    the same draws as N single envs).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        problems: Sequence[Problem] | Problem | None = None,
        *,
        num_envs: int | None = None,
        sampler: ProblemSampler | None = None,
        batch_sampler: BatchSampler | None = None,
        reward: str | RewardFn = DEFAULT_REWARD,
        gamma: float = 1.0,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        if isinstance(problems, Problem):
            problems = [problems] * (num_envs or 1)
        if sampler is not None and batch_sampler is not None:
            raise ValueError("give a sampler or a batch_sampler, not both")
        if sampler is not None or batch_sampler is not None:
            if problems is not None:
                raise ValueError("give problems or a sampler, not both")
            if not num_envs:
                raise ValueError("a sampler needs num_envs")
            if sampler is not None:
                first = sampler(np.random.default_rng(0))
            else:
                assert batch_sampler is not None
                drawn = batch_sampler(np.random.default_rng(0), 1)
                first = drawn.problems()[0] if isinstance(drawn, ProblemBatch) else drawn[0]
            problems = [first] * num_envs
        if problems is None:
            problems = [PAPER_EXAMPLE] * (num_envs or 1)
        self.num_envs = len(problems)
        self._sampler = sampler
        self._batch_sampler = batch_sampler
        self.reward_fn = get_reward(reward, gamma)
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {"autoreset_mode": self.autoreset_mode}
        k = len(problems[0].actions)
        self.single_action_space = spaces.Discrete(k)
        self.single_observation_space = observation_space()
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        n = self.num_envs
        self._problems: list[Problem | None] = list(problems)
        self.problems = _LazyProblems(self)
        self.position = np.zeros(n, dtype=np.int64)
        self.steps = np.zeros(n, dtype=np.int64)
        self.target = np.zeros(n, dtype=np.int64)
        self.start = np.zeros(n, dtype=np.int64)
        self.budget = np.zeros(n, dtype=np.int64)
        self.sign = np.zeros(n, dtype=np.int64)
        self.largest = np.zeros(n, dtype=np.int64)
        self.moves = np.zeros((n, k), dtype=np.int64)
        self._env_index = np.arange(n, dtype=np.int64)
        self._forbidden = ForbiddenIndex(n)
        self._rngs: list[np.random.Generator] = [np.random.default_rng() for _ in range(n)]
        self._needs_reset = np.zeros(n, dtype=bool)
        self._batch_rng = np.random.default_rng()
        for i, problem in enumerate(self.problems):
            self._set_problem(i, problem)

    # ---- problems ------------------------------------------------------------------------
    def _set_problem(self, i: int, problem: Problem) -> None:
        if len(problem.actions) != self.moves.shape[1]:
            raise ValueError(
                f"problem {problem.id or i} has {len(problem.actions)} actions, "
                f"the env was built for {self.moves.shape[1]}"
            )
        self._problems[i] = problem
        self.target[i] = problem.target
        self.start[i] = problem.start
        self.budget[i] = problem.max_steps
        self.sign[i] = direction(problem)
        self.largest[i] = max(abs(a) for a in problem.actions)
        self.moves[i] = problem.actions
        self._forbidden.set(i, problem.forbidden)

    def is_forbidden(self, env_index: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Whether each position is forbidden in the given sub-env (shapes broadcast)."""
        return self._forbidden.contains(env_index, positions)

    def _set_problems(self, idx: np.ndarray, problems: Sequence[Problem]) -> None:
        """Vectorized :meth:`_set_problem` for many sub-envs (the autoreset hot path)."""
        if len(problems) < 8:
            for i, problem in zip(idx, problems, strict=True):
                self._set_problem(int(i), problem)
            return
        k = self.moves.shape[1]
        if any(len(p.actions) != k for p in problems):
            raise ValueError(f"every problem must have {k} actions")
        for i, problem in zip(idx, problems, strict=True):
            self._problems[int(i)] = problem
        self.target[idx] = [p.target for p in problems]
        self.start[idx] = [p.start for p in problems]
        self.budget[idx] = [p.max_steps for p in problems]
        moves = np.array([p.actions for p in problems], dtype=np.int64)
        self.moves[idx] = moves
        positive, negative = (moves > 0).all(axis=1), (moves < 0).all(axis=1)
        self.sign[idx] = positive.astype(np.int64) - negative.astype(np.int64)
        self.largest[idx] = np.abs(moves).max(axis=1)
        self._forbidden.set_many(idx, [p.forbidden for p in problems])

    def _set_batch(self, idx: np.ndarray, batch: ProblemBatch) -> None:
        """Arrays straight into the env; ``problems[i]`` is rebuilt from them when asked for."""
        if batch.moves.shape[1] != self.moves.shape[1]:
            raise ValueError(f"every problem must have {self.moves.shape[1]} actions")
        for i in idx.tolist():
            self._problems[i] = None
        self.target[idx] = batch.targets
        self.start[idx] = batch.starts
        self.budget[idx] = batch.budgets
        self.moves[idx] = batch.moves
        positive, negative = (batch.moves > 0).all(axis=1), (batch.moves < 0).all(axis=1)
        self.sign[idx] = positive.astype(np.int64) - negative.astype(np.int64)
        self.largest[idx] = np.abs(batch.moves).max(axis=1)
        self._forbidden.set_many_arrays(idx, batch.forbidden_values, batch.forbidden_lengths)

    def problem(self, i: int) -> Problem:
        """The problem sub-env ``i`` is solving now."""
        problem = self._problems[i]
        if problem is None:
            forbidden = ForbiddenIndex.positions(self._forbidden.row(i))
            problem = Problem.trusted(
                int(self.target[i]),
                frozenset(forbidden.tolist()),
                tuple(self.moves[i].tolist()),
                int(self.start[i]),
                int(self.budget[i]),
            )
            self._problems[i] = problem
        return problem

    def _reset_envs(self, mask: np.ndarray, problems: Sequence[Problem] | None = None) -> None:
        idx = np.flatnonzero(mask)
        if problems is not None:
            self._set_problems(idx, [problems[int(i)] for i in idx])
        elif self._batch_sampler is not None and idx.size:
            drawn = self._batch_sampler(self._batch_rng, idx.size)
            if isinstance(drawn, ProblemBatch):
                self._set_batch(idx, drawn)
            else:
                self._set_problems(idx, drawn)
        elif self._sampler is not None:
            self._set_problems(idx, [self._sampler(self._rngs[int(i)]) for i in idx])
        self.position[idx] = self.start[idx]
        self.steps[idx] = 0
        self._needs_reset[idx] = False

    def _obs(self) -> np.ndarray:
        return np.stack([self.position, self.target, self.budget - self.steps], axis=1)

    # ---- the VectorEnv API ----------------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        options = options or {}
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else seed
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} envs")
            for i, s in enumerate(seeds):
                if s is not None:
                    self._rngs[i] = seeding.np_random(s)[0]
            if seeds[0] is not None:
                self._batch_rng = np.random.default_rng([seeds[0], self.num_envs])
        mask = np.asarray(options.get("reset_mask", np.ones(self.num_envs, dtype=bool)))
        problems = options.get("problems")
        if problems is not None and len(problems) != self.num_envs:
            raise ValueError(f"{len(problems)} problems for {self.num_envs} envs")
        self._reset_envs(mask, problems)
        return self._obs(), {}

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        actions = np.asarray(actions, dtype=np.int64)
        n = self.num_envs
        rewards = np.zeros(n, dtype=np.float64)
        terminated = np.zeros(n, dtype=bool)
        truncated = np.zeros(n, dtype=bool)
        outcome = np.zeros(n, dtype=np.int8)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            resetting = self._needs_reset.copy()
        else:
            resetting = np.zeros(n, dtype=bool)
        active = ~resetting
        idx = np.flatnonzero(active)
        rewards[idx], terminated[idx], truncated[idx], outcome[idx] = self._move(idx, actions[idx])
        infos: dict[str, Any] = {"outcome": outcome, "_outcome": active}
        done = terminated | truncated
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            if resetting.any():
                self._reset_envs(resetting)
            self._needs_reset = done
        elif self.autoreset_mode == AutoresetMode.SAME_STEP and done.any():
            infos["final_obs"] = self._obs()
            infos["_final_obs"] = done
            self._reset_envs(done)
        return self._obs(), rewards, terminated, truncated, infos

    def _move(
        self, idx: np.ndarray, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One move of the sub-envs ``idx``: rewards, terminated, truncated, outcome codes."""
        move = self.moves[idx, actions]
        landing = self.position[idx] + move
        result = advance(
            self.position[idx],
            self.steps[idx],
            move,
            self.target[idx],
            self.budget[idx],
            self.sign[idx],
            self._forbidden.contains(idx, landing),
        )
        rewards = self.reward_fn(
            Transition(
                prev=self.position[idx],
                new=result.new,
                step=result.steps,
                outcome=result.outcome,
                target=self.target[idx],
                max_steps=self.budget[idx],
                largest_move=self.largest[idx],
            )
        )
        self.position[idx] = result.new
        self.steps[idx] = result.steps
        return rewards, result.terminated, result.truncated, result.outcome

    def repeat_moves(
        self, idx: np.ndarray, actions: np.ndarray, repeats: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Sub-env ``idx[j]`` makes move ``actions[j]`` up to ``repeats[j]`` times in a row.

        Exactly equivalent to calling :meth:`step` that many times with the same action, stopping
        at the first move that ends the episode (every landing is checked). For evaluation
        rollouts: no autoreset, and the returned values are those of the last move made. Returns
        (moves made, terminated, truncated, outcome) for ``idx``.
        """
        idx = np.asarray(idx, dtype=np.int64)
        move = self.moves[idx, actions]
        pos = self.position[idx]
        safe = np.maximum(np.asarray(repeats, dtype=np.int64), 1) - 1
        safe = np.minimum(safe, self.budget[idx] - self.steps[idx] - 1)
        safe = np.minimum(safe, self._moves_before_event(idx, pos, move, safe))
        self.position[idx] = pos + safe * move
        self.steps[idx] += safe
        _, terminated, truncated, outcome = self._move(idx, actions)
        return safe + 1, terminated, truncated, outcome

    def _moves_before_event(
        self, idx: np.ndarray, pos: np.ndarray, move: np.ndarray, limit: np.ndarray
    ) -> np.ndarray:
        """How many of the next ``limit`` moves land on neither target, forbidden state nor
        beyond the target (so they can be made without looking)."""
        limit = limit.copy()
        ahead = self.target[idx] - pos
        toward = (ahead != 0) & (np.sign(ahead) == np.sign(move))
        reach = np.where(toward, (np.abs(ahead) - 1) // np.abs(move), limit)
        limit = np.minimum(limit, np.maximum(reach, 0))
        return self.clear_run_length(idx, pos, move, limit)

    def clear_run_length(
        self, idx: np.ndarray, pos: np.ndarray, move: np.ndarray, limit: np.ndarray
    ) -> np.ndarray:
        """For each sub-env ``idx[j]``: how many of the landings ``pos + move·k`` (k = 1, 2, …,
        ``limit``) come before the first forbidden one."""
        out = np.asarray(limit, dtype=np.int64).copy()
        for j in np.flatnonzero(out > 0):
            out[j] = self._first_forbidden_on_run(
                int(idx[j]), int(pos[j]), int(move[j]), int(out[j])
            )
        return out

    def _first_forbidden_on_run(self, i: int, pos: int, move: int, count: int) -> int:
        """Number of landings ``pos + move·k`` (k = 1..count) before the first forbidden one."""
        keys = self._forbidden.row(i)
        if keys.size == 0:
            return count
        lo, hi = sorted((pos + move, pos + move * count))
        a = int(np.searchsorted(keys, ForbiddenIndex.key(i, lo), side="left"))
        b = int(np.searchsorted(keys, ForbiddenIndex.key(i, hi), side="right"))
        if a >= b:
            return count
        values = ForbiddenIndex.positions(keys[a:b])
        offsets = values - pos
        on_run = offsets[offsets % move == 0] // move
        return count if on_run.size == 0 else int(on_run.min()) - 1
