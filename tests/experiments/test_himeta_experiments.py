"""The HiMeta experiments run end to end (tiny budgets) and write REPORT.md + results.json."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch

from hrrl.errors import InputError
from hrrl.experiments import get_experiment
from hrrl.experiments import himeta_pointmanip as hp
from hrrl.experiments._himeta_common import train_variant
from hrrl.experiments.base import run_experiment


def test_pointmanip_experiment_writes_report(tmp_path, monkeypatch):
    monkeypatch.setattr(hp, "BASE", replace(hp.BASE, num_envs=10, width=16, encoder_hidden=8))
    monkeypatch.setattr(hp, "HORIZON", 8)
    monkeypatch.setattr(hp, "REPLICAS", 2)
    monkeypatch.setattr(hp, "QUICK", hp.Protocol(steps=1, groups=("methods", "levels")))
    results = run_experiment(get_experiment("himeta-pointmanip"), tmp_path, quick=True, seeds=2,
                             workers=1)  # fmt: skip
    report = (tmp_path / "REPORT.md").read_text()
    assert "HiMeta" in report and "RL²-PPO" in report and "cos_z_delta" in report
    saved = json.loads((tmp_path / "results.json").read_text())
    himeta = saved["variants"]["HiMeta"]
    assert 0.0 <= himeta["train_success"]["low"] <= himeta["train_success"]["high"] <= 1.0
    assert himeta["train_success"]["n"] == 2 and "cos_z_delta" in himeta["macro"]
    assert results["steps_per_run"] == 1
    assert (tmp_path / "curves.png").is_file()
    assert list((tmp_path / "runs").glob("*/tb"))


def _tiny_run(log_dir, steps):
    config = replace(hp.BASE, num_envs=10, width=16, encoder_hidden=8)

    def make_env(num_envs, tasks):
        return hp.pm.PointManipVectorEnv(num_envs, [hp.pm.TASK_NAMES[t] for t in tasks], horizon=8)

    return train_variant(config, 3, steps, make_env, list(range(10)), str(log_dir),
                         checkpoint_steps=1)  # fmt: skip


def test_interrupted_training_resumes_exactly(tmp_path):
    straight, info = _tiny_run(tmp_path / "straight", 640)
    assert info["steps"] == 640 and len(info["curve_steps"]) == 4
    _, info_first = _tiny_run(tmp_path / "resumed", 320)  # stops halfway, as a killed job would
    resumed, info_resumed = _tiny_run(tmp_path / "resumed", 640)
    assert resumed.steps == 640 and info_resumed["curve_steps"] == info["curve_steps"]
    assert info_resumed["curve_success"] == info["curve_success"]
    for a, b in zip(straight.net.state_dict().values(), resumed.net.state_dict().values(),
                    strict=True):  # fmt: skip
        assert torch.equal(a, b)
    # the time of both segments, not only the second
    assert info_resumed["train_s"] >= info_first["train_s"] > 0
    rows = (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == info["curve_steps"]


def test_checkpoint_of_another_configuration_is_refused(tmp_path):
    _tiny_run(tmp_path, 160)
    config = replace(hp.BASE, num_envs=10, width=32, encoder_hidden=8)
    with pytest.raises(InputError, match="another configuration"):
        train_variant(config, 3, 320, hp.make_env, list(range(10)), str(tmp_path))


def test_ml10_claim_names_the_miss_the_gap_and_the_budget():
    from hrrl.experiments import himeta_ml10 as hm

    def run(seed, success):
        return {"seed": seed, "train_success": success, "steps_per_s": 500.0}

    runs = {"HiMeta": [run(0, 0.1), run(1, 0.2)], "MT-PPO": [run(0, 0.3), run(1, 0.3)],
            "RL²-PPO": [run(0, 0.0), run(1, 0.1)]}  # fmt: skip
    text = hm._claim(runs, 1_000_000, quick=False)
    assert "**not reproduced** at our budget (gap -0.49" in text
    assert "HiMeta − MT-PPO = -0.15" in text and "1/164 " in text
    assert f"≈ {164_000_000 / 500 / 3600:,.0f} h" in text
    assert "not a test of the claim" in hm._claim(runs, 3_000, quick=True)
