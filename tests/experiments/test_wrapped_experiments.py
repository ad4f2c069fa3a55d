"""``hrrl results`` and ``hrrl reproduce`` are experiments like any other (``hrrl experiment
hrrl-results`` / ``reproduce``) whose committed reports live where they declare; their own
commands are the same runs under their own command lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hrrl.experiments import get_experiment, list_experiments
from hrrl.experiments import reproduce as rep
from hrrl.experiments.base import Experiment, ExperimentContext, run_experiment
from hrrl.experiments.reproduce import ReproducePlan
from hrrl.experiments.reproduce_methods import Budget

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(list_experiments()))
def test_every_experiments_committed_report_is_where_it_declares(name: str) -> None:
    experiment = get_experiment(name)
    report = ROOT / experiment.default_out / experiment.report_name
    assert report.is_file(), f"{name}: no committed report at {report}"
    assert report.read_text().startswith("# ")


def test_results_and_reproduce_declare_their_own_report_locations() -> None:
    results, reproduce = get_experiment("hrrl-results"), get_experiment("reproduce")
    assert results.default_out / results.report_name == Path("docs/RESULTS.md")
    assert reproduce.default_out / reproduce.report_name == Path("docs/reproduce-full/REPORT.md")
    assert get_experiment("hdqn-chain").default_out == Path("docs/experiments/hdqn-chain")


def _named_report(ctx: ExperimentContext) -> dict[str, Any]:
    ctx.report.write_text("# named\n")
    return {"value": 1.5}


def test_a_named_report_gets_its_numbers_beside_it_under_its_own_stem(tmp_path: Path) -> None:
    experiment = Experiment("named", "a test", _named_report, 1, 1, report_name="RESULTS.md")
    results = run_experiment(experiment, tmp_path, command="hrrl named")
    assert (tmp_path / "RESULTS.md").read_text() == "# named\n"
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "REPORT.md").exists()
    written = json.loads((tmp_path / "RESULTS.json").read_text())
    assert written == results and written["value"] == 1.5 and written["command"] == "hrrl named"
    again = run_experiment(experiment, tmp_path / "b", report_name="OTHER.md")
    assert (tmp_path / "b" / "OTHER.md").is_file() and (tmp_path / "b" / "OTHER.json").is_file()
    assert again["command"] == f"hrrl experiment named --out {tmp_path / 'b'}"


def _tiny_plan(quick: bool, seeds: int | None, out: Path) -> ReproducePlan:
    return ReproducePlan(
        methods=("random", "greedy"),
        seeds=seeds or 1,
        budget=Budget(baseline_steps=100, hrrl_episodes=10, pool_size=2),
        per_category=1,
        command="replaced by the caller's",
        scales=("1e2",),
    )


def _rows(out: Path) -> list[dict[str, Any]]:
    """The result rows in ``out/rows.jsonl`` without their timings."""
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if not k.endswith("_s")} for row in rows]


def test_reproduce_is_the_same_run_under_either_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rep, "plan_for", _tiny_plan)
    experiment = get_experiment("reproduce")
    via_experiment = run_experiment(experiment, tmp_path / "a", seeds=2, workers=1)
    report = rep.reproduce(out=tmp_path / "b", quick=False, seeds=2, ray_address=None, workers=1)
    assert report == tmp_path / "b" / "REPORT.md"
    header_a = (tmp_path / "a" / "REPORT.md").read_text().splitlines()[2]
    header_b = report.read_text().splitlines()[2]
    assert f"`hrrl experiment reproduce --seeds 2 --out {tmp_path / 'a'}`" in header_a
    assert "`replaced by the caller's`" in header_b  # the wrapper keeps plan_for's command line
    via_command = json.loads((tmp_path / "b" / "results.json").read_text())
    same = json.dumps(via_command["methods"]) == json.dumps(via_experiment["methods"])
    assert same  # (as JSON text: the random policy's efficiency is nan)
    assert _rows(tmp_path / "a") == _rows(tmp_path / "b")
    greedy = via_experiment["methods"]["greedy"]
    assert (
        greedy["paper"]["runs"] == 1 and via_experiment["methods"]["random"]["paper"]["runs"] == 2
    )
    rows = _rows(tmp_path / "a")
    paper = [r for r in rows if r["method"] == "greedy" and r["category"] == "paper"]
    solved = sum(r["status"] == "solved" for r in paper)
    assert greedy["paper"]["success_rate"] == pytest.approx(solved / len(paper))


def test_quick_without_out_is_refused_so_a_full_report_is_never_overwritten(capsys) -> None:
    from hrrl.cli import main

    assert main(["experiment", "hrrl-results", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "docs" in err and "--out" in err


def test_results_refuses_more_than_one_seed(tmp_path: Path, capsys) -> None:
    from hrrl.cli import main

    out = tmp_path / "r"
    assert main(["experiment", "hrrl-results", "--seeds", "2", "--out", str(out)]) == 2
    assert "one seed" in capsys.readouterr().err
