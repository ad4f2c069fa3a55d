"""Fingerprint each step-by-step learner: a few seeded training episodes, then a hash of the
learned state and the per-episode stats. Run it on two commits and compare the JSON: the shared
episode loop (hrrl.core.rollout) must not change a single learned number.

    PYTHONPATH=<checkout>/src .venv/bin/python scripts/learner_fingerprints.py > out.json

Only APIs that exist on both sides of the migration are used (the learners' ``run_episode``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import hrrl
from hrrl.agents.actor_critic import ActorCritic, ActorCriticConfig, Sarsa, SarsaConfig
from hrrl.agents.bandit_baselines import (
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GreedyPolicy,
    RandomPolicy,
    ThompsonPolicy,
    UCB1Policy,
    play_trials,
)
from hrrl.agents.ham import HamQConfig, HamQLearner
from hrrl.agents.hdqn import FlatDQNAgent, HDQNAgent, HDQNConfig
from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.agents.option_critic import OptionCritic, OptionCriticConfig
from hrrl.agents.options import OptionQConfig, OptionQLearner
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.core.options import OptionSet, primitive_options
from hrrl.core.seeding import make_rng
from hrrl.envs.bandits import BatchedBernoulliBandit
from hrrl.envs.chain import StochasticChainEnv
from hrrl.envs.four_rooms import MOVES, FourRoomsEnv
from hrrl.tasks.four_rooms import hallway_options
from hrrl.tasks.four_rooms_ham import door_ham
from hrrl.tasks.taxi import TAXI_ID, taxi_graph

del hrrl


def _digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def _state(learner: Any) -> str:
    if hasattr(learner, "state_arrays"):
        arrays = learner.state_arrays()
        return _digest(*[arrays[k].double().numpy() for k in sorted(arrays)])
    return _digest(learner.q)


def _stats(ep: Any) -> list[Any]:
    return [float(ep.total_reward), int(ep.steps), bool(ep.terminated)] + [
        getattr(ep, k)
        for k in ("decisions", "switches", "choices", "goals", "reached")
        if hasattr(ep, k)
    ]


def _run(learner: Any, n: int, one: Callable[[Any, int, int | None], Any], seed: int) -> dict:
    eps = [_stats(one(learner, e, seed if e == 0 else None)) for e in range(n)]
    return {"episodes": eps, "state": _state(learner)}


def main() -> dict[str, Any]:
    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    chain = StochasticChainEnv(max_episode_steps=30)
    rooms = FourRoomsEnv(max_steps=300)

    q = TabularQLearner(6, 2, TabularQConfig(alpha=0.5))
    rng = make_rng(1)
    out["tabular-q"] = _run(q, 40, lambda L, e, s: L.run_episode(chain, rng, 0.3, seed=s), 1)
    out["sarsa"] = _run(Sarsa(104, 4, SarsaConfig(), make_rng(2)), 15,
                        lambda L, e, s: L.run_episode(rooms, seed=s), 2)  # fmt: skip
    out["actor-critic"] = _run(ActorCritic(104, 4, ActorCriticConfig(), make_rng(3)), 15,
                               lambda L, e, s: L.run_episode(rooms, seed=s), 3)  # fmt: skip
    out["option-critic"] = _run(OptionCritic(104, 4, OptionCriticConfig(), make_rng(4)), 15,
                                lambda L, e, s: L.run_episode(rooms, seed=s), 4)  # fmt: skip
    for rule in ("smdp", "intra-option"):
        opts = OptionSet(hallway_options(rooms) + primitive_options(rooms.n_states, 4), len(MOVES))
        learner = OptionQLearner(opts, OptionQConfig(learning=rule), make_rng(5))
        out[f"option-q-{rule}"] = _run(learner, 20, lambda L, e, s: L.run_episode(rooms, seed=s), 5)
    ham = HamQLearner(door_ham(rooms), HamQConfig(), make_rng(6))
    out["ham-q"] = _run(ham, 20, lambda L, e, s: L.run_episode(rooms, seed=s), 6)
    taxi, mrng = gym.make(TAXI_ID), make_rng(7)
    out["maxq"] = _run(MaxQLearner(taxi_graph(), MaxQConfig()), 10,
                       lambda L, e, s: L.run_episode(taxi, mrng, 0.3, seed=s), 7)  # fmt: skip
    cfg = HDQNConfig(epsilon_decay_episodes=60, learning_starts=16, batch_size=8)
    for name, cls in (("flat-dqn", FlatDQNAgent), ("h-dqn", HDQNAgent)):
        agent, drng = cls(6, 2, cfg, 8), make_rng(8)
        out[name] = _run(agent, 30, lambda L, e, s, r=drng: L.run_episode(chain, r, e, seed=s), 8)
        out[name + "-greedy"] = _stats(agent.run_episode(chain, drng, 9, learn=False, greedy=True))
    policies = [RandomPolicy(), GreedyPolicy(), EpsilonGreedyPolicy(0.1), UCB1Policy(),
                ThompsonPolicy(), BayesOptimalPolicy(3, 6)]  # fmt: skip
    env = BatchedBernoulliBandit(3, 6)
    tasks = make_rng(9).random((16, 3))
    for policy in policies:
        totals = play_trials(policy, env, tasks, make_rng(10), make_rng(11))
        out["bandit-" + policy.name] = totals.tolist()
    return out


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1, sort_keys=True)
    print()
