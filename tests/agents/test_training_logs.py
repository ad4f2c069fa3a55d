"""Training loops log through the shared :class:`~hrrl.core.logging.Logger`: what each writes
is exactly what it returns (curves, scores), and logging changes no learned number."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from hrrl.agents.a2c import A2CAgent, A2CConfig
from hrrl.agents.her import HERDQNConfig, train_her_dqn
from hrrl.agents.hiro import HIROConfig, train_hiro
from hrrl.agents.maml import MAMLConfig, MetaLearner, MetaLearnerConfig
from hrrl.agents.option_discovery import DiaynConfig, DiaynLearner
from hrrl.agents.rl2 import RL2Config, RL2Learner
from hrrl.agents.td3 import TD3Config
from hrrl.core.logging import Logger, log_step
from hrrl.core.recurrent import train_on_policy
from hrrl.core.seeding import make_rng
from hrrl.envs.bandits import BatchedBernoulliBandit
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.envs.four_rooms import FourRoomsEnv
from hrrl.envs.minigrid_compact import OBS_SIZE, make_minigrid_vector
from hrrl.envs.nav2d import Nav2DConfig
from hrrl.envs.point_maze import PointMazeEnv


class Memory:
    """A writer that keeps the rows."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[str, float]]] = []

    def write(self, step: int, scalars: Mapping[str, float]) -> None:
        self.rows.append((step, dict(scalars)))

    def close(self) -> None:
        pass

    def series(self, key: str) -> list[tuple[int, float]]:
        return [(step, row[key]) for step, row in self.rows if key in row]


def _logged() -> tuple[Logger, Memory]:
    memory = Memory()
    return Logger([memory]), memory


def test_log_step_prefixes_and_is_a_no_op_without_a_logger() -> None:
    logger, memory = _logged()
    log_step(logger, 3, {"a": 1, "b": True})
    log_step(None, 4, {"a": 2})
    log_step(logger, 5, {"c": 0.5}, prefix="eval/")
    assert memory.rows == [(3, {"train/a": 1.0, "train/b": 1.0}), (5, {"eval/c": 0.5})]


def test_diayn_logs_its_scores_and_learns_the_same() -> None:
    config = DiaynConfig(n_skills=3, episodes=6, episode_length=8, hidden=8)
    logger, memory = _logged()
    logged = DiaynLearner(FourRoomsEnv().dynamics(), config, 0)
    scores = logged.train(logger=logger)
    plain = DiaynLearner(FourRoomsEnv().dynamics(), config, 0)
    assert plain.train() == scores
    assert memory.series("train/log_q") == list(enumerate(scores))
    assert np.array_equal(plain.q, logged.q)


def test_her_logs_each_cycle_and_every_evaluation() -> None:
    torch.set_num_threads(1)
    config = HERDQNConfig(hidden=(8,), batch_size=8, episodes_per_cycle=2, updates_per_cycle=2)
    logger, memory = _logged()
    result = train_her_dqn(lambda: BitFlipEnv(3), config, 1, 4, 2, eval_episodes=4, logger=logger)
    assert result == train_her_dqn(lambda: BitFlipEnv(3), config, 1, 4, 2, eval_episodes=4)
    assert memory.series("eval/success") == [tuple(p) for p in result["curve"]]
    assert [s for s, _ in memory.series("train/loss")] == [1, 2, 3, 4]
    assert memory.series("train/env_steps")[-1] == (4, result["env_steps"])


def test_hiro_logs_training_episodes_and_evaluations() -> None:
    def maze() -> PointMazeEnv:
        return PointMazeEnv(max_steps=10)

    td3 = TD3Config(hidden=(8,), batch_size=4)
    config = HIROConfig(subgoal_period=3, warmup_steps=10, worker=td3, manager=td3)
    logger, memory = _logged()
    result = train_hiro(maze, config, 2, 30, 15, eval_episodes=1, logger=logger)
    evaluations = memory.series("eval/success")
    assert evaluations == [tuple(p) for p in result["curve"][:-1]]  # the last: final evaluation
    assert len(memory.series("train/success")) == result["episodes"]
    assert memory.series("train/episodes")[-1] == (result["env_steps"], result["episodes"])


def test_rl2_and_maml_log_their_curves() -> None:
    logger, memory = _logged()
    rl2 = RL2Learner(BatchedBernoulliBandit(2, 4), RL2Config(hidden_size=4, updates=2), 0)
    curve = rl2.train(logger=logger)
    assert memory.series("train/mean_total") == list(enumerate(curve))
    logger, memory = _logged()
    agent = MAMLConfig(hidden_sizes=(4,), meta_batch_size=2, trajectories_per_task=2)
    log = MetaLearner(MetaLearnerConfig("maml", agent), 0).train(
        Nav2DConfig(horizon=4), 2, make_rng(0), logger=logger
    )
    assert memory.series("train/pre_return") == list(enumerate(log.pre_return))
    assert memory.series("train/post_return") == list(enumerate(log.post_return))


def test_on_policy_training_logs_every_finished_episode() -> None:
    torch.set_num_threads(1)
    logger, memory = _logged()
    agent = A2CAgent(OBS_SIZE, 6, A2CConfig(rollout_steps=8), 0)
    envs = make_minigrid_vector("MiniGrid-Empty-5x5-v0", 2)  # time limit: 100 steps
    episodes: Any = train_on_policy(agent, envs, frames=2 * 8 * 15, seed=0, logger=logger)
    assert len(episodes.returns) >= 2, "episodes end within 240 frames (120 steps per env)"
    assert memory.series("train/return") == list(
        zip(episodes.frames, episodes.returns, strict=True)
    )
    assert [r for _, r in memory.series("train/length")] == episodes.lengths
