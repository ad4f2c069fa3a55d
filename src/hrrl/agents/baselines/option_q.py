"""Tabular baselines on the absolute number-line state: flat Q-learning and the options framework.

Both learn a table over the *absolute* state ``(position, target, forbidden bits)`` of the
training range (positions and targets ``0..state_limit``); every state outside it shares one
extra row that training never reaches, so beyond the training range these learners act on an
untrained row (random tie-breaks): a table does not generalize, which is the point of the baseline.

* **Tabular Q-learning** (``option_set="primitive"``): Watkins' Q-learning via
  :class:`hrrl.agents.tabular_q.TabularQLearner`.
* **Options** (``option_set="options"``, Sutton, Precup & Singh 1999): the primitive moves plus
  fixed options — ``dash-k``: the largest safe move (the greedy rule) until within ``k`` of the
  target; ``approach``: the greedy rule until the episode ends — learned by SMDP or intra-option
  Q-learning with :class:`hrrl.agents.options.OptionQLearner`. The options are Markov in the
  absolute state (the greedy rule needs only position, target and the forbidden bits), so the
  generic framework runs on it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import gymnasium as gym
import numpy as np

from hrrl.agents.baselines.common import (
    LearningCurve,
    closest_safe_move,
    training_env,
    training_pool,
    vector_forbidden_bits,
)
from hrrl.agents.options import Option, OptionQConfig, OptionQLearner, OptionSet
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.core.tabular import greedy_action
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.numberline_wrappers import AbsoluteStates, AbsoluteStateWrapper

TRAIN_ACTIONS = (1, 3, 5)
"""The action set the tables are built for (the paper's)."""


@dataclass(frozen=True)
class NumberLineQConfig:
    """Hyper-parameters of the tabular number-line baselines."""

    option_set: Literal["primitive", "options"] = "primitive"
    """``primitive``: flat Q-learning; ``options``: primitives plus the fixed options."""
    learning: Literal["smdp", "intra-option"] = "smdp"
    """Update rule for ``options`` (ignored for ``primitive``)."""
    dash_margins: tuple[int, ...] = (5, 10)
    """One ``dash-k`` option per margin k."""
    total_steps: int = 20_000
    """Training budget in environment steps."""
    pool_size: int = 200
    """Training problems drawn from the paper's distribution."""
    alpha: float = 0.2
    """Step size of every update."""
    gamma: float = 0.99
    """Discount factor (the potential shaping of the env uses the same γ)."""
    epsilon_start: float = 1.0
    """Initial exploration rate (flat Q-learning)."""
    epsilon_end: float = 0.05
    """Final exploration rate (flat Q-learning)."""
    epsilon: float = 0.1
    """Constant exploration rate of the policy over options."""
    state_limit: int = 100
    """Positions and targets ``0..state_limit`` have their own rows."""


# ---------------------------------------------------------------------------------- options
OptionSpec = tuple[str, int]
"""``("primitive", action index)``, ``("dash", margin)`` or ``("approach", 0)``."""


def option_specs(config: NumberLineQConfig, n_actions: int) -> list[OptionSpec]:
    specs: list[OptionSpec] = [("primitive", a) for a in range(n_actions)]
    if config.option_set == "options":
        specs += [("dash", k) for k in config.dash_margins] + [("approach", 0)]
    return specs


def build_option_set(specs: list[OptionSpec], states: AbsoluteStates) -> OptionSet:
    """The options as tables over the absolute states (the outside row: every option, β = 1)."""
    position, target, bits = states.decode()
    moves = np.tile(np.array(TRAIN_ACTIONS), (position.size, 1))
    greedy = closest_safe_move(position, target, bits, moves, np.ones_like(position))
    distance = np.abs(target - position)
    n = states.n_states
    options = []
    for kind, value in specs:
        if kind == "primitive":
            options.append(Option.primitive(value, n, name=f"move{TRAIN_ACTIONS[value]:+d}"))
            continue
        stop = distance <= value if kind == "dash" else np.zeros(position.size, dtype=bool)
        initiation = ~stop if kind == "dash" else np.ones(position.size, dtype=bool)
        options.append(
            Option(
                name=f"{kind}-{value}" if kind == "dash" else kind,
                initiation=np.append(initiation, True),
                policy=np.append(greedy, len(TRAIN_ACTIONS) - 1),
                termination=np.append(stop.astype(float), 1.0),
            )
        )
    return OptionSet(options, len(TRAIN_ACTIONS))


# --------------------------------------------------------------------------------- training
@dataclass
class TrainedTable:
    """A learned Q table over absolute states and options, with its learning curve."""

    q: np.ndarray
    specs: list[OptionSpec]
    states: AbsoluteStates
    curve: dict[str, list[float]]
    episodes: int


def train_table(config: NumberLineQConfig, seed: int) -> TrainedTable:
    """Train on a pool from the paper's distribution for ``config.total_steps`` env steps."""
    rng = np.random.default_rng(seed)
    states = AbsoluteStates(config.state_limit, len(TRAIN_ACTIONS))
    curve = LearningCurve()
    recorder = training_env(training_pool(config.pool_size, seed), config.gamma, curve)
    env = AbsoluteStateWrapper(recorder, states)
    specs = option_specs(config, len(TRAIN_ACTIONS))
    episode, q = _episode_runner(config, specs, states, env, rng)
    episodes = 0
    while recorder.total_steps < config.total_steps:
        episode(episodes, seed if episodes == 0 else None)
        episodes += 1
    return TrainedTable(q, specs, states, curve.binned(config.total_steps), episodes)


def _episode_runner(
    config: NumberLineQConfig,
    specs: list[OptionSpec],
    states: AbsoluteStates,
    env: gym.Env,
    rng: np.random.Generator,
) -> tuple[Callable[[int, int | None], None], np.ndarray]:
    """A callable ``(episode index, reset seed)`` playing one learning episode, and the table it
    updates in place."""
    if config.option_set == "primitive":
        flat = TabularQLearner(
            states.n_states,
            len(TRAIN_ACTIONS),
            TabularQConfig(
                alpha=config.alpha,
                gamma=config.gamma,
                epsilon_start=config.epsilon_start,
                epsilon_end=config.epsilon_end,
                epsilon_decay_episodes=max(1, config.total_steps // 40),
            ),
        )

        def run_flat(index: int, seed: int | None) -> None:
            flat.run_episode(env, rng, flat.epsilon(index), seed=seed)

        return run_flat, flat.q
    learner = OptionQLearner(
        build_option_set(specs, states),
        OptionQConfig(
            learning=config.learning, alpha=config.alpha, epsilon=config.epsilon, gamma=config.gamma
        ),
        rng,
    )

    def run_options(index: int, seed: int | None) -> None:
        del index
        learner.run_episode(env, seed=seed)

    return run_options, learner.q


# ----------------------------------------------------------------------------------- policy
class TablePolicy:
    """Call-and-return execution of a learned table on a :class:`NumberLineVectorEnv`.

    Options are chosen greedily from the table at the absolute state (ties at random with the
    policy's own generator) and executed on the real problem.
    """

    def __init__(self, table: TrainedTable, name: str, seed: int = 0) -> None:
        self.table = table
        self.name = name
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.running = np.zeros(0, dtype=np.int64)

    def begin(self, env: NumberLineVectorEnv) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.running = np.full(env.num_envs, -1, dtype=np.int64)

    def act(self, env: NumberLineVectorEnv) -> np.ndarray:
        bits = vector_forbidden_bits(env)
        distance = np.abs(env.target - env.position)
        self._stop_finished_options(distance)
        state = self.table.states.index(env.position, env.target, bits)
        for i in np.flatnonzero(self.running < 0):
            self.running[i] = self._choose(int(state[i]), int(distance[i]))
        greedy = closest_safe_move(env.position, env.target, bits, env.moves, env.sign)
        actions = greedy.copy()
        for i, option in enumerate(self.running):
            kind, value = self.table.specs[option]
            if kind == "primitive":
                actions[i] = value
                self.running[i] = -1
        return actions

    def _stop_finished_options(self, distance: np.ndarray) -> None:
        for i, option in enumerate(self.running):
            if option < 0:
                continue
            kind, value = self.table.specs[option]
            if kind == "dash" and distance[i] <= value:
                self.running[i] = -1

    def _choose(self, state: int, distance: int) -> int:
        available = np.array(
            [kind != "dash" or distance > value for kind, value in self.table.specs]
        )
        choices = np.flatnonzero(available)
        return int(choices[greedy_action(self.table.q[state, choices], self.rng)])
