"""How much training the bit-flipping claims need: success against the training budget.

The ``her-bitflip`` protocol trains for ``10·n`` cycles per bit count. At that budget DQN+HER does
not reach the paper's "solves n up to 50", and plain DQN does not reach its "solves n ≤ 13". This
experiment runs the same learners, with the same configuration and seeds, four times longer
(``40·n`` cycles) and measures the greedy success rate along the way (every ``5·n`` cycles), for the
two cases where the claim and the ``10·n`` result disagree: plain DQN at n = 10 and 13, and
DQN+HER at n = 30, 40 and 50. Nothing else changes, so the curve separates "needs more training"
from "does not learn".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from hrrl.core.parallel import Job
from hrrl.core.report import markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.experiments.her_bitflip import BASE_SEED, CONFIG, EVAL_EPISODES, run_ours

BUDGET_MULTIPLES = (10, 20, 30, 40)
"""Cycles per bit reported in the table (``10`` is the ``her-bitflip`` protocol)."""
CLAIMS = {"DQN": "solves n ≤ 13", "DQN+HER": "solves n ≤ 50"}
"""Andrychowicz et al. 2017, Fig. 1."""


def _protocol(quick: bool) -> dict[str, Any]:
    """Cases ``(method, n)``, the longest budget in cycles per bit and the evaluation spacing."""
    if quick:
        return {"cases": [("DQN", 10), ("DQN+HER", 20)], "max_multiple": 20, "eval_multiple": 5}
    cases = [("DQN", 10), ("DQN", 13), ("DQN+HER", 30), ("DQN+HER", 40), ("DQN+HER", 50)]
    return {"cases": cases, "max_multiple": 40, "eval_multiple": 5}


def _jobs(protocol: dict[str, Any], seeds: list[int]) -> list[tuple[str, int, Job]]:
    jobs = []
    for method, n in protocol["cases"]:
        cycles = protocol["max_multiple"] * n
        for i, seed in enumerate(seeds):
            kwargs = {"n_bits": n, "her": method == "DQN+HER", "seed": seed, "cycles": cycles,
                      "eval_every": protocol["eval_multiple"] * n}  # fmt: skip
            jobs.append((method, n, Job(f"{method.replace('+', 'p')}-n{n}-s{i}", run_ours, kwargs)))
    return jobs


def success_at(curve: list[tuple[int, float]], cycle: int) -> float:
    """Success measured at exactly ``cycle`` (NaN when that cycle was not evaluated)."""
    return next((float(s) for c, s in curve if c == cycle), float("nan"))


def _table(runs: dict[tuple[str, int], list[dict[str, Any]]], multiples: list[int]) -> str:
    rows = []
    for (method, n), results in runs.items():
        cells = [mean_ci([success_at(r["curve"], m * n) for r in results]).format(2)
                 for m in multiples]  # fmt: skip
        wall = mean_ci([r["wall_s"] for r in results]).format(0)
        rows.append([method, n, *cells, wall, CLAIMS[method]])
    headers = ["method", "bits", *(f"success after {m}·n cycles" for m in multiples),
               f"wall s / seed ({multiples[-1]}·n cycles)", "paper"]  # fmt: skip
    return markdown_table(headers, rows)


def _plot(runs: dict[tuple[str, int], list[dict[str, Any]]], out: Path) -> str:
    fig, ax = new_figure()
    for (method, n), results in runs.items():
        cycles = [c for c, _ in results[0]["curve"]]
        mean = np.mean([[s for _, s in r["curve"]] for r in results], axis=0)
        ax.plot(np.asarray(cycles) / n, mean, marker="o", label=f"{method}, n={n}")
    ax.axvline(10, color="0.6", linestyle=":", label="her-bitflip budget (10·n)")
    ax.set_xlabel("training cycles / n (a cycle = 16 episodes + 40 updates)")
    ax.set_ylabel("greedy success rate (mean over seeds)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize=7)
    name = "success_vs_budget.png"
    save_figure(fig, out / name)
    return name


def _notes(
    runs: dict[tuple[str, int], list[dict[str, Any]]], multiples: list[int], quick: bool
) -> str:
    lines = ["## Notes", ""]
    for (method, n), results in runs.items():
        first = [success_at(r["curve"], multiples[0] * n) for r in results]
        last = [success_at(r["curve"], multiples[-1] * n) for r in results]
        lines.append(
            f"- {method}, n = {n}: {np.mean(first):.2f} after {multiples[0]}·n cycles, "
            f"{np.mean(last):.2f} after {multiples[-1]}·n."
        )
    lines += [
        "- The runs are the `her-bitflip` learners with the same configuration and seeds, only "
        "longer; training does not depend on when it is evaluated, so the 10·n column repeats "
        "that report's numbers up to the draw of the 100 evaluation episodes.",
        f"- Budgets were fixed before running ({multiples[-1] // 10}× the `her-bitflip` "
        "protocol); nothing was tuned to reach the paper's numbers.",
    ]
    if quick:
        lines.append("- Quick protocol: two cases and 2× the budget; run without `--quick` for "
                     "n = 10, 13 (DQN) and 30, 40, 50 (DQN+HER) at 4×.")  # fmt: skip
    return "\n".join(lines)


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = _protocol(ctx.quick)
    seeds = spawn_seeds(BASE_SEED, ctx.seeds)
    labelled = _jobs(protocol, seeds)
    runs = ctx.run_grouped([((m, n), job) for m, n, job in labelled], description="her-budget")
    multiples = [m for m in BUDGET_MULTIPLES if m <= protocol["max_multiple"]]
    plot = _plot(runs, ctx.out)
    elapsed = time.perf_counter() - started
    setup = (
        "## Setup\n\n"
        f"Cases (method, bits): {protocol['cases']}. Each run trains for "
        f"{protocol['max_multiple']}·n cycles and is evaluated greedily on {EVAL_EPISODES} fresh "
        f"episodes every {protocol['eval_multiple']}·n cycles. Learner, network, "
        f"hyper-parameters (ε = {CONFIG.epsilon}, γ = {CONFIG.dqn.gamma}, k = 4 `future` goals "
        f"for HER) and seeds are those of `hrrl experiment her-bitflip`. {ctx.seeds} seeds; "
        "mean ± 95 % CI (Student t)."
    )
    sections = [
        setup,
        "## Success against the training budget\n\n" + _table(runs, multiples),
        _notes(runs, multiples, ctx.quick),
        f"## Curves\n\n![success against budget]({plot})",
        ctx.run_time_section(elapsed),
    ]
    title = "Bit flipping: success against the training budget"
    write_report(ctx.out / "REPORT.md", title, ctx.command, sections)
    return {
        "protocol": {**protocol, "cases": [list(c) for c in protocol["cases"]]},
        "success_by_budget": {
            f"{method} n={n}": {
                f"{m}n": mean_ci([success_at(r["curve"], m * n) for r in rs]).mean
                for m in multiples
            }
            for (method, n), rs in runs.items()
        },
        "curves_per_seed": {
            f"{method} n={n}": [r["curve"] for r in rs] for (method, n), rs in runs.items()
        },
        "method_wall_time_s": {
            f"{method} n={n}": mean_ci([r["wall_s"] for r in rs]).mean
            for (method, n), rs in runs.items()
        },
    }


EXPERIMENT = Experiment(
    name="her-bitflip-budget",
    summary="DQN and DQN+HER on bit flipping with 4× the her-bitflip training budget",
    run=run,
    default_seeds=3,
    quick_seeds=2,
)
