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
from dataclasses import fields
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
from hrrl.agents.her import HERDQNAgent, HERDQNConfig, run_episodes, train_her_dqn
from hrrl.agents.himeta import HiMeta, HiMetaConfig
from hrrl.agents.hiro import HIROAgent, HIROConfig, hiro_episode, train_hiro
from hrrl.agents.maml import (
    MAMLConfig,
    MetaLearner,
    MetaLearnerConfig,
    make_policy,
    train_pretrained,
)
from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.agents.option_critic import OptionCritic, OptionCriticConfig
from hrrl.agents.option_discovery import DiaynConfig, DiaynLearner
from hrrl.agents.options import OptionQConfig, OptionQLearner
from hrrl.agents.pearl import PEARL, PEARLConfig
from hrrl.agents.rl2 import RL2Config, RL2Learner
from hrrl.agents.rl2_continuous import RL2Continuous, RL2ContinuousConfig
from hrrl.agents.sac import SACConfig
from hrrl.agents.tabular_mdp_baselines import (
    BEBPolicy,
    GreedyMDPPolicy,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
    play_mdp_trials,
)
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.agents.td3 import GoalTD3Agent, TD3Config, td3_goal_episode, train_goal_td3
from hrrl.core.options import OptionSet, primitive_options
from hrrl.core.ppo import PPOConfig
from hrrl.core.seeding import make_rng, torch_generator
from hrrl.envs.bandits import BatchedBernoulliBandit, sample_tasks
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.envs.chain import StochasticChainEnv
from hrrl.envs.four_rooms import MOVES, FourRoomsEnv
from hrrl.envs.nav2d import Nav2DConfig, TrialNav2D, sample_goals
from hrrl.envs.point_manip import ACT_SIZE, EGO_INDICES, OBS_SIZE, PointManipVectorEnv
from hrrl.envs.point_maze import PointMazeEnv
from hrrl.envs.random_mdps import BatchedRandomMDP, sample_mdps
from hrrl.experiments.pearl_nav2d import nav2d_rollout
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
    out.update(goal_learners())
    out.update(trial_learners())
    out.update(meta_learners())
    return out


def meta_learners() -> dict[str, Any]:
    """MAML-family and PEARL on 2-D navigation (they act through the task's batched rollout)."""
    out: dict[str, Any] = {}
    nav = Nav2DConfig(horizon=6)
    agent = MAMLConfig(hidden_sizes=(8,), meta_batch_size=2, trajectories_per_task=2)
    for method in ("maml", "fomaml", "reptile"):
        learner = MetaLearner(MetaLearnerConfig(method, agent), 26)
        log = learner.train(nav, 2, make_rng(26))
        out[f"meta-{method}"] = {"pre": log.pre_return, "post": log.post_return,
                                 "state": _state(learner)}  # fmt: skip
    policy = make_policy(agent, 27)
    log = train_pretrained(policy, agent, nav, 2, make_rng(27))
    out["meta-pretrained"] = {"pre": log.pre_return, "state": _digest(*[
        p.detach().double().numpy() for p in policy.parameters()])}  # fmt: skip
    pearl_cfg = PEARLConfig(latent_dim=2, encoder_hidden=(8,), meta_batch=2, batch_size=8,
                            context_size=4, initial_episodes=1, tasks_per_iteration=2,
                            gradient_steps=2, sac=SACConfig(hidden=(8,)))  # fmt: skip
    pearl = PEARL(2, 2, pearl_cfg, 28)
    plog = pearl.meta_train(nav2d_rollout(nav), sample_goals(3, make_rng(28), nav), 2)
    out["pearl"] = {"return": plog.train_return, "critic": plog.critic_loss, "kl": plog.kl,
                    "state": _state(pearl)}  # fmt: skip
    return out


def _bits() -> BitFlipEnv:
    return BitFlipEnv(4)


def _maze() -> PointMazeEnv:
    return PointMazeEnv(max_steps=15, random_goal=True)


def _result(result: dict[str, Any]) -> dict[str, Any]:
    """A training run's result, its float lists hashed (the traces are long)."""
    return {k: _digest(v) if k == "final_traces" else v for k, v in result.items()}


def goal_learners() -> dict[str, Any]:
    """HER (episodes side by side), goal TD3 (+HER), HIRO and DIAYN: their episodes and state."""
    out: dict[str, Any] = {}
    her_cfg = HERDQNConfig(hidden=(16,), batch_size=16, episodes_per_cycle=4, updates_per_cycle=3)
    out["her-dqn-train"] = _result(train_her_dqn(_bits, her_cfg, 12, 4, 2, eval_episodes=6))
    envs = [_bits() for _ in range(3)]
    agent, rng = HERDQNAgent(envs[0], her_cfg, 13), make_rng(13)
    rows = []
    for cycle in range(3):
        seeds = [13 + i for i in range(3)] if cycle == 0 else None
        episodes, success = run_episodes(envs, lambda o: agent.act(o, 0.3, rng), seeds)
        for episode in episodes:
            agent.buffer.add_episode(episode)
        rows.append([_digest(*[e[k] for e in episodes for k in sorted(e)]), success.tolist()])
        agent.update(rng)
    out["her-dqn-episodes"] = {"episodes": rows, "state": _state(agent)}

    td3_cfg = TD3Config(hidden=(16,), batch_size=16)
    out["td3-goal-train"] = _result(
        train_goal_td3(_maze, td3_cfg, 14, 50, 25, eval_episodes=2, warmup_steps=20,
                       n_sampled_goal=4)
    )  # fmt: skip
    env, goal_agent, grng = _maze(), GoalTD3Agent(_maze(), td3_cfg, 15, 4), make_rng(15)
    env.reset(seed=15)
    traces: list[list[Any]] = []
    for i in range(4):
        trace: list[Any] = []
        won = td3_goal_episode(env, goal_agent, grng, i < 3, lambda: goal_agent.update(grng),
                               lambda i=i: i == 0, trace)  # fmt: skip
        traces.append([_digest(trace), won])
    out["td3-goal-episodes"] = {"episodes": traces, "state": _state(goal_agent)}

    worker = TD3Config(hidden=(16,), batch_size=16)
    hiro_cfg = HIROConfig(subgoal_period=3, warmup_steps=20, gaussian_candidates=2,
                          worker=worker, manager=TD3Config(hidden=(16,), batch_size=4))  # fmt: skip
    out["hiro-train"] = _result(train_hiro(_maze, hiro_cfg, 16, 60, 30, eval_episodes=2))
    env, hiro, hrng = _maze(), HIROAgent(_maze(), hiro_cfg, 17), make_rng(17)
    env.reset(seed=17)
    hiro_rows: list[list[Any]] = []
    for i in range(4):
        trace = []

        def learn() -> None:
            hiro.update_worker(hrng)
            hiro.update_manager(hrng)

        won = hiro_episode(env, hiro, hrng, i < 3, lambda i=i: i == 0, learn, trace)
        hiro_rows.append([_digest(trace), won])
    out["hiro-episodes"] = {"episodes": hiro_rows, "state": _state(hiro)}

    diayn = DiaynLearner(FourRoomsEnv().dynamics(), DiaynConfig(n_skills=3, hidden=8), 18)
    scores = diayn.train(25)
    out["diayn"] = {"scores": _digest(scores), "state": _state(diayn),
                    "visits": _digest(diayn._visits)}  # fmt: skip
    return out


def trial_learners() -> dict[str, Any]:
    """Learners that play batched trials (recurrent state kept across a trial's episodes)."""
    out: dict[str, Any] = {}
    small = RL2Config(hidden_size=8, updates=3, batch_trials=8)
    for name, env in (
        ("bandit", BatchedBernoulliBandit(2, 5)),
        ("mdp", BatchedRandomMDP(3, 2, 2, 3)),
    ):
        rl2 = RL2Learner(env, small, 19)
        curve = rl2.train()
        tasks = (
            sample_tasks(6, 2, make_rng(0))
            if name == "bandit"
            else sample_mdps(6, 3, 2, make_rng(0))
        )
        totals = [rl2.evaluate(tasks, make_rng(1), torch_generator(2), greedy=g).tolist()
                  for g in (False, True)]  # fmt: skip
        out[f"rl2-{name}"] = {"curve": curve, "totals": totals, "state": _state(rl2)}
    nav = Nav2DConfig(horizon=6)
    rl2c = RL2Continuous(2, 2, RL2ContinuousConfig(hidden_size=8, batch_trials=3), 20)
    grng = make_rng(20)
    curve = rl2c.train(TrialNav2D(nav), lambda n: sample_goals(n, grng, nav), 12, 2)
    play = rl2c.play(TrialNav2D(nav), sample_goals(2, make_rng(0), nav), 12, deterministic=True)
    evaluated = rl2c.evaluate(TrialNav2D(nav), sample_goals(2, make_rng(3), nav), 2, 6)
    out["rl2-continuous"] = {"curve": curve, "play": _digest(play.inputs, play.actions,
                             play.log_probs, play.values, play.rewards),
                             "eval": evaluated.tolist(), "state": _state(rl2c)}  # fmt: skip
    env = BatchedRandomMDP(3, 2, 3, 4)
    tasks = sample_mdps(5, 3, 2, make_rng(21))
    for policy in (RandomMDPPolicy(), GreedyMDPPolicy(epsilon=0.1), PSRLPolicy(), BEBPolicy(),
                   UCRL2Policy()):  # fmt: skip
        totals = play_mdp_trials(policy, env, tasks, make_rng(22), make_rng(23))
        out["mdp-" + policy.name] = totals.tolist()
    himeta = HiMeta(HIMETA, 24)
    task = np.array([0, 1, 0, 1])
    stats = [himeta.train_iteration(_manip(), task) for _ in range(2)]
    success, ro = himeta.evaluate(_manip(), task, seed=25)
    out["himeta"] = {
        "stats": [{k: v for k, v in st.items() if not k.endswith("per_s")} for st in stats],
        "success": success.tolist(),
        "rollout": _digest(*[getattr(ro, f.name) for f in fields(ro)]),
        "state": _digest(*[t.double().numpy() for t in himeta.net.state_dict().values()]),
    }
    return out


HIMETA = HiMetaConfig(obs_dim=OBS_SIZE, act_dim=ACT_SIZE, ego_indices=EGO_INDICES, width=16,
                      encoder_hidden=8, num_envs=4, trial_episodes=2,
                      ppo=PPOConfig(epochs=1, minibatches=2))  # fmt: skip


def _manip() -> PointManipVectorEnv:
    return PointManipVectorEnv(4, ("reach", "push"), horizon=6)


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=1, sort_keys=True)
    print()
