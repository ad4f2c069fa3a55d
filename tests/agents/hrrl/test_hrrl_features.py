"""HRRL features: hand-computed values, the free line, scale invariance, two equal code paths."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hrrl.agents.hrrl import features as F
from hrrl.agents.hrrl.policy import _scalar_env, situation_key, situation_of_key
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.problem import make_problem


def env_at(problem, position: int, steps: int = 0) -> NumberLineVectorEnv:
    env = NumberLineVectorEnv([problem], reward="sparse")
    env.reset(seed=0)
    env.position[0], env.steps[0] = position, steps
    return env


def test_relational_state_matches_hand_computed_values() -> None:
    problem = make_problem(20, [7, 12])  # budget 2 * 4 + 10 = 18
    state = F.relational_state(problem, position=5, step=1)
    expected = {
        "progress_ratio": 0.25,
        "remaining_ratio": 0.75,
        "time_ratio": 1 / 18,
        "log_gap": math.log(16) / math.log(21),
        "gap_magnitude": 0.75,
        "is_close": 0.0,
        "is_far": 1.0,
        "danger_proximity": 1 - 1 / 10,  # forbidden 7 is 2 ahead, window 2L = 10
        "constraint_pressure": 2 / 10,  # 7 and 12 in the next 10 states
        "phase_exploration": 1.0,
        "phase_navigation": 0.0,
        "phase_precision": 0.0,
        "theoretical_min_steps": 3.0,  # ceil(15 / 5)
        "efficiency_ratio": 3 / 18,  # 3 / (18 - 1 + 1)
    }
    assert state == pytest.approx(expected)


def test_phase_is_precision_near_the_target_and_navigation_in_the_clear() -> None:
    problem = make_problem(40, [2])
    assert F.relational_state(problem, position=32, step=0)["phase_precision"] == 1.0
    assert F.relational_state(problem, position=10, step=0)["phase_navigation"] == 1.0


def test_free_line_is_the_exact_obstacle_free_optimum() -> None:
    line = F.free_line((1, 3, 5))
    assert line.steps(np.array([0, 2, 4, 5, 6, 10, 11, 1_000_001])).tolist() == [
        0,
        2,
        2,
        1,
        2,
        2,
        3,
        200_001,
    ]
    two_seven = F.free_line((2, 7))
    assert np.isinf(two_seven.steps(np.array([1, 3]))).all()
    assert two_seven.steps(np.array([9, 14])).tolist() == [2, 2]
    mixed = F.free_line((-2, 3, 5))
    assert mixed.steps(np.array([1, -2])).tolist() == [2, 1]


def test_local_action_features_match_hand_computed_values() -> None:
    problem = make_problem(20, [7, 12])
    feats = F.env_features("local", env_at(problem, 4))[0]  # moves +1, +3, +5 from 4
    land_bad = feats[:, 2].tolist()
    assert land_bad == [0.0, 1.0, 0.0]  # 4 + 3 = 7 is forbidden
    gap_after = feats[:, 4]
    assert gap_after.tolist() == pytest.approx([15 / 5, 13 / 5, 11 / 5])
    excess = feats[:, 6]  # d_free(15) = 3, d_free(13) = 3, d_free(11) = 3
    assert excess.tolist() == pytest.approx([0.0, 3 - 13 / 5, 3 - 11 / 5])
    assert feats[:, 12:15].tolist() == [[1, 1, 1], [0, 0, 0], [1, 1, 1]]  # dead ends ahead
    # window after the landing 9 (offsets 1..AHEAD): 12 is 3 ahead
    window = feats[2, 16 + F.BEHIND : 16 + F.BEHIND + F.AHEAD]
    assert np.flatnonzero(window).tolist()[0] == 2


def test_same_local_situation_gives_same_features_at_any_scale() -> None:
    near_small = make_problem(100, [83, 90])
    near_large = make_problem(1_000_000, [83, 999_983, 999_990])
    a = F.env_features("local", env_at(near_small, 80))
    b = F.env_features("local", env_at(near_large, 999_980))
    np.testing.assert_array_equal(a, b)
    far_small = make_problem(1_000, [103, 110])
    far_large = make_problem(1_000_000, [103, 110])
    c = F.env_features("local", env_at(far_small, 100))
    d = F.env_features("local", env_at(far_large, 100))  # gaps 900 and 999,900: same residue
    np.testing.assert_array_equal(c, d)


@pytest.mark.parametrize("actions", [(1, 3, 5), (2, 7), (1, 4, 9), (-2, 3, 5)])
def test_python_situation_keys_give_the_same_features_as_numpy(actions) -> None:
    rng = np.random.default_rng(1)
    for _ in range(30):
        target = int(rng.integers(20, 3_000))
        forbidden = sorted(set(rng.integers(1, target, size=target // 6).tolist()))
        problem = make_problem(target, forbidden, actions)
        position = int(rng.integers(0, target))
        if position in problem.forbidden:
            continue
        env = env_at(problem, position, steps=int(rng.integers(0, 20)))
        numpy_feats = F.env_features("local", env)
        info = _scalar_env(problem.forbidden, problem.actions, env.sign[0] != 0)
        key = situation_key(info, position, int(env.budget[0] - env.steps[0]), target)
        np.testing.assert_array_equal(F.local_features(situation_of_key(key)), numpy_feats)


def test_escape_features_see_a_dead_end_three_moves_deep() -> None:
    # moves 2, 7 toward 99 with 97 forbidden: 95 is a dead end (97 forbidden, 102 passes);
    # 88 -> 90 forbidden, 95; so 88 is a dead end one move deeper, 81 two moves deeper.
    problem = make_problem(99, [83, 90, 97], (2, 7))
    feats = F.env_features("local", env_at(problem, 74))[0]  # landings 76 and 81
    assert feats[1, 12:15].tolist() == [1, 1, 0]  # from 81: 88, 95, then nothing
    assert feats[0, 12:15].tolist() == [1, 1, 1]


def test_feature_widths_match_the_declared_dimensions() -> None:
    env = env_at(make_problem(50, [10]), 0)
    for name in ("local", "paper", "raw"):
        assert F.env_features(name, env).shape == (1, 3, F.feature_dim(name))


def test_prefetched_situations_have_the_keys_a_walk_would_compute() -> None:
    from hrrl.agents.hrrl.policy import situations_ahead

    rng = np.random.default_rng(5)
    for actions in [(1, 3, 5), (2, 7), (-2, 3, 5)]:
        forbidden = sorted(set(rng.integers(1, 2_000, size=300).tolist()))
        problem = make_problem(2_000, forbidden, actions)
        info = _scalar_env(problem.forbidden, problem.actions, problem.monotone)
        situations, keys = situations_ahead(info, 1_700, 2_000, 24, 300)
        walk = [p for p in range(1_700, 2_000) if p not in problem.forbidden]
        walked = [situation_key(info, p, 100_000, 2_000) for p in walk]
        assert len(keys) == len(walked)
        # equal wherever the walk keeps its slack (not where the free line cannot finish)
        assert all(k == w for k, w in zip(keys, walked, strict=True) if w[1] == 24)
        assert sum(w[1] == 24 for w in walked) > 250
        feats = F.local_features(situations)
        for row, key in enumerate(keys):
            single = F.local_features(situation_of_key(key))
            np.testing.assert_array_equal(single, feats[row : row + 1])
