"""Time so far (core/checkpoint.py): checkpoints saved under a run clock record the seconds of
work they hold, summed over the processes that resumed them; HER and RL² report that sum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from hrrl.core import checkpoint as ck
from hrrl.core.checkpoint import TIME_SO_FAR, load_checkpoint, run_clock, save_checkpoint, timed


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(ck.time, "perf_counter", fake.perf_counter)
    return fake


def _save(folder: Path) -> None:
    save_checkpoint(folder, {"w": {"x": torch.zeros(2)}}, {"step": 1})


def _stored(folder: Path) -> float | None:
    return json.loads((folder / "state.json").read_text()).get(TIME_SO_FAR)


def test_an_interrupted_then_resumed_run_reports_the_sum_of_both_parts(
    tmp_path: Path, clock: FakeTime
) -> None:
    clock.now = 10.0
    with run_clock(tmp_path) as first:  # part 1: saves after 5 s, killed 2 s later
        clock.now = 15.0
        _save(tmp_path)
        clock.now = 17.0
        assert first.total() == 7.0
    assert _stored(tmp_path) == 5.0
    clock.now = 100.0
    with run_clock(tmp_path) as second:  # part 2: resumes, works 3 s more, saves
        load_checkpoint(tmp_path)
        clock.now = 103.0
        _save(tmp_path)
        assert second.total() == 8.0  # 5 s recorded by part 1 + 3 s of part 2, not 3 s
    assert _stored(tmp_path) == 8.0
    clock.now = 200.0
    with run_clock(tmp_path) as third:  # part 3: resumes from the finished checkpoint
        load_checkpoint(tmp_path)
        clock.now = 200.5
        assert third.recorded and third.total() == 8.5  # not 0.5


def test_a_checkpoint_without_the_field_makes_the_time_unknown_never_zero(
    tmp_path: Path, clock: FakeTime
) -> None:
    _save(tmp_path)  # saved without a clock: no field
    assert _stored(tmp_path) is None
    with run_clock(tmp_path) as resumed:
        load_checkpoint(tmp_path)
        clock.now = 4.0
        _save(tmp_path)
        assert not resumed.recorded and resumed.total() is None
    assert _stored(tmp_path) is None  # still unknown, not 4 s


def test_the_clock_covers_subfolders_and_only_its_own_folder(
    tmp_path: Path, clock: FakeTime
) -> None:
    inner, other = tmp_path / "run" / "digest", tmp_path / "other"
    with run_clock(tmp_path / "run"):
        clock.now = 2.0
        _save(inner)
        _save(other)
    assert _stored(inner) == 2.0 and _stored(other) is None


def test_timed_without_a_folder_is_a_plain_timer(clock: FakeTime) -> None:
    def work() -> str:
        clock.now += 1.5
        return "done"

    assert timed(None, work) == ("done", 1.5)


def test_her_faithful_resumed_from_its_finished_checkpoint_keeps_its_time(tmp_path: Path) -> None:
    from hrrl.experiments.her_bitflip_faithful import run_case

    kwargs = {"n_bits": 3, "her": True, "seed": 1, "cycles": 2, "eval_every": 2}
    first = run_case(**kwargs, checkpoint=str(tmp_path))
    recorded = _stored(tmp_path)
    assert recorded is not None and recorded > 0
    again = run_case(**kwargs, checkpoint=str(tmp_path))  # nothing left to train
    assert again["curve"] == first["curve"]
    assert again["wall_s"] >= recorded >= 0.5 * first["wall_s"]


def test_rl2_resumed_from_its_finished_checkpoint_keeps_its_time(tmp_path: Path) -> None:
    from hrrl.agents.rl2 import RL2Config, RL2Learner
    from hrrl.envs.bandits import BatchedBernoulliBandit
    from hrrl.experiments._rl2_common import train_timed

    config = RL2Config(hidden_size=8, updates=2, batch_trials=8)
    first = RL2Learner(BatchedBernoulliBandit(2, 5), config, 3)
    seconds = train_timed(first, str(tmp_path))
    (state,) = tmp_path.rglob("state.json")  # the learner saves in a subfolder per config
    recorded = _stored(state.parent)
    assert seconds is not None and recorded is not None and 0 < recorded <= seconds
    again = RL2Learner(BatchedBernoulliBandit(2, 5), config, 3)
    resumed = train_timed(again, str(tmp_path))
    assert again.resumed_at == 2 and again.curve == first.curve
    assert resumed is not None and resumed >= recorded  # not the resumed call's few ms
