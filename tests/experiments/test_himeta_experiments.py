"""The HiMeta experiments run end to end (tiny budgets) and write REPORT.md + results.json."""

from __future__ import annotations

import json
from dataclasses import replace

from hrrl.experiments import get_experiment
from hrrl.experiments import himeta_pointmanip as hp
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
