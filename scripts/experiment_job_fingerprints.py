"""The job functions of the experiments whose modules were split (four-rooms-options, maxq-taxi,
ncts-hierarchical-scm; hard_report, hiro-point-maze, her-bitflip-faithful, rl2-bandits), run on
short budgets: their JSON must be identical on both commits (wall times left out).

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
    out.update(_hard())
    out.update(_timed_jobs())
    return out


def _hard() -> dict[str, Any]:
    """The hard report's exact measurements (moved to hrrl.tasks / experiments._hard_measure)."""
    from hrrl.suites.hard import FAMILIES, generate_hard

    try:
        from hrrl.tasks.numberline_oracles import bfs_expansions
    except ImportError:  # before the split
        from hrrl.experiments.hard_report import bfs_expansions
    try:
        from hrrl.experiments._hard_measure import exact_local_distances as local
    except ImportError:
        from hrrl.experiments.hard_report import _local_distances as local
    problems = generate_hard(2026, {f: 2 for f in FAMILIES} | {"hard-1e6": 1})
    return {
        "hard/bfs": {p.id: bfs_expansions(p) for p in problems if p.extra["feasible"]},
        "hard/local": {p.id: sorted(local(p, p.start, 1, 12).items()) for p in problems[:6]},
    }


def _timed_jobs() -> dict[str, Any]:
    """Jobs whose wall times changed meaning (time so far across resumes): the rest must not."""
    import tempfile

    from hrrl.experiments import her_bitflip_faithful as her
    from hrrl.experiments import hiro_point_maze as hiro
    from hrrl.experiments import rl2_bandits as rl2

    out: dict[str, Any] = {}
    for method in ("flat TD3", "HIRO"):
        run = hiro.run_method(method, 3, steps=300, eval_every=150)
        run.pop("wall_s")
        out[f"hiro/{method}"] = run
    with tempfile.TemporaryDirectory() as folder:
        run = her.run_case(3, True, 5, cycles=4, eval_every=2, checkpoint=folder)
        run.pop("wall_s")
        out["her-faithful/n3"] = run
    run = rl2.run_setting(5, 2, 1, rl2_updates=2, batch_trials=8)
    run.pop("rl2_train_s", None)
    out["rl2-bandits/tiny"] = run
    return out


if __name__ == "__main__":
    json.dump(main(), sys.stdout, sort_keys=True)
    print()
