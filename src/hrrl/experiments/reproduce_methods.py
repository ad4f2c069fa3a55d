"""The methods ``hrrl reproduce`` compares, and the job that trains and evaluates one of them.

A job is :func:`run_method` (top-level and picklable, for process pools and Ray): it trains
``method`` with ``seed`` under the plan's budget, evaluates it on the given problems and returns a
JSON-ready record. Everything it does is a function of its arguments, so the same seed gives the
same rows wherever it runs (timings aside).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hrrl.evaluation import evaluate
from hrrl.policies import GreedyPolicy, NumberLinePolicy, RandomPolicy
from hrrl.problem import Problem


@dataclass(frozen=True)
class Budget:
    """How long each learner trains (one plan, every method)."""

    baseline_steps: int
    """Environment steps for every baseline learner (tabular, options, DQN, SB3 DQN)."""
    hrrl_episodes: int | None
    """Training episodes of HRRL and its ablations (``None``: the preset's own)."""
    hrrl_preset: str = "default"
    """HRRL preset given to ``get_config``."""
    pool_size: int = 200
    """Training problems per seed for the baselines (paper distribution)."""


@dataclass(frozen=True)
class Method:
    """One row of the comparison."""

    name: str
    """Key used in job names and raw results."""
    label: str
    """Name shown in tables and plots."""
    group: str
    """``hrrl``, ``ablation``, ``baseline`` or ``reference``."""
    deterministic: bool = False
    """Same result for every seed: run once."""
    ablation: tuple[tuple[str, Any], ...] = ()
    """HRRL config fields switched off (for ablations)."""


METHODS: tuple[Method, ...] = (
    Method("hrrl", "HRRL (ours)", "hrrl"),
    Method("tabular-q", "Tabular Q-learning", "baseline"),
    Method("dqn", "Standard DQN (raw state)", "baseline"),
    Method("sb3-dqn", "SB3 DQN (reference)", "baseline"),
    Method("options", "Options (SMDP Q)", "baseline"),
    Method("random", "Random policy", "reference"),
    Method("greedy", "Greedy rule", "reference", deterministic=True),
    Method("optimal", "Exact solver (upper bound)", "reference", deterministic=True),
    Method(
        "no-decomposition", "HRRL − decomposition", "ablation", ablation=(("decomposition", False),)
    ),
    Method(
        "no-relational",
        "HRRL − relational features",
        "ablation",
        ablation=(("relational_features", False),),
    ),
    Method("no-phase-heads", "HRRL − phase heads", "ablation", ablation=(("phase_heads", False),)),
    Method("no-curriculum", "HRRL − curriculum", "ablation", ablation=(("curriculum", False),)),
)
METHOD_BY_NAME = {m.name: m for m in METHODS}
BASELINE_NAMES = tuple(m.name for m in METHODS if m.group != "ablation")
ABLATION_NAMES = tuple(m.name for m in METHODS if m.group in ("hrrl", "ablation"))


@dataclass
class Trained:
    """A policy ready to evaluate (``None``: the exact solver) and what training cost."""

    policy: NumberLinePolicy | None
    training_time_s: float = 0.0
    train_env_steps: int = 0
    curve: dict[str, Any] = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------------------------ training
def _train_table(method: str, seed: int, budget: Budget, run_dir: Path) -> Trained:
    from hrrl.agents.baselines.option_q import NumberLineQConfig, TablePolicy, train_table

    del run_dir
    option_set: Literal["primitive", "options"] = (
        "primitive" if method == "tabular-q" else "options"
    )
    config = NumberLineQConfig(
        option_set=option_set, total_steps=budget.baseline_steps, pool_size=budget.pool_size
    )
    started = time.perf_counter()
    table = train_table(config, seed)
    elapsed = time.perf_counter() - started
    curve = {"x": table.curve["steps"], "success_rate": table.curve["success_rate"]}
    return Trained(TablePolicy(table, method, seed), elapsed, config.total_steps, curve)


def _train_dqn(method: str, seed: int, budget: Budget, run_dir: Path) -> Trained:
    from hrrl.agents.baselines.raw_dqn import QNetworkPolicy, RawDQNConfig, train_raw_dqn

    del method, run_dir
    config = RawDQNConfig(total_steps=budget.baseline_steps, pool_size=budget.pool_size)
    started = time.perf_counter()
    trained = train_raw_dqn(config, seed)
    elapsed = time.perf_counter() - started
    curve = {"x": trained.curve["steps"], "success_rate": trained.curve["success_rate"]}
    policy = QNetworkPolicy(trained.q_net, trained.feature_scale)
    return Trained(policy, elapsed, config.total_steps, curve)


def _train_sb3(method: str, seed: int, budget: Budget, run_dir: Path) -> Trained:
    from hrrl.agents.baselines.sb3 import SB3DQNConfig, SB3Policy, train_sb3_dqn

    del method, run_dir
    config = SB3DQNConfig(total_steps=budget.baseline_steps, pool_size=budget.pool_size)
    started = time.perf_counter()
    trained = train_sb3_dqn(config, seed)
    elapsed = time.perf_counter() - started
    curve = {"x": trained.curve["steps"], "success_rate": trained.curve["success_rate"]}
    return Trained(
        SB3Policy(trained.model, trained.feature_scale), elapsed, config.total_steps, curve
    )


def hrrl_config(method: Method, budget: Budget) -> Any:
    """The HRRL config of ``method``: the preset, the budget, and the ablation's switch."""
    from hrrl.agents.hrrl import get_config

    config = get_config(budget.hrrl_preset)
    changes: dict[str, Any] = dict(method.ablation)
    if budget.hrrl_episodes is not None:
        episodes = budget.hrrl_episodes
        changes.update(episodes=episodes, checkpoint_every=max(1, episodes // 10), eval_every=0)
    return dataclasses.replace(config, **changes)


def _train_hrrl(method: str, seed: int, budget: Budget, run_dir: Path) -> Trained:
    from hrrl.agents.hrrl import load_policy, train

    config = hrrl_config(METHOD_BY_NAME[method], budget)
    started = time.perf_counter()
    run = train(config, run_dir, seed=seed, resume=True, progress=False)
    elapsed = time.perf_counter() - started
    record = _read_json(run / "training.json")
    curve = _hrrl_curve(run / "metrics.jsonl")
    return Trained(
        load_policy(run),
        float(record.get("training_time_s", elapsed)),
        int(record.get("transitions", 0)),
        curve,
    )


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _hrrl_curve(metrics: Path) -> dict[str, Any]:
    """Training success rate against episodes, from the run's ``metrics.jsonl``."""
    if not metrics.is_file():
        return {}
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if "train/success_rate" in r]
    return {
        "x": [float(r["step"]) for r in rows],
        "success_rate": [float(r["train/success_rate"]) for r in rows],
        "unit": "episodes",
    }


def _untrained(method: str, seed: int, budget: Budget, run_dir: Path) -> Trained:
    del budget, run_dir
    policies: dict[str, Callable[[], NumberLinePolicy | None]] = {
        "random": lambda: RandomPolicy(seed=seed),
        "greedy": GreedyPolicy,
        "optimal": lambda: None,
    }
    return Trained(policies[method]())


Trainer = Callable[[str, int, Budget, Path], Trained]
TRAINERS: dict[str, Trainer] = {
    "tabular-q": _train_table,
    "options": _train_table,
    "dqn": _train_dqn,
    "sb3-dqn": _train_sb3,
    "random": _untrained,
    "greedy": _untrained,
    "optimal": _untrained,
}


def trainer_for(method: str) -> Trainer:
    group = METHOD_BY_NAME[method].group
    return _train_hrrl if group in ("hrrl", "ablation") else TRAINERS[method]


# ----------------------------------------------------------------------------------------- job
PATH_CATEGORIES = ("paper",)
"""Result rows keep their full path only in these categories (held-out paths are huge)."""


def run_method(
    method: str,
    seed: int,
    budget: dict[str, Any],
    problems: list[dict[str, Any]],
    run_dir: str,
) -> dict[str, Any]:
    """Train ``method`` with ``seed``, evaluate it on ``problems`` (SPEC JSON objects)."""
    trained = trainer_for(method)(method, seed, Budget(**budget), Path(run_dir))
    started = time.perf_counter()
    results = evaluate([Problem.from_json(obj) for obj in problems], trained.policy)
    evaluation_time = time.perf_counter() - started
    rows = [
        (r if r.category in PATH_CATEGORIES else dataclasses.replace(r, path=None)).to_json()
        for r in results
    ]
    return {
        "method": method,
        "seed": seed,
        "training_time_s": round(trained.training_time_s, 3),
        "train_env_steps": trained.train_env_steps,
        "evaluation_time_s": round(evaluation_time, 3),
        "curve": trained.curve,
        "rows": rows,
    }
