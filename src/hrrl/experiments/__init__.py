"""Experiments behind ``hrrl experiment NAME``.

Every module in this package that defines a module-level ``EXPERIMENT`` (an
:class:`~hrrl.experiments.base.Experiment`) is registered under its name: adding an experiment is
adding a module, nothing else to edit.
"""

from __future__ import annotations

import importlib
import pkgutil

from hrrl.experiments.base import Experiment, ExperimentContext

__all__ = ["Experiment", "ExperimentContext", "get_experiment", "list_experiments"]


def list_experiments() -> dict[str, Experiment]:
    """Every registered experiment, by name, sorted."""
    found: dict[str, Experiment] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        experiment = getattr(module, "EXPERIMENT", None)
        if isinstance(experiment, Experiment):
            found[experiment.name] = experiment
    return dict(sorted(found.items()))


def get_experiment(name: str) -> Experiment:
    from hrrl.errors import InputError

    experiments = list_experiments()
    if name not in experiments:
        known = ", ".join(experiments) or "none"
        raise InputError(f"unknown experiment {name!r}; known: {known}")
    return experiments[name]
