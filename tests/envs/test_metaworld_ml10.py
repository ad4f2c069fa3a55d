"""MetaWorld ML10 (optional extra): build the benchmark once, step every class, train one tiny
HiMeta iteration on it. Building ML10 takes ≈ 13 s, so this is the one test that does."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hrrl.envs import metaworld_ml10 as mw

pytestmark = pytest.mark.skipif(not mw.available(), reason="needs the metaworld extra")


def test_ml10_builds_steps_every_task_and_trains():
    from hrrl.agents.himeta import HiMeta
    from hrrl.experiments.himeta_ml10 import BASE

    benchmark = mw.build_ml10(seed=0)
    assert len(benchmark.train_classes) == 10 and len(benchmark.test_classes) == 5
    env = mw.ML10VectorEnv(benchmark, 15, list(range(15)), "standard", horizon=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (15, mw.OBS_SIZE) and np.all(obs[:, 36:] == 0.0)  # goals hidden
    rng = np.random.default_rng(0)
    for t in range(3):
        obs, reward, term, trunc, info = env.step(rng.uniform(-1, 1, (15, mw.ACT_SIZE)))
        assert np.isfinite(reward).all() and not term.any() and info["success"].shape == (15,)
        assert trunc.all() == (t == 2)
    assert info["_final_obs"].all() and info["final_obs"].shape == (15, mw.OBS_SIZE)

    config = replace(BASE, num_envs=2, width=16, encoder_hidden=8)
    agent = HiMeta(config, seed=0)
    small = mw.ML10VectorEnv(benchmark, 2, [0, 1], "fixed", horizon=4)
    stats = agent.train_iteration(small, np.array([0, 1]))
    assert stats["steps"] == 8 and np.isfinite(stats["loss"])
    success, _ = agent.evaluate(small, np.array([10, 14]), seed=1)
    assert success.shape == (2,)
