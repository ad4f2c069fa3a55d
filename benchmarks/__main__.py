"""``python -m benchmarks --out docs/BENCHMARKS.md``: run every benchmark, write the report."""

from __future__ import annotations

import argparse
import os

from hrrl.core.report import markdown_table, write_report

from . import agent_speed, env_throughput, himeta_throughput, solver_speed


def env_section() -> str:
    rows = env_throughput.measure()
    by_key = {(r.name, r.num_envs): r.steps_per_s for r in rows}
    table = markdown_table(
        ["environment", "N", "steps/s", "× SyncVectorEnv (same N)"],
        [
            [
                r.name,
                r.num_envs,
                f"{r.steps_per_s:,.0f}",
                _ratio(r.steps_per_s, by_key.get(("gymnasium SyncVectorEnv", r.num_envs))),
            ]
            for r in rows
        ],
    )
    return (
        "## Environment throughput\n\n"
        "Random actions; every sub-env draws a new problem from the paper's training "
        "distribution (targets 5–100, 2–5 forbidden states) at each reset. SyncVectorEnv steps "
        "N `NumberLineEnv`s in a Python loop, each drawing its own problems. Our env draws the "
        "problems of all sub-envs that reset in a step at once (`batch`), or one sampler call "
        "per reset exactly like SyncVectorEnv (`per-env`), or keeps fixed problems (`fixed`).\n\n"
        + table
    )


def solver_section() -> str:
    rows = solver_speed.measure()
    table = markdown_table(
        [
            "target",
            "forbidden",
            "optimal steps",
            "hrrl solve (s)",
            "networkx build (s)",
            "networkx BFS (s)",
            "× networkx BFS",
            "× networkx build+BFS",
        ],
        [
            [
                f"{r.target:,}",
                r.forbidden,
                f"{r.optimal_steps:,}",
                f"{r.ours_s:.4f}",
                f"{r.networkx_build_s:.3f}",
                f"{r.networkx_search_s:.3f}",
                f"{r.speedup_search:.1f}",
                f"{r.speedup_total:.1f}",
            ]
            for r in rows
        ],
    )
    return (
        "## Exact solver\n\n"
        "`hrrl.solvers.numberline.solve` (CSR graph in numpy + scipy's C breadth-first search, "
        "path reconstruction included) against `networkx.shortest_path` (BFS) on the same graph, "
        "whose construction is timed separately. Both agree on every optimum.\n\n" + table
    )


def himeta_section() -> str:
    envs = himeta_throughput.measure_envs(256)
    sync = envs[0].steps_per_s
    env_table = markdown_table(
        ["environment", "N", "steps/s", "× SyncVectorEnv (same N)"],
        [
            [r.name, r.num_envs, f"{r.steps_per_s:,.0f}", f"{r.steps_per_s / sync:,.1f}"]
            for r in envs
        ],
    )
    methods = markdown_table(
        ["method", "training env steps/s (rollout + PPO update, 1 thread)"],
        [[name, f"{sps:,.0f}"] for name, sps in himeta_throughput.measure_methods()],
    )
    return (
        "## Point-manipulation suite (HiMeta, seed 002)\n\n"
        "Random actions on the 10 training tasks; SyncVectorEnv steps N `PointManipEnv`s in a "
        "Python loop.\n\n" + env_table + "\n\nTraining throughput with the settings of "
        "`hrrl experiment himeta-pointmanip` (50 envs, 2-episode trials, width 64):\n\n" + methods
    )


def agent_section() -> str:
    rows = agent_speed.measure()
    table = markdown_table(
        [
            "agent, problems",
            "decisions/s",
            "moves/s",
            "agent wall (s)",
            "solver wall (s)",
            "agent / solver",
        ],
        [
            [
                r.what,
                f"{r.decisions / r.agent_s:,.0f}",
                f"{r.moves / r.agent_s:,.0f}",
                f"{r.agent_s:.2f}",
                f"{r.solver_s:.2f}",
                f"{r.agent_s / r.solver_s:.1f}",
            ]
            for r in rows
        ],
    )
    return (
        "## HRRL v2 agent\n\n"
        "Rollouts of the manager + worker (`agents/hrrl/manager.py`) on hard families "
        "(`suites/hard.py`, seed 0), beside the exact solver on the same problems in the same "
        "run. A decision is one manager subgoal; moves are the path's steps. The last row times "
        "`evaluate` (the solver labels each problem, then the agent rolls out the feasible ones) "
        "on the whole suite docs/HARD.md reports on, infeasible problems included; its moves "
        "are the solved paths' steps.\n\n" + table
    )


def _ratio(value: float, reference: float | None) -> str:
    return "—" if not reference else f"{value / reference:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/BENCHMARKS.md")
    args = parser.parse_args()
    load = os.getloadavg()
    sections = [
        "Wall-clock best of 3 runs (networkx: 1 run); ratios compare implementations measured "
        f"in the same run. Load average when started: {load[0]:.2f}, {load[1]:.2f}, "
        f"{load[2]:.2f} (other processes slow everything alike; the ratios are what to read).",
        env_section(),
        himeta_section(),
        solver_section(),
        agent_section(),
    ]
    path = write_report(args.out, "Benchmarks", "make bench", sections)
    print(path.read_text())


if __name__ == "__main__":
    main()
