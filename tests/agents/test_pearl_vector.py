"""PEARL on a multi-task vector env (the point-manipulation suite): the rollout adapter, trial
scoring, determinism under a seed and save / load without pickle."""

from __future__ import annotations

import json

import numpy as np
import torch

from hrrl.agents.pearl import PEARL, PEARLConfig
from hrrl.agents.pearl_vector import (
    RolloutRecord,
    VectorEnvRollout,
    iterations_for,
    posterior_curve,
    trial_success,
)
from hrrl.agents.sac import SACConfig
from hrrl.core.checkpoint import STATE, TENSORS
from hrrl.core.learner import load_learner, save_learner
from hrrl.envs import point_manip as pm

TINY = PEARLConfig(
    latent_dim=2, encoder_hidden=(8,), meta_batch=2, batch_size=8, context_size=4,
    initial_episodes=1, tasks_per_iteration=2, gradient_steps=2, sac=SACConfig(hidden=(8,)),
)  # fmt: skip
HORIZON = 6


def make_env(num_envs: int) -> pm.PointManipVectorEnv:
    return pm.PointManipVectorEnv(num_envs, pm.TASK_NAMES, horizon=HORIZON)


def test_rollout_returns_one_episode_per_task_with_the_true_last_observation() -> None:
    rollout = VectorEnvRollout(make_env, seed=0)
    tasks = np.array([0, 4, 12])
    episodes = rollout(lambda obs: np.tile([1.0, 0.0, -1.0], (len(obs), 1)), tasks)
    assert episodes.obs.shape == (3, HORIZON, pm.OBS_SIZE) and episodes.valid.all()
    assert not episodes.terminated.any()  # the suite only truncates
    # each next_obs is the following obs, and the last one is the truncated state, not a reset
    assert np.array_equal(episodes.next_obs[:, :-1], episodes.obs[:, 1:])
    hand_x = episodes.next_obs[:, -1, 0]
    assert np.allclose(hand_x - episodes.obs[:, 0, 0], HORIZON * pm.STEP, atol=1e-6)
    assert rollout.record.steps == [3 * HORIZON]


def test_rollout_records_success_of_the_scripted_controller_on_every_task() -> None:
    env = lambda n: pm.PointManipVectorEnv(n, pm.TASK_NAMES)  # noqa: E731 - full horizon
    rollout = VectorEnvRollout(env, seed=1)
    tasks = np.arange(len(pm.TASK_NAMES))
    rollout(lambda obs: pm.scripted_action(obs, tasks), tasks)
    rollout(lambda obs: np.zeros((len(obs), pm.ACT_SIZE)), tasks)  # standing still
    assert rollout.record.success[0].all() and not rollout.record.success[1].any()


def _trained(seed: int) -> tuple[PEARL, VectorEnvRollout]:
    torch.set_num_threads(1)
    pearl = PEARL(pm.OBS_SIZE, pm.ACT_SIZE, TINY, seed)
    rollout = VectorEnvRollout(make_env, seed)
    pearl.meta_train(rollout, np.arange(3), iterations=2)
    return pearl, rollout


def _trials(pearl: PEARL) -> list[bool]:
    return trial_success(pearl, VectorEnvRollout(make_env, 5), np.arange(10, 15), 2).tolist()


def _actions(pearl: PEARL) -> list[list[float]]:
    ep = VectorEnvRollout(make_env, 9)(lambda o: np.zeros((len(o), pm.ACT_SIZE)), np.arange(2))
    pearl.z_generator.manual_seed(0)
    return pearl.act(ep.obs[:, -1], [ep.task(0), ep.task(1)]).tolist()


def test_training_on_the_suite_is_deterministic_under_a_seed() -> None:
    (a, ra), (b, rb) = _trained(3), _trained(3)
    sa, sb = a.state_arrays(), b.state_arrays()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert [s.tolist() for s in ra.record.success] == [s.tolist() for s in rb.record.success]
    assert _actions(a) == _actions(b) and _trials(a) == _trials(b)
    other, _ = _trained(4)
    assert _actions(other) != _actions(a)


def test_a_pearl_trained_on_the_suite_saves_and_loads_without_pickle(tmp_path) -> None:
    trained, _ = _trained(0)
    folder = save_learner(tmp_path / "pearl", trained)
    assert sorted(p.name for p in folder.iterdir()) == sorted([STATE, TENSORS])
    json.loads((folder / STATE).read_text())
    loaded = load_learner(folder, PEARL(pm.OBS_SIZE, pm.ACT_SIZE, TINY, seed=11))
    assert _actions(loaded) == _actions(trained)


def test_budget_and_curve_bookkeeping_match_the_meta_training_loop() -> None:
    # 3 tasks × 1 initial episode, then 2 tasks × (1 prior + 1 posterior) episode per iteration
    assert iterations_for(TINY, 3, HORIZON, 3 * HORIZON + 2 * 2 * HORIZON * 2) == 2
    assert iterations_for(TINY, 3, HORIZON, 3 * HORIZON - 1) == 0
    pearl, rollout = _trained(0)
    assert pearl.env_steps == rollout.record.steps[-1] == (3 + 2 * 2 * 2) * HORIZON
    assert len(rollout.record.success) == 1 + 2 * 2  # one call per episode batch
    record = RolloutRecord(
        success=[np.array([True] * 3), *[np.array([i % 2 == 1, False]) for i in range(4)]],
        steps=[3, 5, 7, 9, 11],
    )
    assert posterior_curve(record, TINY) == ([7, 11], [0.5, 0.5])
