"""The options framework: update rules against hand computations, exact evaluation, learning."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hrrl.agents.options import (
    OptionQConfig,
    OptionQLearner,
    continuation_value,
    intra_option_q_update,
    smdp_q_update,
)
from hrrl.core.options import Option, OptionSet, primitive_options
from hrrl.core.seeding import make_rng
from hrrl.envs.four_rooms import ROOMS, FourRoomsEnv, room_hallways
from hrrl.experiments.four_rooms_options import greedy_expected_steps, learner_config, option_set
from hrrl.solvers.markov_chain import expected_primitive_steps
from hrrl.tasks.four_rooms import GOALS, hallway_options, optimal_expected_steps

LEFT, RIGHT = 0, 1


def chain_options(n: int = 4) -> OptionSet:
    """Chain 0..n-1; option 'go right' (β = 0 until the last state) + the two primitives."""
    go_right = Option(
        "right",
        initiation=np.arange(n) < n - 1,
        policy=np.where(np.arange(n) < n - 1, RIGHT, -1),
        termination=np.where(np.arange(n) < n - 1, 0.0, 1.0),
    )
    return OptionSet([go_right, *primitive_options(n, 2)], n_actions=2)


class ChainEnv:
    """Deterministic chain: start at 0, goal (terminal, +1) at the right end; minimal env API."""

    def __init__(self, n: int = 4, max_steps: int = 100) -> None:
        self.n, self.max_steps = n, max_steps

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[int, dict]:
        self.state, self.t = 0, 0
        return 0, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        self.state = min(self.n - 1, self.state + 1) if action == RIGHT else max(0, self.state - 1)
        self.t += 1
        terminated = self.state == self.n - 1
        return self.state, float(terminated), terminated, self.t >= self.max_steps, {}


def test_continuation_value_by_hand() -> None:
    n = 3
    stays = Option("stay-ish", np.ones(n, bool), np.zeros(n, int), np.array([0.25, 0.25, 1.0]))
    options = OptionSet([stays, *primitive_options(n, 2)], n_actions=2)
    q = np.zeros((n, 3))
    q[1] = [0.5, 0.8, 0.2]
    # U(s'=1, o=0) = (1 − 0.25) · 0.5 + 0.25 · max(0.5, 0.8, 0.2) = 0.375 + 0.2
    assert continuation_value(q, 1, 0, options) == pytest.approx(0.575)
    # A primitive always stops: U = max.
    assert continuation_value(q, 1, 2, options) == pytest.approx(0.8)


def test_intra_option_update_by_hand() -> None:
    options = chain_options(4)  # options: 0 = go right, 1 = left, 2 = right
    q = np.zeros((4, 3))
    q[2] = [0.6, 0.1, 0.9]
    q[1] = [0.2, 0.3, 0.4]
    updated = intra_option_q_update(q, 1, RIGHT, 0.0, 2, False, options, gamma=0.9, alpha=0.5)
    assert sorted(updated.tolist()) == [0, 2]  # the two options whose policy goes right in 1
    # go-right continues (β(2) = 0): target 0.9 · 0.6 = 0.54 → 0.2 + 0.5 (0.54 − 0.2) = 0.37
    assert q[1, 0] == pytest.approx(0.37)
    # primitive right stops: target 0.9 · 0.9 = 0.81 → 0.4 + 0.5 (0.81 − 0.4) = 0.605
    assert q[1, 2] == pytest.approx(0.605)
    assert q[1, 1] == pytest.approx(0.3)  # 'left' is inconsistent with the action: untouched
    # Reaching the goal terminates: no bootstrap, target = r = 1.
    intra_option_q_update(q, 2, RIGHT, 1.0, 3, True, options, gamma=0.9, alpha=0.5)
    assert q[2, 0] == pytest.approx(0.6 + 0.5 * (1.0 - 0.6))


def test_smdp_update_discounts_by_gamma_to_the_duration() -> None:
    options = chain_options(4)
    q = np.zeros((4, 3))
    q[0, 0] = 0.2
    q[3] = [0.0, 0.4, 0.1]
    gamma = 0.9
    ret = 0.0 + gamma * 0.0 + gamma**2 * 1.0  # rewards 0, 0, 1 over k = 3 steps
    smdp_q_update(q, 0, 0, ret, 3, 3, False, options, gamma=gamma, alpha=0.5)
    target = 0.81 + 0.9**3 * 0.4  # G + γ^k max_{o'} Q(s', o'), max over available (primitives)
    assert q[0, 0] == pytest.approx(0.2 + 0.5 * (target - 0.2))
    smdp_q_update(q, 0, 0, ret, 3, 3, True, options, gamma=gamma, alpha=1.0)
    assert q[0, 0] == pytest.approx(0.81)  # terminated: the return alone


@pytest.mark.parametrize("learning", ["smdp", "intra-option"])
def test_one_episode_of_each_learner_by_hand(learning: str) -> None:
    options = chain_options(4)
    config = OptionQConfig(learning=learning, alpha=0.5, epsilon=0.0, gamma=0.9)
    learner = OptionQLearner(options, config, make_rng(0))
    learner.q[0, 0] = 0.1  # make the go-right option the greedy choice in state 0
    result = learner.run_episode(ChainEnv(4))
    assert (result.steps, result.decisions, result.terminated) == (3, 1, True)
    if learning == "smdp":
        # One update, at the end: G = γ² · 1, terminated → Q(0, right) = 0.1 + 0.5 (0.81 − 0.1)
        expected = np.zeros((4, 3))
        expected[0, 0] = 0.1 + 0.5 * (0.81 - 0.1)
        np.testing.assert_allclose(learner.q, expected)
    else:
        # Each step updates go-right and primitive right; only the last step sees a reward.
        assert learner.q[0, 0] == pytest.approx(0.1 + 0.5 * (0.0 - 0.1))
        assert learner.q[2, 0] == pytest.approx(0.5) and learner.q[2, 2] == pytest.approx(0.5)
        assert learner.q[1, 0] == 0.0 and np.all(learner.q[:, 1] == 0.0)


def test_smdp_drops_an_option_cut_by_truncation() -> None:
    options = chain_options(6)
    config = OptionQConfig(learning="smdp", alpha=0.5, epsilon=0.0, gamma=0.9)
    learner = OptionQLearner(options, config, make_rng(0))
    learner.q[0, 0] = 0.1
    result = learner.run_episode(ChainEnv(6, max_steps=2))
    assert result.truncated and not result.terminated
    assert learner.q[0, 0] == pytest.approx(0.1)  # no complete sample: nothing learned


def test_expected_steps_on_a_chain_by_hand() -> None:
    n = 4
    options = chain_options(n)
    dynamics = np.zeros((n, 2, n))
    for s in range(n):
        dynamics[s, LEFT, max(0, s - 1)] = 1.0
        dynamics[s, RIGHT, s + 1 if s < n - 1 else s] = 1.0
    goal = np.arange(n) == n - 1
    always_option = np.zeros((n, 3))
    always_option[:, 0] = 1.0
    always_option[n - 1] = [0, 0, 1]
    np.testing.assert_allclose(
        expected_primitive_steps(dynamics, goal, options, always_option), [3, 2, 1, 0]
    )
    always_left = np.zeros((n, 3))
    always_left[:, 1] = 1.0
    steps = expected_primitive_steps(dynamics, goal, options, always_left)
    assert np.all(np.isinf(steps[:3]))
    # Mixed choice 1/2 right / 1/2 left from state 0 of a 2-state chain: t0 = 1 + t0 / 2 → t0 = 2
    two = OptionSet(primitive_options(2, 2), 2)
    d2 = np.zeros((2, 2, 2))
    d2[:, LEFT, 0] = 1.0
    d2[:, RIGHT, 1] = 1.0
    half = np.full((2, 2), 0.5)
    assert expected_primitive_steps(d2, np.array([False, True]), two, half)[0] == pytest.approx(2)


def test_expected_steps_match_a_monte_carlo_rollout_in_four_rooms() -> None:
    env = FourRoomsEnv(goal=GOALS["G1"], start=(2, 2))
    options = option_set("SMDP-Q", env)
    learner = OptionQLearner(options, learner_config("SMDP-Q", 0.25, 0.0), make_rng(1))
    learner.q[:, : len(options) - 4] = 1.0  # greedy = the hallway options, ties uniform
    goal = np.arange(env.n_states) == env.goal_state
    exact = expected_primitive_steps(env.dynamics(), goal, options, learner.greedy_selection())
    env.reset(seed=5)
    runs = [learner.run_episode(env, learn=False).steps for _ in range(1000)]
    sem = np.std(runs) / np.sqrt(len(runs))
    assert abs(np.mean(runs) - exact[env.index[(2, 2)]]) < 4 * sem


def test_hallway_options_take_shortest_paths_without_slips() -> None:
    env = FourRoomsEnv(success_prob=1.0)  # deterministic moves
    options = hallway_options(env)
    targets = [(room, h) for room in ROOMS for h in room_hallways(room)]
    assert len(options) == len(targets) == 8
    for option, (room, hallway) in zip(options, targets, strict=True):
        goal = np.arange(env.n_states) == env.index[hallway]
        assert option.termination[goal][0] == 1.0 and not option.initiation[goal][0]
        only = OptionSet([option, *primitive_options(env.n_states, 4)], 4)
        select = np.zeros((env.n_states, 5))
        select[:, 0] = only.available[:, 0]
        select[~only.available[:, 0], 1] = 1.0  # never reached without slips
        steps = expected_primitive_steps(env.dynamics(), goal, only, select)
        hr, hc = hallway
        for s in np.flatnonzero(option.initiation):
            r, c = env.cells[s]
            # Inside a room the shortest path to a doorway is the Manhattan distance; from the
            # other doorway it is that too (the rooms are rectangles).
            assert steps[s] == abs(r - hr) + abs(c - hc), (room, hallway, env.cells[s])


def test_intra_option_learning_gets_near_optimal_on_g1() -> None:
    env = FourRoomsEnv(goal=GOALS["G1"])
    rng = make_rng(11)
    learner = OptionQLearner(
        option_set("intra-option-Q", env), learner_config("intra-option-Q", 0.25, 0.1), rng
    )
    optimum = optimal_expected_steps(env)
    dynamics = env.dynamics()
    env.reset(seed=12)
    best, episodes = np.inf, 0
    while episodes < 1500 and best > 1.1 * optimum:
        for _ in range(50):
            learner.run_episode(env)
        episodes += 50
        best = min(best, greedy_expected_steps(learner, env, dynamics))
    assert best <= 1.1 * optimum, (episodes, best, optimum)


def test_steps_criterion_is_the_first_block_at_most_factor_times_optimal() -> None:
    from hrrl.experiments.four_rooms_options import steps_criterion_episode

    steps = [100, 100, 30, 30, 10, 10]
    assert steps_criterion_episode(steps, optimum=20.0, block=2) == 4
    assert steps_criterion_episode(steps, optimum=20.0, block=2, factor=1.0) == 6
    assert steps_criterion_episode(steps, optimum=1.0, block=2) is None


def test_verdict_against_the_claimed_range_respects_censoring_bounds() -> None:
    from hrrl.experiments.four_rooms_options import verdict

    assert verdict(4.0, "").startswith("reproduced")
    assert verdict(1.5, "").startswith("**not reproduced**")
    assert "2.0× short of 3×" in verdict(1.5, "")
    assert verdict(0.36, "≤ ").startswith("**not reproduced**")
    assert verdict(6.0, "").startswith("above the claimed range")
    assert verdict(1.5, "≥ ").startswith("undetermined")
    assert verdict(4.0, "? ").startswith("undetermined")
