"""The result of one problem (``shared/SPEC.md``'s result row) and the one summary over rows.

:class:`ResultRow` is what crosses module boundaries: :func:`hrrl.evaluation.evaluate` returns it,
problem files turn their invalid lines into ``error`` rows where they are parsed
(:meth:`hrrl.suites.jsonl.ParsedLine.as_input`), reports read its typed fields, and
:meth:`ResultRow.to_json` writes the SPEC's JSON object (:meth:`ResultRow.from_json` reads it back,
e.g. from a cached job). :func:`summarize` is the only place success rate, efficiency and mean
steps are computed.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

Status = Literal["solved", "failed", "infeasible", "error"]
STATUSES: tuple[Status, ...] = ("solved", "failed", "infeasible", "error")
ROW_KEYS = ("id", "status", "steps", "path", "optimal_steps", "reason", "elapsed_s")
"""The SPEC's keys, in the order rows are written."""
PROBLEM_KEYS = frozenset({"target", "forbidden", "actions", "max_steps", "start"})
"""Keys of a problem line that are *not* copied to its result row (the row has the outcome)."""


@dataclass(frozen=True)
class ResultRow:
    """One problem's outcome; ``extra`` holds the problem line's other keys (e.g. ``category``)."""

    id: str
    status: Status
    steps: int | None = None
    """Length of the path taken (None when nothing ran)."""
    path: tuple[int, ...] | None = None
    """Positions visited, start first (None when nothing ran, or dropped to save space)."""
    optimal_steps: int | None = None
    """The exact solver's optimum (None when infeasible or invalid)."""
    reason: str | None = None
    """Why the row is failed, infeasible or an error, in words."""
    elapsed_s: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        object.__setattr__(self, "elapsed_s", round(float(self.elapsed_s), 6))
        if self.path is not None and not isinstance(self.path, tuple):
            object.__setattr__(self, "path", tuple(self.path))
        object.__setattr__(
            self,
            "extra",
            {k: v for k, v in self.extra.items() if k not in ROW_KEYS and k not in PROBLEM_KEYS},
        )

    @classmethod
    def invalid(cls, id: str, reason: str, raw: Mapping[str, Any] | None = None) -> ResultRow:
        """The ``error`` row of an input that could not be read as a problem."""
        return cls(id=id, status="error", reason=reason, extra=dict(raw or {}))

    @property
    def solved(self) -> bool:
        return self.status == "solved"

    @property
    def feasible(self) -> bool:
        """The solver proved a path exists (the row was rolled out: solved or failed)."""
        return self.status in ("solved", "failed")

    @property
    def category(self) -> str:
        return str(self.extra.get("category") or "")

    @property
    def efficiency(self) -> float | None:
        """optimal / steps of a solved row (None otherwise)."""
        if not self.solved or not self.steps or self.optimal_steps is None:
            return None
        return self.optimal_steps / self.steps

    def to_json(self) -> dict[str, Any]:
        """The SPEC result row: its keys in order, then the problem line's other keys."""
        row: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "steps": self.steps,
            "path": list(self.path) if self.path is not None else None,
            "optimal_steps": self.optimal_steps,
            "reason": self.reason,
            "elapsed_s": self.elapsed_s,
        }
        row.update(self.extra)
        return row

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ResultRow:
        """Read a row :meth:`to_json` wrote."""
        path = obj.get("path")
        return cls(
            id=str(obj["id"]),
            status=cast(Status, obj["status"]),
            steps=obj.get("steps"),
            path=tuple(path) if path is not None else None,
            optimal_steps=obj.get("optimal_steps"),
            reason=obj.get("reason"),
            elapsed_s=float(obj.get("elapsed_s") or 0.0),
            extra={k: v for k, v in obj.items() if k not in ROW_KEYS},
        )


@dataclass(frozen=True)
class CategorySummary:
    category: str
    problems: int
    feasible: int
    solved: int
    infeasible: int
    errors: int
    mean_efficiency: float
    """Mean of optimal_steps / steps over solved problems (nan when none solved)."""
    mean_steps: float
    """Mean steps over solved problems (nan when none solved)."""

    @property
    def success_rate(self) -> float:
        """Solved / feasible (nan without feasible problems)."""
        return self.solved / self.feasible if self.feasible else float("nan")


def success_cell(
    summary: CategorySummary | None, percent_digits: int = 1, efficiency_digits: int = 3
) -> str:
    """The one table cell for a method on a category: ``"success % / mean optimal÷steps"``
    (``—`` without feasible problems; the efficiency ``—`` when nothing was solved)."""
    if summary is None or summary.feasible == 0:
        return "—"
    efficiency = "—" if summary.solved == 0 else f"{summary.mean_efficiency:.{efficiency_digits}f}"
    return f"{100 * summary.success_rate:.{percent_digits}f} % / {efficiency}"


def summarize(rows: Sequence[ResultRow]) -> list[CategorySummary]:
    """Per-category summary (``category`` key, or ``uncategorized``), plus an ``all`` row last
    when there is more than one category."""
    by_category: dict[str, list[ResultRow]] = defaultdict(list)
    for row in rows:
        by_category[row.category or "uncategorized"].append(row)
    names = sorted(by_category)
    summaries = [summary_of(by_category[name], name) for name in names]
    if len(names) > 1:
        summaries.append(summary_of(rows, "all"))
    return summaries


def summary_of(rows: Sequence[ResultRow], name: str = "all") -> CategorySummary:
    """One summary over ``rows``, whatever their categories."""
    solved = [r for r in rows if r.solved]
    efficiencies = [e for r in solved if (e := r.efficiency) is not None]
    steps = [r.steps for r in solved if r.steps is not None]
    return CategorySummary(
        category=name,
        problems=len(rows),
        feasible=sum(r.feasible for r in rows),
        solved=len(solved),
        infeasible=sum(r.status == "infeasible" for r in rows),
        errors=sum(r.status == "error" for r in rows),
        mean_efficiency=_mean(efficiencies),
        mean_steps=_mean([float(s) for s in steps]),
    )


def _mean(values: Sequence[float]) -> float:
    """``numpy.mean`` (pairwise summation, the same bits as before this module existed)."""
    if not values:
        return math.nan
    import numpy as np

    return float(np.mean(values))
