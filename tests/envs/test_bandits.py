"""Bernoulli-bandit env (single and batched, task API) and the classic bandit baselines."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hrrl.envs  # noqa: F401  (registers the ids)
from hrrl.agents.bandit_baselines import (
    BanditHistory,
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    FiniteHorizonGittinsPolicy,
    GreedyPolicy,
    RandomPolicy,
    ThompsonPolicy,
    UCB1Policy,
    argmax_random_tiebreak,
    finite_horizon_gittins_table,
    play_trials,
    ucb1_indices,
)
from hrrl.envs.bandits import (
    BatchedBernoulliBandit,
    BernoulliBanditEnv,
    encode_observations,
    expected_best_arm_total,
    sample_tasks,
)

# --- environment ---------------------------------------------------------------------------------


@pytest.mark.parametrize("task", [None, np.array([0.1, 0.9, 0.5])])
def test_check_env_passes_without_warnings(task: np.ndarray | None) -> None:
    env = gym.make("hrrl/BernoulliBandit-v0", k=3, n_pulls=4, task=task).unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    assert [str(w.message) for w in caught] == []


def test_registered_env_plays_one_trial_then_terminates() -> None:
    env = gym.make("hrrl/BernoulliBandit-v0", k=3, n_pulls=4)
    obs, info = env.reset(seed=0)
    assert obs.shape == (5,) and info["task"].shape == (3,)
    flags = [env.step(1)[2:4] for _ in range(4)]
    assert flags == [(False, False)] * 3 + [(True, False)]


def test_observation_encodes_previous_action_reward_and_progress() -> None:
    obs = encode_observations(np.array([-1, 2]), np.array([0.0, 1.0]), 3, 10, 4)
    expected = np.array([[0, 0, 0, 0, 0, 0.3], [0, 0, 1, 0, 1, 0.3]], dtype=np.float32)
    np.testing.assert_allclose(obs, expected)


def test_rewards_follow_the_task_deterministically() -> None:
    env = BernoulliBanditEnv(k=2, n_pulls=6, task=np.array([1.0, 0.0]))
    env.reset(seed=3)
    rewards = [env.step(a)[1] for a in (0, 1, 0, 1, 0, 1)]
    assert rewards == [1.0, 0.0] * 3


def test_task_api() -> None:
    env = BernoulliBanditEnv(k=4, n_pulls=3)
    tasks = env.sample_tasks(5, np.random.default_rng(7))
    again = env.sample_tasks(5, np.random.default_rng(7))
    assert len(tasks) == 5 and all(t.shape == (4,) for t in tasks)
    assert all(np.array_equal(a, b) for a, b in zip(tasks, again, strict=True))
    assert all(((t >= 0) & (t <= 1)).all() for t in tasks)
    env.set_task(tasks[2])
    for seed in (0, 1):
        _, info = env.reset(seed=seed)
        np.testing.assert_array_equal(info["task"], tasks[2])
    copy = env.get_task()
    copy[0] = -1.0
    np.testing.assert_array_equal(env.get_task(), tasks[2])
    env.reset(options={"task": tasks[4]})
    np.testing.assert_array_equal(env.get_task(), tasks[4])
    with pytest.raises(ValueError):
        env.set_task(np.array([0.5, 1.5, 0.2, 0.1]))


def test_unfixed_task_is_resampled_every_reset_from_np_random() -> None:
    env = BernoulliBanditEnv(k=3, n_pulls=2)
    _, first = env.reset(seed=11)
    _, second = env.reset()
    _, replay = env.reset(seed=11)
    assert not np.array_equal(first["task"], second["task"])
    np.testing.assert_array_equal(first["task"], replay["task"])
    np.testing.assert_array_equal(first["task"], np.random.default_rng(11).random(3))


def _play_single_envs(tasks: np.ndarray, actions: np.ndarray, rng: np.random.Generator) -> tuple:
    all_obs, all_rewards = [], []
    for task, trial_actions in zip(tasks, actions, strict=True):
        env = BernoulliBanditEnv(k=tasks.shape[1], n_pulls=actions.shape[1], task=task)
        env.np_random = rng
        obs, _ = env.reset()
        trial_obs, trial_rewards = [obs], []
        for a in trial_actions:
            obs, reward, *_ = env.step(a)
            trial_obs.append(obs)
            trial_rewards.append(reward)
        all_obs.append(trial_obs)
        all_rewards.append(trial_rewards)
    return np.array(all_obs), np.array(all_rewards)


def test_batched_env_equals_single_envs_under_the_same_generator() -> None:
    k, n_pulls, batch = 3, 7, 5
    tasks = sample_tasks(batch, k, np.random.default_rng(0))
    actions = np.random.default_rng(1).integers(0, k, size=(batch, n_pulls))
    single_obs, single_rewards = _play_single_envs(tasks, actions, np.random.default_rng(42))
    env = BatchedBernoulliBandit(k, n_pulls)
    obs_steps = [env.reset(np.random.default_rng(42), tasks)]
    reward_steps = []
    for t in range(n_pulls):
        obs, rewards, done = env.step(actions[:, t])
        obs_steps.append(obs)
        reward_steps.append(rewards)
        assert done == (t == n_pulls - 1)
    np.testing.assert_array_equal(np.stack(obs_steps, axis=1), single_obs)
    np.testing.assert_array_equal(np.stack(reward_steps, axis=1), single_rewards)


def test_batched_env_samples_tasks_like_the_single_env() -> None:
    single = BernoulliBanditEnv(k=4, n_pulls=3)
    _, info = single.reset(seed=9)
    batched = BatchedBernoulliBandit(4, 3)
    batched.reset(np.random.default_rng(9), batch_size=1)
    np.testing.assert_array_equal(batched.tasks[0], info["task"])
    rewards_single = [single.step(a)[1] for a in (0, 3, 2)]
    rewards_batched = [batched.pull(np.array([a]))[0] for a in (0, 3, 2)]
    assert rewards_single == rewards_batched


def test_expected_best_arm_total_matches_monte_carlo() -> None:
    draws = np.random.default_rng(0).random((200_000, 5)).max(axis=1)
    assert expected_best_arm_total(100, 5) == pytest.approx(100 * 5 / 6)
    assert 100 * draws.mean() == pytest.approx(expected_best_arm_total(100, 5), abs=0.1)


# --- baselines -----------------------------------------------------------------------------------


def _history(
    successes: list[list[int]], pulls: list[list[int]], n_pulls: int = 20
) -> BanditHistory:
    pulls_arr = np.array(pulls)
    return BanditHistory(np.array(successes), pulls_arr, n_pulls, t=int(pulls_arr[0].sum()))


def test_ucb1_index_formula_by_hand() -> None:
    history = _history([[2, 1]], [[3, 2]])
    # t = 5: 2/3 + sqrt(2 ln 5 / 3) = 1.70250, 1/2 + sqrt(2 ln 5 / 2) = 1.76864.
    np.testing.assert_allclose(ucb1_indices(history)[0], [1.7025038, 1.7686362], atol=1e-6)
    assert UCB1Policy().select(history, np.random.default_rng(0))[0] == 1


def test_ucb1_pulls_each_arm_once_then_follows_the_index() -> None:
    env = BatchedBernoulliBandit(2, 12)
    env.reset(np.random.default_rng(0), np.array([[1.0, 0.0]]))
    history = BanditHistory.empty(1, 2, 12)
    arms = []
    rng = np.random.default_rng(5)
    for _ in range(12):
        action = UCB1Policy().select(history, rng)
        history.record(action, env.pull(action))
        arms.append(int(action[0]))
    # Arm 0 always pays, arm 1 never. After one pull each (t = 2), arm 1 (index sqrt(2 ln t))
    # next beats arm 0 (1 + sqrt(2 ln t / c0)) at t = 6, c0 = 5: 1.893 > 1.847 (t = 5: 1.794 <
    # 1.897).
    assert sorted(arms[:2]) == [0, 1]
    assert arms[2:] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]


def test_greedy_breaks_ties_uniformly_and_tries_untried_arms_first() -> None:
    tied = _history([[1, 1, 0]], [[2, 2, 5]])
    rng = np.random.default_rng(0)
    picks = np.array([GreedyPolicy().select(tied, rng)[0] for _ in range(2000)])
    assert set(picks.tolist()) == {0, 1}
    assert abs(np.mean(picks == 0) - 0.5) < 0.05
    untried = _history([[3, 0, 0]], [[3, 0, 1]])
    assert GreedyPolicy().select(untried, rng)[0] == 1


def test_argmax_random_tiebreak_never_picks_a_non_maximum() -> None:
    values = np.array([[0.2, 0.9, 0.9, 0.9], [1.0, 0.0, 0.0, 0.0]])
    rng = np.random.default_rng(1)
    picks = np.stack([argmax_random_tiebreak(values, rng) for _ in range(3000)])
    assert set(picks[:, 0].tolist()) == {1, 2, 3}
    assert np.all(picks[:, 1] == 0)
    counts = np.bincount(picks[:, 0], minlength=4)[1:]
    assert counts.min() > 900


def test_epsilon_greedy_extremes() -> None:
    history = _history([[0, 3, 1]], [[2, 3, 2]])
    rng = np.random.default_rng(0)
    assert all(EpsilonGreedyPolicy(epsilon=0.0).select(history, rng)[0] == 1 for _ in range(50))
    uniform = [EpsilonGreedyPolicy(epsilon=1.0).select(history, rng)[0] for _ in range(3000)]
    assert np.bincount(uniform, minlength=3).min() > 900


def test_thompson_samples_from_the_beta_posterior_of_the_counts() -> None:
    history = _history([[4, 0, 7]], [[6, 3, 9]])
    policy_rng, oracle_rng = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(20):
        draws = oracle_rng.beta([5.0, 1.0, 8.0], [3.0, 4.0, 3.0])
        oracle_rng.random((1, 3))  # the tie-break noise the policy draws next
        assert ThompsonPolicy().select(history, policy_rng)[0] == int(np.argmax(draws))


def test_thompson_counts_are_the_reward_tallies() -> None:
    env = BatchedBernoulliBandit(3, 30)
    tasks = sample_tasks(8, 3, np.random.default_rng(0))
    env.reset(np.random.default_rng(1), tasks)
    history = BanditHistory.empty(8, 3, 30)
    rng = np.random.default_rng(2)
    total = np.zeros(8)
    for _ in range(30):
        action = ThompsonPolicy().select(history, rng)
        rewards = env.pull(action)
        history.record(action, rewards)
        total += rewards
    np.testing.assert_array_equal(history.successes.sum(axis=1), total)
    np.testing.assert_array_equal(history.pulls.sum(axis=1), 30)
    assert np.all(history.failures >= 0)


def test_finite_horizon_gittins_by_hand() -> None:
    table = finite_horizon_gittins_table(10)
    s, f = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    # One pull left: the index is the posterior mean.
    np.testing.assert_allclose(table[1, :5, :5], (1 + s) / (2 + s + f), atol=1e-9)
    # Two pulls left from Beta(1, 1): 0.5 (1 + 2/3) + 0.5 λ = 2 λ  ⇒  λ = 5/9.
    assert table[2, 0, 0] == pytest.approx(5 / 9, abs=1e-9)
    # More pulls left: worth more exploration (never below the mean, nondecreasing in r).
    assert np.all(np.diff(table[1:, 0, 0]) >= -1e-12)
    assert np.all(table[5, :5, :5] >= table[1, :5, :5] - 1e-12)


def test_bayes_optimal_values_by_hand() -> None:
    # k = 2, n = 2: 1/2 + 1/2·(2/3) + 1/2·(1/2) = 13/12.
    assert BayesOptimalPolicy(2, 2).value() == pytest.approx(13 / 12)
    assert BayesOptimalPolicy(1, 7).value() == pytest.approx(3.5)


def test_bayes_optimal_simulation_matches_its_dp_value_and_beats_baselines() -> None:
    n_pulls, k, trials = 5, 3, 4000
    tasks = sample_tasks(trials, k, np.random.default_rng(0))
    env = BatchedBernoulliBandit(k, n_pulls)
    policy = BayesOptimalPolicy(k, n_pulls)
    totals = {
        p.name: play_trials(p, env, tasks, np.random.default_rng(1), np.random.default_rng(2))
        for p in (policy, UCB1Policy(), RandomPolicy(), FiniteHorizonGittinsPolicy(n_pulls))
    }
    bayes = totals[policy.name]
    stderr = bayes.std() / math.sqrt(trials)
    assert abs(bayes.mean() - policy.value()) < 3 * stderr
    assert bayes.mean() > totals["UCB1"].mean() > totals["Random"].mean()
    assert totals["Gittins (finite-horizon)"].mean() > totals["UCB1"].mean()


def test_prior_count_variants_by_hand() -> None:
    history = _history([[2, 1]], [[3, 2]])
    # c = 1, t = 5: 3/5 + sqrt(ln 5 / 4) = 1.234318, 2/4 + sqrt(ln 5 / 3) = 1.232447.
    np.testing.assert_allclose(
        ucb1_indices(history, c=1.0, use_prior=True)[0], [1.234318, 1.232447], atol=1e-6
    )
    assert UCB1Policy(c=1.0, use_prior=True).select(history, np.random.default_rng(0))[0] == 0
    # Posterior means: untried 1/2 beats a failed arm (1/3) and loses to a paying one (2/3).
    greedy = GreedyPolicy(use_prior=True)
    assert greedy.select(_history([[0, 0]], [[1, 0]]), np.random.default_rng(0))[0] == 1
    assert greedy.select(_history([[1, 0]], [[1, 0]]), np.random.default_rng(0))[0] == 0
