"""The experiment contract: a name, a one-line summary and a ``run`` function.

``run(ctx)`` trains and evaluates with ``ctx.seeds`` seeds (fewer and shorter when ``ctx.quick``),
writes ``ctx.out / "REPORT.md"`` (tables with mean ± 95 % CI over seeds, the published claim beside
ours, PNG plots next to it) and returns the headline numbers; :func:`run_experiment` writes them,
with the context, to ``ctx.out / "results.json"``.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hrrl.core.atomic import atomic_write_json


@dataclass(frozen=True)
class ExperimentContext:
    """What one invocation asks for."""

    out: Path
    """Folder for REPORT.md, results.json, plots and any raw data."""
    quick: bool
    """Shorter protocol: must finish in ≤ 5 minutes on a 2-core machine."""
    seeds: int
    """Number of independent seeds (already resolved from the experiment's defaults)."""
    workers: int
    """Processes the experiment may use for seeds in parallel."""
    command: str
    """The command line that reproduces this run, for the report header."""
    protocol: str | None = None
    """A named protocol (``--protocol``) for experiments that offer several; None: their default."""


@dataclass(frozen=True)
class Experiment:
    name: str
    """Command name, e.g. ``four-rooms-options``."""
    summary: str
    """One line for ``hrrl experiment --list``."""
    run: Callable[[ExperimentContext], dict[str, Any]]
    """Runs the protocol, writes REPORT.md, returns the headline numbers."""
    default_seeds: int = 5
    quick_seeds: int = 2


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    quick: bool = False,
    seeds: int | None = None,
    workers: int = 2,
    protocol: str | None = None,
) -> dict[str, Any]:
    """Resolve the context, run the experiment, write ``results.json``; returns what it wrote."""
    n_seeds = (
        seeds
        if seeds is not None
        else (experiment.quick_seeds if quick else experiment.default_seeds)
    )
    parts = ["hrrl", "experiment", experiment.name]
    if quick:
        parts.append("--quick")
    if seeds is not None:
        parts += ["--seeds", str(seeds)]
    if protocol is not None:
        parts += ["--protocol", protocol]
    parts += ["--out", str(out)]
    ctx = ExperimentContext(
        out=Path(out),
        quick=quick,
        seeds=n_seeds,
        workers=workers,
        command=shlex.join(parts),
        protocol=protocol,
    )
    ctx.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    headline = experiment.run(ctx)
    results = {
        "experiment": experiment.name,
        "quick": quick,
        "seeds": n_seeds,
        "command": ctx.command,
        "wall_time_s": round(time.perf_counter() - started, 2),
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        **headline,
    }
    atomic_write_json(ctx.out / "results.json", results)
    return results
