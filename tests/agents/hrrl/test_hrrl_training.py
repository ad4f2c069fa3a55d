"""HRRL training: tiny seeded runs learn, are deterministic, checkpoint and resume exactly."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hrrl.agents.hrrl import HRRLPolicy, get_config, load_policy, train
from hrrl.agents.hrrl import trainer as trainer_module
from hrrl.core.checkpoint import load_checkpoint
from hrrl.errors import InputError
from hrrl.evaluation import evaluate, summarize
from hrrl.policies import RandomPolicy
from hrrl.suites.generator import SuiteSpec, generate

TINY = dataclasses.replace(
    get_config("default"),
    episodes=240,
    num_envs=16,
    hidden=32,
    learning_starts=64,
    batch_size=32,
    checkpoint_every=120,
    eval_every=0,
    stage_fraction=0.05,
)


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run)[0]["q"]


def success(policy, problems) -> float:
    return summarize(evaluate(problems, policy))[-1].success_rate


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    return train(TINY, tmp_path_factory.mktemp("run"), seed=3, progress=False)


def test_run_dir_holds_config_state_checkpoint_time_and_curve(tiny_run: Path) -> None:
    state = json.loads((tiny_run / "state.json").read_text())
    assert state["agent"] == "hrrl" and state["finished"]
    assert state["config"]["episodes"] == 240 and state["seed"] == 3
    # the config is stored once: in the checkpoint, not beside it
    assert not (tiny_run / "config.json").exists() and not (tiny_run / "run.json").exists()
    assert json.loads((tiny_run / "training.json").read_text())["training_time_s"] > 0
    curve = [json.loads(line) for line in (tiny_run / "metrics.jsonl").read_text().splitlines()]
    assert len(curve) == 2 and "train/success_rate" in curve[-1]
    assert (tiny_run / "model.safetensors").is_file()


def test_tiny_run_beats_the_random_policy_in_distribution(tiny_run: Path) -> None:
    problems = generate([SuiteSpec("in-distribution", 40, (5, 100), (2, 5))], seed=7)
    learned = success(load_policy(tiny_run), problems)
    assert learned > success(RandomPolicy(seed=0), problems) + 0.3


def test_same_seed_gives_the_same_weights(tmp_path: Path) -> None:
    short = dataclasses.replace(TINY, episodes=60, checkpoint_every=60)
    first = train(short, tmp_path / "first", seed=5, progress=False)
    second = train(short, tmp_path / "second", seed=5, progress=False)
    other = train(short, tmp_path / "other", seed=6, progress=False)
    for key, value in weights(first).items():
        assert torch.equal(value, weights(second)[key]), key
    assert not all(torch.equal(v, weights(other)[k]) for k, v in weights(first).items())


def test_resume_continues_an_interrupted_run_exactly(
    tiny_run: Path, tmp_path: Path, monkeypatch
) -> None:
    original = trainer_module._Trainer.save

    def crash_after_first_save(self, finished: bool) -> None:
        original(self, finished)
        raise KeyboardInterrupt

    monkeypatch.setattr(trainer_module._Trainer, "save", crash_after_first_save)
    with pytest.raises(KeyboardInterrupt):
        train(TINY, tmp_path / "cut", seed=3, progress=False)
    monkeypatch.setattr(trainer_module._Trainer, "save", original)
    assert json.loads((tmp_path / "cut" / "state.json").read_text())["episodes"] < 240
    train(TINY, tmp_path / "cut", seed=3, resume=True, progress=False)
    for key, value in weights(tiny_run).items():
        assert torch.equal(value, weights(tmp_path / "cut")[key]), key


def test_loaded_policy_acts_like_the_saved_network(tiny_run: Path) -> None:
    problems = generate([SuiteSpec("mix", 30, (20, 400), (2, 10))], seed=1)
    from_dir = load_policy(tiny_run)
    from_file = load_policy(tiny_run / "model.safetensors")
    a = [r.path for r in evaluate(problems, from_dir)]
    b = [r.path for r in evaluate(problems, from_file)]
    assert a == b
    assert isinstance(from_dir, HRRLPolicy)


def test_cached_decisions_equal_uncached_ones(tiny_run: Path) -> None:
    problems = generate([SuiteSpec("mix", 8, (20, 1500), density=0.1)], seed=2)
    warm = load_policy(tiny_run)
    first = [r.path for r in evaluate(problems, warm)]
    second = [r.path for r in evaluate(problems, warm)]  # every decision from the cache now
    one_by_one = [r.path for p in problems for r in evaluate([p], load_policy(tiny_run))]
    assert first == second == one_by_one


def test_mask_never_lands_on_a_forbidden_state_when_a_safe_move_exists(tiny_run: Path) -> None:
    problems = generate([SuiteSpec("dense", 20, (30, 300), density=0.2)], seed=4)
    rows = evaluate(problems, load_policy(tiny_run, mask=True))
    assert all("forbidden" not in (r.reason or "") for r in rows)


def test_missing_or_foreign_run_dir_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no HRRL checkpoint"):
        load_policy(tmp_path / "nothing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "state.json").write_text('{"agent": "dqn"}')
    (tmp_path / "other" / "model.safetensors").write_bytes(b"")
    with pytest.raises(InputError):
        load_policy(tmp_path / "other")


def test_ablation_configs_train_and_act(tmp_path: Path) -> None:
    small = dataclasses.replace(TINY, episodes=40, checkpoint_every=40)
    for i, change in enumerate(
        [
            {"decomposition": False},
            {"relational_features": False},
            {"phase_heads": False},
            {"curriculum": False},
            {"features": "paper", "waypoints": "exact", "reward": "paper"},
        ]
    ):
        run = train(dataclasses.replace(small, **change), tmp_path / str(i), seed=0, progress=False)
        policy = load_policy(run)
        problems = generate([SuiteSpec("x", 5, (60, 200), (2, 5))], seed=0)
        assert len(evaluate(problems, policy)) == 5
        assert np.isfinite(json.loads((run / "training.json").read_text())["training_time_s"])
