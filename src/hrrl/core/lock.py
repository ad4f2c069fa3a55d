"""One writer per run directory: an advisory ``fcntl`` lock on a file inside it.

``with run_lock(run_dir):`` holds an exclusive, non-blocking lock on ``run_dir/.lock`` for the
body of the block; a second process (or a second ``run_lock`` in this process) asking for the same
directory gets :class:`RunLocked`, an :class:`~hrrl.errors.InputError` whose one-line message names
the directory and the process that holds it, so the command line reports it with exit code 2.

The lock belongs to the open file description, so the kernel releases it when the holder exits,
however it exits (a crash or ``kill -9`` leaves no stale lock). The ``.lock`` file itself stays in
the directory; its content (the holder's pid) is only informative.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from hrrl.errors import InputError

LOCK_NAME = ".lock"


class RunLocked(InputError):
    """Another process (or another block of this one) is writing into the same directory."""


@contextmanager
def run_lock(directory: str | os.PathLike[str], *, what: str = "run") -> Iterator[Path]:
    """Hold the exclusive lock of ``directory`` (created if missing) for the ``with`` block.

    ``what`` names the directory in the error message ("run", "experiment", ...). Yields the path
    of the lock file.
    """
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"{directory} exists and is not a directory") from None
    except OSError as exc:
        raise InputError(f"cannot create {directory}: {exc.strerror}") from None
    if not directory.is_dir():
        raise InputError(f"{directory} exists and is not a directory")
    path = directory / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise InputError(f"cannot lock {directory}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise InputError(f"cannot lock {directory}: {exc.strerror}") from None
            holder = _read_holder(fd)
            by = f" by process {holder}" if holder else ""
            raise RunLocked(
                f"{what} directory {directory} is in use{by}; wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            with suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def is_locked(directory: str | os.PathLike[str]) -> bool:
    """Whether some process holds the lock of ``directory`` right now (for tests and tools)."""
    path = Path(directory) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
