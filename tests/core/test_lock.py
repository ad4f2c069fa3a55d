"""core.lock: one writer per directory, a clear one-line error for the second, no stale locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hrrl.core.lock import RunLocked, is_locked, run_lock
from hrrl.errors import InputError

HOLD = textwrap.dedent(
    """
    import sys
    from hrrl.core.lock import run_lock
    with run_lock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.readline()
    """
)


def test_second_lock_in_same_process_is_refused(tmp_path: Path) -> None:
    with run_lock(tmp_path / "run") as lock_file:
        assert lock_file.exists()
        assert is_locked(tmp_path / "run")
        with pytest.raises(RunLocked) as info, run_lock(tmp_path / "run"):
            pass
        message = str(info.value)
        assert "\n" not in message and "in use" in message and str(tmp_path / "run") in message
        assert isinstance(info.value, InputError)
    assert not is_locked(tmp_path / "run")
    with run_lock(tmp_path / "run"):  # released: can be taken again
        pass


def test_lock_held_by_another_process_names_it_and_dies_with_it(tmp_path: Path) -> None:
    run = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunLocked, match=f"process {holder.pid}"), run_lock(run):
            pass
        holder.kill()  # no clean exit: the kernel must still release the lock
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
    assert not is_locked(run)
    with run_lock(run):
        pass


def test_lock_on_a_file_is_a_clear_input_error(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(InputError, match="not a directory"), run_lock(path):
        pass
    assert path.read_text() == "x"
