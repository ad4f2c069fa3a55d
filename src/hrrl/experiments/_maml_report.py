"""Report pieces of the MAML experiments (``maml-nav2d``, ``maml-nav2d-wide``, ``pearl-nav2d``):
method labels, the published numbers they are compared with, tables and plots (the sections of
fixed text and claim checks: :mod:`hrrl.experiments._maml_sections`)."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hrrl.core.report import markdown_table, new_figure, save_figure
from hrrl.core.stats import mean_ci

if TYPE_CHECKING:
    pass

METHOD_LABELS = {
    "maml": "MAML",
    "fomaml": "FOMAML",
    "reptile": "Reptile",
    "anil": "ANIL",
    "pretrained": "pretrained (multi-task)",
    "random": "random init",
}


META_TRAINED = ("maml", "fomaml", "reptile", "anil")


GRADIENT_META = ("maml", "fomaml", "anil")
"""Methods trained by :func:`~hrrl.agents.maml.train_maml` (a meta-gradient through the inner
step); Reptile has its own outer step."""


PAPER_MAML = (-40.41, -11.68, -3.33, -3.23)
"""MAML's average return after 0–3 steps on 2-D navigation: Finn et al. (2017), Table 4."""


SURVEY_FOMAML_SPEEDUP = 10.0
"""Seed 001 line 173: "FOMAML performance close to MAML, but computation 10x faster"; line 1423:
"FOMAML performance close to MAML (loss <5%), but 10x faster computation"."""


SURVEY_FOMAML_LOSS_PCT = 5.0


def median_or_nan(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def returns_ci(runs: Sequence[dict[str, Any]], kind: str, step: int) -> Any:
    """Mean ± 95 % CI over seeds of the return after ``step`` adaptation steps."""
    return mean_ci([run["returns"][kind][step] for run in runs])


def plot_adaptation(
    by_method: dict[str, list[dict[str, Any]]], kind: str, steps: int, path: Any
) -> None:
    """Return vs number of adaptation steps, one line per method, 95 % CI band over seeds."""
    fig, ax = new_figure()
    xs = np.arange(steps + 1)
    for method, runs in by_method.items():
        cis = [returns_ci(runs, kind, int(s)) for s in xs]
        means = np.array([c.mean for c in cis])
        half = np.nan_to_num(np.array([c.half_width for c in cis]))
        ax.plot(xs, means, marker="o", label=METHOD_LABELS[method])
        ax.fill_between(xs, means - half, means + half, alpha=0.2)
    ax.set_xlabel("policy-gradient adaptation steps")
    ax.set_ylabel(f"average return (reward = -{kind.replace('_', ' ')})")
    ax.set_xticks(xs)
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def plot_training(by_method: dict[str, list[dict[str, Any]]], path: Any) -> None:
    """Mean training-batch return per iteration (post-update for MAML/FOMAML)."""
    fig, ax = new_figure()
    for method, runs in by_method.items():
        key = "post_return_curve" if method in META_TRAINED else "pre_return_curve"
        curves = [r[key] for r in runs if r[key]]
        if not curves:
            continue
        curve = np.mean(np.array(curves), axis=0)
        suffix = " (after 1 step)" if key == "post_return_curve" else " (no adaptation)"
        ax.plot(np.arange(1, len(curve) + 1), curve, label=METHOD_LABELS[method] + suffix)
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel("mean training return (reward = -distance)")
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def adaptation_table(
    by_method: dict[str, list[dict[str, Any]]],
    steps: int,
    kinds: Sequence[str],
    claims: Mapping[str, Sequence[str]],
    no_claim: str = "see paper",
) -> str:
    """Rows method × steps; our mean ± 95 % CI per reward kind and the claim beside them
    (``no_claim`` where a method has none)."""
    headers = [
        "Method",
        "Steps",
        *[f"Ours, reward -{k.replace('_', ' ')}" for k in kinds],
        "Claimed",
    ]
    rows = []
    for method, runs in by_method.items():
        claim = claims.get(method, [no_claim] * (steps + 1))
        for step in range(steps + 1):
            ours = [returns_ci(runs, k, step).format(2) for k in kinds]
            rows.append([METHOD_LABELS[method], step, *ours, claim[step]])
    return markdown_table(headers, rows)


def timing_table(by_method: dict[str, list[dict[str, Any]]]) -> tuple[str, dict[str, float]]:
    """Meta-learners' wall time per iteration and return after 1 step, and each one's time
    relative to MAML (per-seed ratios); returns (table, mean time ratio per method)."""
    methods = [m for m in META_TRAINED if m in by_method]
    rows = []
    for method in methods:
        runs = by_method[method]
        rows.append(
            [
                METHOD_LABELS[method],
                mean_ci([r["median_iteration_s"] for r in runs]).format(3),
                mean_ci([r["median_update_s"] for r in runs]).format(3),
                returns_ci(runs, "distance", 1).format(2),
            ]
        )
    ratios: dict[str, float] = {}
    for method in methods:
        if method == "maml":
            continue
        per_seed = [
            f["median_iteration_s"] / m["median_iteration_s"]
            for m, f in zip(by_method["maml"], by_method[method], strict=True)
        ]
        update = [
            f["median_update_s"] / m["median_update_s"]
            for m, f in zip(by_method["maml"], by_method[method], strict=True)
        ]
        rows.append(
            [
                f"{METHOD_LABELS[method]} / MAML",
                mean_ci(per_seed).format(3),
                mean_ci(update).format(3),
                "",
            ]
        )
        ratios[method] = mean_ci(per_seed).mean
    headers = [
        "Method",
        "s / meta-iteration (median)",
        "s / adaptation + meta-update (median)",
        "Return after 1 step (-distance)",
    ]
    return markdown_table(headers, rows), ratios
