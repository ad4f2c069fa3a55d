"""HiMeta and its baselines: every variant trains; determinism under a seed; save/load."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from hrrl.agents.himeta import VARIANTS, HiMeta, HiMetaConfig
from hrrl.core.ppo import PPOConfig
from hrrl.envs.point_manip import ACT_SIZE, EGO_INDICES, OBS_SIZE, PointManipVectorEnv

TINY = HiMetaConfig(
    obs_dim=OBS_SIZE,
    act_dim=ACT_SIZE,
    ego_indices=EGO_INDICES,
    width=16,
    encoder_hidden=8,
    num_envs=4,
    trial_episodes=2,
    ppo=PPOConfig(epochs=1, minibatches=2),
)


def _env():
    return PointManipVectorEnv(4, ("reach", "push"), horizon=10)


TASK = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    "overrides",
    [
        *VARIANTS.values(),
        {"goal_strategy": "ST"},
        {"goal_strategy": "CM", "goal_horizon": 3},
        {"decoder_target": "all"},
        {"decoder_target": "other"},
        {"grad_flow": "ppo_vae"},
        {"grad_flow": "e2e"},
    ],
)
def test_every_variant_trains(overrides):
    agent = HiMeta(replace(TINY, **overrides), seed=0)
    stats = agent.train_iteration(_env(), TASK)
    assert stats["steps"] == 4 * 20 and np.isfinite(stats["loss"])
    success, ro = agent.evaluate(_env(), TASK, seed=1)
    assert success.shape == (4,) and ro.z.shape == (20, 4, ACT_SIZE)


def _params(agent):
    return torch.cat([p.detach().flatten() for p in agent.net.parameters()])


def test_deterministic_under_seed():
    runs = []
    for _ in range(2):
        agent = HiMeta(TINY, seed=3)
        for _ in range(2):
            agent.train_iteration(_env(), TASK)
        runs.append(_params(agent))
    assert torch.equal(runs[0], runs[1])
    other = HiMeta(TINY, seed=4)
    other.train_iteration(_env(), TASK)
    other.train_iteration(_env(), TASK)
    assert not torch.equal(runs[0], _params(other))


def test_save_load_roundtrip_continues_identically(tmp_path):
    agent = HiMeta(TINY, seed=5)
    agent.train_iteration(_env(), TASK)
    agent.save(tmp_path / "ckpt")
    assert not list(tmp_path.glob("**/*.pkl")) and not list(tmp_path.glob("**/*.pt"))
    loaded = HiMeta.load(tmp_path / "ckpt")
    assert loaded.config == agent.config and torch.equal(_params(loaded), _params(agent))
    agent.train_iteration(_env(), TASK)
    loaded.train_iteration(_env(), TASK)
    assert torch.equal(_params(loaded), _params(agent))
    a, _ = agent.evaluate(_env(), TASK, seed=2)
    b, _ = loaded.evaluate(_env(), TASK, seed=2)
    assert np.array_equal(a, b)
