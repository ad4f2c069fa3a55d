"""TD3 targets and HIRO's goal transition, worker reward and off-policy relabelling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from hrrl.agents.hiro import (
    HIROConfig,
    action_log_likelihood,
    candidate_goals,
    goal_transition,
    relabel_goals,
    train_hiro,
    worker_reward,
)
from hrrl.agents.td3 import (
    Actor,
    Critic,
    TD3Config,
    TD3Learner,
    smoothed_target_actions,
    td3_targets,
    train_goal_td3,
)
from hrrl.core.replay import ReplayBuffer
from hrrl.envs.point_maze import PointMazeEnv


def _hand_networks() -> tuple[Actor, Critic, Critic]:
    """``π(s) = tanh(s)`` on ``[−1, 1]``, ``Q1 = s + a``, ``Q2 = 2s − 2a``."""
    actor = Actor(1, np.array([-1.0]), np.array([1.0]), hidden=())
    critic1, critic2 = Critic(1, 1, hidden=()), Critic(1, 1, hidden=())
    with torch.no_grad():
        actor.body[0].weight.fill_(1.0)
        actor.body[0].bias.zero_()
        critic1.body[0].weight.copy_(torch.tensor([[1.0, 1.0]]))
        critic2.body[0].weight.copy_(torch.tensor([[2.0, -2.0]]))
        critic1.body[0].bias.zero_()
        critic2.body[0].bias.zero_()
    return actor, critic1, critic2


def test_td3_target_clipped_double_q_with_policy_smoothing_by_hand() -> None:
    actor, critic1, critic2 = _hand_networks()
    next_obs = torch.tensor([[0.5], [2.0], [0.5]])
    noise = torch.tensor([[0.3], [2.0], [0.3]])  # the second is clipped to 0.5
    reward = torch.tensor([1.0, 1.0, 1.0])
    terminated = torch.tensor([0.0, 0.0, 1.0])
    actions = smoothed_target_actions(actor, next_obs, noise, noise_clip=0.5)
    a0 = np.tanh(0.5) + 0.3  # 0.7621
    np.testing.assert_allclose(actions.detach().squeeze(-1).numpy(), [a0, 1.0, a0], rtol=1e-6)
    target = td3_targets(actor, (critic1, critic2), next_obs, reward, terminated, 0.9, noise, 0.5)
    # s'=0.5: Q1 = 1.2621, Q2 = 1 − 2·0.7621 = −0.5242 → min −0.5242; s'=2: a=1 (action clip)
    # Q1 = 3, Q2 = 2 → 2; terminated: no bootstrap.
    expected = [1.0 + 0.9 * (1.0 - 2.0 * a0), 1.0 + 0.9 * 2.0, 1.0]
    np.testing.assert_allclose(target.numpy(), expected, rtol=1e-6)


def test_td3_updates_are_deterministic_under_a_seed() -> None:
    rng = np.random.default_rng(0)
    buffer = ReplayBuffer(256)
    buffer.add(
        {
            "obs": rng.normal(size=(256, 3)).astype(np.float32),
            "action": rng.uniform(-1, 1, size=(256, 2)).astype(np.float32),
            "reward": rng.normal(size=256).astype(np.float32),
            "next_obs": rng.normal(size=(256, 3)).astype(np.float32),
            "terminated": np.zeros(256, dtype=np.float32),
        }
    )
    learners = [TD3Learner(3, -np.ones(2), np.ones(2), TD3Config(), seed=5) for _ in range(2)]
    for learner in learners:
        sample_rng = np.random.default_rng(1)
        for _ in range(4):
            learner.update(buffer.sample(32, sample_rng))
    for p, q in zip(learners[0].actor.parameters(), learners[1].actor.parameters(), strict=True):
        assert torch.equal(p, q)
    assert learners[0].updates == 4
    assert not torch.equal(
        learners[0].actor.body[0].weight, learners[0].actor_target.body[0].weight
    )


def test_goal_transition_and_worker_reward_by_hand() -> None:
    state, goal, next_state = np.array([1.0, 1.0]), np.array([2.0, -1.0]), np.array([1.5, 0.5])
    np.testing.assert_allclose(goal_transition(state, goal, next_state), [1.5, -0.5])
    # s + g − s' = (1.5, −0.5): still pointing at the absolute target (3, 0)
    assert next_state + goal_transition(state, goal, next_state) == pytest.approx([3.0, 0.0])
    assert worker_reward(state, goal, next_state) == pytest.approx(-np.sqrt(2.5))


class _GoalFollower(nn.Module):
    """A worker whose mean action is ``0.3 · g`` (the goal half of ``state ‖ goal``)."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return 0.3 * obs[..., 2:]


def _rollout(true_goal: np.ndarray, steps: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """States ``(c + 1, 2)`` and actions ``(c, 2)`` of the follower, zero-padded after ``steps``."""
    states, actions = np.zeros((c + 1, 2)), np.zeros((c, 2))
    states[0] = [0.5, 0.5]
    for i in range(steps):
        goal = states[0] + true_goal - states[i]
        actions[i] = 0.3 * goal
        states[i + 1] = states[i] + 0.25 * actions[i]
    return states, actions


def test_relabelling_picks_the_goal_that_explains_the_actions() -> None:
    c = 5
    true_goals = np.array([[1.0, 0.5], [-1.5, 1.0]])
    lengths = np.array([5, 3])  # the second segment ended early (episode over)
    rolled = [_rollout(g, n, c) for g, n in zip(true_goals, lengths, strict=True)]
    states = np.stack([s for s, _ in rolled])
    actions = np.stack([a for _, a in rolled])
    original = np.array([[-2.0, -2.0], [2.0, 2.0]])  # stale goals from an older worker
    config = HIROConfig(subgoal_range=2.0, gaussian_candidates=8)
    candidates = candidate_goals(states, lengths, original, config, np.random.default_rng(0))
    assert candidates.shape == (2, 10, 2)
    np.testing.assert_allclose(candidates[:, 0], original)
    np.testing.assert_allclose(candidates[:, 1], states[[0, 1], lengths] - states[:, 0])
    assert np.all(np.abs(candidates) <= 2.0)
    candidates[0, 6] = true_goals[0]
    candidates[1, 3] = true_goals[1]
    scale = np.ones(2)
    scores = action_log_likelihood(_GoalFollower(), states, actions, lengths, candidates, scale)
    np.testing.assert_allclose(scores[[0, 1], [6, 3]], 0.0, atol=1e-10)  # exact fit
    assert np.all(scores <= 1e-12)
    chosen = relabel_goals(_GoalFollower(), states, actions, lengths, candidates, scale)
    np.testing.assert_allclose(chosen, true_goals)


def test_padding_after_the_segment_does_not_change_the_likelihood() -> None:
    states, actions = _rollout(np.array([1.0, 1.0]), 2, 4)
    candidates = np.array([[[1.0, 1.0], [0.0, 0.0]]])
    scale = np.ones(2)
    clean = action_log_likelihood(_GoalFollower(), states[None], actions[None], np.array([2]),
                                  candidates, scale)  # fmt: skip
    actions[2:] = 7.0  # garbage beyond the segment's length
    noisy = action_log_likelihood(_GoalFollower(), states[None], actions[None], np.array([2]),
                                  candidates, scale)  # fmt: skip
    np.testing.assert_allclose(clean, noisy)


def test_tiny_training_runs_are_deterministic() -> None:
    def make_env() -> PointMazeEnv:
        return PointMazeEnv(max_steps=50)

    config = HIROConfig(warmup_steps=100, worker=TD3Config(batch_size=32),
                        manager=TD3Config(batch_size=8))  # fmt: skip
    runs = [train_hiro(make_env, config, 3, steps=300, eval_every=150, eval_episodes=1)
            for _ in range(2)]  # fmt: skip
    assert runs[0] == runs[1] and runs[0]["env_steps"] >= 300
    flat = [train_goal_td3(make_env, TD3Config(batch_size=32), 3, 200, 100, 1, warmup_steps=50)
            for _ in range(2)]  # fmt: skip
    assert flat[0] == flat[1] and flat[0]["env_steps"] >= 200


def _open_arena() -> PointMazeEnv:
    """A wall-free 2×2 arena with the goal 1.4 away: learnable in a few thousand steps."""
    return PointMazeEnv(size=2.0, walls=(), start=(0.5, 0.5), goal=(1.5, 1.5), max_steps=40)


def test_flat_td3_learns_to_reach_a_goal_in_an_open_arena() -> None:
    result = train_goal_td3(_open_arena, TD3Config(), 0, 2000, 1000, 5, warmup_steps=300)
    assert result["curve"][0][1] == 0.0
    assert result["success"] == 1.0


def test_hiro_learns_to_reach_a_goal_in_an_open_arena() -> None:
    config = HIROConfig(warmup_steps=300, subgoal_range=1.0)
    result = train_hiro(_open_arena, config, 0, 3500, 500, 5)
    assert result["curve"][0][1] == 0.0
    assert result["success"] == 1.0


def test_evaluation_runs_on_the_separate_evaluation_env() -> None:
    def far_start() -> PointMazeEnv:
        return PointMazeEnv(start=(3.5, 0.5))

    config = HIROConfig(warmup_steps=20, worker=TD3Config(batch_size=8),
                        manager=TD3Config(batch_size=2))  # fmt: skip
    for result in (
        train_goal_td3(PointMazeEnv, TD3Config(batch_size=8), 0, 40, 1000, 2, 20,
                       make_eval_env=far_start),
        train_hiro(PointMazeEnv, config, 0, 40, 1000, 2, make_eval_env=far_start),
    ):  # fmt: skip
        starts = np.array([trace[0] for trace in result["final_traces"]])
        assert np.all(np.abs(starts - [3.5, 0.5]) <= 0.1 + 1e-6)


def test_start_and_goal_boxes_draw_free_points_inside_them() -> None:
    from hrrl.envs.point_maze import S_MAZE_WALLS, inside_wall

    env = PointMazeEnv(size=6.0, walls=S_MAZE_WALLS, start=(0.75, 0.75), goal=(5.25, 5.0),
                       start_box=(0.0, 1.0, 6.0, 2.5), goal_box=(1.0, 3.0, 2.0, 4.5))  # fmt: skip
    env.reset(seed=0)
    starts, goals = [], []
    for _ in range(200):
        obs, _ = env.reset()
        starts.append(obs["observation"])
        goals.append(obs["desired_goal"])
    for points, (x0, y0, x1, y1) in ((starts, (0.0, 1.0, 6.0, 2.5)), (goals, (1.0, 3.0, 2.0, 4.5))):
        arr = np.asarray(points, dtype=np.float64)
        assert np.all((arr >= np.array([x0, y0]) - 1e-6) & (arr <= np.array([x1, y1]) + 1e-6))
        assert not any(inside_wall(p, env.walls) for p in arr)
    assert len({tuple(np.round(g, 3)) for g in goals}) > 100  # many goals, not one


def test_td3_her_stores_whole_episodes_and_relabels() -> None:
    from hrrl.agents.td3 import GoalTD3Agent, td3_goal_episode
    from hrrl.core.seeding import make_rng

    env = PointMazeEnv(max_steps=30, random_goal=True)
    env.reset(seed=0)
    agent = GoalTD3Agent(env, TD3Config(batch_size=64), 0, n_sampled_goal=4)
    rng = make_rng(0)
    steps = {"n": 0}
    for _ in range(4):
        td3_goal_episode(env, agent, rng, True, lambda: steps.__setitem__("n", steps["n"] + 1))
    assert agent.buffer.n_episodes == 4 and len(agent.buffer) == steps["n"]
    batch = agent.buffer.sample(512, rng)
    relabelled = batch["relabelled"]
    assert 0.7 < relabelled.mean() < 0.9  # k / (k + 1) = 0.8
    # a goal taken from the very next achieved position is reached: reward 0, terminated
    next_goal = batch["goal_step"] == batch.indices % 30 + 1
    assert next_goal.any()
    assert np.all(batch["reward"][next_goal] == 0.0) and np.all(batch["terminated"][next_goal] == 1)


def test_td3_her_training_is_deterministic() -> None:
    def arena() -> PointMazeEnv:
        return PointMazeEnv(size=2.0, walls=(), start=(0.5, 0.5), goal=(1.5, 1.5), max_steps=40,
                            random_goal=True)  # fmt: skip

    runs = [train_goal_td3(arena, TD3Config(batch_size=32), 1, 300, 150, 2, warmup_steps=100,
                           n_sampled_goal=4) for _ in range(2)]  # fmt: skip
    assert runs[0] == runs[1]
