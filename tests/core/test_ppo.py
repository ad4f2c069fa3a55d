"""The shared PPO: GAE bootstraps at truncation, not at termination; losses and log-probs."""

from __future__ import annotations

import math

import numpy as np
import torch

from hrrl.core import ppo


def test_gae_bootstraps_at_truncation_not_termination():
    rewards = torch.tensor([[1.0], [1.0]])
    values = torch.zeros(2, 1)
    next_values = torch.tensor([[5.0], [7.0]])
    ends = torch.tensor([[True], [False]])
    truncated, _ = ppo.gae(rewards, values, next_values, torch.zeros(2, 1), ends, 0.9, 0.95)
    assert torch.allclose(truncated[:, 0], torch.tensor([1 + 0.9 * 5, 1 + 0.9 * 7]))
    terminated, _ = ppo.gae(rewards, values, next_values, ends, ends, 0.9, 0.95)
    assert torch.allclose(terminated[:, 0], torch.tensor([1.0, 1 + 0.9 * 7]))


def test_gae_lambda_one_is_discounted_return():
    rng = np.random.default_rng(0)
    r = torch.from_numpy(rng.normal(size=(6, 3))).float()
    v = torch.from_numpy(rng.normal(size=(6, 3))).float()
    nv = torch.cat([v[1:], torch.zeros(1, 3)])
    zeros = torch.zeros(6, 3)
    _, returns = ppo.gae(r, v, nv, zeros, zeros, 0.9, 1.0)
    expected = sum(0.9**t * r[t] for t in range(6))
    assert torch.allclose(returns[0], expected, atol=1e-5)


def test_gaussian_log_prob_matches_torch():
    mean, log_std = torch.randn(4, 3), torch.randn(4, 3) * 0.3
    a = torch.randn(4, 3)
    ref = torch.distributions.Normal(mean, log_std.exp()).log_prob(a).sum(-1)
    assert torch.allclose(ppo.gaussian_log_prob(a, mean, log_std), ref, atol=1e-5)
    ent = torch.distributions.Normal(mean, log_std.exp()).entropy().sum(-1)
    assert torch.allclose(ppo.gaussian_entropy(log_std), ent, atol=1e-5)
    assert torch.allclose(ppo.gaussian_kl(mean, log_std, mean, log_std), torch.zeros(4), atol=1e-6)


def test_categorical_and_surrogate():
    logits = torch.randn(5, 4)
    actions = torch.tensor([0, 1, 2, 3, 0])
    ref = torch.distributions.Categorical(logits=logits)
    assert torch.allclose(ppo.categorical_log_prob(logits, actions), ref.log_prob(actions))
    assert torch.allclose(ppo.categorical_entropy(logits), ref.entropy())
    logp = torch.zeros(3)
    loss, stats = ppo.clipped_surrogate(logp + math.log(2.0), logp, torch.ones(3), 0.2)
    assert math.isclose(float(loss), -1.2, rel_tol=1e-6) and stats["clip_frac"] == 1.0
