"""Run independent jobs (seeds × methods) in parallel: a local process pool, or Ray tasks.

Each job is a picklable top-level function and its keyword arguments; results come back in job
order, so the same seeds give the same results whichever way they ran. With ``cache_dir`` every
finished job's JSON result is stored under its key, and a rerun skips the jobs already done
(interrupt and rerun = resume); a cached run returns the JSON values, fresh or resumed.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hrrl.core.atomic import atomic_write_json
from hrrl.core.progress import advance, progress_bar


@dataclass(frozen=True)
class Job:
    """``fn(**kwargs)`` identified by ``key`` (unique, filesystem-safe)."""

    key: str
    fn: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)


def _run_one(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Run a job with one math thread per process (the pool provides the parallelism)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    return fn(**kwargs)


def run_jobs(
    jobs: Sequence[Job],
    workers: int = 1,
    cache_dir: str | Path | None = None,
    ray_address: str | None = None,
    description: str = "jobs",
) -> list[Any]:
    """Run every job and return their results in order (JSON-serialisable results when cached)."""
    keys = [job.key for job in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("job keys must be unique")
    cache = Path(cache_dir) if cache_dir is not None else None
    results: dict[str, Any] = {}
    if cache is not None:
        for job in jobs:
            path = cache / f"{job.key}.json"
            if path.is_file():
                results[job.key] = json.loads(path.read_text())
    todo = [job for job in jobs if job.key not in results]

    def done(job: Job, value: Any) -> None:
        if cache is not None:
            # what the cache holds, so a resumed run sees exactly what a fresh one saw
            path = cache / f"{job.key}.json"
            atomic_write_json(path, value)
            value = json.loads(path.read_text())
        results[job.key] = value

    with progress_bar(description, total=len(jobs)) as bar:
        advance(bar, len(jobs) - len(todo))
        if ray_address is not None:
            _run_ray(todo, ray_address, done, bar)
        elif workers <= 1 or len(todo) <= 1:
            for job in todo:
                done(job, _run_one(job.fn, job.kwargs))
                advance(bar, 1, job.key)
        else:
            ctx = mp.get_context("spawn")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {pool.submit(_run_one, job.fn, job.kwargs): job for job in todo}
                for future in as_completed(futures):
                    job = futures[future]
                    done(job, future.result())
                    advance(bar, 1, job.key)
    return [results[key] for key in keys]


L = TypeVar("L", bound=Hashable)


def run_grouped(labelled: Sequence[tuple[L, Job]], **run_kwargs: Any) -> dict[L, list[Any]]:
    """Run ``(label, job)`` pairs with :func:`run_jobs`; results grouped by label, each group in
    job order (e.g. one result per seed for a ``(method, size)`` label)."""
    results = run_jobs([job for _, job in labelled], **run_kwargs)
    grouped: dict[L, list[Any]] = {}
    for (label, _), result in zip(labelled, results, strict=True):
        grouped.setdefault(label, []).append(result)
    return grouped


def _run_ray(todo: Sequence[Job], address: str, done: Callable[[Job, Any], None], bar: Any) -> None:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the optional extra
        from hrrl.errors import InputError

        raise InputError("--ray needs Ray: pip install 'hrrl[ray]'") from exc
    if not ray.is_initialized():
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    remote = ray.remote(_run_one)
    refs = {remote.remote(job.fn, job.kwargs): job for job in todo}
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        job = refs[ready[0]]
        done(job, ray.get(ready[0]))
        advance(bar, 1, job.key)
