"""The experiment contract and its kit: a name, a one-line summary and a ``run`` function.

``run(ctx)`` trains and evaluates with ``ctx.seeds`` seeds (fewer and shorter when ``ctx.quick``),
writes ``ctx.report`` (tables with mean ± 95 % CI over seeds, the published claim beside ours, PNG
plots next to it) and returns the headline numbers; :func:`run_experiment` writes them, with the
context, to ``ctx.results_path``. These are ``OUT/REPORT.md`` and ``OUT/results.json`` unless
the experiment names its report otherwise; its committed report lives in ``docs/experiments/NAME``
unless it declares another folder (:attr:`Experiment.report_dir`: ``hrrl-results`` writes
``docs/RESULTS.md``, ``reproduce`` ``docs/reproduce-full``).

The kit: an experiment runs its independent jobs through :meth:`ExperimentContext.run_jobs`,
:meth:`~ExperimentContext.run_grouped` or the seeded sweep :meth:`~ExperimentContext.sweep`. Every
finished job's JSON result is cached under ``OUT/_work/jobs/<code version>/``, keyed by the job's
name and a digest of its arguments (the protocol and the seed), so a run killed part-way resumes
from the jobs already done, and a change to the code starts afresh. ``OUT`` is locked for the run
(:func:`hrrl.core.lock.run_lock`): a second writer into the same directory gets one line, exit 2.
Jobs run in a local process pool, or as Ray tasks with ``ray_address``. Cached or not, a job's
result is the same JSON value (the kit returns what the cache would hold), so a resumed run writes
the same report as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hrrl
from hrrl.core.atomic import atomic_write_json
from hrrl.core.lock import run_lock
from hrrl.core.parallel import Job, L, run_grouped, run_jobs
from hrrl.core.report import load_note
from hrrl.core.seeding import spawn_seeds

WORK_DIR = "_work"
"""Under OUT: the job cache (not part of the report; ignored by git)."""
DEFAULT_REPORT = "REPORT.md"
REPORTS_DIR = "docs/experiments"
"""Where committed reports live, one folder per experiment, unless it declares its own."""


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
    ray_address: str | None = None
    """Run the jobs as Ray tasks on this cluster ('local' starts one) instead of a process pool."""
    cache: bool = True
    """Cache finished jobs under ``out/_work/jobs`` and reuse them (resume)."""
    report_name: str = DEFAULT_REPORT
    """The report's file name in ``out`` (the experiment's :attr:`Experiment.report_name`)."""
    job_counts: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    """Jobs run through this context, and how many of them came from the cache."""

    @property
    def report(self) -> Path:
        """Where ``run`` writes the report: ``out / report_name``."""
        return self.out / self.report_name

    @property
    def results_path(self) -> Path:
        """Where :func:`run_experiment` writes the headline numbers: ``results.json`` beside
        ``REPORT.md``; beside any other report ``NAME.md``, ``NAME.json`` (two reports can share
        a folder, as ``docs/RESULTS.md`` shares ``docs/``)."""
        if self.report_name == DEFAULT_REPORT:
            return self.out / "results.json"
        return self.out / f"{Path(self.report_name).stem}.json"

    @property
    def jobs_dir(self) -> Path | None:
        """Where finished jobs are cached (None when caching is off)."""
        return self.out / WORK_DIR / "jobs" / code_version() if self.cache else None

    def run_jobs(self, jobs: Sequence[Job], description: str = "jobs") -> list[Any]:
        """:func:`hrrl.core.parallel.run_jobs` with this run's workers, Ray address and cache."""
        keyed = [Job(_cache_key(job), job.fn, job.kwargs) for job in jobs]
        self._count(keyed)
        return run_jobs(
            keyed,
            workers=self.workers,
            cache_dir=self.jobs_dir,
            ray_address=self.ray_address,
            description=description,
        )

    def run_grouped(
        self, labelled: Sequence[tuple[L, Job]], description: str = "jobs"
    ) -> dict[L, list[Any]]:
        """:func:`hrrl.core.parallel.run_grouped` with this run's workers, Ray address and cache."""
        keyed = [(label, Job(_cache_key(job), job.fn, job.kwargs)) for label, job in labelled]
        self._count([job for _, job in keyed])
        return run_grouped(
            keyed,
            workers=self.workers,
            cache_dir=self.jobs_dir,
            ray_address=self.ray_address,
            description=description,
        )

    def _count(self, jobs: Sequence[Job]) -> None:
        folder = self.jobs_dir
        cached = 0 if folder is None else sum((folder / f"{j.key}.json").is_file() for j in jobs)
        self.job_counts["jobs"] = self.job_counts.get("jobs", 0) + len(jobs)
        self.job_counts["cached"] = self.job_counts.get("cached", 0) + cached

    def run_time_section(self, elapsed: float) -> str:
        """The report's run-time section: wall time, workers (or Ray), resumed jobs, load."""
        where = (
            f"as Ray tasks on {self.ray_address}"
            if self.ray_address
            else f"with {self.workers} worker processes"
        )
        cached = self.job_counts.get("cached", 0)
        resumed = (
            f"; {cached} of {self.job_counts['jobs']} jobs were read from the resume cache"
            if cached
            else ""
        )
        return f"## Run time\n\n{elapsed:.0f} s {where}{resumed}; {load_note()}"

    def sweep(
        self,
        fn: Callable[..., Any],
        base_seed: int,
        settings: Iterable[tuple[L, dict[str, Any]]],
        description: str = "jobs",
    ) -> dict[L, list[Any]]:
        """The seeded sweep: ``fn(**kwargs, seed=s)`` for every setting and each of ``ctx.seeds``
        seeds spawned from ``base_seed``; results grouped by the setting's label, in seed order."""
        seeds = spawn_seeds(base_seed, self.seeds)
        labelled = [
            (label, Job(f"{_slug(label)}-{i}", fn, {**kwargs, "seed": seed}))
            for label, kwargs in settings
            for i, seed in enumerate(seeds)
        ]
        return self.run_grouped(labelled, description=description)


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
    protocols: tuple[str, ...] = ()
    """Names ``--protocol`` accepts, the default first; empty: the experiment offers none, and
    :func:`run_experiment` refuses any ``--protocol`` (one line, exit 2) before doing work."""
    report_dir: str | None = None
    """Folder of its committed report (default protocol), relative to the repository root;
    None: ``docs/experiments/<name>``. ``hrrl experiment NAME`` without ``--out`` writes there."""
    report_name: str = DEFAULT_REPORT
    """The report's file name in that folder (``hrrl-results``: ``RESULTS.md``)."""

    @property
    def default_out(self) -> Path:
        """:attr:`report_dir`, or ``docs/experiments/<name>``."""
        return Path(self.report_dir or f"{REPORTS_DIR}/{self.name}")


def code_version() -> str:
    """A digest of the package's source: cached jobs are valid only for the code that made them."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        root = Path(hrrl.__file__).parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
        _CODE_VERSION = f"{hrrl.__version__}-{digest.hexdigest()[:12]}"
    return _CODE_VERSION


_CODE_VERSION: str | None = None


def _cache_key(job: Job) -> str:
    """The job's name and a digest of its function and arguments (protocol, seed)."""
    spec = json.dumps(
        {"fn": f"{job.fn.__module__}.{job.fn.__qualname__}", "kwargs": job.kwargs},
        sort_keys=True,
        default=_stable,
    )
    return f"{job.key}-{hashlib.sha256(spec.encode()).hexdigest()[:12]}"


def _stable(value: Any) -> Any:
    """JSON for job arguments that is the same in every process (no memory addresses)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__qualname__, **dataclasses.asdict(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if hasattr(value, "tolist"):
        return value.tolist()
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(f"job argument {text} has no stable form for the job cache key")
    return text


def _slug(label: Hashable) -> str:
    parts = label if isinstance(label, tuple) else (label,)
    return "-".join(str(p) for p in parts).replace("/", "_").replace(" ", "_")


def run_experiment(
    experiment: Experiment,
    out: str | Path,
    quick: bool = False,
    seeds: int | None = None,
    workers: int = 2,
    protocol: str | None = None,
    ray_address: str | None = None,
    *,
    report_name: str | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Resolve the context, run the experiment, write ``results.json``; returns what it wrote.

    ``out`` is locked for the run; finished jobs are cached in it, so rerunning the same command
    after an interruption resumes. ``report_name`` (default: the experiment's) and ``command``
    (default: the ``hrrl experiment`` line) serve commands that wrap an experiment, such as
    ``hrrl results --out docs/RESULTS.md``."""
    if protocol is not None and protocol not in experiment.protocols:
        from hrrl.errors import InputError

        if not experiment.protocols:
            raise InputError(f"{experiment.name} offers no --protocol (drop it)")
        raise InputError(
            f"--protocol for {experiment.name} must be one of {', '.join(experiment.protocols)}"
        )
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
        command=command if command is not None else shlex.join(parts),
        protocol=protocol,
        ray_address=ray_address,
        report_name=report_name if report_name is not None else experiment.report_name,
    )
    with run_lock(ctx.out, what="experiment"):
        return _run_locked(experiment, ctx)


def _run_locked(experiment: Experiment, ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    headline = experiment.run(ctx)
    results = {
        "experiment": experiment.name,
        "quick": ctx.quick,
        "seeds": ctx.seeds,
        "command": ctx.command,
        "wall_time_s": round(time.perf_counter() - started, 2),
        "finished_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        **headline,
    }
    if ctx.job_counts:  # jobs run through the kit, and how many were read from the resume cache
        results.setdefault("jobs", ctx.job_counts.get("jobs", 0))
        results.setdefault("jobs_from_cache", ctx.job_counts.get("cached", 0))
    atomic_write_json(ctx.results_path, results)
    return results
