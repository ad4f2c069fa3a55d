"""The hard-family report's measurements (experiments/hard_report.py)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.manager import ManagerConfig, ManagerPolicy
from hrrl.experiments._hard_measure import exact_local_distances as _local_distances
from hrrl.experiments._hard_measure import infeasible_check as _infeasible_check
from hrrl.experiments._hard_measure import value_accuracy
from hrrl.experiments._hard_sweep import sweep_problems
from hrrl.problem import make_problem
from hrrl.solvers.numberline import solve
from hrrl.suites.hard import generate_hard


@pytest.fixture(scope="module")
def tiny_net() -> V.NumpyValue:
    net, _ = V.train_value(V.ValueConfig(hidden=16, iterations=20, batch_size=32), seed=0)
    return V.NumpyValue(net.state_dict())


def test_local_distances_match_the_solver() -> None:
    problem = make_problem(60, [5, 10, 13, 20, 21, 33], (1, 3, 5))
    dist = _local_distances(problem, 0, 1, 64)
    for goal in (7, 18, 29, 44, 60):
        verdict = solve(make_problem(goal, [5, 10, 13, 20, 21, 33], (1, 3, 5)))
        assert dist[goal] == verdict.steps


def test_value_accuracy_sees_an_exact_bound_on_a_free_line(tiny_net) -> None:
    problem = make_problem(400, [], (1, 3, 5))
    problem = dataclasses.replace(problem, extra={"category": "free", "feasible": True})
    acc = value_accuracy(tiny_net, [problem], samples=3)["free"]
    assert acc["goals"] > 0 and acc["bound_mae"] == 0.0
    assert acc["mae"] >= abs(acc["bias"])


def test_budgeted_managers_never_report_an_infeasible_hard_problem_solved(tiny_net) -> None:
    problems = generate_hard(7, {"hard-infeasible": 4}, ["hard-infeasible"])
    infeasible = [p for p in problems if not p.extra["feasible"]]
    assert infeasible
    for weight in (1.0, 0.0):
        policy = ManagerPolicy(tiny_net, ManagerConfig(weight=weight, decision_expansions=32))
        out = _infeasible_check(policy, infeasible)
        assert out["reported_solved"] == 0 and out["problems"] == len(infeasible)
        assert out["certify"] > 0


def test_decision_budget_sweep_measures_both_managers_and_renders(tiny_net) -> None:
    from hrrl.experiments import _hard_sections as hs
    from hrrl.experiments import _hard_sweep as sweep

    free = make_problem(300, [], (1, 3, 5), id="free-0", category="hard-free", feasible=True)
    problems = [free, *sweep.sweep_problems(generate_hard(7, {"hard-trap": 2}, ["hard-trap"]))]
    optimal = {p.id: len(solve(p).path or ()) - 1 for p in problems}
    other = V.NumpyValue(
        V.train_value(V.ValueConfig(hidden=16, iterations=5), seed=1)[0].state_dict()
    )
    runs = [
        sweep.measure(ManagerPolicy(net, ManagerConfig(decision_expansions=128)), problems, optimal)
        for net in (tiny_net, other)
    ]
    for b in sweep.SWEEP_BUDGETS:
        # the uniform manager ignores the network: identical whichever net is loaded
        same = [json.dumps(r[str(b)]["uniform"], sort_keys=True) for r in runs]
        assert same[0] == same[1]
        free_row = runs[0][str(b)]["uniform"]["hard-free"]
        assert free_row["budgeted_solved"] == 1.0 and free_row["efficiency"] == 1.0
        for variant in sweep.VARIANTS:
            for row in runs[0][str(b)][variant].values():
                assert 0.0 <= row["budgeted_solved"] <= 1.0 and row["expansions"] > 0
                assert row["efficiency"] != row["efficiency"] or 0 < row["efficiency"] <= 1.0
    text = "\n".join(sweep.section(runs, hs.fmt))
    assert "## Decision budget" in text and "| pops / decision | hard-free | hard-trap |" in text
    assert all(f"| {b} |" in text for b in sweep.SWEEP_BUDGETS)


def test_calibration_measures_the_estimates_against_the_exact_cost_to_go(tiny_net) -> None:
    from hrrl.experiments._hard_measure import _auc, calibration

    assert _auc([2.0, 3.0], np.array([1.0, 2.0])) == 0.875
    assert np.isnan(_auc([], np.array([1.0])))
    problems = sweep_problems(generate_hard(7, {"hard-trap": 3}, ["hard-trap"]))
    learned = calibration(ManagerPolicy(tiny_net, ManagerConfig(decision_expansions=64)), problems)
    uniform = calibration(
        ManagerPolicy(tiny_net, ManagerConfig(decision_expansions=64, weight=0.0)), problems
    )
    row, flat = learned["hard-trap"], uniform["hard-trap"]
    assert row["positions"] > 0 and row["dead_ends"] > 0  # lane traps have dead ends
    assert row["bound_bias"] <= 0  # the free-line bound never overestimates
    assert flat["bias"] == flat["bound_bias"] == row["bound_bias"]  # uniform: h is the bound
    assert flat["auc"] == 0.5 and 0.0 <= row["auc"] <= 1.0
    assert row["mae"] >= abs(row["bias"])
