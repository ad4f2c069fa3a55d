"""RL² on Bernoulli bandits: recurrent state handling, GAE, determinism, a small learning test."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from hrrl.agents.rl2 import (
    RL2Config,
    RL2Learner,
    RL2Policy,
    evaluate_rl2,
    gae_advantages,
    play_rl2_trials,
    train_rl2,
)
from hrrl.core.seeding import init_module, torch_generator
from hrrl.envs.bandits import BatchedBernoulliBandit, sample_tasks
from hrrl.envs.random_mdps import BatchedRandomMDP, sample_mdps

torch.set_num_threads(1)


def _policy(k: int = 3, hidden: int = 16, seed: int = 0) -> RL2Policy:
    return init_module(RL2Policy(k + 2, k, hidden), seed)


def test_hidden_state_is_carried_across_pulls() -> None:
    policy = _policy()
    obs = torch.rand(4, 6, 5, generator=torch_generator(0))
    with torch.no_grad():
        full_logits, full_values = policy(obs)
        hidden = policy.initial_state(4)
        carried, reset_each_pull = [], []
        for t in range(6):
            logits, _, hidden = policy.step(obs[:, t], hidden)
            carried.append(logits)
            reset_each_pull.append(policy.step(obs[:, t], policy.initial_state(4))[0])
    torch.testing.assert_close(torch.stack(carried, dim=1), full_logits)
    assert full_values.shape == (4, 6)
    # From the second pull on, the history changes the output.
    assert not torch.allclose(torch.stack(reset_each_pull, 1)[:, 1:], full_logits[:, 1:])


def test_hidden_state_is_reset_between_trials() -> None:
    policy = _policy()
    env = BatchedBernoulliBandit(3, 8)
    tasks = sample_tasks(16, 3, np.random.default_rng(0))
    first = play_rl2_trials(policy, env, tasks, np.random.default_rng(1), torch_generator(2))
    second = play_rl2_trials(policy, env, tasks, np.random.default_rng(1), torch_generator(2))
    torch.testing.assert_close(first.log_probs, second.log_probs)
    assert torch.equal(first.actions, second.actions)
    # Every trial starts from the zero state on the same "no pull yet" observation ...
    assert torch.all(first.obs[:, 0] == first.obs[0, 0])
    assert torch.all(first.obs[:, 0, :3] == 0)
    # ... and the step-by-step rollout equals a fresh full-sequence pass from zeros.
    with torch.no_grad():
        logits, values = policy(first.obs)
    log_probs = torch.log_softmax(logits, -1).gather(2, first.actions[..., None])[..., 0]
    torch.testing.assert_close(log_probs, first.log_probs)
    torch.testing.assert_close(values, first.values)


def test_gae_by_hand() -> None:
    rewards = torch.tensor([[1.0, 0.0, 1.0]])
    values = torch.tensor([[0.5, 0.5, 0.5]])
    adv_mc, returns = gae_advantages(rewards, values, gamma=1.0, lam=1.0)
    torch.testing.assert_close(returns, torch.tensor([[2.0, 1.0, 1.0]]))
    torch.testing.assert_close(adv_mc, torch.tensor([[1.5, 0.5, 0.5]]))
    adv_td, _ = gae_advantages(rewards, values, gamma=1.0, lam=0.0)
    torch.testing.assert_close(adv_td, torch.tensor([[1.0, 0.0, 0.5]]))
    adv_disc, _ = gae_advantages(rewards, values, gamma=0.5, lam=1.0)
    # returns with γ = 0.5: [1 + 0 + 0.25, 0 + 0.5, 1] = [1.25, 0.5, 1.0]
    torch.testing.assert_close(adv_disc, torch.tensor([[0.75, 0.0, 0.5]]))


def test_training_is_deterministic_under_a_seed() -> None:
    config = replace(RL2Config(), hidden_size=8, updates=3, batch_trials=16)
    policy_a, curve_a = train_rl2(BatchedBernoulliBandit(2, 5), config, seed=4)
    policy_b, curve_b = train_rl2(BatchedBernoulliBandit(2, 5), config, seed=4)
    _, curve_c = train_rl2(BatchedBernoulliBandit(2, 5), config, seed=5)
    assert curve_a == curve_b and curve_a != curve_c
    for a, b in zip(policy_a.parameters(), policy_b.parameters(), strict=True):
        assert torch.equal(a, b)


def test_rl2_beats_random_on_two_armed_bandits() -> None:
    config = replace(RL2Config(), hidden_size=32, updates=60, batch_trials=128)
    env = BatchedBernoulliBandit(2, 10)
    policy, curve = train_rl2(env, config, seed=0)
    tasks = sample_tasks(2000, 2, np.random.default_rng(123))
    totals = evaluate_rl2(policy, env, tasks, np.random.default_rng(7), torch_generator(8))
    # Random play earns 10 · E[p] = 5; Bayes-optimal play earns 6.02 (exact DP).
    assert totals.mean() > 5.5
    assert np.mean(curve[-10:]) > np.mean(curve[:10])


@pytest.mark.parametrize("greedy", [False, True])
def test_evaluate_rl2_returns_one_total_per_task(greedy: bool) -> None:
    tasks = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    env = BatchedBernoulliBandit(3, 6)
    totals = evaluate_rl2(
        _policy(), env, tasks, np.random.default_rng(0), torch_generator(0), greedy=greedy
    )
    np.testing.assert_array_equal(totals, [6.0, 0.0])


def test_experiment_setting_runs_every_method_on_the_same_bandits() -> None:
    from hrrl.experiments.rl2_bandits import run_setting

    result = run_setting(n_pulls=4, k=2, seed=0, rl2_updates=2, batch_trials=16)
    methods = result["methods"]
    assert {"Random", "UCB1", "Thompson sampling", "Bayes-optimal (exact DP)"} <= set(methods)
    assert {"RL² (sampled)", "RL² (argmax)", "UCB1 (tuned c, prior counts)"} <= set(methods)
    assert all(0.0 <= v <= 4.0 for v in methods.values())
    assert len(result["curve"]) == 2
    # Nothing beats the Bayes-optimal policy by more than noise on the same 1,000 bandits.
    assert max(methods.values()) <= methods["Bayes-optimal (exact DP)"] + 0.1


def test_resumed_training_ends_exactly_as_an_uninterrupted_run(tmp_path: Path) -> None:
    config = replace(RL2Config(), hidden_size=8, updates=4, batch_trials=16)
    straight = RL2Learner(BatchedBernoulliBandit(2, 5), config, seed=1)
    straight.train()
    first = RL2Learner(BatchedBernoulliBandit(2, 5), replace(config, updates=4), seed=1)
    first.train(checkpoint=tmp_path / "ckpt", checkpoint_every=2, stop_after=2)
    assert first.updates_done == 2
    resumed = RL2Learner(BatchedBernoulliBandit(2, 5), config, seed=1)
    resumed.train(checkpoint=tmp_path / "ckpt", checkpoint_every=2)
    assert resumed.curve == straight.curve
    for a, b in zip(resumed.policy.parameters(), straight.policy.parameters(), strict=True):
        assert torch.equal(a, b)
    other = RL2Learner(BatchedBernoulliBandit(2, 5), replace(config, lr=0.5), seed=1)
    folder = next((tmp_path / "ckpt").iterdir())  # one subfolder per config digest
    with pytest.raises(ValueError, match="another config"):
        other.resume(folder)
    other.train(checkpoint=tmp_path / "ckpt", stop_after=1)  # another config starts afresh
    assert other.updates_done == 1 and len(list((tmp_path / "ckpt").iterdir())) == 2
    again = RL2Learner(BatchedBernoulliBandit(2, 5), config, seed=1)
    assert again.resume(folder) and again.updates_done == 4  # the first run's save is intact


def test_mdp_trials_keep_the_hidden_state_across_episodes() -> None:
    """On an MDP trial the done flag marks episode ends, and the policy's output after an episode
    boundary depends on the previous episode (the state is not reset between episodes)."""
    env = BatchedRandomMDP(4, 3, n_episodes=3, horizon=2)
    policy = init_module(RL2Policy(env.observation_size, 3, 16), 0)
    tasks = sample_mdps(8, 4, 3, np.random.default_rng(0))
    rollout = play_rl2_trials(policy, env, tasks, np.random.default_rng(1), torch_generator(2))
    assert rollout.obs.shape == (8, 6, env.observation_size)
    np.testing.assert_array_equal(rollout.obs[:, :, -1].numpy()[0], [0, 0, 1, 0, 1, 0])
    with torch.no_grad():
        carried, _ = policy(rollout.obs)
        fresh, _ = policy(rollout.obs[:, 2:])  # the second episode played from a zero state
    assert not torch.allclose(carried[:, 2], fresh[:, 0])


def test_rl2_learns_on_small_random_mdps() -> None:
    env = BatchedRandomMDP(3, 2, n_episodes=3, horizon=3)
    config = replace(RL2Config(), hidden_size=16, updates=40, batch_trials=64)
    learner = RL2Learner(env, config, seed=0)
    learner.train()
    assert np.mean(learner.curve[-5:]) > np.mean(learner.curve[:5])


def test_unknown_protocol_is_one_clear_error(tmp_path: Path) -> None:
    from hrrl.errors import InputError
    from hrrl.experiments.base import ExperimentContext
    from hrrl.experiments.rl2_bandits import run

    ctx = ExperimentContext(tmp_path, True, 1, 1, "test", protocol="paper")
    with pytest.raises(InputError, match="--protocol must be"):
        run(ctx)


def test_standing_section_says_where_rl2_is_below_greedy_and_the_paper() -> None:
    from hrrl.experiments.rl2_bandits_report import standing_section

    def run(rl2: float, greedy: float) -> dict:
        return {"methods": {"RL² (sampled)": rl2, "Greedy": greedy}}

    grouped = {
        (100, 5): [run(73.0, 76.0), run(74.0, 76.5), run(73.5, 75.5)],
        (100, 10): [run(83.0, 81.0), run(84.0, 80.0), run(83.5, 81.0)],
    }
    text = standing_section(grouped)
    assert "n = 100, k = 5: RL² (sampled) 73.50 ± 1.24 is **below** plain Greedy" in text
    assert "n = 100, k = 10: RL² (sampled) 83.50 ± 1.24 is **above** plain Greedy" in text
    assert "**above** in the mean, within the CIs of the best baseline, Greedy," not in text
    close = {(100, 5): [run(75.9, 76.0), run(76.1, 76.5), run(75.0, 75.5)]}
    assert "**below** in the mean, within the CIs of plain Greedy" in standing_section(close)
    assert (
        "k = 5: ours 73.50 ± 1.24 (3 seeds) vs paper 78.7: **not reproduced** (gap -5.20)" in text
    )
    assert "k = 10: ours 83.50 ± 1.24 (3 seeds) vs paper 83.5: **inconclusive**" in text
    assert "k = 50: not trained" in text
