"""Nothing lost (issue #13): each reproduction of the issue, performed and checked.

Items 1–8 and 10 of the issue, in order. The kills at the checkpoint window are real (SIGKILL from
``core.checkpoint``'s test hook at an exact stage of ``save_checkpoint``), not sleeps. Item 9
(experiment resume) belongs to the experiment kit and is tested there.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hrrl.cli import main
from hrrl.core.checkpoint import KILL_ENV, load_checkpoint, save_checkpoint
from hrrl.core.lock import run_lock
from hrrl.core.stats import MeanCI

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "episodes": 180,
    "num_envs": 16,
    "hidden": 32,
    "learning_starts": 64,
    "batch_size": 32,
    "checkpoint_every": 60,
    "eval_every": 0,
    "stage_fraction": 0.05,
}
PROBLEMS = [
    {"id": "a", "target": 20, "forbidden": [3, 7]},
    {"id": "b", "target": 57, "forbidden": [10, 11]},
    {"id": "c", "target": 123, "forbidden": [23, 45, 67, 89]},
]
TIME_KEYS = ("training_time_s", "training_cpu_s")


def hrrl(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line in a fresh process (stdout and stderr are pipes, not a terminal)."""
    return subprocess.run(
        [sys.executable, "-m", "hrrl", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


class Result:
    """What a command did: exit code, stdout, stderr (like ``subprocess.CompletedProcess``)."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):
    """The command line in this process (cheaper than a subprocess; stdout is not a terminal)."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def one_line_error(proc: Result | subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit code 2 and exactly one line on stderr, no traceback, naming every fragment."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hrrl: error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def write_problems(path: Path, problems: list[dict] = PROBLEMS) -> bytes:
    data = "".join(json.dumps(p) + "\n" for p in problems).encode()
    path.write_bytes(data)
    return data


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "tiny.json"
    path.write_text(json.dumps(TINY))
    return path


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory: pytest.TempPathFactory, tiny_config: Path) -> Path:
    """An uninterrupted tiny run with seed 3, through the command line."""
    run = tmp_path_factory.mktemp("reference") / "run"
    proc = hrrl("train", "--config", str(tiny_config), "--seed", "3", "--out", str(run))
    assert proc.returncode == 0, proc.stderr
    return run


def comparable_state(run: Path) -> dict:
    state = json.loads((run / "state.json").read_text())
    for key in TIME_KEYS:
        state.pop(key)
    return state


# ---- 1. the output is the input -----------------------------------------------------------
def test_1_out_equal_to_the_problems_is_refused_and_the_problems_survive(
    tmp_path: Path, cli
) -> None:
    problems = tmp_path / "same.jsonl"
    data = write_problems(problems)
    (tmp_path / "link.jsonl").symlink_to(problems)
    os.link(problems, tmp_path / "hard.jsonl")
    for out in (
        problems,
        tmp_path / "link.jsonl",
        tmp_path / "hard.jsonl",
        tmp_path / "./same.jsonl",
    ):
        proc = cli("evaluate", "--problems", str(problems), "--out", str(out))
        one_line_error(proc, "is the input")
        assert problems.read_bytes() == data
    assert (tmp_path / "link.jsonl").is_symlink()


def test_1_out_onto_the_agents_checkpoint_is_refused(reference_run: Path) -> None:
    before = (reference_run / "state.json").read_bytes()
    code = main(
        [
            "evaluate",
            "--suite",
            "paper",
            "--agent",
            str(reference_run),
            "--out",
            str(reference_run / "state.json"),
        ]
    )
    assert code == 2
    assert (reference_run / "state.json").read_bytes() == before


# ---- 2. symlinks, FIFOs and devices are never replaced -------------------------------------
def test_2_out_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path: Path, cli) -> None:
    problems = tmp_path / "p.jsonl"
    write_problems(problems)
    target = tmp_path / "real" / "results.jsonl"
    target.parent.mkdir()
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "results.jsonl"
    link.symlink_to(target)
    proc = cli("evaluate", "--problems", str(problems), "--out", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and link.resolve() == target
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file keeps its mode
    dangling = tmp_path / "dangling.jsonl"
    dangling.symlink_to(tmp_path / "created.jsonl")
    assert cli("evaluate", "--problems", str(problems), "--out", str(dangling)).returncode == 0
    assert dangling.is_symlink() and len((tmp_path / "created.jsonl").read_text().splitlines()) == 3


def test_2_fifo_and_device_outputs_are_refused_untouched(tmp_path: Path, cli) -> None:
    problems = tmp_path / "p.jsonl"
    write_problems(problems)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:  # not root: a link to /dev/null is the same refusal
        device.symlink_to("/dev/null")
    to_device = tmp_path / "to-device"
    to_device.symlink_to("/dev/null")
    for out, kind in ((fifo, "a FIFO"), (device, "a device"), (to_device, "a device")):
        proc = cli("evaluate", "--problems", str(problems), "--out", str(out))
        one_line_error(proc, kind, "refusing")
        proc = cli("problems", "generate", "--suite", "paper", "--out", str(out))
        one_line_error(proc, kind)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert stat.S_ISCHR(device.stat().st_mode)
    assert to_device.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ---- 3. a kill at the exact checkpoint window loses nothing ---------------------------------
@pytest.mark.parametrize("stage", ["begin", "tensors-staged", "state-written"])
def test_3_kill_inside_the_checkpoint_window_then_resume_is_bit_exact(
    tmp_path: Path, tiny_config: Path, reference_run: Path, stage: str
) -> None:
    run = tmp_path / "run"
    killed = hrrl(
        "train",
        "--config",
        str(tiny_config),
        "--seed",
        "3",
        "--out",
        str(run),
        env={KILL_ENV: f"{stage}@2"},
    )
    assert killed.returncode == -9, killed.stderr  # SIGKILL at the second checkpoint
    state = json.loads((run / "state.json").read_text())
    assert state["episodes"] < TINY["episodes"] and not state["finished"]
    # 4. no --seed and no --config: both come from the run
    proc = hrrl("train", "--resume", str(run))
    assert proc.returncode == 0, proc.stderr
    assert (run / "model.safetensors").read_bytes() == (
        reference_run / "model.safetensors"
    ).read_bytes()
    assert not (run / "model.next.safetensors").exists()
    assert comparable_state(run) == comparable_state(reference_run)
    assert (run / "metrics.jsonl").read_text() == (reference_run / "metrics.jsonl").read_text()
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps))  # no step logged twice
    assert tensorboard_steps(run) == tensorboard_steps(reference_run) == steps


def tensorboard_steps(run: Path) -> list[int]:
    """Steps of one scalar as TensorBoard shows them (events after a resume point purged)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tb"))
    events.Reload()
    return [event.step for event in events.Scalars("train/success_rate")]


def test_3_state_written_without_the_rename_loads_the_staged_tensors(
    tmp_path: Path, reference_run: Path
) -> None:
    """The window between state.json and the rename: the manifest names the staged tensors."""
    groups, state = load_checkpoint(reference_run)
    folder = tmp_path / "ckpt"
    save_checkpoint(folder, groups, state)
    old = (folder / "model.safetensors").read_bytes()
    changed = {g: {k: v.clone() for k, v in items.items()} for g, items in groups.items()}
    next(iter(changed["q"].values())).add_(1.0)
    from hrrl.core import checkpoint

    def stop(stage: str, _: Path) -> None:
        if stage == "state-written":
            raise KeyboardInterrupt

    checkpoint.checkpoint_hook = stop
    try:
        with pytest.raises(KeyboardInterrupt):
            save_checkpoint(folder, changed, {**state, "episodes": 999})
    finally:
        checkpoint.checkpoint_hook = None
    assert (folder / "model.safetensors").read_bytes() == old  # not yet renamed
    loaded, new_state = load_checkpoint(folder)
    assert new_state["episodes"] == 999
    name = next(iter(changed["q"]))
    assert torch.equal(loaded["q"][name], changed["q"][name])
    load_checkpoint(folder, repair=True)
    assert not (folder / "model.next.safetensors").exists()
    assert (folder / "model.safetensors").read_bytes() != old


# ---- 4. --resume keeps the run's seed and config --------------------------------------------
def test_4_resume_refuses_another_seed_or_config_and_keeps_the_stored_ones(
    reference_run: Path, tiny_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (reference_run / "state.json").read_bytes()
    assert main(["train", "--resume", str(reference_run), "--seed", "0"]) == 2
    assert "differs from the seed" in capsys.readouterr().err
    assert main(["train", "--resume", str(reference_run), "--config", "paper"]) == 2
    assert "differs from the config" in capsys.readouterr().err
    assert (reference_run / "state.json").read_bytes() == before
    # the same config and seed, given explicitly, are accepted (a finished run: nothing to do)
    args = ["train", "--resume", str(reference_run), "--config", str(tiny_config), "--seed", "3"]
    assert main(args) == 0
    assert json.loads((reference_run / "state.json").read_text())["seed"] == 3
    assert (reference_run / "state.json").read_bytes() == before


# ---- 5. unwritable or invalid --out: one line, exit 2, before the work ----------------------
def test_5_invalid_outputs_fail_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hrrl.evaluation

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("evaluate ran before the output was checked")

    monkeypatch.setattr(hrrl.evaluation, "evaluate", no_work)
    problems = tmp_path / "p.jsonl"
    write_problems(problems)
    a_file = tmp_path / "file"
    a_file.write_text("keep")
    cases = [
        (["evaluate", "--problems", str(problems), "--out", str(tmp_path)], "is a directory"),
        (
            ["evaluate", "--problems", str(problems), "--out", str(a_file / "r.jsonl")],
            "is not a directory",
        ),
        (["train", "--out", str(a_file)], "not a directory"),
        (["experiment", "maxq-taxi", "--out", str(a_file)], "not a directory"),
        (["reproduce", "--out", str(a_file)], "not a directory"),
        (["results", "--out", str(tmp_path)], "is a directory"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (argv, err)
    assert a_file.read_text() == "keep"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_5_read_only_folder_fails_before_the_work(tmp_path: Path, cli) -> None:
    problems = tmp_path / "p.jsonl"
    write_problems(problems)
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        proc = cli("evaluate", "--problems", str(problems), "--out", str(locked / "r.jsonl"))
        one_line_error(proc, "cannot write")
        assert not (locked / "r.jsonl").exists()
        one_line_error(cli("train", "--out", str(locked / "run")), "not writable")
    finally:
        locked.chmod(0o755)


# ---- 6. an existing run is not replaced, and one writer per run dir -------------------------
def test_6_train_into_an_existing_run_refuses_unless_forced(
    tmp_path: Path, reference_run: Path, tiny_config: Path, cli
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    for name in ("state.json", "model.safetensors", "metrics.jsonl"):
        (run / name).write_bytes((reference_run / name).read_bytes())
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    proc = cli("train", "--config", str(tiny_config), "--out", str(run))
    one_line_error(proc, "already holds a run", "--resume", "--force")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    short = tmp_path / "short.json"
    short.write_text(json.dumps({**TINY, "episodes": 60}))
    proc = cli("train", "--config", str(short), "--seed", "4", "--out", str(run), "--force")
    assert proc.returncode == 0, proc.stderr
    state = json.loads((run / "state.json").read_text())
    assert state["seed"] == 4 and state["config"]["episodes"] == 60
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [state["episodes"]]  # only the new run's metrics


def test_6_second_train_into_a_locked_run_dir_exits_2(
    tmp_path: Path, tiny_config: Path, cli
) -> None:
    run = tmp_path / "run"
    with run_lock(run):  # this process is the first writer
        proc = hrrl("train", "--config", str(tiny_config), "--out", str(run))
        one_line_error(proc, "in use")
        proc = cli("train", "--resume", str(run))
        assert proc.returncode == 2
    assert not (run / "state.json").exists()


# ---- 7. corrupt checkpoints: one line, exit 2, for --resume and --agent ---------------------
def _copy_run(source: Path, dest: Path) -> Path:
    dest.mkdir()
    for path in source.iterdir():
        if path.is_file():
            (dest / path.name).write_bytes(path.read_bytes())
    return dest


@pytest.mark.parametrize("damage", ["truncated", "legacy-truncated", "nan", "missing"])
def test_7_corrupt_checkpoint_is_a_clear_exit_2(
    tmp_path: Path, reference_run: Path, damage: str, cli
) -> None:
    run = _copy_run(reference_run, tmp_path / "run")
    tensors = run / "model.safetensors"
    if damage == "truncated":
        tensors.write_bytes(tensors.read_bytes()[: tensors.stat().st_size // 2])
        expected = "checksum"
    elif damage == "legacy-truncated":  # a run written before checkpoints had a manifest
        state = json.loads((run / "state.json").read_text())
        del state["checkpoint"]
        (run / "state.json").write_text(json.dumps(state))
        tensors.write_bytes(tensors.read_bytes()[:1000])
        expected = "unreadable"
    elif damage == "nan":
        groups, state = load_checkpoint(run)
        first = next(iter(groups["q"]))
        groups["q"][first] = torch.full_like(groups["q"][first], float("nan"))
        save_checkpoint(run, groups, state)  # a consistent checksum over NaN weights
        expected = "NaN"
    else:
        tensors.unlink()
        expected = "missing"
    before = (run / "state.json").read_bytes()
    one_line_error(cli("train", "--resume", str(run)), "corrupt checkpoint", expected)
    one_line_error(
        cli("evaluate", "--suite", "paper", "--agent", str(run), "--out", str(tmp_path / "r")),
        expected,
    )
    one_line_error(cli("solve", "--target", "20", "--agent", str(run)), expected)
    assert (run / "state.json").read_bytes() == before
    assert not (tmp_path / "r").exists()


# ---- 8. one invalid UTF-8 byte is one error row ---------------------------------------------
def test_8_invalid_utf8_is_one_error_row(tmp_path: Path, cli) -> None:
    problems = tmp_path / "p.jsonl"
    lines = [json.dumps(p).encode() for p in PROBLEMS]
    lines.insert(1, b'{"id": "bad\xff", "target": 9, "forbidden": []}')
    problems.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "r.jsonl"
    proc = cli("evaluate", "--problems", str(problems), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["solved", "error", "solved", "solved"]
    assert "line 2" in rows[1]["reason"] and "UTF-8" in rows[1]["reason"]
    assert "0xff" in rows[1]["reason"]


# ---- 10. the small ones ---------------------------------------------------------------------
def test_10_empty_problem_file_is_an_error(tmp_path: Path, cli) -> None:
    for content in (b"", b"\n  \n"):
        problems = tmp_path / "empty.jsonl"
        problems.write_bytes(content)
        one_line_error(
            cli("evaluate", "--problems", str(problems), "--out", str(tmp_path / "r.jsonl")),
            "holds no problems",
        )
        assert not (tmp_path / "r.jsonl").exists()


def test_10_duplicate_ids_are_flagged_rows(tmp_path: Path, cli) -> None:
    problems = tmp_path / "p.jsonl"
    write_problems(problems, [*PROBLEMS, {"id": "a", "target": 30, "forbidden": []}])
    out = tmp_path / "r.jsonl"
    proc = cli("evaluate", "--problems", str(problems), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["status"] for r in rows] == ["solved", "solved", "solved", "error"]
    assert rows[3]["reason"] == "line 4: duplicate id 'a' (first on line 1)"
    assert "duplicate id 'a'" in proc.stderr


def test_10_tables_are_not_cut_when_piped(tmp_path: Path, cli) -> None:
    out = tmp_path / "r.jsonl"
    proc = cli("evaluate", "--suite", "quick", "--method", "greedy", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "┃ category" in line)
    for column in ("problems", "feasible", "solved", "success", "optimal/steps", "mean steps"):
        assert column in header
    assert "…" not in proc.stdout
    assert max(len(line) for line in proc.stdout.splitlines()) > 80


def test_10_train_logs_progress_lines_and_the_count_stops_at_the_total(
    tmp_path: Path, tiny_config: Path, cli
) -> None:
    proc = cli("train", "--config", str(tiny_config), "--out", str(tmp_path / "run"))
    assert proc.returncode == 0, proc.stderr
    counts = [(int(a), int(b)) for a, b in re.findall(r"training HRRL: (\d+)/(\d+)", proc.stderr)]
    assert len(counts) == TINY["episodes"] // TINY["checkpoint_every"]  # one per checkpoint
    assert all(done <= total == TINY["episodes"] for done, total in counts)
    assert counts[-1] == (TINY["episodes"], TINY["episodes"])
    assert json.loads((tmp_path / "run" / "state.json").read_text())["episodes"] > 0


def test_10_top_level_help_is_for_users(cli) -> None:
    proc = cli("--help")
    assert proc.returncode == 0
    assert "parse, call the library" not in proc.stdout
    assert "Exit codes" in proc.stdout and "hrrl train" in proc.stdout
    assert "docs/FORMAT.md" in proc.stdout


def test_10_readme_links_the_format_doc_inside_the_repository() -> None:
    readme = (REPO / "README.md").read_text()
    assert "../shared" not in readme
    links = re.findall(r"\]\(([^)#]+)", readme)
    assert "docs/FORMAT.md" in links
    for link in links:
        if not link.startswith("http"):
            assert (REPO / link).exists(), link
    spec = (REPO / "docs" / "FORMAT.md").read_text()
    assert "Result file" in spec and "Exit codes" in spec


def test_10_confidence_intervals_are_clipped_to_the_metric_range_and_state_n() -> None:
    ci = MeanCI(0.194, 1.059, 2)
    text = ci.format(1, scale=100, suffix=" %", bounds=(0.0, 1.0))
    assert text == "19.4 % (95 % CI 0.0–100.0 %, n=2)"
    inside = MeanCI(0.5, 0.1, 5).format(1, scale=100, suffix=" %", bounds=(0.0, 1.0))
    assert inside == "50.0 % ± 10.0 %"
    assert MeanCI(187.0, 1407.0, 2).format(0, bounds=(0.0, None)) == "187 (95 % CI 0–1594, n=2)"


def test_atomic_writer_refuses_special_files_and_writes_through_links(tmp_path: Path) -> None:
    """The writer itself (not only the CLI's check) never replaces a node that is not a file."""
    from hrrl.core.atomic import OutputError, atomic_write_text

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="FIFO"):
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    with pytest.raises(OutputError, match="directory"):
        atomic_write_text(tmp_path, "x")
    target = tmp_path / "target.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write_text(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link.txt", "target.txt"]
