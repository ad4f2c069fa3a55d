"""The job functions of the experiments whose modules were split (four-rooms-options, maxq-taxi,
ncts-hierarchical-scm), run on short budgets: their JSON must be identical on both commits.

    PYTHONPATH=<checkout>/src .venv/bin/python scripts/experiment_job_fingerprints.py > out.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import gymnasium as gym
import torch

from hrrl.experiments import four_rooms_options as fro
from hrrl.experiments import maxq_taxi as taxi
from hrrl.experiments import ncts_hierarchical_scm as ncts
from hrrl.tasks.taxi import TAXI_ID, reference


def main() -> dict[str, Any]:
    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    for method in fro.METHODS:
        for alpha in (0.25, 0.5):
            out[f"four-rooms/{method}/{alpha}"] = fro.run_trial(
                method, "G2", 11, episodes=300, eval_every=25, alpha=alpha, epsilon=0.1
            )
    target = reference(gym.make(TAXI_ID)).optimal_return
    for method in ("maxq", "flat_q"):
        run = taxi.run_one("deterministic", method, 5, quick=True, target=target)
        run.pop("wall_s")
        out[f"maxq-taxi/{method}"] = run
    out["ncts/online"] = ncts.run_online(3, episodes=60, eval_episodes=20, shifts=[0.0, 2.0])
    out["ncts/certificate"] = ncts.run_certificate(3, [100, 300], draws=50, value_contexts=20)
    return out


if __name__ == "__main__":
    json.dump(main(), sys.stdout, sort_keys=True)
    print()
