"""The number-line baselines: each learns something on a tiny seeded problem set."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from hrrl.agents.baselines.common import (
    LearningCurve,
    closest_safe_move,
    pool_sampler,
    training_pool,
    vector_forbidden_bits,
)
from hrrl.agents.baselines.option_q import (
    AbsoluteStates,
    NumberLineQConfig,
    TablePolicy,
    train_table,
)
from hrrl.agents.baselines.raw_dqn import QNetworkPolicy, RawDQNConfig, train_raw_dqn
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.evaluation import evaluate
from hrrl.policies import GreedyPolicy, RandomPolicy

POOL = 6
"""Problems in the tiny training set (the same problems are evaluated)."""


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """2 shared cores: torch's default thread pool only oversubscribes them."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _success(policy: object, seed: int = 0) -> float:
    rows = evaluate(training_pool(POOL, seed), policy)  # type: ignore[arg-type]
    return sum(r.solved for r in rows) / len(rows)


def test_random_policy_rarely_solves_the_tiny_set() -> None:
    assert _success(RandomPolicy(seed=0)) <= 1 / 3


@pytest.mark.parametrize("option_set", ["primitive", "options"])
def test_tabular_learners_beat_random(option_set: str) -> None:
    config = NumberLineQConfig(option_set=option_set, total_steps=6_000, pool_size=POOL)
    table = train_table(config, seed=0)
    learned = _success(TablePolicy(table, option_set, seed=0))
    assert learned > _success(RandomPolicy(seed=0)) + 0.3
    assert table.curve["success_rate"], "a learning curve was recorded"


def test_tabular_training_is_deterministic() -> None:
    config = NumberLineQConfig(total_steps=800, pool_size=POOL)
    assert np.array_equal(train_table(config, 3).q, train_table(config, 3).q)


def test_raw_dqn_beats_random() -> None:
    config = RawDQNConfig(total_steps=4_000, pool_size=POOL, learning_starts=500, hidden=(64,))
    trained = train_raw_dqn(config, seed=0)
    learned = _success(QNetworkPolicy(trained.q_net, trained.feature_scale))
    assert learned > _success(RandomPolicy(seed=0)) + 0.3


def test_unseen_states_share_the_outside_row() -> None:
    states = AbsoluteStates(limit=10, n_actions=3)
    bits = np.zeros((3, 3), dtype=bool)
    index = states.index(np.array([0, 11, 5]), np.array([10, 10, 400]), bits)
    assert index[0] < states.outside
    assert index[1] == states.outside and index[2] == states.outside
    position, target, decoded = states.decode()
    some = np.array([0, 57, states.outside - 1])
    assert np.array_equal(states.index(position[some], target[some], decoded[some]), some)


def test_closest_safe_move_agrees_with_greedy_policy() -> None:
    env = NumberLineVectorEnv(
        sampler=pool_sampler(training_pool(20, 1)),
        num_envs=16,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        ours = closest_safe_move(
            env.position, env.target, vector_forbidden_bits(env), env.moves, env.sign
        )
        assert np.array_equal(ours, GreedyPolicy().act(env))
        env.step(rng.integers(0, 3, size=env.num_envs))


def test_learning_curve_bins_success() -> None:
    curve = LearningCurve()
    for step, success in [(10, False), (20, False), (60, True), (90, True), (95, False)]:
        curve.record(step, success)
    binned = curve.binned(budget=100, bins=2)
    assert binned == {"steps": [50.0, 100.0], "success_rate": [0.0, 2 / 3]}


def test_sb3_adapter_matches_the_wrapped_env() -> None:
    pytest.importorskip("stable_baselines3")
    from stable_baselines3 import DQN

    from hrrl.agents.baselines.common import training_env
    from hrrl.agents.baselines.sb3 import RawFeatureWrapper, SB3Policy

    pool = training_pool(4, 0)
    env = RawFeatureWrapper(training_env(pool, 0.99, LearningCurve()), scale=100.0)
    model = DQN("MlpPolicy", env, seed=0, device="cpu", learning_starts=0)
    policy = SB3Policy(model, feature_scale=100.0)
    vector = NumberLineVectorEnv(pool, autoreset_mode=AutoresetMode.DISABLED)
    vector.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        actions = policy.act(vector)
        for i, problem in enumerate(pool):
            env.unwrapped.problem = problem  # type: ignore[attr-defined]
            env.unwrapped.position = int(vector.position[i])  # type: ignore[attr-defined]
            obs = env.observation(env.unwrapped._obs())  # type: ignore[attr-defined]
            expected, _ = model.predict(obs, deterministic=True)
            assert actions[i] == int(expected)
        assert actions.dtype == np.int64 and actions.shape == (len(pool),)
        vector.position += vector.moves[np.arange(len(pool)), rng.integers(0, 3, len(pool))]
