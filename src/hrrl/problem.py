"""The number-line problem of ``shared/SPEC.md``: its model, validation and JSON form.

Start at ``start`` (default 0), reach ``target`` with moves from ``actions`` (distinct non-zero
integers, default (1, 3, 5), negative moves allowed), never landing on a ``forbidden`` state, in at
most ``max_steps`` moves. When ``max_steps`` is not given the default budget is
``2 * ceil(|target - start| / max|a|) + 10`` (for the paper's T = 278 with {1,3,5}: 122, the budget
the paper's example uses).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hrrl.errors import InputError

DEFAULT_ACTIONS: tuple[int, ...] = (1, 3, 5)
MAX_COORDINATE = 10**9
"""No position, target or action may exceed this in absolute value."""
MAX_FORBIDDEN = 10_000_000
"""Largest forbidden set accepted (its memory is the first to blow up)."""
_KNOWN_KEYS = {"id", "start", "target", "actions", "forbidden", "max_steps"}


def default_max_steps(start: int, target: int, actions: Iterable[int]) -> int:
    """The documented default budget: twice the free-line lower bound, plus 10."""
    largest = max(abs(a) for a in actions)
    return 2 * math.ceil(abs(target - start) / largest) + 10


@dataclass(frozen=True)
class Problem:
    """One validated number-line problem (immutable, hashable)."""

    target: int
    forbidden: frozenset[int] = frozenset()
    actions: tuple[int, ...] = DEFAULT_ACTIONS
    start: int = 0
    max_steps: int = 0
    """Step budget; 0 when constructing means "use the default budget"."""
    id: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Other keys of the problem line (e.g. ``category``), copied to result rows."""

    def __post_init__(self) -> None:
        target = _as_int(self.target, "target")
        start = _as_int(self.start, "start")
        actions = tuple(_as_int(a, "action") for a in _as_list(self.actions, "actions"))
        forbidden_list = [
            _as_int(f, "forbidden state") for f in _as_list(self.forbidden, "forbidden")
        ]
        if len(forbidden_list) > MAX_FORBIDDEN:
            raise InputError(
                f"{len(forbidden_list)} forbidden states is more than the limit of {MAX_FORBIDDEN}"
            )
        forbidden = frozenset(forbidden_list)
        if not actions:
            raise InputError("actions must not be empty")
        if any(a == 0 for a in actions):
            raise InputError("actions must be non-zero (a move of 0 goes nowhere)")
        if len(set(actions)) != len(actions):
            dupes = sorted({a for a in actions if actions.count(a) > 1})
            raise InputError(f"actions must be distinct; repeated: {dupes}")
        for name, value in (("target", target), ("start", start)):
            if abs(value) > MAX_COORDINATE:
                raise InputError(
                    f"{name} {value} is beyond the supported range ±{MAX_COORDINATE:,}"
                )
        if any(abs(a) > MAX_COORDINATE for a in actions):
            raise InputError(f"actions beyond the supported range ±{MAX_COORDINATE:,}")
        if target == start:
            raise InputError(f"target equals start ({start}); there is nothing to solve")
        if target in forbidden:
            raise InputError(f"target {target} is in the forbidden set")
        if start in forbidden:
            raise InputError(f"start {start} is in the forbidden set")
        budget = _as_int(self.max_steps, "max_steps")
        if budget < 0:
            raise InputError(f"max_steps must be at least 1, got {budget}")
        if budget > MAX_COORDINATE:
            raise InputError(f"max_steps {budget} is beyond the supported limit {MAX_COORDINATE:,}")
        if budget == 0:
            budget = default_max_steps(start, target, actions)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "actions", actions)
        object.__setattr__(self, "forbidden", forbidden)
        object.__setattr__(self, "max_steps", budget)
        object.__setattr__(self, "id", str(self.id))
        object.__setattr__(self, "extra", dict(self.extra))

    @classmethod
    def trusted(
        cls,
        target: int,
        forbidden: frozenset[int],
        actions: tuple[int, ...],
        start: int,
        max_steps: int,
        id: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> Problem:
        """Build without validation, for generators that guarantee validity by construction
        (hot paths such as sampling thousands of training problems per second)."""
        problem = object.__new__(cls)
        problem.__dict__.update(
            target=target,
            forbidden=forbidden,
            actions=actions,
            start=start,
            max_steps=max_steps,
            id=id,
            extra=dict(extra) if extra else {},
        )
        return problem

    # ---- derived facts -------------------------------------------------------------------
    @property
    def gap(self) -> int:
        return abs(self.target - self.start)

    @property
    def monotone(self) -> bool:
        """Every action moves the same way (so positions are monotone along any path)."""
        return all(a > 0 for a in self.actions) or all(a < 0 for a in self.actions)

    @property
    def category(self) -> str:
        return str(self.extra.get("category", ""))

    # ---- JSON ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The SPEC's JSON object (``forbidden`` sorted)."""
        row: dict[str, Any] = {"id": self.id}
        row.update({k: v for k, v in self.extra.items() if k not in _KNOWN_KEYS})
        row.update(
            target=self.target,
            forbidden=sorted(self.forbidden),
            actions=list(self.actions),
            max_steps=self.max_steps,
        )
        if self.start != 0:
            row["start"] = self.start
        return row

    @classmethod
    def from_json(cls, obj: Any, default_id: str = "") -> Problem:
        """Parse one SPEC problem object; raises :class:`InputError` with a readable reason."""
        if not isinstance(obj, dict):
            raise InputError(f"a problem must be a JSON object, got {type(obj).__name__}")
        for key in ("target", "forbidden"):
            if key not in obj:
                raise InputError(f"missing required key {key!r}")
        max_steps = obj.get("max_steps")
        if max_steps is not None:
            max_steps = _as_int(max_steps, "max_steps")
            if max_steps < 1:
                raise InputError(f"max_steps must be at least 1, got {max_steps}")
        extra = {k: v for k, v in obj.items() if k not in _KNOWN_KEYS}
        return cls(
            target=obj["target"],
            forbidden=obj["forbidden"],
            actions=obj.get("actions", DEFAULT_ACTIONS),
            start=obj.get("start", 0),
            max_steps=max_steps or 0,
            id=str(obj.get("id", default_id)),
            extra=extra,
        )


def make_problem(
    target: Any,
    forbidden: Iterable[Any] = (),
    actions: Iterable[Any] = DEFAULT_ACTIONS,
    start: Any = 0,
    max_steps: Any = None,
    id: str = "",
    **extra: Any,
) -> Problem:
    """Build a :class:`Problem`, checking ``max_steps ≥ 1`` when it is given."""
    if max_steps is not None:
        max_steps = _as_int(max_steps, "max_steps")
        if max_steps < 1:
            raise InputError(f"max_steps must be at least 1, got {max_steps}")
    return Problem(
        target=target,
        forbidden=frozenset(_as_list(forbidden, "forbidden")),
        actions=tuple(_as_list(actions, "actions")),
        start=start,
        max_steps=max_steps or 0,
        id=id,
        extra=extra,
    )


def _as_int(value: Any, name: str) -> int:
    """Accept ints (and integral floats like 5.0 from JSON); reject bools, strings, 5.5, None."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer, got {value!r}")
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    try:
        import numpy as np

        if isinstance(value, np.integer):
            return int(value)
    except ImportError:  # pragma: no cover
        pass
    raise InputError(f"{name} must be an integer, got {value!r}")


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        raise InputError(f"{name} must be a list of integers, got {value!r}")
    try:
        return list(value)
    except TypeError:
        raise InputError(f"{name} must be a list of integers, got {value!r}") from None
