"""pearl-pointmanip runs end to end at a tiny budget and writes REPORT.md + results.json."""

from __future__ import annotations

import json
from dataclasses import replace

from hrrl.agents.pearl import PEARLConfig
from hrrl.agents.sac import SACConfig
from hrrl.experiments import get_experiment
from hrrl.experiments import himeta_pointmanip as hp
from hrrl.experiments import pearl_pointmanip as pp
from hrrl.experiments.base import run_experiment

TINY_PEARL = PEARLConfig(
    latent_dim=2, encoder_hidden=(8,), meta_batch=2, batch_size=8, context_size=4,
    initial_episodes=1, tasks_per_iteration=2, gradient_steps=2, sac=SACConfig(hidden=(8,)),
)  # fmt: skip


def test_experiment_writes_report_with_every_method_at_one_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(hp, "BASE", replace(hp.BASE, num_envs=10, width=8, encoder_hidden=8))
    monkeypatch.setattr(hp, "HORIZON", 5)
    monkeypatch.setattr(hp, "REPLICAS", 1)
    monkeypatch.setattr(pp, "PEARL_CONFIG", TINY_PEARL)
    monkeypatch.setattr(pp.run_pearl, "__defaults__", (TINY_PEARL,))
    # 10 tasks × 1 initial episode × 5 steps = 50, then 2 tasks × 2 episodes × 5 = 20 per iteration
    monkeypatch.setattr(pp, "FULL", pp.Protocol(steps=170, pearl_fractions=(1, 2)))
    results = run_experiment(get_experiment("pearl-pointmanip"), tmp_path, seeds=2, workers=1)
    report = (tmp_path / "REPORT.md").read_text()
    assert "PEARL" in report and "RL²-PPO" in report and "MT-PPO" in report
    assert "PEARL (1/2 budget)" in report and "arXiv:1903.08254" in report
    assert "Verdict: **consistent with ≥ 2×**" in report or "Verdict: **inconclusive**" in report
    saved = json.loads((tmp_path / "results.json").read_text())
    methods = saved["methods"]
    assert set(methods) == {"PEARL", "PEARL (1/2 budget)", "MT-PPO", "RL²-PPO"}
    for summary in methods.values():
        for split in ("train_success", "test_success"):
            assert 0.0 <= summary[split]["low"] <= summary[split]["high"] <= 1.0
            assert summary[split]["n"] == 2
    # PEARL: 50 initial steps + 6 iterations × 20 = the budget; at half (85) only 1 iteration fits
    assert methods["PEARL"]["env_steps"] == 170 and methods["PEARL (1/2 budget)"]["env_steps"] == 70
    # the PPO trainer stops at the first iteration past the budget (10 trials × 2 episodes × 5)
    assert methods["MT-PPO"]["env_steps"] == 200
    assert results["steps_per_run"] == 170 and (tmp_path / "curves.png").is_file()
