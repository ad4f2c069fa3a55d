"""Problem files as JSON Lines (``docs/FORMAT.md``): one problem per line, blank lines skipped."""

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


def parse_lines(lines: Iterable[str | bytes]) -> list[ParsedLine]:
    """Parse every non-blank line; a malformed line becomes an error naming its line number.

    Lines may be ``bytes``: each is decoded on its own, so one invalid UTF-8 byte makes one error
    row. A later line that repeats an earlier problem's ``id`` is an error row too.
    """
    parsed: list[ParsedLine] = []
    first_line: dict[str, int] = {}
    for number, item in enumerate(lines, start=1):
        if isinstance(item, bytes):
            try:
                text = item.decode("utf-8")
            except UnicodeDecodeError as exc:
                parsed.append(
                    ParsedLine(
                        number,
                        None,
                        f"line {number}: not valid UTF-8 (byte 0x{item[exc.start]:02x} "
                        f"at column {exc.start + 1})",
                        None,
                    )
                )
                continue
        else:
            text = item
        if number == 1:
            text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
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
        if problem.id in first_line:
            parsed.append(
                ParsedLine(
                    number,
                    None,
                    f"line {number}: duplicate id {problem.id!r} "
                    f"(first on line {first_line[problem.id]})",
                    raw_dict,
                )
            )
            continue
        first_line[problem.id] = number
        parsed.append(ParsedLine(number, problem, None, raw_dict))
    return parsed


def read_problems(path: str | Path) -> list[ParsedLine]:
    """Read a problem file; raises :class:`InputError` when it cannot be read or holds nothing.

    Each line is decoded on its own (see :func:`parse_lines`).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"problem file not found: {path}")
    if not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise InputError(f"problem file {path} is {kind}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    parsed = parse_lines(data.split(b"\n"))
    if not parsed:
        raise InputError(f"problem file {path} holds no problems (it is empty or only blank lines)")
    return parsed


def write_problems(path: str | Path, problems: Iterable[Problem]) -> Path:
    text = "".join(json.dumps(p.to_json()) + "\n" for p in problems)
    atomic_write_text(path, text)
    return Path(path)


def write_rows(path: str | Path, rows: Iterable[ResultRow]) -> Path:
    """Write result rows as JSONL atomically."""
    text = "".join(json.dumps(row.to_json()) + "\n" for row in rows)
    atomic_write_text(path, text)
    return Path(path)
