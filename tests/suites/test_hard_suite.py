"""The hard-family generator: deterministic, labelled by the solver, each family what it says."""

from __future__ import annotations

from hrrl.solvers.numberline import solve
from hrrl.suites.builtin import builtin_suite
from hrrl.suites.hard import EXTRA_FAMILIES, FAMILIES, cruiser_fails, generate_hard

SMALL = {family: 3 for family in FAMILIES} | {"hard-1e6": 0}


def test_same_seed_same_problems_other_seed_other_problems() -> None:
    a, b = generate_hard(3, SMALL), generate_hard(3, SMALL)
    assert [p.to_json() for p in a] == [p.to_json() for p in b]
    c = generate_hard(4, SMALL)
    assert [p.to_json() for p in a] != [p.to_json() for p in c]


def test_labels_come_from_the_solver_and_families_hold_their_promise() -> None:
    problems = generate_hard(11, SMALL)
    assert {p.extra["category"] for p in problems} == set(FAMILIES) - {"hard-1e6"}
    for p in problems:
        verdict = solve(p)
        assert p.extra["feasible"] == verdict.feasible
        family = p.extra["category"]
        if family != "hard-infeasible":
            assert verdict.feasible, p.id
        if family == "hard-exact":
            assert p.max_steps == verdict.steps
        if family == "hard-reverse":
            assert (p.target < p.start and all(a < 0 for a in p.actions)) or not p.monotone
        if family == "hard-mixed":
            assert min(p.actions) < 0 < max(p.actions)
            forward = tuple(a for a in p.actions if a > 0)
            budget = 4 * (verdict.steps or 0)
            alone = solve(type(p)(p.target, p.forbidden, forward, p.start, budget))
            assert not alone.feasible or (alone.steps or 0) > (verdict.steps or 0)


def test_traps_defeat_a_largest_move_cruiser() -> None:
    """In every trap problem, always taking the largest move that lands safely fails."""
    traps = generate_hard(5, {f: 0 for f in FAMILIES} | {"hard-trap": 6})
    assert len(traps) == 6
    assert all(cruiser_fails(p) for p in traps)


def test_builtin_hard_suites() -> None:
    quick = builtin_suite("hard-quick", 0)
    assert {p.extra["category"] for p in quick} == set(FAMILIES)
    assert any(p.target == 1_000_000 or p.start == 1_000_000 for p in quick)


def test_gate_family_steps_back_early_and_changes_no_other_family() -> None:
    gates = generate_hard(5, {"hard-gate": 4}, families=("hard-gate",))
    assert len(gates) == 4
    for p in gates:
        assert min(p.actions) < 0 < max(p.actions) and p.extra["feasible"]
        verdict = solve(p)
        forward = tuple(a for a in p.actions if a > 0)
        alone = solve(type(p)(p.target, p.forbidden, forward, p.start, 4 * (verdict.steps or 0)))
        assert not alone.feasible or (alone.steps or 0) > (verdict.steps or 0)
        assert cruiser_fails(p)  # stepping back only when forced fails
    both = generate_hard(3, SMALL | {"hard-gate": 2}, families=FAMILIES + EXTRA_FAMILIES)
    others = [p for p in both if p.extra["category"] != "hard-gate"]
    assert [p.to_json() for p in others] == [p.to_json() for p in generate_hard(3, SMALL)]
