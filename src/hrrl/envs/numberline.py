"""``NumberLineEnv``: the number-line puzzle of ``shared/SPEC.md`` as a Gymnasium environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hrrl.envs.numberline_dynamics import advance, direction
from hrrl.envs.rewards import (
    DEFAULT_REWARD,
    OUTCOME_NAMES,
    RewardFn,
    Transition,
    get_reward,
)
from hrrl.problem import MAX_COORDINATE, Problem, make_problem

ProblemSampler = Callable[[np.random.Generator], Problem]
"""Draws a problem from a generator (used at every reset, e.g. for a curriculum)."""

PAPER_EXAMPLE = make_problem(123, [23, 45, 67, 89], id="paper-123")
OBS_LIMIT = 4 * MAX_COORDINATE


def observation_space() -> spaces.Box:
    """``[position, target, steps_left]`` as int64, the same for every problem."""
    return spaces.Box(low=-OBS_LIMIT, high=OBS_LIMIT, shape=(3,), dtype=np.int64)


class NumberLineEnv(gym.Env[np.ndarray, np.int64]):
    """Start at ``start``, reach ``target`` with moves from ``actions``, avoid ``forbidden`` states.

    **Action space**: ``Discrete(K)``; action ``i`` moves by ``problem.actions[i]`` (any distinct
    non-zero integers, negative moves allowed). Every problem the env is reset to must have the
    same number of actions.

    **Observation space**: ``Box(int64, shape=(3,))`` holding ``[position, target, steps_left]``.
    The whole problem (forbidden set, actions, budget) is ``env.unwrapped.problem`` and is also
    returned as ``info["problem"]`` by ``reset``, for feature encoders; the observation stays a
    fixed, valid Gymnasium space.

    **Episode end**: *terminated* on reaching the target (success), on landing on a forbidden
    state, or — when every action moves the same way — on passing the target (overshoot).
    *Truncated* when ``max_steps`` moves were made without terminating. ``info["outcome"]`` is
    one of ``move``, ``success``, ``forbidden``, ``overshoot``.

    **Rewards** (``reward=``): ``"potential"`` (default: −1 per move, −max_steps more on failure,
    plus potential-based shaping that keeps the shortest path optimal), ``"steps"``, ``"sparse"``,
    ``"paper"`` (the paper's shaped reward as written), or any callable on a
    :class:`~hrrl.envs.rewards.Transition`. See :mod:`hrrl.envs.rewards`.

    **Problems**: a fixed ``problem``, or a ``sampler`` drawing a new one from ``self.np_random``
    at every reset; ``reset(options={"problem": p})`` switches to ``p``.

    **Version history**: v0 — first release.
    """

    action_space: spaces.Discrete

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        problem: Problem | None = None,
        *,
        sampler: ProblemSampler | None = None,
        reward: str | RewardFn = DEFAULT_REWARD,
        gamma: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        if problem is not None and sampler is not None:
            raise ValueError("give a problem or a sampler, not both")
        self._sampler = sampler
        self.problem = problem if problem is not None else PAPER_EXAMPLE
        if sampler is not None:
            self.problem = sampler(np.random.default_rng(0))
        self.reward_fn = get_reward(reward, gamma)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(len(self.problem.actions))
        self.observation_space = observation_space()
        self._set_problem(self.problem)
        self.position = self.problem.start
        self.steps = 0

    def _set_problem(self, problem: Problem) -> None:
        if len(problem.actions) != self.action_space.n:
            raise ValueError(
                f"problem has {len(problem.actions)} actions, the env was built for "
                f"{self.action_space.n}"
            )
        self.problem = problem
        self._moves = np.array(problem.actions, dtype=np.int64)
        self._sign = np.array([direction(problem)])
        self._largest = np.array([max(abs(a) for a in problem.actions)])

    def _obs(self) -> np.ndarray:
        return np.array(
            [self.position, self.problem.target, self.problem.max_steps - self.steps],
            dtype=np.int64,
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "problem" in options:
            self._set_problem(options["problem"])
        elif self._sampler is not None:
            self._set_problem(self._sampler(self.np_random))
        self.position = self.problem.start
        self.steps = 0
        return self._obs(), {"problem": self.problem}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        move = self._moves[int(action)]
        p = self.problem
        prev = np.array([self.position])
        landing = self.position + int(move)
        result = advance(
            prev,
            np.array([self.steps]),
            np.array([move]),
            np.array([p.target]),
            np.array([p.max_steps]),
            self._sign,
            np.array([landing in p.forbidden]),
        )
        reward = self.reward_fn(
            Transition(
                prev=prev,
                new=result.new,
                step=result.steps,
                outcome=result.outcome,
                target=np.array([p.target]),
                max_steps=np.array([p.max_steps]),
                largest_move=self._largest,
            )
        )
        self.position = int(result.new[0])
        self.steps = int(result.steps[0])
        info = {"outcome": OUTCOME_NAMES[int(result.outcome[0])]}
        return (
            self._obs(),
            float(reward[0]),
            bool(result.terminated[0]),
            bool(result.truncated[0]),
            info,
        )

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        p = self.problem
        return f"position {self.position} → target {p.target}, step {self.steps}/{p.max_steps}"
