"""Checkpoints that load without executing code: safetensors for tensors, JSON for the rest.

A checkpoint is a folder holding ``model.safetensors`` (every tensor, keys prefixed by the name of
the module or array group they belong to) and ``state.json`` (config, counters, RNG states as
plain JSON, and a ``"checkpoint"`` manifest: the tensors' SHA-256 and size).

The pair is saved as one unit. ``state.json`` is the commit point, and the tensors it names are
always on disk, complete, before it is written:

1. the new tensors go to ``model.next.safetensors`` (atomically, fsynced);
2. ``state.json`` is replaced atomically; its manifest holds the new tensors' checksum;
3. ``model.next.safetensors`` is renamed over ``model.safetensors``.

A process killed before step 2 leaves the previous checkpoint intact (``state.json`` and
``model.safetensors`` unchanged); killed between 2 and 3, the checksum in ``state.json`` matches
``model.next.safetensors``, which :func:`load_checkpoint` reads instead (and, with
``repair=True``, renames into place). On load the checksum is verified and every floating-point
tensor must be finite; anything else is a :class:`CorruptCheckpoint`, a one-line
:class:`~hrrl.errors.InputError`. Folders written before the manifest existed load without the
checksum (the finite check still applies).

Time so far: inside ``with run_clock(folder) as clock:``, every checkpoint saved in ``folder`` (or
below it) records in ``state.json`` the seconds of work it holds (:data:`TIME_SO_FAR`): this
process's time since the clock started plus what the checkpoint it resumed from had recorded
(read when :func:`load_checkpoint` loads it). ``clock.total()`` is that sum at any moment, so a
job resumed after an interruption, or from a checkpoint of a finished run, reports the time of
every part (work after a part's last save is redone by the next part, and counted there), not
only its own. A checkpoint written without a clock, or before the field existed, makes the time
unknown (``clock.recorded`` is False), never 0.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from hrrl.core.atomic import atomic_write_bytes, atomic_write_json
from hrrl.errors import InputError

TENSORS = "model.safetensors"
STAGED = "model.next.safetensors"
STATE = "state.json"
MANIFEST = "checkpoint"
FORMAT = 2

KILL_ENV = "HRRL_TEST_KILL_AT"
"""Test hook: ``STAGE`` or ``STAGE@N`` kills this process (SIGKILL) the N-th time (default 1st)
:func:`save_checkpoint` reaches ``STAGE``: ``begin``, ``tensors-staged``, ``state-written``,
``saved``. Used by the reliability tests to interrupt at the exact checkpoint window."""

checkpoint_hook: Callable[[str, Path], None] | None = None
"""Test hook: called with (stage, folder) at each stage of :func:`save_checkpoint`."""

_stage_counts: dict[str, int] = {}


T = TypeVar("T")
TIME_SO_FAR = "time_so_far_s"
"""Key in ``state.json``: seconds of work the checkpoint holds, summed over resumed parts."""


class RunClock:
    """Seconds of work behind the checkpoints in one folder, across the processes that resumed
    them (see :func:`run_clock`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.resolve()
        self.before: float | None = 0.0
        """Seconds recorded by the checkpoint this run resumed from (None: not recorded)."""
        self.started = time.perf_counter()

    @property
    def recorded(self) -> bool:
        """False when the run resumed from a checkpoint that did not record its time."""
        return self.before is not None

    def total(self) -> float | None:
        """Seconds so far: the resumed checkpoint's, plus this process's (None: unknown)."""
        return None if self.before is None else self.before + time.perf_counter() - self.started

    def covers(self, folder: Path) -> bool:
        folder = folder.resolve()
        return folder == self.folder or self.folder in folder.parents

    def resumed(self, state: Mapping[str, Any]) -> None:
        """A checkpoint under this clock's folder was loaded: continue from its time."""
        stored = state.get(TIME_SO_FAR)
        self.before = float(stored) if isinstance(stored, (int, float)) else None


_clocks: list[RunClock] = []


@contextmanager
def run_clock(folder: str | Path) -> Iterator[RunClock]:
    """Time the work whose checkpoints go to ``folder`` (or below it) for the ``with`` block."""
    clock = RunClock(Path(folder))
    _clocks.append(clock)
    try:
        yield clock
    finally:
        _clocks.remove(clock)


def timed(folder: str | Path | None, work: Callable[[], T]) -> tuple[T, float | None]:
    """``work()`` under :func:`run_clock` of ``folder`` (a plain timer without one): its result
    and the seconds of work so far, resumed parts included (None: not recorded)."""
    if folder is None:
        started = time.perf_counter()
        return work(), time.perf_counter() - started
    with run_clock(folder) as clock:
        result = work()
        return result, clock.total()


def _clock_for(folder: Path) -> RunClock | None:
    return next((c for c in reversed(_clocks) if c.covers(folder)), None)


class CorruptCheckpoint(InputError):
    """A checkpoint that exists but cannot be trusted (truncated, mismatched, non-finite)."""


def _reached(stage: str, folder: Path) -> None:
    if checkpoint_hook is not None:
        checkpoint_hook(stage, folder)
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != stage:
        return
    _stage_counts[stage] = _stage_counts.get(stage, 0) + 1
    if _stage_counts[stage] == (int(nth) if nth else 1):
        os.kill(os.getpid(), signal.SIGKILL)


def save_checkpoint(
    folder: str | Path,
    tensors: Mapping[str, Mapping[str, torch.Tensor | np.ndarray]],
    state: Mapping[str, Any],
) -> Path:
    """Save groups of tensors (``{"q": module.state_dict(), "buffer": {...}}``) and JSON state."""
    folder = Path(folder)
    _reached("begin", folder)
    flat: dict[str, torch.Tensor] = {}
    for group, items in tensors.items():
        for key, value in items.items():
            tensor = torch.as_tensor(value).detach().cpu().contiguous()
            flat[f"{group}/{key}"] = tensor.clone() if tensor.data_ptr() == 0 else tensor
    data = st_save(flat)
    atomic_write_bytes(folder / STAGED, data)
    _reached("tensors-staged", folder)
    manifest = {
        "format": FORMAT,
        "tensors": TENSORS,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    clock = _clock_for(folder)
    elapsed = None if clock is None else clock.total()
    timed = {} if elapsed is None else {TIME_SO_FAR: elapsed}
    atomic_write_json(folder / STATE, {**state, **timed, MANIFEST: manifest})
    _reached("state-written", folder)
    os.replace(folder / STAGED, folder / TENSORS)
    _fsync_dir(folder)
    _reached("saved", folder)
    return folder


def load_checkpoint(
    folder: str | Path, *, repair: bool = False
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Inverse of :func:`save_checkpoint`.

    Raises ``FileNotFoundError`` when there is no checkpoint, :class:`CorruptCheckpoint` when
    there is one that fails its checks. ``repair`` finishes an interrupted save (step 3) on disk.
    """
    folder = Path(folder)
    state_path = folder / STATE
    if not state_path.is_file():
        raise FileNotFoundError(f"no checkpoint in {folder}")
    try:
        state = json.loads(state_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CorruptCheckpoint(f"unreadable {state_path}: {_one_line(exc)}") from None
    if not isinstance(state, dict):
        raise CorruptCheckpoint(f"{state_path} is not a JSON object")
    manifest = state.pop(MANIFEST, None)
    data = _verified_tensors(folder, manifest, repair)
    try:
        flat = st_load(data)
    except Exception as exc:  # safetensors raises its own error type for any malformed file
        raise CorruptCheckpoint(
            f"corrupt checkpoint in {folder}: {TENSORS} is unreadable ({_one_line(exc)})"
        ) from None
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in flat.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CorruptCheckpoint(f"corrupt checkpoint in {folder}: {name} holds NaN or inf")
        group, _, key = name.partition("/")
        groups.setdefault(group, {})[key] = tensor
    clock = _clock_for(folder)
    if clock is not None:
        clock.resumed(state)
    return groups, state


def _verified_tensors(folder: Path, manifest: Any, repair: bool) -> bytes:
    """The bytes of the tensors ``state.json`` names, after checking size and checksum."""
    if manifest is None:  # written before manifests existed: nothing to check against
        path = folder / TENSORS
        if not path.is_file():
            raise FileNotFoundError(f"no checkpoint in {folder}")
        return _read(path)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sha256"), str):
        raise CorruptCheckpoint(f"corrupt checkpoint in {folder}: bad manifest in {STATE}")
    candidates = [folder / name for name in (TENSORS, STAGED) if (folder / name).is_file()]
    if not candidates:
        raise CorruptCheckpoint(f"corrupt checkpoint in {folder}: {TENSORS} is missing")
    for path in candidates:
        name = path.name
        data = _read(path)
        if hashlib.sha256(data).hexdigest() == manifest["sha256"]:
            if name == STAGED and repair:
                os.replace(path, folder / TENSORS)
                _fsync_dir(folder)
            return data
    raise CorruptCheckpoint(
        f"corrupt checkpoint in {folder}: {TENSORS} does not match the checksum in {STATE} "
        "(truncated or replaced)"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorruptCheckpoint(f"cannot read {path}: {exc.strerror}") from None


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A numpy Generator's state as JSON-safe data."""
    return dict(rng.bit_generator.state)


def restore_rng(state: Mapping[str, Any]) -> np.random.Generator:
    name = state["bit_generator"]
    bit_gen = getattr(np.random, name)()
    bit_gen.state = dict(state)
    return np.random.Generator(bit_gen)


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    """An optimizer's per-parameter state (e.g. Adam's moments and step) as flat tensors
    ``"<param index>.<slot>"``; the hyperparameters come back from the rebuilt optimizer."""
    return {
        f"{idx}.{key}": torch.as_tensor(value)
        for idx, slots in optimizer.state_dict()["state"].items()
        for key, value in slots.items()
    }


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer, tensors: Mapping[str, torch.Tensor]
) -> None:
    """Inverse of :func:`optimizer_tensors` into a freshly built optimizer of the same kind."""
    slots: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in tensors.items():
        idx, _, key = name.partition(".")
        slots.setdefault(int(idx), {})[key] = tensor
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": slots, "param_groups": groups})
