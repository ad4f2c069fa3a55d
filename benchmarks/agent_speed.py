"""HRRL v2 speed: manager decisions per second, and the 10^6-dense rollout beside the solver.

For ``v2`` the value network is trained briefly with seed 0 (its search speed does not depend on
how long it was trained: the manager's ordering is ``g + lb`` and the network is evaluated once per
position). The budgeted preset orders its lookahead by the learned values, so its network is
trained as ``hrrl train --config v2-budgeted-expectile`` trains it (seed 0)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.config import get_config
from hrrl.agents.hrrl.manager import ManagerConfig, ManagerPolicy
from hrrl.agents.hrrl.v2 import manager_config, value_config
from hrrl.evaluation import evaluate, rollout
from hrrl.solvers.numberline import solve
from hrrl.suites.hard import EXTRA_FAMILIES, FAMILIES, generate_hard

from .timing import best_time

BUDGETED = "v2-budgeted-expectile"
"""The budgeted preset of docs/HARD.md (expectile values, tree reuse, 128 pops per decision)."""
HARD_SUITE_SEED = 2026
"""The suite docs/HARD.md reports on (every family, the gate family included)."""


@dataclass(frozen=True)
class AgentTiming:
    what: str
    problems: int
    decisions: int
    moves: int
    agent_s: float
    solver_s: float


def _policy(weight: float) -> ManagerPolicy:
    net, _ = V.train_value(dataclasses.replace(V.ValueConfig(), iterations=200), seed=0)
    return ManagerPolicy(net=V.NumpyValue(net.state_dict()), config=ManagerConfig(weight=weight))


def _budgeted(preset: str) -> tuple[ManagerPolicy, ManagerPolicy]:
    """The preset's policy and its uniform twin (same manager, free-line bound as values)."""
    config = get_config(preset)
    net, _ = V.train_value(value_config(config), seed=0)
    values = V.NumpyValue(net.state_dict())
    return (
        ManagerPolicy(net=values, config=manager_config(config)),
        ManagerPolicy(net=values, config=manager_config(config, weight=0.0)),
    )


def measure() -> list[AgentTiming]:
    rows = []
    policy = _policy(1.0)
    uniform = _policy(0.0)
    counts = {f: 10 for f in FAMILIES} | {"hard-1e6": 0, "hard-infeasible": 0}
    suite = generate_hard(0, counts)
    million = generate_hard(0, {f: 0 for f in FAMILIES} | {"hard-1e6": 2})
    budgeted, budgeted_uniform = _budgeted(BUDGETED)
    for name, pol in (
        ("v2", policy),
        ("v2 uniform", uniform),
        (BUDGETED, budgeted),
        (f"{BUDGETED} uniform", budgeted_uniform),
    ):
        for label, problems in (
            ("hard suite (no 10^6), 50 problems", suite),
            ("10^6 dense, 2 problems", million),
        ):
            pol.stats.clear()
            started = time.perf_counter()
            outcomes = rollout(problems, pol)
            agent = time.perf_counter() - started
            solver = sum(best_time(lambda p=p: solve(p), repeats=1) for p in problems)
            decisions = sum(s.decisions for s in pol.stats.values())
            moves = sum(len(o.path) - 1 for o in outcomes)
            rows.append(
                AgentTiming(f"{name}: {label}", len(problems), decisions, moves, agent, solver)
            )
    rows.append(_whole_suite(budgeted))
    return rows


def _whole_suite(policy: ManagerPolicy) -> AgentTiming:
    """Issue #10's "the whole hard suite evaluates in ≤ 60 s": ``evaluate`` on docs/HARD.md's
    suite (every family, infeasible ones included), the solver's labels included in the time."""
    problems = generate_hard(HARD_SUITE_SEED, None, FAMILIES + EXTRA_FAMILIES)
    policy.stats.clear()
    started = time.perf_counter()
    rows = evaluate(problems, policy)
    agent = time.perf_counter() - started
    solver = sum(best_time(lambda p=p: solve(p), repeats=1) for p in problems)
    return AgentTiming(
        f"{BUDGETED}: whole hard suite of docs/HARD.md (seed {HARD_SUITE_SEED}), evaluate() "
        "with the solver's labels",
        len(problems),
        sum(s.decisions for s in policy.stats.values()),
        sum(r.steps or 0 for r in rows if r.status == "solved"),
        agent,
        solver,
    )
