"""Problem files as JSON Lines (``shared/SPEC.md``): one problem per line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrrl.core.atomic import atomic_write_text
from hrrl.errors import InputError
from hrrl.problem import Problem
from hrrl.result import ResultRow


@dataclass(frozen=True)
class ParsedLine:
    """One non-blank line: a problem, or the reason it is invalid (with its raw id if any)."""

    line: int
    problem: Problem | None
    error: str | None
    raw: dict[str, Any] | None

    @property
    def id(self) -> str:
        if self.problem is not None:
            return self.problem.id
        if self.raw is not None and "id" in self.raw:
            return str(self.raw["id"])
        return f"line-{self.line}"

    def as_input(self) -> Problem | ResultRow:
        """What :func:`hrrl.evaluation.evaluate` takes: the problem, or this line's ``error``
        row (SPEC) when it is invalid."""
        if self.problem is not None:
            return self.problem
        return ResultRow.invalid(self.id, self.error or f"line {self.line}: invalid", self.raw)


def parse_lines(lines: Iterable[str]) -> list[ParsedLine]:
    """Parse every non-blank line; a malformed line becomes an error naming its line number."""
    parsed: list[ParsedLine] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        raw: Any = None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.append(
                ParsedLine(number, None, f"line {number}: not valid JSON ({exc.msg})", None)
            )
            continue
        raw_dict = raw if isinstance(raw, dict) else None
        if raw_dict is not None and "id" not in raw_dict:
            parsed.append(
                ParsedLine(number, None, f"line {number}: missing required key 'id'", raw_dict)
            )
            continue
        try:
            problem = Problem.from_json(raw, default_id=f"line-{number}")
        except InputError as exc:
            parsed.append(ParsedLine(number, None, f"line {number}: {exc}", raw_dict))
            continue
        parsed.append(ParsedLine(number, problem, None, raw_dict))
    return parsed


def read_problems(path: str | Path) -> list[ParsedLine]:
    """Read a problem file; raises :class:`InputError` when it cannot be read at all."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"problem file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    return parse_lines(text.splitlines())


def write_problems(path: str | Path, problems: Iterable[Problem]) -> Path:
    text = "".join(json.dumps(p.to_json()) + "\n" for p in problems)
    atomic_write_text(path, text)
    return Path(path)


def write_rows(path: str | Path, rows: Iterable[ResultRow]) -> Path:
    """Write result rows as JSONL atomically."""
    text = "".join(json.dumps(row.to_json()) + "\n" for row in rows)
    atomic_write_text(path, text)
    return Path(path)
