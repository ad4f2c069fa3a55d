"""HIRO with a TD3 + HER worker: segments stored as HER episodes, relabelled worker transitions,
determinism."""

from __future__ import annotations

from functools import partial

import numpy as np

from hrrl.agents.hiro import HIROAgent, HIROConfig, hiro_episode, train_hiro, worker_reward
from hrrl.agents.hiro_her import HIROHERAgent, relative_goal_batch
from hrrl.agents.td3 import TD3Config
from hrrl.core.seeding import make_rng
from hrrl.envs.point_maze import PointMazeEnv

CONFIG = HIROConfig(warmup_steps=100, worker=TD3Config(batch_size=32),
                    manager=TD3Config(batch_size=8))  # fmt: skip


def _explored(agent: HIROAgent, seed: int = 5) -> HIROAgent:
    """Two exploring episodes (random subgoals and actions, no updates) of 45 steps."""
    env = PointMazeEnv(max_steps=45, random_goal=True)
    env.reset(seed=seed)
    rng = make_rng(seed)
    for _ in range(2):
        hiro_episode(env, agent, rng, True, lambda: True)
    return agent


def test_segments_become_her_episodes_with_absolute_targets() -> None:
    agent = _explored(HIROHERAgent(PointMazeEnv(), CONFIG, 0, n_sampled_goal=0))
    hindsight = agent.worker_hindsight
    # 45-step episodes cut every c = 10 steps: 4 full segments and one of 5, twice
    assert hindsight.n_episodes == len(agent.manager_buffer) == 10
    assert len(hindsight) == 90
    segments = agent.manager_buffer.get(np.arange(10))
    assert sorted(segments["length"].tolist()) == [5, 5] + [10] * 8


def test_unrelabelled_worker_batches_equal_hiros_own_transitions() -> None:
    """With k = 0, every sampled worker transition is one HIRO itself stores (same seeds, so the
    same exploring episodes): the target ``s_0 + g_0`` reproduces HIRO's goal transition."""
    her = _explored(HIROHERAgent(PointMazeEnv(), CONFIG, 0, n_sampled_goal=0))
    plain = _explored(HIROAgent(PointMazeEnv(), CONFIG, 0))
    own = plain.worker_buffer.get(np.arange(len(plain.worker_buffer)))
    batch = relative_goal_batch(her.worker_hindsight.sample(200, make_rng(1)))
    rows = np.concatenate([own["obs"], own["action"], own["next_obs"], own["reward"][:, None]], 1)
    sampled = np.concatenate([batch["obs"], batch["action"], batch["next_obs"],
                              batch["reward"][:, None]], 1)  # fmt: skip
    distance = np.abs(sampled[:, None] - rows[None]).max(axis=-1).min(axis=1)
    assert distance.max() < 1e-5
    assert not batch["terminated"].any()


def test_relabelled_targets_are_states_reached_later_in_the_segment() -> None:
    agent = _explored(HIROHERAgent(PointMazeEnv(), CONFIG, 0, n_sampled_goal=4))
    raw = agent.worker_hindsight.sample(400, make_rng(2))
    batch = relative_goal_batch(raw)
    relabelled = raw["relabelled"]
    assert 0.7 < relabelled.mean() < 0.9  # k / (k + 1) = 0.8
    c = CONFIG.subgoal_period
    slots, steps = raw.indices // c, raw.indices % c
    segments = agent.manager_buffer.get(slots)
    states = segments["states"]
    rows = np.arange(len(slots))
    assert (raw["goal_step"][relabelled] > steps[relabelled]).all()
    assert (raw["goal_step"][relabelled] <= segments["length"][relabelled]).all()
    reached = states[rows, np.maximum(raw["goal_step"], 0)]
    np.testing.assert_allclose(raw["goal"][relabelled], reached[relabelled])
    original = states[:, 0] + segments["action"]
    np.testing.assert_allclose(raw["goal"][~relabelled], original[~relabelled], atol=1e-6)
    state, next_state = batch["obs"][:, :2], batch["next_obs"][:, :2]
    np.testing.assert_allclose(state, states[rows, steps])
    np.testing.assert_allclose(next_state, states[rows, steps + 1])
    # the worker sees the relative goal and HIRO's reward for it
    np.testing.assert_allclose(batch["obs"][:, 2:], raw["goal"] - state, atol=1e-6)
    expected = worker_reward(state, batch["obs"][:, 2:], next_state)
    np.testing.assert_allclose(batch["reward"], expected, atol=1e-5)
    # a target reached one step later is hit exactly: reward 0
    hit = raw["goal_step"] == steps + 1
    assert hit.any() and np.allclose(batch["reward"][hit], 0.0, atol=1e-6)


def test_her_worker_training_is_deterministic_and_differs_from_hiro() -> None:
    def make_env() -> PointMazeEnv:
        return PointMazeEnv(max_steps=50)

    def run(make_agent: object) -> dict[str, object]:
        return train_hiro(make_env, CONFIG, 3, steps=300, eval_every=150, eval_episodes=1,
                          make_agent=make_agent)  # type: ignore[arg-type]  # fmt: skip

    her = [run(partial(HIROHERAgent, n_sampled_goal=4)) for _ in range(2)]
    assert her[0] == her[1] and her[0]["env_steps"] >= 300
    plain = run(HIROAgent)
    assert plain["final_traces"] != her[0]["final_traces"]
