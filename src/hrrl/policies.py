"""Number-line policies and the protocol every agent implements to be evaluated.

A policy acts on a :class:`~hrrl.envs.numberline_vector.NumberLineVectorEnv` (positions, steps,
moves, problems and ``is_forbidden`` are public there) and returns one action index per sub-env;
actions of finished sub-envs are ignored. ``begin`` is called once after the env is reset with a
new batch of problems, so hierarchical policies can set up per-problem state.

Optional fast path for long problems: a policy may also define
``act_repeat(env) -> (actions, repeats)``, promising that for each sub-env it would choose the same
action ``repeats[i]`` times in a row (e.g. because nothing its decision depends on changes over
those moves). Rollouts then make those moves in one call; the environment still checks every
landing and stops the run at the first move that ends the episode, so results are identical to
acting step by step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from hrrl.envs.numberline_dynamics import classify
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.rewards import FORBIDDEN, OVERSHOOT


@runtime_checkable
class NumberLinePolicy(Protocol):
    name: str

    def begin(self, env: NumberLineVectorEnv) -> None: ...

    def act(self, env: NumberLineVectorEnv) -> np.ndarray: ...


def landing_positions(env: NumberLineVectorEnv) -> np.ndarray:
    """``(N, K)`` position after each action."""
    return env.position[:, None] + env.moves


def unsafe_moves(env: NumberLineVectorEnv) -> np.ndarray:
    """``(N, K)``: the move lands on a forbidden state, or passes the target when every move
    goes the same way."""
    landing = landing_positions(env)
    forbidden = env.is_forbidden(np.arange(env.num_envs)[:, None], landing)
    outcome = classify(landing, env.target[:, None], env.sign[:, None], forbidden)
    return (outcome == FORBIDDEN) | (outcome == OVERSHOOT)


@dataclass
class GreedyPolicy:
    """The five-line rule a user tries first: of the moves that land neither on a forbidden
    state nor past the target, take the one that ends closest to the target (the largest safe
    move when every move is positive); if none is safe, take the largest move."""

    name: str = "greedy"

    def begin(self, env: NumberLineVectorEnv) -> None:
        del env

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        distance = np.abs(env.target[:, None] - landing_positions(env)).astype(np.float64)
        distance[unsafe_moves(env)] = np.inf
        # Among equally close landings prefer the larger move.
        distance -= 1e-9 * np.abs(env.moves)
        best = distance.argmin(axis=1)
        none_safe = np.isinf(distance.min(axis=1))
        best[none_safe] = np.abs(env.moves[none_safe]).argmax(axis=1)
        return best

    def act_repeat(self, env: NumberLineVectorEnv) -> tuple[np.ndarray, np.ndarray]:
        """While the largest move toward the target lands safely, greedy keeps taking it: the run
        lasts until the first landing that is forbidden or past the target."""
        actions = self.act(env)
        largest = np.abs(env.moves).argmax(axis=1)
        rows = np.arange(env.num_envs)
        move = env.moves[rows, actions]
        cruising = (actions == largest) & (env.sign != 0)
        repeats = np.ones(env.num_envs, dtype=np.int64)
        idx = np.flatnonzero(cruising)
        if idx.size:
            before_target = np.abs(env.target[idx] - env.position[idx]) // np.abs(move[idx])
            repeats[idx] = np.maximum(
                env.clear_run_length(idx, env.position[idx], move[idx], before_target), 1
            )
        return actions, repeats


@dataclass
class RandomPolicy:
    """Uniformly random actions from its own seeded generator."""

    seed: int = 0
    name: str = "random"
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def begin(self, env: NumberLineVectorEnv) -> None:
        del env

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        return self.rng.integers(0, env.moves.shape[1], size=env.num_envs)


@dataclass
class PlanPolicy:
    """Follows given paths move by move (used to replay the solver's paths through the env)."""

    paths: list[tuple[int, ...]]
    name: str = "optimal"

    def begin(self, env: NumberLineVectorEnv) -> None:
        del env

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        actions = np.zeros(env.num_envs, dtype=np.int64)
        for i, path in enumerate(self.paths):
            k = int(env.steps[i])
            if k + 1 < len(path):
                move = path[k + 1] - path[k]
                actions[i] = int(np.flatnonzero(env.moves[i] == move)[0])
        return actions
