"""The shared episode loop (hrrl.core.rollout) and its logging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

from hrrl.core.logging import JsonlWriter, Logger
from hrrl.core.rollout import Episode, Step, episode_scalars, log_episodes, run_episode
from hrrl.envs.chain import StochasticChainEnv


class Countdown(gym.Env):
    """Observation = steps left; reward = the action; ends at 0 unless ``limit`` cuts first."""

    def __init__(self, start: int, limit: int) -> None:
        self.observation_space = gym.spaces.Discrete(start + 1)
        self.action_space = gym.spaces.Discrete(3)
        self.start, self.limit = start, limit

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self.left, self.t = self.start, 0
        return self.left, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        self.left, self.t = self.left - 1, self.t + 1
        return self.left, float(action), self.left == 0, self.t >= self.limit, {"t": self.t}


def test_acts_then_observes_each_step_and_sums_the_return() -> None:
    calls: list[Any] = []

    def act(obs: int) -> int:
        calls.append(("act", obs))
        return 2

    def observe(step: Step) -> None:
        calls.append(("observe", step.obs, step.next_obs, step.reward, step.info["t"]))

    episode = run_episode(Countdown(3, 10), act, observe)
    assert episode == Episode(steps=3, total_reward=6.0, terminated=True, truncated=False)
    assert calls == [
        ("act", 3), ("observe", 3, 2, 2.0, 1),
        ("act", 2), ("observe", 2, 1, 2.0, 2),
        ("act", 1), ("observe", 1, 0, 2.0, 3),
    ]  # fmt: skip


def test_truncation_ends_the_episode_without_terminating() -> None:
    seen: list[Step] = []
    episode = run_episode(Countdown(5, 2), lambda obs: 1, seen.append)
    assert (episode.steps, episode.terminated, episode.truncated) == (2, False, True)
    assert [(s.terminated, s.truncated, s.done) for s in seen] == [
        (False, False, False),
        (False, True, True),
    ]


def test_a_seeded_reset_reproduces_the_episode() -> None:
    env = StochasticChainEnv(max_episode_steps=30)
    first = [run_episode(env, lambda obs: 1, seed=s) for s in (4, 4, 5)]
    assert first[0] == first[1]
    assert run_episode(env, lambda obs: 1, seed=4) == first[0]


def test_episodes_are_logged_with_their_own_counts(tmp_path: Path) -> None:
    from hrrl.agents.options import EpisodeResult

    episodes = [Episode(3, 1.0, True, False), EpisodeResult(7, 0.0, False, True, decisions=2)]
    assert episode_scalars(episodes[1])["train/decisions"] == 2.0
    with Logger([JsonlWriter(tmp_path / "m.jsonl")]) as logger:
        assert log_episodes(logger, episodes, start=10) == 12
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert rows[0] == {
        "step": 10,
        "train/steps": 3.0,
        "train/total_reward": 1.0,
        "train/terminated": 1.0,
        "train/truncated": 0.0,
    }
    assert rows[1]["step"] == 11 and rows[1]["train/decisions"] == 2.0
    assert rows[1]["train/truncated"] == 1.0


@pytest.mark.parametrize("learn", [True, False])
def test_the_tabular_learner_runs_through_the_shared_loop(learn: bool) -> None:
    """Without ``learn`` no value changes; with it the same seed gives the same table."""
    from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
    from hrrl.core.seeding import make_rng

    def trained() -> TabularQLearner:
        q, rng = TabularQLearner(6, 2, TabularQConfig(alpha=0.5)), make_rng(0)
        env = StochasticChainEnv(max_episode_steps=30)
        for e in range(10):
            q.run_episode(env, rng, 0.5, learn=learn, seed=e)
        return q

    a, b = trained(), trained()
    assert (a.q == b.q).all()
    assert bool((a.q != 0).any()) is learn
