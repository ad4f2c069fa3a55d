"""The shared episode loop (hrrl.core.rollout) and its logging."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from hrrl.core.logging import JsonlWriter, Logger
from hrrl.core.rollout import (
    Episode,
    Step,
    TrialStep,
    episode_scalars,
    goal_success,
    log_episodes,
    run_episode,
    run_side_by_side,
    run_trial,
)
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


def test_side_by_side_steps_the_running_envs_in_order_until_each_ends() -> None:
    envs = [Countdown(3, 10), Countdown(1, 10), Countdown(5, 2)]
    calls: list[Any] = []

    def act(obs: np.ndarray) -> list[int]:
        calls.append(("act", obs.tolist()))
        return [1] * len(obs)

    episodes = run_side_by_side(envs, act, lambda i, step: calls.append((i, step.next_obs)))
    assert episodes == [
        Episode(3, 3.0, True, False), Episode(1, 1.0, True, False), Episode(2, 2.0, False, True)
    ]  # fmt: skip
    assert calls == [
        ("act", [3, 1, 5]), (0, 2), (1, 0), (2, 4),
        ("act", [2, 4]), (0, 1), (2, 3),
        ("act", [1]), (0, 0),
    ]  # fmt: skip


def test_side_by_side_equals_one_episode_at_a_time() -> None:
    def play(env: Any, seed: int) -> list[Any]:
        rng = np.random.default_rng(seed)
        seen: list[Any] = []
        run_episode(env, lambda obs: int(rng.integers(2)), lambda s: seen.append(s.next_obs), seed)
        return seen

    alone = [play(StochasticChainEnv(max_episode_steps=20), s) for s in range(3)]
    envs = [StochasticChainEnv(max_episode_steps=20) for _ in range(3)]
    rngs = [np.random.default_rng(s) for s in range(3)]
    together: list[list[Any]] = [[] for _ in envs]
    running = list(range(3))

    def act(obs: np.ndarray) -> list[int]:
        return [int(rngs[i].integers(2)) for i in running[: len(obs)]]

    def observe(i: int, step: Step) -> None:
        together[i].append(step.next_obs)
        if step.done:
            running.remove(i)

    run_side_by_side(envs, act, observe, seeds=[0, 1, 2])
    assert together == alone


def test_goal_success_prefers_the_env_report_over_termination() -> None:
    step = Step(0, 0, 0.0, 1, terminated=True, truncated=False, info={"is_success": False})
    assert not goal_success(step)
    assert goal_success(Step(0, 0, 0.0, 1, terminated=True, truncated=False, info={}))


def test_trial_runs_its_length_across_episodes_and_sums_each_trial() -> None:
    """Two trials of two 2-step episodes: nothing is reset between episodes (``act`` keeps its
    running state), ``episode_end`` marks every second step, totals are per trial."""
    clock = {"t": 0}

    def step(actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool, dict[str, Any]]:
        clock["t"] += 1
        return actions + 1.0, actions * np.array([1.0, 2.0]), clock["t"] % 2 == 0, {}

    memory = {"sum": 0.0}

    def act(obs: np.ndarray) -> np.ndarray:
        memory["sum"] += float(obs.sum())
        return obs + memory["sum"]

    seen: list[TrialStep] = []
    totals = run_trial(step, np.zeros(2), 4, act, seen.append)
    assert [s.t for s in seen] == [0, 1, 2, 3]
    assert [s.episode_end for s in seen] == [False, True, False, True]
    assert all(np.array_equal(a.next_obs, b.obs) for a, b in itertools.pairwise(seen))
    rewards = np.array([s.reward for s in seen])
    assert np.array_equal(totals, rewards.sum(axis=0)) and totals[1] == 2 * totals[0] > 0
    with pytest.raises(ValueError, match="at least one step"):
        run_trial(step, np.zeros(2), 0, act)
