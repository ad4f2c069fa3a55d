"""The Four Rooms environment: layout, explicit model, sampling, gymnasium contract."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.envs.four_rooms import EAST_HALLWAY, HALLWAYS, ROOMS, FourRoomsEnv, room_hallways
from hrrl.solvers.value_iteration import policy_evaluation, value_iteration


def test_layout_has_104_cells_four_rooms_and_four_hallways() -> None:
    env = FourRoomsEnv()
    assert env.n_states == 104
    assert {name: len(cells) for name, cells in ROOMS.items()} == {
        "upper-left": 25,
        "upper-right": 30,
        "lower-left": 25,
        "lower-right": 20,
    }
    assert all(h in env.index for h in HALLWAYS)
    assert sorted(room_hallways("lower-right")) == [(7, 9), (10, 6)]


def test_model_rows_sum_to_one() -> None:
    env = FourRoomsEnv()
    for s in range(env.n_states):
        for a in range(4):
            assert sum(p for p, *_ in env.P[s][a]) == pytest.approx(1.0)
    model = env.tabular_model()
    np.testing.assert_allclose(model.P.sum(axis=2), 1.0)
    np.testing.assert_allclose(env.dynamics().sum(axis=2), 1.0)


def test_corner_transition_probabilities_by_hand() -> None:
    # (1, 1) is the upper-left corner: north and west are walls.
    env = FourRoomsEnv()
    s = env.index[(1, 1)]
    row = env.dynamics()[s, 0]  # action north
    assert row[s] == pytest.approx(2 / 3 + 1 / 9)  # north (intended) or west: bump, stay
    assert row[env.index[(2, 1)]] == pytest.approx(1 / 9)  # slipped south
    assert row[env.index[(1, 2)]] == pytest.approx(1 / 9)  # slipped east
    assert np.count_nonzero(row) == 3


def test_entering_the_goal_pays_one_and_terminates() -> None:
    env = FourRoomsEnv(goal=EAST_HALLWAY)
    below = env.index[(8, 9)]
    outcomes = env.P[below][0]  # north from just below the east hallway
    into_goal = [o for o in outcomes if o[1] == env.goal_state]
    assert into_goal == [(pytest.approx(2 / 3), env.goal_state, 1.0, True)]
    assert all(
        reward == 0.0 and not done for _, nxt, reward, done in outcomes if nxt != env.goal_state
    )


def test_step_samples_the_explicit_model() -> None:
    env = FourRoomsEnv(start=(8, 9))
    env.reset(seed=3)
    start = env.index[(8, 9)]
    n = 20_000
    counts: dict[int, int] = {}
    for _ in range(n):
        env.reset()
        nxt, *_ = env.step(3)  # east
        counts[nxt] = counts.get(nxt, 0) + 1
    for prob, nxt, _, _ in env.P[start][3]:
        freq = counts.get(nxt, 0) / n
        assert abs(freq - prob) < 4 * np.sqrt(prob * (1 - prob) / n) + 1e-9
    assert set(counts) == {nxt for _, nxt, _, _ in env.P[start][3]}


def test_truncation_is_separate_from_termination() -> None:
    env = FourRoomsEnv(start=(1, 1), max_steps=3)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]


def test_reset_is_deterministic_under_a_seed_and_can_move_the_goal() -> None:
    def rollout(seed: int) -> list[int]:
        env = FourRoomsEnv()
        states = [env.reset(seed=seed)[0]]
        states += [env.step(a % 4)[0] for a in range(20)]
        return states

    assert rollout(7) == rollout(7)
    assert rollout(7) != rollout(8)
    env = FourRoomsEnv()
    env.reset(seed=0, options={"goal": (9, 10)})
    assert env.goal_state == env.index[(9, 10)]
    starts = {env.reset()[0] for _ in range(500)}
    assert env.goal_state not in starts
    assert len(starts) > 90


def test_check_env_passes_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(gymnasium.make("hrrl/FourRooms-v0").unwrapped)
        env = gymnasium.make("hrrl/FourRooms-v0", goal=(9, 10), render_mode="ansi")
        check_env(env.unwrapped)
        env.reset(seed=0)
        assert "G" in env.render() and "A" in env.render()


def test_value_iteration_optimum_is_consistent_with_policy_evaluation() -> None:
    model = FourRoomsEnv().tabular_model()
    V, Q = value_iteration(model, 0.9)
    greedy = Q.argmax(axis=1)
    np.testing.assert_allclose(policy_evaluation(model, greedy, 0.9), V, atol=1e-8)
    env = FourRoomsEnv()
    # Below the east hallway the best move is north, straight into the goal.
    assert greedy[env.index[(8, 9)]] == 0
    assert np.all(V[~model.terminal] > 0) and np.all(V <= 1.0)
