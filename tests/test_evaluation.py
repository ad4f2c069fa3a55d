import numpy as np
import pytest

from hrrl.evaluation import _rollout_batch, evaluate, horizon, rollout, summarize
from hrrl.policies import GreedyPolicy, PlanPolicy, RandomPolicy
from hrrl.problem import make_problem
from hrrl.result import ResultRow
from hrrl.solvers.checker import check_path
from hrrl.solvers.numberline import solve
from hrrl.suites.builtin import PAPER_PROBLEMS
from hrrl.suites.generator import SuiteSpec, generate
from hrrl.suites.jsonl import parse_lines


class StepByStepGreedy(GreedyPolicy):
    """The greedy rule without its repeat fast path."""

    act_repeat = None  # type: ignore[assignment]


def test_greedy_solves_the_paper_problems_optimally():
    rows = evaluate(PAPER_PROBLEMS, GreedyPolicy())
    assert [r.steps for r in rows] == [25, 56, 87]
    assert all(r.status == "solved" and r.optimal_steps == r.steps for r in rows)


def test_repeat_fast_path_gives_identical_paths():
    problems = generate(
        [SuiteSpec("a", 30, (50, 3000), (2, 60)), SuiteSpec("d", 30, (50, 600), density=0.2)], 4
    )
    fast = rollout(problems, GreedyPolicy())
    slow = rollout(problems, StepByStepGreedy())
    assert [r.path for r in fast] == [r.path for r in slow]
    assert [r.solved for r in fast] == [r.solved for r in slow]


def test_plan_policy_replays_solver_paths_through_the_env():
    problems = generate(SuiteSpec("m", 20, (10, 200), (2, 10), actions=(-2, 3, 5)), 2)
    paths = [solve(p).path for p in problems]
    outcomes = _rollout_batch(problems, PlanPolicy(list(paths)))
    assert all(o.solved for o in outcomes)
    assert [tuple(o.path) for o in outcomes] == paths


def test_rows_keep_order_and_statuses():
    text = "\n".join(
        [
            '{"id": "ok", "target": 30, "forbidden": [5], "category": "c"}',
            "",
            '{"id": "broken", "target": 3',
            '{"id": "inf", "target": 20, "forbidden": [15, 17, 19]}',
            '{"id": "bad", "target": 20, "forbidden": [20]}',
            '{"id": "fail", "target": 12, "forbidden": [11], "actions": [1, 3, 5]}',
        ]
    )
    lines = parse_lines(text.splitlines())
    rows = evaluate([line.as_input() for line in lines], GreedyPolicy())
    assert [r.id for r in rows] == ["ok", "line-3", "inf", "bad", "fail"]
    assert [r.status for r in rows] == ["solved", "error", "infeasible", "error", "failed"]
    assert rows[0].category == "c" and rows[0].to_json()["category"] == "c"
    assert "line 3" in rows[1].reason
    assert "predecessor" in rows[2].reason
    assert rows[2].path is None and rows[2].optimal_steps is None
    # greedy: 0 → 5 → 10, then every move is forbidden or past 12; the optimum is 4 steps
    assert rows[4].path[:3] == (0, 5, 10)
    assert rows[4].optimal_steps == 4
    assert "passed the target" in rows[4].reason


def test_random_rows_are_valid_runs():
    problems = generate(SuiteSpec("r", 40, (5, 40), (2, 5)), 9)
    rows = evaluate(problems, RandomPolicy(seed=0))
    assert {r.status for r in rows} <= {"solved", "failed"}
    for problem, row in zip(problems, rows, strict=True):
        if row.status == "solved":
            assert check_path(problem, row.path)
        else:
            assert row.reason and row.path[0] == 0


def test_horizon_bounds_monotone_episodes():
    assert horizon(make_problem(100, [], max_steps=1000)) == 101
    assert horizon(make_problem(100, [], actions=[-1, 3], max_steps=1000)) == 1000


def test_summary_per_category():
    rows = [
        ResultRow("s", "solved", steps=10, optimal_steps=8, extra={"category": "a"}),
        ResultRow("f", "failed", steps=3, optimal_steps=8, extra={"category": "a"}),
        ResultRow("i", "infeasible", extra={"category": "b"}),
    ]
    summary = {s.category: s for s in summarize(rows)}
    assert summary["a"].success_rate == 0.5
    assert summary["a"].mean_efficiency == pytest.approx(0.8)
    assert np.isnan(summary["b"].success_rate)
    assert summary["all"].problems == 3


def test_result_row_json_round_trip_keeps_spec_order_and_extras():
    row = ResultRow("p", "solved", 2, (0, 1, 2), 2, None, 0.1234567, {"category": "c", "x": 1})
    obj = row.to_json()
    assert list(obj) == [
        *(["id", "status", "steps", "path", "optimal_steps", "reason", "elapsed_s"]),
        "category",
        "x",
    ]
    assert obj["path"] == [0, 1, 2] and obj["elapsed_s"] == 0.123457
    assert ResultRow.from_json(obj) == row


def test_failure_reason_uses_the_environment_rule():
    from hrrl.evaluation import failure_reason

    problem = make_problem(12, [11])
    assert "forbidden" in failure_reason(problem, [0, 5, 10, 11])
    assert "passed the target" in failure_reason(problem, [0, 5, 10, 15])
    assert "budget" in failure_reason(make_problem(12, [], max_steps=1), [0, 1])
