"""The experiment kit: seeded sweeps, finished jobs cached under --out (resume), a locked --out,
and the same jobs on a local Ray."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hrrl.core.lock import RunLocked, run_lock
from hrrl.experiments import list_experiments
from hrrl.experiments.base import Experiment, ExperimentContext, code_version, run_experiment

CALLS: list[tuple[str, int]] = []
FAIL_AFTER: list[int] = []


def _job(method: str, seed: int, scale: float) -> dict[str, Any]:
    if FAIL_AFTER and len(CALLS) >= FAIL_AFTER[0]:
        raise KeyboardInterrupt  # the run is killed here
    CALLS.append((method, seed))
    return {"method": method, "seed": seed, "value": scale * (seed % 97), "pair": (1, 2)}


def _run(ctx: ExperimentContext) -> dict[str, Any]:
    scale = 0.5 if ctx.quick else 1.0
    grouped = ctx.sweep(
        _job, 7, [(m, {"method": m, "scale": scale}) for m in ("a", "b", "c")], description="t"
    )
    (ctx.out / "REPORT.md").write_text("# kit\n\n" + ctx.run_time_section(1.0))
    return {m: [r["value"] for r in runs] for m, runs in grouped.items()} | {
        "pair": grouped["a"][0]["pair"]
    }


EXPERIMENT = Experiment(name="kit", summary="a test", run=_run, default_seeds=4, quick_seeds=4)


@pytest.fixture(autouse=True)
def _reset() -> None:
    CALLS.clear()
    FAIL_AFTER.clear()


def test_a_killed_run_resumes_from_its_finished_jobs(tmp_path: Path) -> None:
    fresh = run_experiment(EXPERIMENT, tmp_path / "fresh", quick=True, workers=1)
    assert len(CALLS) == 12 and fresh["pair"] == [1, 2]  # results are what the cache holds
    CALLS.clear()
    FAIL_AFTER.append(7)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(EXPERIMENT, tmp_path / "out", quick=True, workers=1)
    assert len(CALLS) == 7
    done = list(CALLS)
    CALLS.clear()
    FAIL_AFTER.clear()
    resumed = run_experiment(EXPERIMENT, tmp_path / "out", quick=True, workers=1)
    assert len(CALLS) == 5 and not set(CALLS) & set(done)
    report = (tmp_path / "out" / "REPORT.md").read_text()
    assert "7 of 12 jobs were read from the resume cache" in report
    assert (resumed["jobs"], resumed["jobs_from_cache"], fresh["jobs_from_cache"]) == (12, 7, 0)
    strip = ("wall_time_s", "finished_utc", "load_average_end", "command", "jobs_from_cache")
    assert {k: v for k, v in resumed.items() if k not in strip} == {
        k: v for k, v in fresh.items() if k not in strip
    }
    cache = tmp_path / "out" / "_work" / "jobs" / code_version()
    assert len(list(cache.glob("*.json"))) == 12


def test_cache_is_keyed_by_protocol_and_seed(tmp_path: Path) -> None:
    run_experiment(EXPERIMENT, tmp_path / "out", quick=True, workers=1)
    CALLS.clear()
    run_experiment(EXPERIMENT, tmp_path / "out", quick=False, workers=1)  # another protocol
    assert len(CALLS) == 12
    CALLS.clear()
    run_experiment(EXPERIMENT, tmp_path / "out", quick=False, seeds=5, workers=1)
    assert len(CALLS) == 3  # only the fifth seed of each method is new


def test_the_out_dir_is_locked_while_an_experiment_runs(tmp_path: Path) -> None:
    with run_lock(tmp_path / "out"), pytest.raises(RunLocked):
        run_experiment(EXPERIMENT, tmp_path / "out", quick=True, workers=1)
    assert CALLS == []


def test_cli_experiment_accepts_ray(tmp_path: Path, capsys) -> None:
    from hrrl.cli import build_parser

    args = build_parser().parse_args(["experiment", "x", "--ray", "local", "--out", "o"])
    assert args.ray == "local"


def _ray_run(ctx: ExperimentContext) -> dict[str, Any]:
    grouped = ctx.sweep(dict, 7, [("m", {"x": 2})], description="ray")
    return {"seed_values": [r["seed"] for r in grouped["m"]], "x": [r["x"] for r in grouped["m"]]}


@pytest.mark.slow
def test_experiment_jobs_run_on_a_local_ray(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    experiment = Experiment(name="ray", summary="t", run=_ray_run, default_seeds=2)
    try:
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
        on_ray = run_experiment(experiment, tmp_path / "ray", ray_address="local")
    except RuntimeError as exc:  # Ray could not start here (sandbox, ports, memory)
        pytest.skip(f"local Ray unavailable: {exc}")
    finally:
        ray.shutdown()
    local = run_experiment(experiment, tmp_path / "local", workers=1)
    assert on_ray["seed_values"] == local["seed_values"] and on_ray["x"] == [2, 2]
    assert json.loads((tmp_path / "ray" / "results.json").read_text())["seeds"] == 2


def test_cache_keys_are_the_same_in_every_process() -> None:
    import subprocess
    import sys

    code = (
        "from hrrl.core.parallel import Job\n"
        "from hrrl.experiments.base import _cache_key\n"
        "from hrrl.experiments.maml_nav2d import nav2d_protocol, run_method\n"
        "kwargs = {'seed': 1, 'protocol': nav2d_protocol(True)}\n"
        "print(_cache_key(Job('m-s0', run_method, kwargs)))\n"
    )
    keys = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(keys) == 1 and keys.pop().startswith("m-s0-")


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_an_unknown_protocol_is_refused_before_any_work(name: str, tmp_path: Path, capsys) -> None:
    """`--protocol` is checked against the experiment's declared names (none for most) before
    the run starts: one line, exit 2, nothing written."""
    from hrrl.cli import main
    from hrrl.experiments import get_experiment

    out = tmp_path / "out"
    assert main(["experiment", name, "--protocol", "no-such-protocol", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--protocol" in err
    expected = get_experiment(name).protocols
    assert all(p in err for p in expected)
    assert not out.exists()
