"""HRRL v2: the learned cost-to-go (value.py) and the manager/worker (manager.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.config import get_config
from hrrl.agents.hrrl.manager import (
    ManagerConfig,
    ManagerPolicy,
    WalkerPolicy,
    _Field,
    _reroot,
    plan,
    plan_budgeted,
    subgoals,
)
from hrrl.agents.hrrl.v2 import load_policy, train_v2
from hrrl.problem import make_problem
from hrrl.solvers.checker import check_path
from hrrl.solvers.numberline import solve

TINY = V.ValueConfig(hidden=16, iterations=30, batch_size=32)


@pytest.fixture(scope="module")
def tiny_net() -> V.NumpyValue:
    net, _ = V.train_value(TINY, seed=0)
    return V.NumpyValue(net.state_dict())


def test_window_lb_is_the_free_line_distance() -> None:
    lb = V.window_lb((1, 3, 5))
    d = np.arange(V.WIDTH) - V.BEHIND
    assert lb[d == 0][0] == 0 and lb[d == 5][0] == 1 and lb[d == 2][0] == 2
    assert np.isinf(lb[d < 0]).all()  # forward moves never go back
    assert V.window_lb((-1, 3))[d == -2][0] == 2


def test_td_targets_follow_the_bellman_equation() -> None:
    """A hand-made field: moves {1, 3}, cell +1 forbidden; the successor values are exact."""
    moves = np.array([[1, 3, 0, 0]])
    field = np.zeros((1, 2 * V.PAD + V.WIDTH), dtype=bool)
    field[0, V.PAD + V.BEHIND + 1] = True
    succ = np.full((1, 4, V.WIDTH), 7.0, dtype=np.float32)
    succ[0, 1, V.BEHIND] = 0.0  # the landing of +3 is the goal d = 3
    goal, mask = V.td_targets(field, moves, succ)
    assert goal[0, V.BEHIND] == 0.0
    assert goal[0, V.BEHIND + 3] == 1.0
    assert goal[0, V.BEHIND + 5] == 8.0  # via +3 (the +1 landing is forbidden)
    assert goal[0, V.BEHIND - 1] == V.CAP  # behind, forward moves only
    assert not mask[0, V.BEHIND + 1]  # a forbidden goal is never trained


def test_value_training_is_deterministic_under_a_seed() -> None:
    a, _ = V.train_value(TINY, seed=3)
    b, _ = V.train_value(TINY, seed=3)
    c, _ = V.train_value(TINY, seed=4)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
    assert any(not torch.equal(v, c.state_dict()[k]) for k, v in a.state_dict().items())


def test_v2_run_saves_and_loads_without_pickle(tmp_path) -> None:
    config = dataclasses.replace(get_config("v2"), value_iterations=20, value_hidden=16)
    run = train_v2(config, tmp_path / "run", seed=1)
    assert (run / "model.safetensors").is_file() and (run / "state.json").is_file()
    policy = load_policy(run)
    problem = make_problem(278, [51, 102, 177, 203, 234])
    path, _stats = policy.solve(problem)
    assert path is not None and check_path(problem, path)
    assert len(path) - 1 == solve(problem).steps
    from hrrl.agents.registry import load_policy as registry_load

    assert isinstance(registry_load(run), ManagerPolicy)


def _drawn_problem(
    target: int, forbidden: list[int], actions: tuple[int, ...], budget: str | None, reverse: bool
) -> tuple[Any, Any] | None:
    """The hypothesis-drawn problem (mirrored when ``reverse``; step budget = the optimum, or one
    short of it) and its exact verdict; None when the budget would be under one step."""
    forbidden = [f for f in set(forbidden) if f != target]
    problem = make_problem(target, forbidden, actions)
    if reverse:
        problem = make_problem(
            0, [target - f for f in forbidden], tuple(-a for a in actions), start=target
        )
    verdict = solve(problem)
    if budget is not None and verdict.unbudgeted_steps:
        steps = verdict.unbudgeted_steps - (1 if budget == "optimal-1" else 0)
        if steps < 1:
            return None
        problem = dataclasses.replace(problem, max_steps=steps)
        verdict = solve(problem)
    return problem, verdict


@settings(max_examples=60, deadline=None)
@given(
    st.integers(5, 300),
    st.lists(st.integers(1, 299), max_size=60),
    st.sampled_from([(1, 3, 5), (2, 7), (-1, 3, 5), (-2, 5), (1, 4, 6)]),
    st.sampled_from([None, "optimal", "optimal-1"]),
    st.booleans(),
)
def test_manager_is_optimal_and_never_claims_the_impossible(
    tiny_net, target, forbidden, actions, budget, reverse
) -> None:
    drawn = _drawn_problem(target, forbidden, actions, budget, reverse)
    if drawn is None:
        return
    problem, verdict = drawn
    for weight in (1.0, 0.0):
        path, stats = plan(problem, tiny_net, ManagerConfig(weight=weight))
        if verdict.feasible:
            assert path is not None and check_path(problem, path)
            assert len(path) - 1 == verdict.steps  # admissible ordering: optimal
        else:
            assert path is None and stats.exhausted


def test_worker_reaches_every_subgoal_and_the_policy_is_deterministic(tiny_net) -> None:
    problem = make_problem(900, [*list(range(100, 800, 7)), 401, 402], (1, 3, 5))
    policy = ManagerPolicy(net=tiny_net)
    path, stats = policy.solve(problem)
    again, _ = ManagerPolicy(net=tiny_net).solve(problem)
    assert path == again and path is not None and check_path(problem, path)
    assert stats.subgoals[-1] == 900 and stats.worker_fallbacks == 0
    assert all(g in path for g in stats.subgoals)
    plan_path, _ = plan(problem, tiny_net, ManagerConfig())
    assert plan_path is not None
    assert len(path) == len(plan_path)


def test_subgoals_mark_every_change_of_move_and_the_spacing() -> None:
    path = [0, 5, 10, 15, 16, 21, 26, 31, 36, 41]
    goals = subgoals(path, spacing=12)
    assert goals[-1] == len(path) - 1
    assert 3 in goals and 4 in goals  # the move changes at 15 and back at 16
    assert all(path[b] - path[a] <= 12 for a, b in zip([0, *goals], goals, strict=False))


def test_flat_and_paper_walkers_give_valid_trajectories(tiny_net) -> None:
    problem = make_problem(278, [51, 102, 177, 203, 234])
    for walker in (WalkerPolicy(tiny_net), WalkerPolicy(tiny_net, waypoints="paper")):
        path, _ = walker.solve(problem)
        assert path[0] == 0 and all(x not in problem.forbidden for x in path)


def test_solve_plot_writes_a_png_with_zoomed_windows_for_long_problems(tmp_path) -> None:
    from hrrl.agents.hrrl.plot import _windows
    from hrrl.cli import main

    out = tmp_path / "p.png"
    assert main(["solve", "--target", "278", "--forbidden", "51,102,177", "--plot", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    problem = make_problem(5000, [100, 2000, 2001])
    path = solve(problem).path
    assert path is not None
    windows = _windows(problem, list(path))
    assert 1 <= len(windows) <= 4 and all(b - a <= 130 for a, b in windows)


# ---- the budgeted (receding-horizon) manager --------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    st.integers(5, 300),
    st.lists(st.integers(1, 299), max_size=80),
    st.sampled_from([(1, 3, 5), (2, 7), (-1, 3, 5), (-2, 5), (1, 4, 6)]),
    st.sampled_from([None, "optimal", "optimal-1"]),
    st.booleans(),
    st.sampled_from([4, 16, 64]),
)
def test_budgeted_manager_respects_its_budget_and_never_claims_the_impossible(
    tiny_net, target, forbidden, actions, budget, reverse, per_decision
) -> None:
    drawn = _drawn_problem(target, forbidden, actions, budget, reverse)
    if drawn is None:
        return
    problem, verdict = drawn
    for weight, reuse in ((1.0, False), (0.0, False), (1.0, True), (0.0, True)):
        config = ManagerConfig(
            weight=weight, decision_expansions=per_decision, reuse=reuse, commit=0.25 + reuse / 4
        )
        path, stats, _ = plan_budgeted(problem, tiny_net, config)
        assert stats.max_decision_expansions <= per_decision
        assert stats.manager_expansions <= per_decision * stats.decisions
        if verdict.feasible:  # the budgeted path, or the exhaustive fallback's
            assert path is not None and check_path(problem, path)
            assert len(path) - 1 >= (verdict.steps or 0)
            if not stats.fallback:
                assert stats.certify_expansions == 0
        else:
            assert path is None and stats.fallback and stats.certify_expansions >= 0
        policy_path, _ = ManagerPolicy(net=tiny_net, config=config).solve(problem)
        assert (policy_path is None) == (not verdict.feasible)
        if policy_path is not None:
            assert check_path(problem, policy_path)


@pytest.mark.parametrize("reuse", [False, True])
def test_budgeted_uniform_manager_with_an_ample_budget_is_optimal(tiny_net, reuse) -> None:
    """One decision that reaches the target is A* on the consistent bound: optimal."""
    rng = np.random.default_rng(5)
    for actions in [(1, 3, 5), (-2, 5), (2, 7)]:
        for _ in range(5):
            target = int(rng.integers(50, 400))
            forbidden = [int(f) for f in rng.integers(1, target, size=target // 6)]
            problem = make_problem(target, [f for f in forbidden if f != target], actions)
            verdict = solve(problem)
            config = ManagerConfig(weight=0.0, decision_expansions=1_000_000, reuse=reuse)
            path, stats, _ = plan_budgeted(problem, tiny_net, config)
            if verdict.feasible:
                assert path is not None and len(path) - 1 == verdict.steps
                assert stats.decisions == 1 and not stats.fallback
            else:
                assert path is None


def test_budgeted_manager_is_deterministic_and_saved_with_the_run(tmp_path) -> None:
    config = dataclasses.replace(
        get_config("v2"), value_iterations=20, value_hidden=16, manager_budget=8
    )
    run = train_v2(config, tmp_path / "run", seed=2)
    problem = make_problem(900, [*list(range(100, 800, 7)), 401, 402], (1, 3, 5))
    first = load_policy(run)
    assert first.config.decision_expansions == 8
    path, stats = first.solve(problem)
    again, stats2 = load_policy(run).solve(problem)
    assert path == again and path is not None and check_path(problem, path)
    assert stats.manager_expansions == stats2.manager_expansions
    assert stats.subgoals == stats2.subgoals and stats.decisions > 1
    assert stats.max_decision_expansions <= 8


def test_reroot_keeps_the_subtree_below_the_subgoal_with_shifted_depths() -> None:
    """Tree 0 → {3, 5}, 3 → {6, 8}, 5 → {10}, 8 → {11}; re-rooted at 3 (committed path 0, 3)."""
    parent = {3: 0, 5: 0, 6: 3, 8: 3, 10: 5, 11: 8}
    g = {0: 0, 3: 1, 5: 1, 6: 2, 8: 2, 10: 2, 11: 3}
    closed = {0, 3, 5, 8}
    heap = [(12.0, -2, 6), (11.0, -2, 10), (13.0, -3, 11), (14.0, -1, 5)]  # (5, -1): stale
    g2, parent2, closed2, heap2 = _reroot(3, g, parent, closed, heap, on_path={0, 3})
    assert g2 == {3: 0, 6: 1, 8: 1, 11: 2}
    assert parent2 == {6: 3, 8: 3, 11: 8}
    assert closed2 == {3, 8}
    assert sorted(heap2) == [(11.0, -1, 6), (12.0, -2, 11)]  # f and g shifted by g(3) = 1
    for k, depth in g2.items():  # every kept g is the length of its chain to the new root
        steps, j = 0, k
        while j != 3:
            j, steps = parent2[j], steps + 1
        assert steps == depth


def test_learned_h_is_the_bound_plus_a_non_negative_learned_excess(tiny_net) -> None:
    """h >= lb everywhere (the network's excess is clipped at 0), h == lb without learned
    terms, and the bound never exceeds the exact distance (checked against the solver)."""
    problem = make_problem(400, [*range(40, 300, 6), 77, 131], (1, 3, 5))
    learned = _Field(problem, tiny_net, 1.0)
    uniform = _Field(problem, tiny_net, 0.0)
    for x in range(0, 400, 7):
        if learned.is_dead(x):
            continue
        assert learned.h_at(x) >= learned.lb_at(x)
        assert uniform.h_at(x) == uniform.lb_at(x)
        verdict = solve(dataclasses.replace(problem, start=x, max_steps=10_000))
        if verdict.feasible:
            assert learned.lb_at(x) <= (verdict.steps or 0)


def test_a_low_expectile_fit_sits_below_the_squared_error_fit() -> None:
    """Same seed, same training fields: fitting the 0.1-expectile of the Bellman targets gives a
    smaller learned excess (over the free-line bound) than fitting their mean."""
    rng = np.random.default_rng(0)
    moves = V._move_sets(rng, 512)
    field = V._fields(rng, moves)
    x = V.inputs(V._windows(field, np.zeros(len(moves), dtype=np.int64)), V._onehots(moves))
    means = {}
    for tau in (0.5, 0.1):
        net, _ = V.train_value(dataclasses.replace(TINY, iterations=60, expectile=tau), seed=0)
        means[tau] = float(V.NumpyValue(net.state_dict())(x).mean())
    assert means[0.1] < means[0.5]


def test_the_expectile_preset_trains_and_plans_deterministically(tmp_path) -> None:
    preset = get_config("v2-budgeted-expectile")
    assert preset.value_expectile == 0.1 and preset.manager_reuse and preset.manager_budget
    config = dataclasses.replace(preset, value_iterations=20, value_hidden=16, manager_budget=8)
    run = train_v2(config, tmp_path / "run", seed=2)
    policy = load_policy(run)
    assert policy.config.reuse and policy.config.commit == 0.25
    problem = make_problem(900, [*list(range(100, 800, 7)), 401, 402], (1, 3, 5))
    path, stats = policy.solve(problem)
    again, stats2 = load_policy(run).solve(problem)
    assert path == again and path is not None and check_path(problem, path)
    assert stats.manager_expansions == stats2.manager_expansions
    assert stats.max_decision_expansions <= 8 and stats.decisions > 1


def _mirror(problem: Any) -> Any:
    return make_problem(
        target=-problem.target,
        forbidden=[-f for f in problem.forbidden],
        actions=[-a for a in problem.actions],
        start=-problem.start,
        max_steps=problem.max_steps,
    )


@pytest.mark.parametrize("actions", [(1, 3, 5), (-1, 3, 5)])
def test_learned_heuristic_is_mirror_symmetric(actions) -> None:
    """A reverse problem (target < start, negated moves) is its forward mirror image: the
    field's excess per move and every learned estimate must be the mirror's. (Before the fix,
    reverse problems used the forward free line and got no excess per move at all.) The
    network is random with a positive output bias, so its excess depends on the window and is
    rarely 0."""
    torch.manual_seed(0)
    module = V.ValueNet(16)
    with torch.no_grad():
        module.body[4].bias += 2.0
    tiny_net = V.NumpyValue(module.state_dict())
    rng = np.random.default_rng(3)
    forbidden = [int(x) for x in np.flatnonzero(rng.random(900) < 0.12) if 0 < x < 900]
    forward = make_problem(target=900, forbidden=forbidden, actions=actions, max_steps=600)
    reverse = _mirror(forward)
    f, r = _Field(forward, tiny_net, 1.0), _Field(reverse, tiny_net, 1.0)
    assert f.rho > 0  # the check below would be vacuous with no excess per move
    assert r.rho == pytest.approx(f.rho)
    free = [x for x in range(0, 900, 7) if x not in forward.forbidden]
    assert [r.h_at(-x) for x in free] == pytest.approx([f.h_at(x) for x in free])
