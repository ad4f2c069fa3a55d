"""The point-manipulation suite: Gymnasium contract, vector env, scripted solvability."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registration)
from hrrl.envs.point_manip import (
    EGO_INDICES,
    HORIZON,
    OBS_SIZE,
    TASK_NAMES,
    TEST_TASKS,
    TRAIN_TASKS,
    PointManipEnv,
    PointManipVectorEnv,
    scripted_action,
    task_ids,
)


def test_task_lists_mirror_ml10():
    assert len(TRAIN_TASKS) == 10 and len(TEST_TASKS) == 5
    assert not set(TRAIN_TASKS) & set(TEST_TASKS)
    assert EGO_INDICES == (0, 1, 2, 7, 8, 9)


@pytest.mark.parametrize("task", ["reach", "door-open", "drawer-open"])
def test_check_env_clean(task):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gymnasium.make(f"hrrl/PointManip-{task}-v0")
        check_env(env.unwrapped, skip_render_check=True)


def test_every_task_registered():
    for task in TASK_NAMES:
        env = gymnasium.make(f"hrrl/PointManip-{task}-v0")
        obs, _ = env.reset(seed=0)
        assert obs.shape == (OBS_SIZE,)


def test_single_env_truncates_without_terminating():
    env = PointManipEnv("push")
    env.reset(seed=1)
    for t in range(HORIZON):
        obs, _reward, terminated, truncated, _info = env.step(env.action_space.sample())
        assert not terminated
        assert truncated == (t == HORIZON - 1)
    assert np.all(obs[14:] == 0.0)  # hidden goal slots


def test_vector_env_seeded_and_autoresets():
    def run(seed):
        env = PointManipVectorEnv(8, TRAIN_TASKS)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        out = [obs]
        for _ in range(HORIZON):
            obs, _r, _term, trunc, info = env.step(rng.uniform(-1, 1, (8, 3)))
            out.append(obs)
        return np.stack(out), trunc, info

    a, trunc, info = run(3)
    b, _, _ = run(3)
    c, _, _ = run(4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert trunc.all() and info["_final_obs"].all()
    assert not np.array_equal(info["final_obs"], a[-1])  # returned obs is the new episode's


def test_scripted_policy_solves_every_task():
    env = PointManipVectorEnv(len(TASK_NAMES) * 8, TASK_NAMES)
    obs, _ = env.reset(seed=0)
    success = np.zeros(env.num_envs, dtype=bool)
    for _ in range(HORIZON):
        obs, _, _, _, info = env.step(scripted_action(obs, env.task))
        success |= info["success"]
    for i, name in enumerate(TASK_NAMES):
        assert success[env.task == i].mean() >= 0.95, name


def test_random_policy_rarely_succeeds():
    env = PointManipVectorEnv(150, TASK_NAMES)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    success = np.zeros(env.num_envs, dtype=bool)
    for _ in range(HORIZON):
        _, _, _, _, info = env.step(rng.uniform(-1, 1, (150, 3)))
        success |= info["success"]
    assert success.mean() < 0.2
    assert set(np.unique(env.task)) == set(task_ids(TASK_NAMES))


def test_vector_env_far_faster_than_sync_vector_env():
    """`make bench` measures ≥ 50× at N = 256 (docs/BENCHMARKS.md); a loose bound here, since
    the test machine is shared."""
    import time

    from gymnasium.vector import SyncVectorEnv

    n = 256
    actions = np.random.default_rng(0).uniform(-1, 1, (20, n, 3)).astype(np.float32)
    tasks = [TRAIN_TASKS[i % 10] for i in range(n)]

    def steps_per_s(env, rows):
        env.reset(seed=0)
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for a in actions[:rows]:
                env.step(a)
            best = min(best, time.perf_counter() - started)
        return rows * n / best

    sync = steps_per_s(SyncVectorEnv([lambda t=t: PointManipEnv(t) for t in tasks]), 4)
    ours = steps_per_s(PointManipVectorEnv(n, tasks), 20)
    assert ours > 20 * sync
