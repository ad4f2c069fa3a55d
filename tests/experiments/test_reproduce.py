"""``hrrl reproduce`` on a tiny plan: outputs, resume, determinism across workers and Ray."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from hrrl.experiments import reproduce as rep
from hrrl.experiments.reproduce import ReproducePlan, plan_for, run_plan
from hrrl.experiments.reproduce_methods import METHOD_BY_NAME, Budget
from hrrl.experiments.reproduce_report import ci_text
from hrrl.solvers.claims import check_claim, path_of_length_exists
from hrrl.suites.builtin import PAPER_PROBLEMS

TIMING_KEYS = ("elapsed_s", "training_time_s", "evaluation_time_s")


def tiny_plan(methods: tuple[str, ...] = ("tabular-q", "random", "greedy", "optimal")) -> Any:
    return ReproducePlan(
        methods=methods,
        seeds=2,
        budget=Budget(baseline_steps=300, hrrl_episodes=10, pool_size=4),
        per_category=1,
        command="hrrl reproduce --test",
        scales=("1e2",),
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def without_timings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in rows]


def test_tiny_plan_writes_report_raw_results_and_figures(tmp_path: Path) -> None:
    report = run_plan(tiny_plan(), tmp_path, workers=1)
    text = report.read_text()
    assert report == tmp_path / "REPORT.md"
    assert "impossible by parity" in text and "258–266" in text and "§5.4" in text
    assert "§5.1" in text and "§5.2" in text
    for name in ("learning_curves.png", "by_target_size.png", "solution_path.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    runs = read_jsonl(tmp_path / "runs.jsonl")
    expected = [("tabular-q", 0), ("tabular-q", 1), ("random", 0), ("random", 1)]
    expected += [("greedy", 0), ("optimal", 0)]
    assert sorted((r["method"], r["seed"]) for r in runs) == sorted(expected)
    rows = read_jsonl(tmp_path / "rows.jsonl")
    problems = 3 + 1 + 2  # paper, in-distribution, 1e2 sparse + dense
    assert len(rows) == len(runs) * problems
    optimal = [r for r in rows if r["method"] == "optimal"]
    assert all(r["status"] == "solved" and r["steps"] == r["optimal_steps"] for r in optimal)


def test_rerun_resumes_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = rep.run_method

    def counting(**kwargs: Any) -> Any:
        calls.append(f"{kwargs['method']}-s{kwargs['seed']}")
        return real(**kwargs)

    monkeypatch.setattr(rep, "run_method", counting)
    plan = tiny_plan(("random", "greedy"))
    run_plan(plan, tmp_path, workers=1)
    assert sorted(calls) == ["greedy-s0", "random-s0", "random-s1"]
    first = read_jsonl(tmp_path / "rows.jsonl")
    calls.clear()
    run_plan(plan, tmp_path, workers=1)
    assert calls == []
    (rep.work_dir(plan, tmp_path) / "cache" / "random-s1.json").unlink()
    run_plan(plan, tmp_path, workers=1)
    assert calls == ["random-s1"]
    assert without_timings(read_jsonl(tmp_path / "rows.jsonl")) == without_timings(first)


def test_same_results_with_one_and_two_workers(tmp_path: Path) -> None:
    plan = tiny_plan(("tabular-q", "random", "greedy"))
    run_plan(plan, tmp_path / "one", workers=1)
    run_plan(plan, tmp_path / "two", workers=2)
    one = read_jsonl(tmp_path / "one" / "rows.jsonl")
    two = read_jsonl(tmp_path / "two" / "rows.jsonl")
    assert without_timings(one) == without_timings(two)


@pytest.mark.slow
def test_ray_tasks_give_the_same_results(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    plan = tiny_plan(("random", "greedy"))
    try:
        run_plan(plan, tmp_path / "ray", ray_address="local")
    except Exception as exc:  # Ray could not start here (sandbox, ports, memory)
        pytest.skip(f"local Ray unavailable: {exc}")
    finally:
        ray.shutdown()
    run_plan(plan, tmp_path / "local", workers=1)
    ray_rows = read_jsonl(tmp_path / "ray" / "rows.jsonl")
    local_rows = read_jsonl(tmp_path / "local" / "rows.jsonl")
    assert without_timings(ray_rows) == without_timings(local_rows)


def test_ci_text_is_the_student_t_interval() -> None:
    values = [1.0, 2.0, 3.0, 6.0]
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, df=n - 1) * sd / math.sqrt(n)
    assert ci_text(values, digits=3, bounds=(None, None)) == f"{mean:.3f} ± {half:.3f}"
    # by default a non-percentage metric is ≥ 0: the interval is clipped there, with n
    assert ci_text(values, digits=3) == f"{mean:.3f} (95 % CI 0.000–{mean + half:.3f}, n=4)"
    assert ci_text([0.5, float("nan")], digits=1, scale=100, suffix=" %") == "50.0 %"
    assert ci_text([]) == "n/a"


def test_paper_claims_are_impossible_and_the_optima_are_not() -> None:
    claims = {p.id: check_claim(p, c) for p, c in zip(PAPER_PROBLEMS, (28, 61, 94), strict=True)}
    assert [c.optimal_steps for c in claims.values()] == [25, 56, 87]
    assert all(not c.possible and "parity" in c.reason for c in claims.values())
    paper_123 = PAPER_PROBLEMS[0]
    assert check_claim(paper_123, 25).possible
    assert path_of_length_exists(paper_123, 27) and not path_of_length_exists(paper_123, 26)
    assert not check_claim(paper_123, 24).possible


def test_quick_plan_covers_every_method_with_two_seeds(tmp_path: Path) -> None:
    plan = plan_for(quick=True, seeds=None, out=tmp_path)
    assert plan.seeds == 2 and "--quick" in plan.command
    for name in ("tabular-q", "dqn", "sb3-dqn", "options", "random", "greedy", "optimal"):
        assert name in plan.methods
    if rep.hrrl_available():
        assert {"hrrl", "no-decomposition", "no-relational", "no-phase-heads"} <= set(plan.methods)


def test_ablations_switch_exactly_one_hrrl_field() -> None:
    pytest.importorskip("hrrl.agents.hrrl")
    from hrrl.experiments.reproduce_methods import hrrl_config

    budget = Budget(baseline_steps=100, hrrl_episodes=40)
    full = hrrl_config(METHOD_BY_NAME["hrrl"], budget)
    assert full.episodes == 40
    for name, field in [
        ("no-decomposition", "decomposition"),
        ("no-relational", "relational_features"),
        ("no-phase-heads", "phase_heads"),
        ("no-curriculum", "curriculum"),
    ]:
        config = hrrl_config(METHOD_BY_NAME[name], budget)
        assert getattr(full, field) is True and getattr(config, field) is False
        differing = [k for k, v in full.to_json().items() if config.to_json()[k] != v]
        assert differing == [field]
