"""Bit flipping, the HER replay buffer and goal-conditioned DQN + HER."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.agents.dqn import DQNConfig, dqn_loss
from hrrl.agents.her import HERDQNConfig, train_her_dqn, uvfa_batch
from hrrl.core.her_replay import HindsightReplayBuffer
from hrrl.core.replay import Batch
from hrrl.envs.bitflip import BitFlipEnv


def test_check_env_passes_without_warnings() -> None:
    env = gymnasium.make("hrrl/BitFlip-v0", n_bits=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    assert [str(w.message) for w in caught] == []


def test_flipping_to_the_goal_terminates_with_zero_reward() -> None:
    env = BitFlipEnv(n_bits=6)
    obs, info = env.reset(seed=3)
    assert not info["is_success"]
    wrong = np.flatnonzero(obs["observation"] != obs["desired_goal"])
    rewards, terminated = [], False
    for bit in wrong:
        obs, reward, terminated, truncated, info = env.step(int(bit))
        rewards.append(reward)
        assert not truncated
    assert rewards == [-1.0] * (len(wrong) - 1) + [0.0]
    assert terminated and info["is_success"]
    np.testing.assert_array_equal(obs["achieved_goal"], obs["desired_goal"])


def test_episode_is_truncated_after_n_steps_not_terminated() -> None:
    env = BitFlipEnv(n_bits=4)
    env.reset(seed=0)
    flags = [env.step(0)[2:4] for _ in range(4)]  # flipping bit 0 back and forth
    terminated = [t for t, _ in flags]
    truncated = [t for _, t in flags]
    assert truncated == [False, False, False, True]
    assert not any(terminated[1::2])  # even number of flips: start state, never the goal


def test_compute_reward_is_vectorised() -> None:
    env = BitFlipEnv(n_bits=3)
    achieved = np.array([[0, 1, 1], [1, 1, 1], [0, 0, 0]], dtype=np.int8)
    desired = np.array([[0, 1, 1], [1, 0, 1], [0, 0, 0]], dtype=np.int8)
    np.testing.assert_array_equal(env.compute_reward(achieved, desired, {}), [0.0, -1.0, 0.0])
    np.testing.assert_array_equal(env.compute_terminated(achieved, desired, {}), [1, 0, 1])


def _labelled_episode(episode_id: int, length: int) -> dict[str, np.ndarray]:
    """Achieved goal ``[episode, t]`` so every goal names where it came from."""
    achieved = np.stack([np.full(length + 1, episode_id), np.arange(length + 1)], axis=1)
    return {
        "observation": achieved.astype(np.float32),
        "achieved_goal": achieved.astype(np.float32),
        "desired_goal": np.array([-1.0, -1.0], dtype=np.float32),
        "action": np.arange(length),
        "terminated": np.zeros(length, dtype=bool),
    }


def _distance_reward(achieved: np.ndarray, desired: np.ndarray, _info: object) -> np.ndarray:
    return -np.abs(achieved - desired).sum(axis=-1).astype(np.float32)


def test_relabelled_goals_come_from_the_same_episode_future() -> None:
    buffer = HindsightReplayBuffer(10, 8, _distance_reward, n_sampled_goal=4)
    for episode_id, length in enumerate([3, 8, 5, 1]):
        buffer.add_episode(_labelled_episode(episode_id, length))
    batch = buffer.sample(4000, np.random.default_rng(0))
    relabelled = batch["relabelled"]
    assert 0.75 < relabelled.mean() < 0.85  # k / (k + 1) = 0.8
    obs = batch["observation"]
    goal = batch["goal"]
    np.testing.assert_array_equal(goal[relabelled, 0], obs[relabelled, 0])  # same episode
    assert np.all(goal[relabelled, 1] > obs[relabelled, 1])  # strictly later: t' in t+1..T
    np.testing.assert_array_equal(goal[relabelled, 1], batch["goal_step"][relabelled])
    np.testing.assert_array_equal(goal[~relabelled], -1.0)  # the original desired goal
    lengths = np.array([3, 8, 5, 1])[obs[:, 0].astype(int)]
    assert np.all(goal[relabelled, 1] <= lengths[relabelled])
    # every future step is reachable: t' = T for the first transition of the 1-step episode
    assert set(np.unique(goal[relabelled & (obs[:, 0] == 3), 1])) == {1.0}


def test_relabelled_rewards_equal_compute_reward() -> None:
    env = BitFlipEnv(n_bits=4)
    buffer = HindsightReplayBuffer(50, 4, env.compute_reward, env.compute_terminated, 4)
    rng = np.random.default_rng(1)
    env.reset(seed=1)
    for _ in range(20):
        obs, _ = env.reset()
        episode = {"observation": [obs["observation"]], "achieved_goal": [obs["achieved_goal"]]}
        actions, terminated = [], []
        for _ in range(4):
            action = int(rng.integers(4))
            obs, _, term, trunc, _ = env.step(action)
            episode["observation"].append(obs["observation"])
            episode["achieved_goal"].append(obs["achieved_goal"])
            actions.append(action)
            terminated.append(term)
            if term or trunc:
                break
        buffer.add_episode(
            {k: np.asarray(v) for k, v in episode.items()}
            | {"action": np.asarray(actions), "terminated": np.asarray(terminated)}
            | {"desired_goal": obs["desired_goal"]}
        )
    batch = buffer.sample(2000, rng)
    achieved = batch["next_observation"]  # observation == achieved goal in bit flipping
    expected = env.compute_reward(achieved, batch["goal"], {})
    np.testing.assert_array_equal(batch["reward"], expected)
    np.testing.assert_array_equal(batch["terminated"], expected == 0.0)
    relabelled = batch["relabelled"]
    assert (batch["reward"][relabelled] == 0.0).mean() > 0.2  # hindsight makes successes
    uvfa = uvfa_batch(batch)
    assert uvfa["obs"].shape == (2000, 8)
    np.testing.assert_array_equal(uvfa["obs"][:, 4:], batch["goal"])


def test_no_relabelling_when_k_is_zero_and_whole_episodes_are_overwritten() -> None:
    buffer = HindsightReplayBuffer(2, 8, _distance_reward, n_sampled_goal=0)
    for episode_id, length in enumerate([4, 6, 2]):
        buffer.add_episode(_labelled_episode(episode_id, length))
    assert len(buffer) == 6 + 2  # episode 0 overwritten by episode 2
    batch = buffer.sample(500, np.random.default_rng(2))
    assert not batch["relabelled"].any()
    assert set(np.unique(batch["observation"][:, 0])) == {1.0, 2.0}
    with pytest.raises(ValueError):
        buffer.add_episode(_labelled_episode(9, 9))


def test_dqn_her_solves_six_bits_and_is_deterministic() -> None:
    config = HERDQNConfig()
    first = train_her_dqn(
        lambda: BitFlipEnv(6), config, 0, cycles=20, eval_every=20, eval_episodes=50
    )
    assert first["success"] >= 0.9
    again = train_her_dqn(lambda: BitFlipEnv(6), config, 0, cycles=1, eval_every=1, eval_episodes=8)
    repeat = train_her_dqn(
        lambda: BitFlipEnv(6), config, 0, cycles=1, eval_every=1, eval_episodes=8
    )
    assert again == repeat


def test_budget_study_reads_success_at_exact_cycles_and_reuses_her_bitflip_seeds() -> None:
    import math

    from hrrl.experiments import her_bitflip, her_bitflip_budget

    curve = [(50, 0.1), (100, 0.4), (150, 0.9)]
    assert her_bitflip_budget.success_at(curve, 100) == 0.4
    assert math.isnan(her_bitflip_budget.success_at(curve, 120))
    protocol = her_bitflip_budget._protocol(quick=False)
    jobs = her_bitflip_budget._jobs(protocol, [7])
    assert [(m, n) for m, n, _ in jobs] == protocol["cases"]
    for method, n, job in jobs:
        assert job.kwargs["cycles"] == 40 * n and job.kwargs["her"] == (method == "DQN+HER")
        assert job.kwargs["cycles"] % job.kwargs["eval_every"] == 0
    assert her_bitflip_budget.BASE_SEED == her_bitflip.BASE_SEED


def test_her_training_resumes_from_a_checkpoint_exactly(tmp_path: Path) -> None:
    config = replace(HERDQNConfig(), episodes_per_cycle=4, updates_per_cycle=5, batch_size=16)

    def make() -> BitFlipEnv:
        return BitFlipEnv(5)

    straight = train_her_dqn(make, config, 3, cycles=4, eval_every=2, eval_episodes=8)
    ckpt = tmp_path / "ckpt"
    first = train_her_dqn(make, config, 3, 2, 2, 8, checkpoint=ckpt, checkpoint_every=2)
    assert first["curve"] == straight["curve"][:1]
    resumed = train_her_dqn(make, config, 3, 4, 2, 8, checkpoint=ckpt, checkpoint_every=2)
    assert resumed == straight
    other = replace(config, batch_size=8)
    with pytest.raises(ValueError, match="another config"):
        train_her_dqn(make, other, 3, 4, 2, 8, checkpoint=ckpt)


def test_target_clipping_bounds_the_td_targets() -> None:
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():
        net.weight.zero_()
        net.bias.copy_(torch.tensor([4.0, -100.0]))
    batch = Batch(
        {
            "obs": np.zeros((2, 3), np.float32),
            "next_obs": np.zeros((2, 3), np.float32),
            "action": np.array([0, 1]),
            "reward": np.array([-1.0, -1.0], np.float32),
            "terminated": np.zeros(2, np.float32),
        },
        np.arange(2),
        np.ones(2, np.float32),
    )
    plain = DQNConfig(gamma=0.5, huber=False, double=False)
    clipped = replace(plain, target_clip=(-2.0, 0.0))
    # Unclipped target: −1 + 0.5 · 4 = 1 for both; clipped to [−2, 0]: 0.
    _, td_plain = dqn_loss(net, net, batch, plain)
    _, td_clip = dqn_loss(net, net, batch, clipped)
    torch.testing.assert_close(td_plain, torch.tensor([1.0 - 4.0, 1.0 + 100.0]))
    torch.testing.assert_close(td_clip, torch.tensor([0.0 - 4.0, 0.0 + 100.0]))


def test_faithful_preset_clips_targets_and_keeps_the_rest() -> None:
    from hrrl.experiments.her_bitflip import CONFIG
    from hrrl.experiments.her_bitflip_faithful import FAITHFUL

    assert FAITHFUL.batch_size == 1024
    assert FAITHFUL.dqn.target_clip == pytest.approx((-1 / (1 - CONFIG.dqn.gamma), 0.0))
    assert replace(FAITHFUL, batch_size=CONFIG.batch_size, dqn=CONFIG.dqn) == CONFIG
