"""One logging sink, several writers: stdout summaries, a JSONL file, TensorBoard.

Keys are prefixed by level, e.g. ``train/high/loss`` and ``train/low/loss``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from hrrl.core.atomic import atomic_write_text


class Writer(Protocol):
    def write(self, step: int, scalars: Mapping[str, float]) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        row = {"step": step, **{k: float(v) for k, v in scalars.items()}}
        self._handle.write(json.dumps(row) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def truncate_jsonl(path: str | Path, last_step: int) -> None:
    """Keep the rows of a metrics file up to ``last_step`` (and drop a torn last line)."""
    path = Path(path)
    if not path.is_file():
        return
    kept = []
    for line in path.read_bytes().split(b"\n"):
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and isinstance(row.get("step"), int) and row["step"] <= last_step:
            kept.append(line.decode("utf-8") + "\n")
    atomic_write_text(path, "".join(kept))


class TensorBoardWriter:
    def __init__(self, folder: str | Path, purge_step: int | None = None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(log_dir=str(folder), purge_step=purge_step)

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        for key, value in scalars.items():
            self._writer.add_scalar(key, float(value), step)

    def close(self) -> None:
        self._writer.flush()
        self._writer.close()


class Logger:
    """Fans scalars out to every writer; ``close`` flushes them all."""

    def __init__(self, writers: list[Writer] | None = None) -> None:
        self.writers = list(writers or [])

    @classmethod
    def for_run(
        cls, run_dir: str | Path, tensorboard: bool = True, resume_step: int | None = None
    ) -> Logger:
        """Writers for a run dir; ``resume_step``: a resumed run, so drop what was logged after
        that step (in ``metrics.jsonl``, and hidden in TensorBoard by its ``purge_step``)."""
        run_dir = Path(run_dir)
        if resume_step is not None:
            truncate_jsonl(run_dir / "metrics.jsonl", resume_step)
        writers: list[Writer] = [JsonlWriter(run_dir / "metrics.jsonl")]
        if tensorboard:
            purge = None if resume_step is None else resume_step + 1
            writers.append(TensorBoardWriter(run_dir / "tb", purge_step=purge))
        return cls(writers)

    def log(self, step: int, scalars: Mapping[str, Any]) -> None:
        clean = {k: float(v) for k, v in scalars.items() if v is not None}
        for writer in self.writers:
            writer.write(step, clean)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def log_step(
    logger: Logger | None, step: int, scalars: Mapping[str, Any], prefix: str = "train/"
) -> None:
    """``logger.log(step, prefix + key: value)``; nothing without a logger (a training loop's
    optional ``logger`` argument)."""
    if logger is not None:
        logger.log(step, {prefix + k: v for k, v in scalars.items()})
