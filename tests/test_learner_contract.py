"""Every learner under one contract (:mod:`hrrl.core.learner`), as stable-baselines3 tests its
algorithms: the same seed gives the same learned state and the same actions; save → load into a
freshly built learner gives the same actions; the saved files are safetensors and JSON only.

Each case builds a learner from a seed, trains it briefly on its canonical task and acts with it
(deterministically given the learner and a fixed generator). The HRRL agent has its own save/load
and determinism tests (tests/test_hrrl_training.py).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from hrrl.agents.actor_critic import ActorCritic, ActorCriticConfig, Sarsa, SarsaConfig
from hrrl.agents.hdqn import FlatDQNAgent, HDQNAgent, HDQNConfig
from hrrl.agents.her import HERDQNAgent, HERDQNConfig
from hrrl.agents.hiro import HIROAgent, HIROConfig
from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.agents.option_critic import OptionCritic, OptionCriticConfig
from hrrl.agents.options import OptionQConfig, OptionQLearner
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.agents.td3 import GoalTD3Agent, TD3Config, TD3Learner, td3_goal_episode
from hrrl.core.checkpoint import STATE, TENSORS
from hrrl.core.learner import Learner, load_learner, save_learner
from hrrl.core.options import OptionSet, primitive_options
from hrrl.core.seeding import make_rng
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.envs.chain import StochasticChainEnv
from hrrl.envs.four_rooms import MOVES, FourRoomsEnv
from hrrl.envs.point_maze import PointMazeEnv
from hrrl.tasks.four_rooms import hallway_options
from hrrl.tasks.taxi import TAXI_ID, taxi_decode, taxi_graph


@dataclass(frozen=True)
class Case:
    build: Callable[[int], Any]
    """A fresh learner from a seed."""
    train: Callable[[Any, int], None]
    """A few episodes (or updates) of its own training, seeded."""
    act: Callable[[Any], list[Any]]
    """Actions on a fixed set of inputs (fixed generators where acting is stochastic)."""


def _chain() -> StochasticChainEnv:
    return StochasticChainEnv(max_episode_steps=30)


def _episodes(n: int, run: Callable[[int, int | None], Any], seed: int) -> None:
    for episode in range(n):
        run(episode, seed if episode == 0 else None)


# ---- tabular learners ---------------------------------------------------------------------
def _tabular_q(seed: int) -> TabularQLearner:
    return TabularQLearner(6, 2, TabularQConfig(alpha=0.5))


def _train_tabular_q(learner: TabularQLearner, seed: int) -> None:
    env, rng = _chain(), make_rng(seed)
    _episodes(20, lambda e, s: learner.run_episode(env, rng, 0.5, seed=s), seed)


def _sarsa(seed: int) -> Sarsa:
    return Sarsa(6, 2, SarsaConfig(), make_rng(seed))


def _actor_critic(seed: int) -> ActorCritic:
    return ActorCritic(6, 2, ActorCriticConfig(), make_rng(seed))


def _train_own_rng(learner: Any, seed: int) -> None:
    env = _chain()
    _episodes(20, lambda e, s: learner.run_episode(env, seed=s), seed)


def _four_rooms() -> FourRoomsEnv:
    return FourRoomsEnv(max_steps=200)


def _option_q(seed: int) -> OptionQLearner:
    env = _four_rooms()
    options = OptionSet(hallway_options(env) + primitive_options(env.n_states, 4), len(MOVES))
    return OptionQLearner(options, OptionQConfig(learning="intra-option"), make_rng(seed))


def _option_critic(seed: int) -> OptionCritic:
    return OptionCritic(_four_rooms().n_states, len(MOVES), OptionCriticConfig(), make_rng(seed))


def _train_four_rooms(learner: Any, seed: int) -> None:
    env = _four_rooms()
    _episodes(3, lambda e, s: learner.run_episode(env, seed=s), seed)


def _maxq(seed: int) -> MaxQLearner:
    return MaxQLearner(taxi_graph(), MaxQConfig())


def _train_maxq(learner: MaxQLearner, seed: int) -> None:
    env, rng = gym.make(TAXI_ID), make_rng(seed)
    _episodes(3, lambda e, s: learner.run_episode(env, rng, 0.5, seed=s), seed)


# ---- neural learners ----------------------------------------------------------------------
def _hdqn_config() -> HDQNConfig:
    return HDQNConfig(epsilon_decay_episodes=10, learning_starts=16, batch_size=8)


def _train_dqn_agent(learner: Any, seed: int) -> None:
    env, rng = _chain(), make_rng(seed)
    _episodes(4, lambda e, s: learner.run_episode(env, rng, episode=e, seed=s), seed)


def _greedy_episodes(learner: Any) -> list[Any]:
    env, rng = _chain(), make_rng(5)
    stats = [learner.run_episode(env, rng, 10, learn=False, greedy=True, seed=s) for s in (1, 2)]
    return [(s.total_reward, s.steps) for s in stats]


def _her(seed: int) -> HERDQNAgent:
    return HERDQNAgent(BitFlipEnv(4), HERDQNConfig(), seed)


def _her_actions(learner: HERDQNAgent) -> list[Any]:
    env = BitFlipEnv(4)
    obs = [env.reset(seed=s)[0] for s in range(8)]
    batch = {k: np.stack([o[k] for o in obs]) for k in obs[0]}
    return learner.act(batch, 0.0, make_rng(0)).tolist()


def _td3(seed: int) -> TD3Learner:
    return TD3Learner(4, -np.ones(2), np.ones(2), TD3Config(), seed)


def _td3_actions(learner: TD3Learner) -> list[Any]:
    return learner.act(make_rng(0).normal(size=(8, 4)).astype(np.float32)).tolist()


def _td3_her(seed: int) -> GoalTD3Agent:
    return GoalTD3Agent(PointMazeEnv(max_steps=20), TD3Config(batch_size=16), seed, 4)


def _train_td3_her(learner: GoalTD3Agent, seed: int) -> None:
    env = PointMazeEnv(max_steps=20, random_goal=True)
    env.reset(seed=seed)
    rng = make_rng(seed)
    for _ in range(3):
        td3_goal_episode(env, learner, rng, True, lambda: learner.update(rng))


def _td3_her_actions(learner: GoalTD3Agent) -> list[Any]:
    obs = make_rng(0).uniform(0, 4, size=(3, 4, 2)).astype(np.float32)
    batch = {"observation": obs[0], "achieved_goal": obs[1], "desired_goal": obs[2]}
    return learner.act(batch).tolist()


def _hiro(seed: int) -> HIROAgent:
    return HIROAgent(PointMazeEnv(), HIROConfig(), seed)


def _hiro_actions(learner: HIROAgent) -> list[Any]:
    return [_td3_like(learner.manager), _td3_like(learner.worker)]


def _td3_like(learner: TD3Learner) -> list[Any]:
    dim = learner.actor.body[0].in_features
    return learner.act(make_rng(0).normal(size=(4, dim)).astype(np.float32)).tolist()


def _untrained(learner: Any, seed: int) -> None:
    """Seeded initialisation only: training these takes minutes (their own tests do it)."""
    del learner, seed


def _dqn_flat(seed: int) -> FlatDQNAgent:
    return FlatDQNAgent(6, 2, _hdqn_config(), seed)


def _dqn_h(seed: int) -> HDQNAgent:
    return HDQNAgent(6, 2, _hdqn_config(), seed)


TAXI_STATES = [s for s in range(0, 500, 7) if taxi_decode(s)[1] != taxi_decode(s)[2]]
"""Taxi states where the episode is not over (the passenger is not at the destination)."""

CASES: dict[str, Case] = {
    "tabular-q": Case(
        _tabular_q, _train_tabular_q, lambda q: q.greedy_policy(make_rng(0)).tolist()
    ),
    "sarsa": Case(_sarsa, _train_own_rng, lambda a: [a.act(s) for s in range(6) for _ in range(3)]),
    "actor-critic": Case(
        _actor_critic, _train_own_rng, lambda a: [a.act(s) for s in range(6) for _ in range(3)]
    ),
    "option-q": Case(
        _option_q, _train_four_rooms, lambda a: [a.select(s, 0.2) for s in range(0, 104, 3)]
    ),
    "option-critic": Case(
        _option_critic,
        _train_four_rooms,
        lambda a: [a.act(s, a.choose_option(s))[0] for s in range(0, 104, 3)],
    ),
    "maxq": Case(
        _maxq, _train_maxq, lambda a: [a.greedy_action(s, make_rng(0)) for s in TAXI_STATES]
    ),
    "flat-dqn": Case(_dqn_flat, _train_dqn_agent, _greedy_episodes),
    "h-dqn": Case(_dqn_h, _train_dqn_agent, _greedy_episodes),
    "her-dqn": Case(_her, _untrained, _her_actions),
    "td3": Case(_td3, _untrained, _td3_actions),
    "td3-her": Case(_td3_her, _train_td3_her, _td3_her_actions),
    "hiro": Case(_hiro, _untrained, _hiro_actions),
}


def _trained(case: Case, seed: int) -> Any:
    learner = case.build(seed)
    case.train(learner, seed)
    return learner


def _same_state(a: Learner, b: Learner) -> bool:
    sa, sb = a.state_arrays(), b.state_arrays()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", list(CASES))
def test_same_seed_same_learner_and_actions(name: str) -> None:
    case = CASES[name]
    first, second = _trained(case, 3), _trained(case, 3)
    assert isinstance(first, Learner) and first.state_arrays()
    assert _same_state(first, second)
    assert case.act(first) == case.act(second)


@pytest.mark.parametrize("name", list(CASES))
def test_save_load_gives_the_same_actions(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    trained = _trained(case, 3)
    save_learner(tmp_path / name, trained)
    loaded = load_learner(tmp_path / name, case.build(11))  # another seed: other initial state
    assert _same_state(trained, loaded)
    assert case.act(loaded) == case.act(trained)


@pytest.mark.parametrize("name", list(CASES))
def test_saved_files_are_safetensors_and_json_only(name: str, tmp_path: Path) -> None:
    folder = save_learner(tmp_path / name, CASES[name].build(3))
    assert sorted(p.name for p in folder.iterdir()) == sorted([STATE, TENSORS])
    json.loads((folder / STATE).read_text())
    data = (folder / TENSORS).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])  # safetensors: u64 header size, JSON header
    header = json.loads(data[8 : 8 + header_len])
    assert header and all("dtype" in v for k, v in header.items() if k != "__metadata__")
    assert not data.startswith(b"\x80") and not data.startswith(b"PK")  # no pickle, no torch zip


def test_load_refuses_another_kind_of_learner(tmp_path: Path) -> None:
    save_learner(tmp_path / "q", _tabular_q(0))
    with pytest.raises(ValueError, match="TabularQLearner"):
        load_learner(tmp_path / "q", _sarsa(0))
