"""Output safety in one place: atomic writes, and the checks every ``--out`` passes first.

A reader sees the old file or the new one, never half of one: data goes to a temporary file in
the same folder, is fsynced, and is renamed over the destination.

Rules for an output path (``check_output`` before the work, ``atomic_write_bytes`` again when
writing; both raise :class:`OutputError`, a one-line :class:`~hrrl.errors.InputError`):

- an output may not be one of the command's inputs (the same file under any name or link);
- an existing output must be a regular file: directories, devices, FIFOs and sockets are refused,
  never replaced;
- a symbolic link is written *through*: the file it points to is replaced and the link stays a
  link (a dangling link creates its target);
- the folder that will hold the output must be writable, which :func:`check_output` proves by
  creating and removing a probe file there before any work is done.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any

from hrrl.errors import InputError

PathLike = str | os.PathLike[str]


class OutputError(InputError):
    """An output that cannot or must not be written; the message is one line."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def resolve_output(path: PathLike) -> Path:
    """The file a write to ``path`` replaces: ``path`` with every symbolic link followed."""
    return Path(os.path.realpath(Path(path)))


def _same_file(a: Path, b: PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a == resolve_output(b)


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _probe(folder: Path, shown: PathLike, what: str) -> None:
    """Create and remove a file in ``folder``: the only reliable test that a write will work."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".hrrl-probe.", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {shown}: {exc.strerror} ({folder})") from None
    os.close(fd)
    with suppress(OSError):
        os.unlink(tmp)


def _check_folder(folder: Path, shown: PathLike, what: str) -> None:
    """``folder`` (which may not exist yet) can hold new files."""
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise OutputError(f"cannot write {what} {shown}: {ancestor} is not a directory")
    if ancestor == folder:
        _probe(folder, shown, what)
        return
    # the folder will be created: its nearest existing ancestor must accept new entries
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {shown}: {ancestor} is not writable")
    with suppress(OSError):
        if os.statvfs(ancestor).f_flag & os.ST_RDONLY:
            raise OutputError(
                f"cannot write {what} {shown}: {ancestor} is on a read-only file system"
            )


def check_output(
    path: PathLike, *, inputs: Iterable[PathLike | None] = (), what: str = "--out"
) -> Path:
    """Check, before any work, that ``path`` can be written as a file; returns the real target.

    ``inputs`` are files the command reads: the output may not be any of them.
    """
    shown = Path(path)
    target = resolve_output(shown)
    for source in inputs:
        if source is not None and _same_file(target, source):
            raise OutputError(
                f"{what} {shown} is the input {source}; writing it would destroy the input"
            )
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the folder check below says which
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {what} {shown}: {exc.strerror}") from None
    if mode is not None:
        if not stat.S_ISREG(mode):
            raise OutputError(
                f"{what} {shown} is {_kind(mode)}; refusing to replace it (give a file path)"
            )
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {what} {shown}: the file is read-only")
    _check_folder(target.parent, shown, what)
    return target


def check_output_dir(path: PathLike, *, what: str = "--out") -> Path:
    """Check, before any work, that ``path`` is (or can become) a writable directory."""
    shown = Path(path)
    target = resolve_output(shown)
    if target.exists() and not target.is_dir():
        raise OutputError(f"{what} {shown} exists and is not a directory")
    _check_folder(target, shown, what)
    return target


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Replace the file at ``path`` (through symbolic links) with ``data``, atomically."""
    target = resolve_output(path)
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(f"{path} is {_kind(mode)}; refusing to replace it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes 0600: keep the replaced file's permissions, or give the usual ones
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {path}: {exc.strerror}") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: PathLike, obj: Any) -> None:
    atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n"
    )


def _json_default(obj: Any) -> Any:
    """numpy scalars and arrays, paths and sets become plain JSON."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")
