"""Progress for anything that runs longer than a few seconds, on stderr.

On a terminal: a rich progress bar. Otherwise (a pipe, a log file, CI): plain log lines, one each
time the caller reports a status (e.g. at each checkpoint) and at most every ``LINE_EVERY_S``
seconds otherwise. The count never passes the total.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

LINE_EVERY_S = 30.0


@dataclass
class LineProgress:
    """Progress as log lines on stderr, for output that is not a terminal."""

    description: str
    total: int
    completed: int = 0
    started: float = field(default_factory=time.perf_counter)
    last_line: float = field(default_factory=time.perf_counter)

    def advance(self, steps: int, status: str | None) -> None:
        self.completed = min(self.total, self.completed + max(0, steps))
        now = time.perf_counter()
        if status is None and now - self.last_line < LINE_EVERY_S:
            return
        self.last_line = now
        percent = 100 * self.completed / self.total if self.total else 100.0
        tail = f", {status}" if status else ""
        print(
            f"{self.description}: {self.completed}/{self.total} ({percent:.0f} %){tail}, "
            f"{now - self.started:.0f} s",
            file=sys.stderr,
            flush=True,
        )


@contextmanager
def progress_bar(
    description: str, total: int, enabled: bool = True
) -> Iterator[Progress | LineProgress | None]:
    """Yield a rich ``Progress`` with one task (id 0) on a terminal, a :class:`LineProgress`
    otherwise, or ``None`` when disabled."""
    if not enabled:
        yield None
        return
    if not sys.stderr.isatty():
        yield LineProgress(description, total)
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        bar.add_task(description, total=total, status="")
        yield bar


def advance(bar: Progress | LineProgress | None, steps: int = 1, status: str | None = None) -> None:
    """Count ``steps`` more (never past the total); ``status`` replaces the status text."""
    if bar is None:
        return
    if isinstance(bar, LineProgress):
        bar.advance(steps, status)
        return
    task = bar.tasks[0]
    if task.total is not None:
        steps = max(0, min(steps, int(task.total - task.completed)))
    if status is None:
        bar.advance(TaskID(0), steps)
    else:
        bar.update(TaskID(0), advance=steps, status=status)
