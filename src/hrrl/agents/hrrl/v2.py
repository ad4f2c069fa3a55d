"""HRRL v2 runs: train the manager's cost-to-go network, save it (safetensors + JSON), load it.

A v2 run directory holds ``model.safetensors`` (the value network), ``state.json`` (config, seed,
timings, ``"loader"`` naming :func:`load_policy`; the run's only copy of its config) and
``training.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hrrl.agents.hrrl import value as V
from hrrl.agents.hrrl.config import HRRLConfig, config_from_dict
from hrrl.agents.hrrl.manager import ManagerConfig, ManagerPolicy
from hrrl.core.atomic import atomic_write_json
from hrrl.core.checkpoint import load_checkpoint, save_checkpoint
from hrrl.errors import InputError

LOADER = "hrrl.agents.hrrl.v2:load_policy"


def value_config(config: HRRLConfig) -> V.ValueConfig:
    return V.ValueConfig(
        hidden=config.value_hidden,
        iterations=config.value_iterations,
        expectile=config.value_expectile,
    )


def manager_config(config: HRRLConfig, **overrides: Any) -> ManagerConfig:
    fields: dict[str, Any] = {
        "weight": config.manager_weight,
        "spacing": config.manager_spacing,
        "decision_expansions": config.manager_budget,
        "commit": config.manager_commit,
        "reuse": config.manager_reuse,
    }
    return ManagerConfig(**{**fields, **overrides})


def train_v2(config: HRRLConfig, out: Path, *, seed: int = 0) -> Path:
    """Train the cost-to-go network (deterministic in ``seed``) and write the run dir."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log: list[dict[str, float]] = []
    net, timing = V.train_value(value_config(config), seed, log=log)
    state = {
        "agent": "hrrl",
        "version": 2,
        "loader": LOADER,
        "config": config.to_json(),
        "seed": seed,
        "finished": True,
        "training_time_s": timing["value_training_time_s"],
        "training_cpu_s": timing["value_training_cpu_s"],
        "log": log,
    }
    save_checkpoint(out, {"value": net.state_dict()}, state)
    atomic_write_json(
        out / "training.json",
        {
            "training_time_s": timing["value_training_time_s"],
            "training_cpu_s": timing["value_training_cpu_s"],
            "final_loss": timing["value_final_loss"],
            "iterations": config.value_iterations,
        },
    )
    return out


def load_value(path: Path) -> tuple[V.NumpyValue, HRRLConfig]:
    folder = path.parent if path.is_file() else path
    try:
        groups, state = load_checkpoint(folder)
    except FileNotFoundError:
        raise InputError(f"no HRRL checkpoint in {path}") from None
    if state.get("loader") != LOADER or "value" not in groups:
        raise InputError(f"{path} does not hold an HRRL v2 run")
    config = config_from_dict(state["config"])
    return V.NumpyValue(groups["value"]), config


def load_policy(path: Path, *, mask: bool = False, **overrides: Any) -> ManagerPolicy:
    """The v2 policy (manager + worker) of a run dir; ``overrides`` change ``ManagerConfig``."""
    del mask
    net, config = load_value(Path(path))
    return ManagerPolicy(net=net, config=manager_config(config, **overrides))
