import pytest

from hrrl.errors import InputError
from hrrl.problem import Problem, default_max_steps, make_problem


def test_default_budget_matches_the_papers_example():
    assert default_max_steps(0, 278, (1, 3, 5)) == 122
    assert make_problem(278, [51]).max_steps == 122


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": "x"}, "target must be an integer"),
        ({"target": 5.5}, "target must be an integer"),
        ({"target": True}, "target must be an integer"),
        ({"target": 5, "forbidden": [5]}, "target 5 is in the forbidden set"),
        ({"target": 5, "forbidden": [0]}, "start 0 is in the forbidden set"),
        ({"target": 5, "actions": []}, "actions must not be empty"),
        ({"target": 5, "actions": [0, 1]}, "non-zero"),
        ({"target": 5, "actions": [1, 1]}, "distinct"),
        ({"target": 5, "max_steps": 0}, "at least 1"),
        ({"target": 5, "max_steps": -3}, "at least 1"),
        ({"target": 0}, "nothing to solve"),
        ({"target": 10**12}, "beyond the supported range"),
        ({"target": 5, "forbidden": "1,2"}, "list of integers"),
    ],
)
def test_invalid_problems_are_rejected_with_a_reason(kwargs, message):
    with pytest.raises(InputError, match=message):
        make_problem(**kwargs)


def test_json_round_trip_keeps_extra_keys():
    row = {"id": "p", "target": 30, "forbidden": [7, 3], "actions": [1, 3, 5], "category": "c"}
    problem = Problem.from_json(row)
    assert problem.forbidden == frozenset({3, 7})
    assert problem.category == "c"
    again = Problem.from_json(problem.to_json())
    assert again == problem
    assert again.to_json()["forbidden"] == [3, 7]


def test_from_json_requires_target_and_forbidden():
    with pytest.raises(InputError, match="'forbidden'"):
        Problem.from_json({"id": "p", "target": 3})
    with pytest.raises(InputError, match="'target'"):
        Problem.from_json({"id": "p", "forbidden": []})


def test_monotone_and_gap():
    assert make_problem(10, actions=[1, 3]).monotone
    assert make_problem(-10, actions=[-1, -3]).monotone
    assert not make_problem(10, actions=[-1, 3]).monotone
    assert make_problem(-10, start=5, actions=[-1]).gap == 15
