"""HRRL v2 on the hard families: per-family results, expansions beside BFS, ablations over seeds.

``python -m hrrl.experiments.hard_report --out docs/HARD.md`` trains the v2 cost-to-go network with
each seed, evaluates it and its ablations on a freshly drawn hard suite (``suites/hard.py``, its own
seed), and writes the report and its raw numbers (``hard_report.json`` beside it). Every row is
produced by :func:`hrrl.evaluation.evaluate`: the solver labels each problem first, every path is
validated by the checker, infeasible problems are never rolled out; the budgeted planners are also
run on the infeasible problems directly, and any path they return is checked.

Methods (one row each, per family, mean ± 95 % CI over training seeds):

* ``v2 budgeted (learned values)``: the receding-horizon manager (``manager.plan_budgeted``) with a
  fixed lookahead budget per decision, ordered by the learned cost-to-go; exhaustive fallback
  (counted) when it fails;
* ``v2 budgeted uniform``: the same manager and budget with the free-line bound instead of the
  learned values;
* ``v2 exhaustive search``: the ``--config v2`` policy (one complete A* per problem), labelled as
  an upper-bound row;
* ``flat``: the worker alone, heading for the target (3-move lookahead, learned values at leaves);
* ``paper waypoints``: the worker pursuing the paper's fixed waypoints exactly;
* ``v1 default``: today's Q-network agent (``--config default``), trained with the same seeds.

BFS expansions: positions breadth-first search dequeues before it dequeues the target (the exact
solver's own search, stopped early), per problem.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hrrl.agents.hrrl.config import get_config
from hrrl.agents.hrrl.manager import WalkerPolicy
from hrrl.agents.hrrl.v2 import load_policy as load_v2
from hrrl.core.report import load_note, write_report
from hrrl.evaluation import evaluate
from hrrl.experiments import _hard_measure as hm
from hrrl.experiments import _hard_sections as hs
from hrrl.experiments import _hard_sweep as sweep
from hrrl.experiments._hard_measure import (
    ALL_FAMILIES,
    BUDGET,
    BUDGETED,
    EXHAUSTIVE,
    IMPROVED,
    LEARNED,
    LEARNED_V0,
    SLOW,
    UNIFORM,
    UNIFORM_V0,
)
from hrrl.problem import Problem
from hrrl.solvers.numberline import solve
from hrrl.suites.hard import generate_hard
from hrrl.tasks.numberline_oracles import bfs_expansions


def _run(policy: Any, problems: Sequence[Problem]) -> tuple[list[dict[str, Any]], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    rows = [row.to_json() for row in evaluate(list(problems), policy)]
    return rows, time.perf_counter() - wall, time.process_time() - cpu


def run(out: Path, seeds: Sequence[int], suite_seed: int, runs: Path, quick: bool = False) -> Path:
    started = time.perf_counter()
    counts = {f: 4 for f in ALL_FAMILIES} | {"hard-1e6": 1} if quick else None
    problems = generate_hard(suite_seed, counts, ALL_FAMILIES)
    fast = [p for p in problems if p.extra["category"] not in SLOW]
    infeasible = [p for p in problems if not p.extra["feasible"]]
    bfs = {p.id: bfs_expansions(p) for p in problems if p.extra["feasible"]}
    swept = sweep.sweep_problems(problems)
    optimal = {p.id: len(solve(p).path or ()) - 1 for p in swept}
    sweeps: list[dict[str, Any]] = []
    calibrations: list[dict[str, Any]] = []
    results: dict[str, list[dict[str, dict[str, float]]]] = defaultdict(list)
    certified: dict[str, list[dict[str, float]]] = defaultdict(list)
    timings: dict[str, list[float]] = defaultdict(list)
    million: list[float] = []
    million_cpu: list[float] = []
    accuracy: list[dict[str, dict[str, float]]] = []
    accuracy_v0: list[dict[str, dict[str, float]]] = []
    runs.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        run_dir = runs / f"v2-s{seed}"
        from hrrl.agents.hrrl.trainer import train

        if not (run_dir / "training.json").is_file():  # a finished run is reused
            train(get_config("v2"), run_dir, seed=seed, progress=False)
        info = json.loads((run_dir / "training.json").read_text())
        timings["v2 training wall s"].append(info["training_time_s"])
        timings["v2 training cpu s"].append(info["training_cpu_s"])
        new_dir = runs / f"{IMPROVED}-s{seed}"
        if not (new_dir / "training.json").is_file():
            train(get_config(IMPROVED), new_dir, seed=seed, progress=False)
        info = json.loads((new_dir / "training.json").read_text())
        timings[f"{IMPROVED} training wall s"].append(info["training_time_s"])
        timings[f"{IMPROVED} training cpu s"].append(info["training_cpu_s"])
        net_v0 = load_v2(run_dir).net
        net = load_v2(new_dir).net
        assert net is not None and net_v0 is not None
        measured = [p for p in fast if p.extra["feasible"]]
        accuracy.append(hm.value_accuracy(net, measured))
        accuracy_v0.append(hm.value_accuracy(net_v0, measured))
        improved = partial(load_v2, new_dir)  # its config: budget, commit, reuse
        sweeps.append(sweep.measure(improved(), swept, optimal))
        calibrations.append(hm.calibration(improved(), swept))
        budgeted = partial(load_v2, run_dir, decision_expansions=BUDGET)
        methods: list[tuple[str, Callable[[], Any], Sequence[Problem]]] = [
            (LEARNED, improved, problems),
            (UNIFORM, partial(improved, weight=0.0), problems),
            (LEARNED_V0, budgeted, problems),
            (UNIFORM_V0, partial(budgeted, weight=0.0), problems),
            (EXHAUSTIVE, partial(load_v2, run_dir), problems),
            ("flat (no manager)", partial(WalkerPolicy, net), fast),
            ("paper waypoints", partial(WalkerPolicy, net, waypoints="paper"), fast),
        ]
        for name, make, suite in methods:
            policy = make()
            rows, wall, cpu = _run(policy, suite)
            stats = getattr(policy, "stats", None)
            results[name].append(hm.family_stats(rows, stats))
            timings[f"{name}: hard suite eval wall s"].append(wall)
            timings[f"{name}: hard suite eval cpu s"].append(cpu)
            if name in BUDGETED:
                certified[name].append(hm.infeasible_check(make(), infeasible))
            if name == LEARNED:
                for p in problems:
                    if p.extra["category"] == "hard-1e6":
                        _, w, c = _run(make(), [p])
                        million.append(w)
                        million_cpu.append(c)
        v1_dir = runs / f"v1-s{seed}"
        from hrrl.agents.hrrl.policy import load_policy as load_v1
        from hrrl.agents.hrrl.trainer import train as train_v1

        if not (v1_dir / "training.json").is_file():
            train_v1(get_config("default"), v1_dir, seed=seed, progress=False)
        rows, wall, _ = _run(load_v1(v1_dir), fast)
        results["v1 default (Q-network)"].append(hm.family_stats(rows, None))
        timings["v1 default: hard suite (no 10^6) eval wall s"].append(wall)
    raw = {
        "results": results,
        "certified": certified,
        "timings": timings,
        "million_wall_s": million,
        "million_cpu_s": million_cpu,
        "value_accuracy": accuracy,
        "value_accuracy_v0": accuracy_v0,
        "bfs": bfs,
        "sweep": sweeps,
        "calibration": calibrations,
        "load": load_note(),
        "wall_s": time.perf_counter() - started,
    }
    text = json.dumps(raw, indent=1)
    (runs / "hard_report.json").write_text(text)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    (Path(out).parent / "hard_report.json").write_text(text)
    sections = _with_sweep(hs.sections(problems, bfs, raw, seeds, suite_seed), raw)
    sections.append(
        f"Total wall time of this report: {time.perf_counter() - started:.0f} s; {load_note()}"
    )
    return write_report(
        out, "HRRL v2 on the hard families", _command(out, seeds, suite_seed, quick), sections
    )


def _with_sweep(sections: list[str], raw: dict[str, Any]) -> list[str]:
    """The decision-budget sweep's and the calibration's sections, placed before the timings."""
    at = next((i for i, s in enumerate(sections) if s.startswith("## Timings")), len(sections))
    extra = [
        *sweep.section(raw.get("sweep", []), hs.fmt),
        *sweep.calibration_section(raw.get("calibration", []), hs.fmt),
    ]
    return [*sections[:at], *extra, "", *sections[at:]]


def _command(out: Path, seeds: Sequence[int], suite_seed: int, quick: bool) -> str:
    return (
        f"python -m hrrl.experiments.hard_report --out {out} --seeds "
        f"{','.join(map(str, seeds))} --suite-seed {suite_seed}" + (" --quick" if quick else "")
    )


def render(out: Path, seeds: Sequence[int], suite_seed: int, runs: Path, quick: bool) -> Path:
    """The report again from the raw measurements a run saved (no training, no evaluation)."""
    raw = json.loads((runs / "hard_report.json").read_text())
    counts = {f: 4 for f in ALL_FAMILIES} | {"hard-1e6": 1} if quick else None
    problems = generate_hard(suite_seed, counts, ALL_FAMILIES)
    sections = hs.sections(problems, raw["bfs"], raw, seeds, suite_seed)
    sections = _with_sweep(sections, raw)
    sections.append(
        f"Rendered from `{runs / 'hard_report.json'}` (measured by the run above). That run "
        f"took {raw['wall_s']:.0f} s; {raw['load']}"
    )
    return write_report(
        out, "HRRL v2 on the hard families", _command(out, seeds, suite_seed, quick), sections
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/HARD.md")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--suite-seed", type=int, default=2026)
    parser.add_argument("--runs", default="runs/hard-report")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--render", action="store_true", help="rewrite the report from RUNS/hard_report.json"
    )
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.render:
        path = render(Path(args.out), seeds, args.suite_seed, Path(args.runs), args.quick)
    else:
        path = run(Path(args.out), seeds, args.suite_seed, Path(args.runs), quick=args.quick)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
