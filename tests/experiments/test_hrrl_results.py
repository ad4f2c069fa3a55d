"""The RESULTS.md helpers: tables from measured rows, the move profile of the paper's reward."""

from __future__ import annotations

from hrrl.experiments._hrrl_results_report import Evaluated, category_table, move_profile
from hrrl.problem import make_problem
from hrrl.result import ResultRow


def rows() -> list[ResultRow]:
    return [
        ResultRow.from_json(r)
        for r in [
            {
                "id": "a",
                "status": "solved",
                "steps": 4,
                "optimal_steps": 2,
                "path": [0, 1, 2, 3, 4],
                "category": "x",
            },
            {
                "id": "b",
                "status": "solved",
                "steps": 2,
                "optimal_steps": 2,
                "path": [0, 5, 10],
                "category": "y",
            },
            {
                "id": "c",
                "status": "failed",
                "steps": 1,
                "optimal_steps": 3,
                "path": [0, 3],
                "category": "y",
            },
        ]
    ]


def test_move_profile_counts_move_sizes_on_135_problems() -> None:
    problems = [
        make_problem(4, [], id="a"),
        make_problem(10, [], id="b"),
        make_problem(9, [], id="c"),
    ]
    profile = move_profile(rows(), problems)
    assert profile == {"+1": 4 / 7, "+3": 1 / 7, "+5": 2 / 7}


def test_category_table_shows_success_and_efficiency_per_method() -> None:
    table = category_table([Evaluated("m", rows(), 0.0)])
    lines = table.splitlines()
    assert lines[0] == "| category | problems | feasible | m |"
    assert "| x | 1 | 1 | 100.0 % / 0.500 |" in lines
    assert "| y | 2 | 2 | 50.0 % / 1.000 |" in lines
    assert lines[-1].startswith("| all | 3 | 3 | 66.7 %")
