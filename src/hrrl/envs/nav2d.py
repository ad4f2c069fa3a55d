"""2-D point navigation to a hidden goal: the meta-RL benchmark of Finn, Abbeel & Levine (2017).

A point starts at the origin and moves by its (clipped, scaled) action each step; the goal is the
task and is not observed. :class:`Nav2DEnv` is the Gymnasium environment (one trajectory at a time)
with the meta-RL task API ``sample_tasks / set_task / get_task``; :func:`rollout_batch` runs many
trajectories of many tasks at once in numpy with exactly the same dynamics, for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import gymnasium
import numpy as np
from gymnasium import spaces

RewardKind = Literal["distance", "squared_distance"]


@dataclass(frozen=True)
class Nav2DConfig:
    goal_low: float = -0.5
    """Lower corner of the square goals are drawn from (uniformly, both coordinates)."""
    goal_high: float = 0.5
    """Upper corner of the goal square; the default is the unit square centred on the start."""
    max_step: float = 0.1
    """Displacement per unit action: actions are clipped to [-1, 1] and scaled by this."""
    horizon: int = 100
    """Steps before the episode is truncated."""
    reward: RewardKind = "distance"
    """``distance``: -‖p - g‖ (authors' code); ``squared_distance``: -‖p - g‖² (paper text)."""
    success_tolerance: float = 0.01
    """Episode terminates when the point is within this of the goal (see ``success_metric``)."""
    success_metric: Literal["max_abs", "euclidean"] = "max_abs"
    """``max_abs``: both coordinates within the tolerance (Finn et al.'s code); ``euclidean``:
    ‖p − g‖ < tolerance (the survey's demo, seed 001 line 1147)."""
    action_limit: float | None = 1.0
    """Actions are clipped to ±this before scaling; None: not clipped (seed 001 line 1139)."""
    wall: float | None = None
    """Positions are clipped to ``[-wall, wall]²``; None: ``horizon · max_step · action_limit``,
    the farthest an episode can go (required when ``action_limit`` is None)."""

    @property
    def bound(self) -> float:
        """Positions stay in ``[-bound, bound]²`` (by default the farthest an episode can go, so
        the walls are never touched within an episode)."""
        if self.wall is not None:
            return self.wall
        if self.action_limit is None:
            raise ValueError("Nav2DConfig: set wall when actions are not clipped")
        return self.horizon * self.max_step * self.action_limit


def goal_reward(positions: np.ndarray, goals: np.ndarray, kind: RewardKind) -> np.ndarray:
    """Reward of being at ``positions`` (..., 2) for ``goals`` broadcastable to them."""
    squared = np.sum((positions - goals) ** 2, axis=-1)
    if kind == "distance":
        return -np.sqrt(squared)
    if kind == "squared_distance":
        return -squared
    raise ValueError(f"unknown reward kind {kind!r}")


def move(
    positions: np.ndarray, actions: np.ndarray, goals: np.ndarray, config: Nav2DConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the dynamics for any batch shape: new positions, rewards, terminated flags."""
    limit = config.action_limit
    clipped = actions if limit is None else np.clip(actions, -limit, limit)
    new_positions = np.clip(positions + clipped * config.max_step, -config.bound, config.bound)
    rewards = goal_reward(new_positions, goals, config.reward)
    if config.success_metric == "euclidean":
        terminated = np.linalg.norm(new_positions - goals, axis=-1) < config.success_tolerance
    else:
        terminated = np.all(np.abs(new_positions - goals) < config.success_tolerance, axis=-1)
    return new_positions, rewards, terminated


def sample_goals(n: int, rng: np.random.Generator, config: Nav2DConfig) -> np.ndarray:
    """``n`` goals (n, 2) uniform in the config's goal square."""
    return rng.uniform(config.goal_low, config.goal_high, size=(n, 2))


class Nav2DEnv(gymnasium.Env[np.ndarray, np.ndarray]):
    """Point navigation to an unobserved goal (one task = one goal).

    Observation: ``Box(-B, B, (2,), float32)``, the point's position; it starts at the origin;
    ``B = horizon · max_step`` (10 by default) is the farthest it can get within an episode.
    Action: ``Box(-1, 1, (2,), float32)``; the point moves by ``clip(a, -1, 1) * max_step`` per
    step (``max_step = 0.1``: displacements clipped to ±0.1, as rllab's ``normalize`` wrapper did
    in the authors' code).
    Reward: ``-‖p - g‖`` (default, the authors' code) or ``-‖p - g‖²`` (``reward=
    "squared_distance"``, the paper's text), at the position after the move.
    Termination: both coordinates within ``success_tolerance`` (0.01) of the goal.
    Truncation: after ``horizon`` (100) steps.
    Tasks: ``sample_tasks(n, rng)`` draws goals uniform in ``[goal_low, goal_high]²`` (default
    the unit square ``[-0.5, 0.5]²``); ``set_task(goal)`` fixes the goal, ``get_task()`` returns
    it. With no task set, every ``reset`` draws a fresh goal from ``self.np_random``.

    Version history: v0 — initial version.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, config: Nav2DConfig | None = None, goal: np.ndarray | None = None) -> None:
        self.config = config if config is not None else Nav2DConfig()
        bound = self.config.bound
        self.observation_space = spaces.Box(-bound, bound, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._fixed_goal: np.ndarray | None = None
        if goal is not None:
            self.set_task(goal)
        self._goal = np.zeros(2)
        self._position = np.zeros(2)
        self._steps = 0

    # --- meta-RL task API -------------------------------------------------------------------
    def sample_tasks(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` goals (n, 2) drawn with ``rng`` from the task distribution."""
        return sample_goals(n, rng, self.config)

    def set_task(self, task: np.ndarray) -> None:
        """Fix the goal for every following episode (takes effect at the next ``reset``)."""
        goal = np.asarray(task, dtype=np.float64).reshape(2)
        self._fixed_goal = goal.copy()
        self._goal = goal.copy()

    def get_task(self) -> np.ndarray:
        """The goal of the current (or, before any reset, the fixed) task."""
        if self._fixed_goal is not None:
            return self._fixed_goal.copy()
        return self._goal.copy()

    # --- Gymnasium API ----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options is not None and "task" in options:
            self.set_task(options["task"])
        if self._fixed_goal is not None:
            self._goal = self._fixed_goal.copy()
        else:
            self._goal = sample_goals(1, self.np_random, self.config)[0]
        self._position = np.zeros(2)
        self._steps = 0
        return self._observation(), {"goal": self._goal.copy()}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = np.asarray(action, dtype=np.float64).reshape(2)
        self._position, reward, terminated = move(self._position, action, self._goal, self.config)
        self._steps += 1
        truncated = self._steps >= self.config.horizon and not bool(terminated)
        info = {
            "goal": self._goal.copy(),
            "distance": float(np.linalg.norm(self._position - self._goal)),
        }
        return self._observation(), float(reward), bool(terminated), truncated, info

    def _observation(self) -> np.ndarray:
        return self._position.astype(np.float32)


@dataclass(frozen=True)
class TrajectoryBatch:
    """Trajectories of many tasks at once; ``K`` tasks × ``N`` trajectories × ``T`` steps.

    Steps after a trajectory terminated are padding: ``valid`` is False there and their rewards,
    observations and actions must be ignored.
    """

    goals: np.ndarray
    """(K, 2) goal of each task."""
    observations: np.ndarray
    """(K, N, T, 2) position before each action."""
    actions: np.ndarray
    """(K, N, T, 2) actions as the policy emitted them (before clipping)."""
    next_positions: np.ndarray
    """(K, N, T, 2) position after each action."""
    rewards: np.ndarray
    """(K, N, T) reward of each step under the config's reward kind."""
    valid: np.ndarray
    """(K, N, T) True for steps actually taken (before termination)."""

    def returns(self, kind: RewardKind | None = None) -> np.ndarray:
        """(K, N) undiscounted returns, under ``kind`` (default: the rewards collected)."""
        rewards = self.rewards if kind is None else self.rewards_as(kind)
        return np.sum(np.where(self.valid, rewards, 0.0), axis=-1)

    def rewards_as(self, kind: RewardKind) -> np.ndarray:
        """(K, N, T) rewards the same trajectories would get under reward ``kind``."""
        return goal_reward(self.next_positions, self.goals[:, None, None, :], kind)


ActFn = Callable[[np.ndarray], np.ndarray]
"""Maps observations (K, N, 2) to actions (K, N, 2); task ``k`` may use its own policy."""


def rollout_batch(
    act: ActFn, goals: np.ndarray, n_trajectories: int, config: Nav2DConfig
) -> TrajectoryBatch:
    """Run ``n_trajectories`` episodes for every goal in ``goals`` (K, 2), all in lock-step.

    Same dynamics, rewards and termination as :class:`Nav2DEnv`; a terminated trajectory stays
    where it is and its remaining steps are marked invalid.
    """
    goals = np.asarray(goals, dtype=np.float64)
    n_tasks, horizon = goals.shape[0], config.horizon
    shape = (n_tasks, n_trajectories, horizon)
    observations = np.zeros((*shape, 2))
    actions = np.zeros((*shape, 2))
    next_positions = np.zeros((*shape, 2))
    rewards = np.zeros(shape)
    valid = np.zeros(shape, dtype=bool)
    position = np.zeros((n_tasks, n_trajectories, 2))
    alive = np.ones((n_tasks, n_trajectories), dtype=bool)
    goal_b = goals[:, None, :]
    for t in range(horizon):
        action = np.asarray(act(position), dtype=np.float64)
        moved, reward, terminated = move(position, action, goal_b, config)
        observations[:, :, t] = position
        actions[:, :, t] = action
        valid[:, :, t] = alive
        rewards[:, :, t] = reward
        position = np.where(alive[..., None], moved, position)
        next_positions[:, :, t] = position
        alive = alive & ~terminated
        if not alive.any():
            break
    return TrajectoryBatch(goals, observations, actions, next_positions, rewards, valid)


def straight_to_goal_actions(
    positions: np.ndarray, goals: np.ndarray, config: Nav2DConfig, limit: float = 1.0
) -> np.ndarray:
    """The scripted oracle that knows the goal: per axis, the action that moves the point onto
    the goal, clipped to ±``limit`` (the largest mean action a tanh-squashed policy can emit).

    Under per-axis action limits this puts the point, after every step ``t``, at the point of
    the reachable box ``[-t·s, t·s]²`` (``s = max_step · limit``) nearest the goal, so no
    deterministic policy within the limit is closer at any step: its return is the best
    achievable without action noise."""
    return np.clip((goals - positions) / config.max_step, -limit, limit)


def oracle_expected_return(config: Nav2DConfig, grid: int = 400, limit: float = 1.0) -> float:
    """Expected return of :func:`straight_to_goal_actions` over goals uniform in the goal
    square, by the midpoint rule on a ``grid × grid`` lattice of goals (deterministic: the
    oracle and the dynamics have no noise)."""
    edges = np.linspace(config.goal_low, config.goal_high, grid + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    gx, gy = np.meshgrid(centres, centres, indexing="ij")
    goals = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    goal_b = goals[:, None, :]
    batch = rollout_batch(
        lambda p: straight_to_goal_actions(p, goal_b, config, limit), goals, 1, config
    )
    return float(batch.returns().mean())


class TrialNav2D:
    """Many tasks at once, each a *trial* of consecutive fixed-length episodes (RL²).

    ``reset(goals)`` starts every trial; ``step(actions)`` moves every point with the same
    dynamics as :class:`Nav2DEnv`. An episode always lasts ``horizon`` steps: a point that
    reached the goal (terminated) stays there and collects reward 0 until the episode's end.
    After ``horizon`` steps the points go back to the origin (same goal: the next episode of
    the trial begins) and ``episode_end`` is True for that step.
    """

    def __init__(self, config: Nav2DConfig) -> None:
        self.config = config
        self.goals = np.zeros((0, 2))
        self.positions = np.zeros((0, 2))
        self.alive = np.zeros(0, dtype=bool)
        self.t = 0

    def reset(self, goals: np.ndarray) -> np.ndarray:
        self.goals = np.asarray(goals, dtype=np.float64)
        self.positions = np.zeros_like(self.goals)
        self.alive = np.ones(len(self.goals), dtype=bool)
        self.t = 0
        return self.positions.copy()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """(observations after the step, rewards (K,), whether an episode just ended)."""
        moved, rewards, terminated = move(self.positions, actions, self.goals, self.config)
        rewards = np.where(self.alive, rewards, 0.0)
        self.positions = np.where(self.alive[:, None], moved, self.positions)
        self.alive = self.alive & ~terminated
        self.t += 1
        if self.t < self.config.horizon:
            return self.positions.copy(), rewards, False
        self.positions = np.zeros_like(self.goals)
        self.alive = np.ones(len(self.goals), dtype=bool)
        self.t = 0
        return self.positions.copy(), rewards, True
