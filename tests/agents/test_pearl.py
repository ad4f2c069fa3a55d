"""PEARL, SAC and continuous RL²: posterior, KL, training plumbing, memory across episodes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hrrl.agents.pearl import PEARL, PEARLConfig
from hrrl.agents.rl2_continuous import RL2Continuous, RL2ContinuousConfig
from hrrl.agents.sac import SAC, SACConfig
from hrrl.core.replay import ReplayBuffer
from hrrl.core.seeding import make_rng
from hrrl.envs.nav2d import Nav2DConfig, TrialNav2D, sample_goals
from hrrl.experiments.pearl_nav2d import nav2d_rollout

SMALL = PEARLConfig(
    latent_dim=1, encoder_hidden=(16,), meta_batch=2, batch_size=8, context_size=8,
    initial_episodes=1, tasks_per_iteration=2, gradient_steps=2,
    sac=SACConfig(hidden=(16,)),
)  # fmt: skip


def test_posterior_is_the_product_of_the_factors_by_brute_force() -> None:
    pearl = PEARL(2, 2, SMALL, seed=0)
    context = torch.randn(1, 5, 7)
    with torch.no_grad():
        mean, variance = pearl.posterior(context)
        mu_i, raw = pearl.encoder(context).chunk(2, dim=-1)
    var_i = torch.nn.functional.softplus(raw)
    # Multiply the five Gaussian densities on a fine grid and normalise: the moments must match.
    grid = torch.linspace(-6, 6, 200_001, dtype=torch.float64)
    log_density = sum(
        -0.5 * (grid - mu_i[0, n, 0].double()) ** 2 / var_i[0, n, 0].double() for n in range(5)
    )
    weights = torch.exp(log_density - log_density.max())
    weights = weights / weights.sum()
    grid_mean = float((weights * grid).sum())
    grid_var = float((weights * (grid - grid_mean) ** 2).sum())
    assert float(mean[0, 0]) == pytest.approx(grid_mean, abs=1e-4)
    assert float(variance[0, 0]) == pytest.approx(grid_var, rel=1e-3)


@torch.no_grad()
def test_posterior_masks_padding_and_falls_back_to_the_prior() -> None:
    pearl = PEARL(2, 2, SMALL, seed=0)
    context = torch.randn(2, 4, 7)
    mask = torch.tensor([[True, True, False, False], [False] * 4])
    mean, variance = pearl.posterior(context, mask)
    alone, alone_var = pearl.posterior(context[:1, :2])
    assert torch.allclose(mean[0], alone[0]) and torch.allclose(variance[0], alone_var[0])
    assert float(mean[1, 0]) == 0.0 and float(variance[1, 0]) == 1.0
    # more evidence: smaller variance
    _, more_var = pearl.posterior(context[:1])
    assert float(more_var[0, 0]) < float(alone_var[0, 0])


def test_kl_to_prior_matches_torch() -> None:
    mean, variance = torch.randn(3, 4), torch.rand(3, 4) + 0.1
    ours = PEARL.kl_to_prior(mean, variance)
    reference = torch.distributions.kl_divergence(
        torch.distributions.Normal(mean, variance.sqrt()), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    assert torch.allclose(ours, reference, atol=1e-6)


def test_meta_training_moves_the_encoder_through_the_critic_and_counts_steps() -> None:
    env = Nav2DConfig(horizon=10)
    pearl = PEARL(2, 2, SMALL, seed=1)
    before = [p.detach().clone() for p in pearl.encoder.parameters()]
    tasks = sample_goals(3, make_rng(0), env)
    pearl.meta_train(nav2d_rollout(env), tasks, iterations=2)
    after = list(pearl.encoder.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(after, before, strict=True))
    # 3 initial episodes + 2 iterations × 2 tasks × (1 prior + 1 posterior) episodes of 10 steps
    assert pearl.env_steps == (3 + 2 * 2 * 2) * 10
    returns = pearl.adapt_and_evaluate(nav2d_rollout(env), tasks, episodes=3)
    assert returns.shape == (3, 3) and np.all(returns <= 0)


def test_sac_learns_a_one_step_bandit() -> None:
    torch.set_num_threads(1)
    sac = SAC(1, 1, SACConfig(hidden=(32,), lr=3e-3), seed=0)
    buffer, rng = ReplayBuffer(2000), make_rng(0)
    actions = rng.uniform(-1, 1, size=(2000, 1)).astype(np.float32)
    buffer.add(
        {
            "obs": np.zeros((2000, 1), np.float32),
            "action": actions,
            "reward": -((actions[:, 0] - 0.5) ** 2),
            "next_obs": np.zeros((2000, 1), np.float32),
            "terminated": np.ones(2000, np.float32),
        }
    )
    for _ in range(400):
        sac.update(buffer.sample(64, rng))
    assert sac.act(np.zeros((1, 1), np.float32), deterministic=True)[0, 0] == pytest.approx(
        0.5, abs=0.15
    )


def test_rl2_carries_its_memory_across_the_episodes_of_a_trial() -> None:
    env = Nav2DConfig(horizon=5)
    rl2 = RL2Continuous(2, 2, RL2ContinuousConfig(hidden_size=8), seed=0)
    goals = np.array([[0.4, 0.4], [-0.4, -0.4]])
    trials = rl2.play(TrialNav2D(env), goals, steps=10, deterministic=True)
    # step 5 starts episode 2 at the origin for both goals: identical observation and flag, but
    # the rewards of episode 1 differed, so the actions differ only through the hidden state
    assert torch.equal(trials.inputs[0, 5, :2], trials.inputs[1, 5, :2])
    assert not torch.allclose(trials.actions[0, 5], trials.actions[1, 5])
    assert float(trials.inputs[0, 5, -1]) == 1.0 and float(trials.inputs[0, 4, -1]) == 0.0


def test_rl2_update_changes_the_policy_and_evaluates_per_episode() -> None:
    env = Nav2DConfig(horizon=5)
    rl2 = RL2Continuous(2, 2, RL2ContinuousConfig(hidden_size=8, batch_trials=4), seed=0)
    before = [p.detach().clone() for p in rl2.policy.parameters()]
    rng = make_rng(0)
    rl2.train(TrialNav2D(env), lambda n: sample_goals(n, rng, env), 10, updates=1)
    assert rl2.env_steps == 4 * 10
    assert any(not torch.equal(a, b) for a, b in zip(rl2.policy.parameters(), before, strict=True))
    returns = rl2.evaluate(TrialNav2D(env), sample_goals(3, rng, env), episodes=2, horizon=5)
    assert returns.shape == (3, 2) and np.all(returns <= 0)
