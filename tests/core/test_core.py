import json
import math

import numpy as np
import pytest
import torch

from hrrl.core.atomic import atomic_write_json
from hrrl.core.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from hrrl.core.her_replay import EpisodeRecorder
from hrrl.core.networks import mlp, soft_update
from hrrl.core.parallel import Job, run_grouped, run_jobs
from hrrl.core.replay import PrioritizedReplayBuffer, ReplayBuffer, SumTree
from hrrl.core.rollout import run_episode
from hrrl.core.schedules import ExponentialSchedule, LinearSchedule
from hrrl.core.seeding import init_module, spawn_seeds
from hrrl.core.stats import mean_ci, wilson_interval
from hrrl.core.tabular import (
    SampledModel,
    epsilon_greedy,
    greedy_action,
    q_learning_target,
    sample_index,
    td_update,
)
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.solvers.value_iteration import TabularModel, policy_evaluation, value_iteration
from parallel_jobs import square


def test_mean_ci_matches_the_t_interval_by_hand():
    ci = mean_ci([1.0, 2.0, 3.0, 4.0])
    # mean 2.5, sd 1.2910, sem 0.6455, t(0.975, 3) = 3.1824
    assert ci.mean == pytest.approx(2.5)
    assert ci.half_width == pytest.approx(3.18245 * 1.290994 / 2, rel=1e-4)
    assert ci.format(1) == "2.5 ± 2.1"
    assert mean_ci([5.0]).format(1) == "5.0"
    assert mean_ci([]).format() == "n/a"


def test_wilson_interval_is_inside_unit_range():
    lo, hi = wilson_interval(10, 10)
    assert 0.65 < lo < 1.0 and hi == pytest.approx(1.0)
    assert wilson_interval(0, 10)[0] == 0.0


def test_replay_buffer_ring_and_uniform_sampling():
    buffer = ReplayBuffer(4)
    for i in range(6):
        buffer.add({"x": np.array([[i]]), "r": np.array([float(i)])})
    assert len(buffer) == 4
    assert sorted(buffer.get(np.arange(4))["x"][:, 0].tolist()) == [2, 3, 4, 5]
    batch = buffer.sample(100, np.random.default_rng(0))
    assert set(batch["x"][:, 0].tolist()) <= {2, 3, 4, 5}
    assert np.all(batch.weights == 1)


def test_sum_tree_prefix_search():
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 0.0, 2.0, 0.0, 1.0]))
    assert tree.total == 4.0
    assert tree.find(np.array([0.5, 1.5, 2.9, 3.5])).tolist() == [0, 2, 2, 4]


def test_prioritized_sampling_is_proportional_and_weights_correct():
    buffer = PrioritizedReplayBuffer(4, alpha=1.0)
    buffer.add({"x": np.arange(4)})
    buffer.update_priorities(np.arange(4), np.array([1.0, 1.0, 1.0, 5.0]) - 1e-6)
    batch = buffer.sample(8000, np.random.default_rng(0), beta=1.0)
    freq = np.bincount(batch["x"], minlength=4) / 8000
    np.testing.assert_allclose(freq, [0.125, 0.125, 0.125, 0.625], atol=0.02)
    # importance weights (N P)^-β normalised by their max: rare items weigh 1, common 0.2
    assert batch.weights[batch["x"] == 0].max() == pytest.approx(1.0)
    assert batch.weights[batch["x"] == 3].max() == pytest.approx(0.2, rel=1e-3)


def test_buffer_state_round_trip():
    buffer = PrioritizedReplayBuffer(8)
    buffer.add({"obs": np.ones((3, 2)), "a": np.array([0, 1, 2])})
    buffer.update_priorities(np.array([1]), np.array([4.0]))
    other = PrioritizedReplayBuffer(8)
    other.load_state_dict(buffer.state_dict())
    assert len(other) == 3
    np.testing.assert_array_equal(other.get(np.arange(3))["a"], [0, 1, 2])
    a = buffer.sample(50, np.random.default_rng(1))
    b = other.sample(50, np.random.default_rng(1))
    np.testing.assert_array_equal(a.indices, b.indices)


def test_checkpoint_round_trip_without_pickle(tmp_path):
    net = init_module(mlp([3, 8, 2]), seed=1)
    rng = np.random.default_rng(5)
    rng.random()
    save_checkpoint(tmp_path, {"q": net.state_dict()}, {"episode": 7, "rng": rng_state(rng)})
    tensors, state = load_checkpoint(tmp_path)
    other = mlp([3, 8, 2])
    other.load_state_dict(tensors["q"])
    x = torch.randn(4, 3)
    torch.testing.assert_close(net(x), other(x))
    assert state["episode"] == 7
    assert restore_rng(state["rng"]).random() == rng.random()
    assert json.loads((tmp_path / "state.json").read_text())["episode"] == 7
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing")


def test_init_module_is_deterministic_and_leaves_global_rng_alone():
    a, b = mlp([2, 4, 1]), mlp([2, 4, 1])
    before = torch.random.get_rng_state()
    init_module(a, 3)
    init_module(b, 3)
    assert torch.equal(torch.random.get_rng_state(), before)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_soft_update():
    target, source = mlp([2, 2]), mlp([2, 2])
    expected = [
        0.75 * t + 0.25 * s for t, s in zip(target.parameters(), source.parameters(), strict=True)
    ]
    soft_update(target, source, 0.25)
    for p, e in zip(target.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), e.detach())


def test_schedules():
    lin = LinearSchedule(1.0, 0.1, fraction=0.5)
    assert lin(0) == 1.0 and lin(0.25) == pytest.approx(0.55) and lin(0.9) == pytest.approx(0.1)
    exp = ExponentialSchedule(1.0, 0.05, 0.5)
    assert exp(1) == 0.5 and exp(10) == 0.05


def test_tabular_helpers():
    rng = np.random.default_rng(0)
    picks = {greedy_action(np.array([1.0, 3.0, 3.0]), rng) for _ in range(50)}
    assert picks == {1, 2}
    assert epsilon_greedy(np.array([0.0, 1.0]), 0.0, rng) == 1
    assert q_learning_target(1.0, np.array([2.0, 5.0]), 0.9, terminated=False) == pytest.approx(5.5)
    assert q_learning_target(1.0, np.array([2.0, 5.0]), 0.9, terminated=True) == 1.0
    table = np.zeros((2, 2))
    assert td_update(table, (0, 1), 4.0, 0.5) == 4.0 and table[0, 1] == 2.0


def test_value_iteration_on_a_two_state_chain():
    # state 0: action 0 stays (reward 0), action 1 goes to terminal 1 with reward 1
    P = np.zeros((2, 2, 2))
    P[0, 0, 0] = P[0, 1, 1] = P[1, :, 1] = 1.0
    R = np.zeros((2, 2))
    R[0, 1] = 1.0
    model = TabularModel(P, R, np.array([False, True]))
    V, Q = value_iteration(model, gamma=0.9)
    assert V[0] == pytest.approx(1.0) and Q[0, 0] == pytest.approx(0.9)
    assert policy_evaluation(model, np.array([0, 0]), 0.9)[0] == pytest.approx(0.0)


def test_run_jobs_resumes_from_cache(tmp_path):
    jobs = [Job(f"j{i}", square, {"x": i}) for i in range(4)]
    assert run_jobs(jobs, workers=1, cache_dir=tmp_path) == [0, 1, 4, 9]
    atomic_write_json(tmp_path / "j2.json", 99)  # a finished job is read back, not rerun
    assert run_jobs(jobs, workers=1, cache_dir=tmp_path) == [0, 1, 99, 9]
    with pytest.raises(ValueError, match="unique"):
        run_jobs([jobs[0], jobs[0]])


def test_run_grouped_groups_by_label_in_job_order():
    labelled = [(("a", i % 2), Job(f"j{i}", square, {"x": i})) for i in range(5)]
    assert run_grouped(labelled, workers=1) == {("a", 0): [0, 4, 16], ("a", 1): [1, 9]}


def test_run_jobs_in_processes_keeps_order():
    jobs = [Job(f"j{i}", square, {"x": i}) for i in range(5)]
    assert run_jobs(jobs, workers=2) == [0, 1, 4, 9, 16]


def test_spawn_seeds_are_stable_and_distinct():
    seeds = spawn_seeds(0, 5)
    assert seeds == spawn_seeds(0, 5) and len(set(seeds)) == 5
    assert all(isinstance(s, int) and s >= 0 for s in seeds)
    assert not math.isnan(float(seeds[0]))


def test_sampled_model_draws_start_and_next_states_from_the_model() -> None:
    dynamics = np.zeros((3, 2, 3))
    dynamics[:, 0, 0] = 1.0  # action 0 always leads to state 0
    dynamics[:, 1] = [0.0, 0.25, 0.75]  # action 1: state 1 w.p. 1/4, state 2 w.p. 3/4
    model = SampledModel(dynamics, horizon=4000, rng=np.random.default_rng(0))
    seen: list[tuple[int, int]] = []
    episode = run_episode(
        model, lambda s: len(seen) % 2, lambda st: seen.append((st.action, st.next_obs))
    )
    assert (episode.steps, episode.truncated, episode.terminated) == (4000, True, False)
    assert {n for a, n in seen if a == 0} == {0}
    after_one = np.array([n for a, n in seen if a == 1])
    assert set(after_one) == {1, 2} and abs(np.mean(after_one == 2) - 0.75) < 0.03
    starts = [model.reset()[0] for _ in range(300)]
    assert set(starts) == {0, 1, 2}
    assert (
        sample_index(np.array([0.5, 1.0]), 0.5) == 1
        and sample_index(np.array([0.5, 1.0]), 1.0) == 1
    )
    with pytest.raises(ValueError, match="generator"):
        model.reset(seed=1)


def test_episode_recorder_keeps_t_plus_one_states_and_the_goal() -> None:
    env = BitFlipEnv(3)
    recorder = EpisodeRecorder()
    episode = run_episode(env, lambda obs: 0, recorder.record, seed=4)
    data = recorder.episode()
    start, _ = env.reset(seed=4)
    assert len(data["action"]) == episode.steps and len(data["observation"]) == episode.steps + 1
    assert np.array_equal(data["observation"][0], start["observation"])
    assert np.array_equal(data["desired_goal"], start["desired_goal"])
    assert data["terminated"][-1] == episode.terminated and not data["terminated"][:-1].any()
    with pytest.raises(ValueError, match="no step"):
        EpisodeRecorder().episode()
