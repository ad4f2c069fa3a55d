"""Progress bars for anything that runs longer than a few seconds (rich, on stderr)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def progress_bar(description: str, total: int, enabled: bool = True) -> Iterator[Progress | None]:
    """Yield a rich ``Progress`` with one task (id 0), or ``None`` when disabled or not a TTY."""
    if not enabled or not sys.stderr.isatty():
        yield None
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


def advance(bar: Progress | None, steps: int = 1, status: str | None = None) -> None:
    if bar is None:
        return
    if status is None:
        bar.advance(TaskID(0), steps)
    else:
        bar.update(TaskID(0), advance=steps, status=status)
