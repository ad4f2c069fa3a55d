"""Every learner under one contract (:mod:`hrrl.core.learner`), as stable-baselines3 tests its
algorithms: the same seed gives the same learned state and the same actions; save → load into a
freshly built learner gives the same actions; the saved files are safetensors and JSON only.

Each case builds a learner from a seed, trains it briefly on its canonical task and acts with it
(deterministically given the learner and a fixed generator). The HRRL agent has its own save/load
and determinism tests (tests/agents/hrrl/test_hrrl_training.py).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from hrrl.agents.a2c import A2CAgent, A2CConfig, PPOAgent, PPOAgentConfig
from hrrl.agents.actor_critic import ActorCritic, ActorCriticConfig, Sarsa, SarsaConfig
from hrrl.agents.bandit_baselines import (
    BanditLearner,
    BanditPolicy,
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    FiniteHorizonGittinsPolicy,
    GreedyPolicy,
    RandomPolicy,
    ThompsonPolicy,
    UCB1Policy,
)
from hrrl.agents.cfhrl import CFHRLAgent, CFHRLConfig
from hrrl.agents.fun import FuNAgent, FuNConfig
from hrrl.agents.ham import HamQConfig, HamQLearner
from hrrl.agents.hdqn import FlatDQNAgent, HDQNAgent, HDQNConfig
from hrrl.agents.her import HERDQNAgent, HERDQNConfig, run_episodes
from hrrl.agents.himeta import HiMeta, HiMetaConfig
from hrrl.agents.hiql import GCIQLAgent, HIQLAgent, OfflineGCConfig
from hrrl.agents.hiro import HIROAgent, HIROConfig, hiro_episode
from hrrl.agents.hiro_her import HIROHERAgent
from hrrl.agents.maml import MAMLConfig, MetaLearner, MetaLearnerConfig
from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.agents.ncts import JointRegressionTS, JointTSConfig, NCTSAgent, NCTSConfig
from hrrl.agents.option_critic import OptionCritic, OptionCriticConfig
from hrrl.agents.option_discovery import DiaynConfig, DiaynLearner
from hrrl.agents.options import OptionQConfig, OptionQLearner
from hrrl.agents.panda import ImplicitConfig, PANDAConfig, UnrolledConfig, make_optimizer
from hrrl.agents.pearl import PEARL, PEARLConfig
from hrrl.agents.rl2 import RL2Config, RL2Learner
from hrrl.agents.rl2_continuous import RL2Continuous, RL2ContinuousConfig
from hrrl.agents.sac import SAC, SACConfig
from hrrl.agents.tabular_mdp_baselines import (
    BEBPolicy,
    GreedyMDPPolicy,
    MDPLearner,
    MDPPolicy,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
)
from hrrl.agents.tabular_q import TabularQConfig, TabularQLearner
from hrrl.agents.td3 import GoalTD3Agent, TD3Config, TD3Learner, td3_goal_episode
from hrrl.core.checkpoint import STATE, TENSORS
from hrrl.core.learner import Learner, load_learner, save_learner
from hrrl.core.offline_gcrl import GoalSampler, train_offline
from hrrl.core.options import OptionSet, primitive_options
from hrrl.core.ppo import PPOConfig
from hrrl.core.recurrent import train_on_policy
from hrrl.core.seeding import make_rng, torch_generator
from hrrl.envs.bandits import BatchedBernoulliBandit, sample_tasks
from hrrl.envs.bitflip import BitFlipEnv
from hrrl.envs.chain import StochasticChainEnv
from hrrl.envs.four_rooms import MOVES, FourRoomsEnv
from hrrl.envs.minigrid_compact import OBS_SIZE, make_minigrid_vector
from hrrl.envs.nav2d import Nav2DConfig, TrialNav2D, sample_goals
from hrrl.envs.point_manip import ACT_SIZE, EGO_INDICES, PointManipVectorEnv
from hrrl.envs.point_manip import OBS_SIZE as MANIP_OBS
from hrrl.envs.point_maze import PointMazeEnv
from hrrl.envs.random_mdps import BatchedRandomMDP, sample_mdps
from hrrl.tasks.causal_scm import sample_scm
from hrrl.tasks.four_rooms import hallway_options
from hrrl.tasks.four_rooms_ham import door_ham
from hrrl.tasks.markov_games import sample_game
from hrrl.tasks.offline_maze import NavigateParams, generate_navigate
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


def _ham_q(seed: int) -> HamQLearner:
    return HamQLearner(door_ham(_four_rooms()), HamQConfig(), make_rng(seed))


def _ham_actions(learner: HamQLearner) -> list[Any]:
    points = range(len(learner.ham.choice_points))
    return [learner.select(s, p, 0.2) for s in range(0, 104, 7) for p in points
            if learner.ham.available(p, s).any()]  # fmt: skip


# ---- bandits and causal bandits -----------------------------------------------------------
def _bandit(policy: Callable[[], BanditPolicy]) -> Callable[[int], BanditLearner]:
    return lambda seed: BanditLearner(policy(), k=3, n_pulls=10, batch=4, rng=make_rng(seed))


def _train_bandit(learner: BanditLearner, seed: int) -> None:
    env = BatchedBernoulliBandit(3, 10)
    env.reset(make_rng(seed), batch_size=4)
    for _ in range(6):
        actions = learner.act()
        learner.update(actions, env.pull(actions))


def _causal(agent: Any) -> Callable[[int], Any]:
    """The config (and its seed) is part of the checkpoint, so the seed goes to the generator."""

    def build(seed: int) -> Any:
        learner = agent()
        learner.rng = make_rng(seed)
        return learner

    return build


def _train_causal(learner: Any, seed: int) -> None:
    rng = make_rng(seed)
    scm = sample_scm(rng, sigma1=1.0, sigma2=0.5)
    for u in scm.sample_u(10, rng):
        a1 = learner.begin_episode(float(u))
        c = scm.sample_context(float(u), a1, rng)
        a2 = learner.act_inner(c)
        learner.update(float(u), a1, c, a2, scm.sample_reward(c, a2, rng))


def _causal_actions(learner: Any) -> list[Any]:
    a1 = [learner.begin_episode(u) for u in (-1.0, 0.0, 1.5)]
    return a1 + learner.inner_actions(np.linspace(-2, 2, 9)).tolist()


DIAYN = DiaynConfig(n_skills=3, episodes=4, episode_length=10, hidden=8)


def _diayn(seed: int) -> DiaynLearner:
    return DiaynLearner(_four_rooms().dynamics(), DIAYN, seed)


def _diayn_actions(learner: DiaynLearner) -> list[Any]:
    return [learner.skill_probs().round(6).tolist(), learner.q.argmax(axis=2).tolist()]


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


def _train_her(learner: HERDQNAgent, seed: int) -> None:
    """Two cycles of episodes side by side, each followed by two updates."""
    envs, rng = [BitFlipEnv(4) for _ in range(2)], make_rng(seed)
    for cycle in range(2):
        seeds = [seed, seed + 1] if cycle == 0 else None
        episodes, _ = run_episodes(envs, lambda o: learner.act(o, 0.5, rng), seeds)
        for episode in episodes:
            learner.buffer.add_episode(episode)
        for _ in range(2):
            learner.update(rng)


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


_HIRO = HIROConfig(
    subgoal_period=3,
    worker=TD3Config(hidden=(16,), batch_size=8),
    manager=TD3Config(hidden=(16,), batch_size=2),
)


def _hiro(seed: int) -> HIROAgent:
    return HIROAgent(PointMazeEnv(), _HIRO, seed)


def _train_hiro(learner: HIROAgent, seed: int) -> None:
    """Two exploring episodes, both levels updated after every step once their batch is there."""
    env, rng = PointMazeEnv(max_steps=12), make_rng(seed)
    env.reset(seed=seed)

    def learn() -> None:
        learner.update_worker(rng)
        learner.update_manager(rng)

    for _ in range(2):
        hiro_episode(env, learner, rng, True, on_step=learn)


def _hiro_actions(learner: HIROAgent) -> list[Any]:
    return [_td3_like(learner.manager), _td3_like(learner.worker)]


def _td3_like(learner: TD3Learner) -> list[Any]:
    dim = learner.actor.body[0].in_features
    return learner.act(make_rng(0).normal(size=(4, dim)).astype(np.float32)).tolist()


# ---- meta-RL on 2-D navigation ------------------------------------------------------------
_NAV = Nav2DConfig(horizon=8)
_PEARL = PEARLConfig(
    latent_dim=2, encoder_hidden=(8,), meta_batch=2, batch_size=8, context_size=4,
    initial_episodes=1, tasks_per_iteration=2, gradient_steps=2, sac=SACConfig(hidden=(8,)),
)  # fmt: skip


def _sac(seed: int) -> SAC:
    return SAC(3, 2, SACConfig(hidden=(8,)), seed)


def _sac_actions(learner: SAC) -> list[Any]:
    return learner.act(make_rng(0).normal(size=(4, 3)), deterministic=True).tolist()


def _pearl(seed: int) -> PEARL:
    return PEARL(2, 2, _PEARL, seed)


def _train_pearl(learner: PEARL, seed: int) -> None:
    from hrrl.experiments.pearl_nav2d import nav2d_rollout

    learner.meta_train(nav2d_rollout(_NAV), sample_goals(3, make_rng(seed), _NAV), 1)


def _pearl_actions(learner: PEARL) -> list[Any]:
    obs = make_rng(0).normal(size=(2, 2)).astype(np.float32)
    context = [
        {k: make_rng(i).normal(size=shape).astype(np.float32) for k, shape in
         (("obs", (3, 2)), ("action", (3, 2)), ("reward", (3,)), ("next_obs", (3, 2)),
          ("terminated", (3,)))}
        for i in range(2)
    ]  # fmt: skip
    learner.z_generator.manual_seed(0)
    return learner.act(obs, context).tolist()


def _rl2c(seed: int) -> RL2Continuous:
    return RL2Continuous(2, 2, RL2ContinuousConfig(hidden_size=8, batch_trials=2), seed)


def _train_rl2c(learner: RL2Continuous, seed: int) -> None:
    rng = make_rng(seed)
    learner.train(TrialNav2D(_NAV), lambda n: sample_goals(n, rng, _NAV), 16, 1)


def _rl2c_actions(learner: RL2Continuous) -> list[Any]:
    goals = sample_goals(2, make_rng(0), _NAV)
    return learner.play(TrialNav2D(_NAV), goals, 16, deterministic=True).actions.tolist()


def _meta(method: str) -> Callable[[int], MetaLearner]:
    agent = MAMLConfig(hidden_sizes=(8,), meta_batch_size=2, trajectories_per_task=2)
    return lambda seed: MetaLearner(MetaLearnerConfig(method, agent), seed)


def _train_maml(learner: MetaLearner, seed: int) -> None:
    learner.train(_NAV, 2, make_rng(seed))


def _maml_actions(learner: MetaLearner) -> list[Any]:
    return learner.act(make_rng(0).normal(size=(2, 3, 2)), make_rng(1)).tolist()


def _untrained(learner: Any, seed: int) -> None:
    """Seeded initialisation only: training these takes minutes (their own tests do it)."""
    del learner, seed


def _dqn_flat(seed: int) -> FlatDQNAgent:
    return FlatDQNAgent(6, 2, _hdqn_config(), seed)


def _dqn_h(seed: int) -> HDQNAgent:
    return HDQNAgent(6, 2, _hdqn_config(), seed)


_OFFLINE = OfflineGCConfig(hidden=(16, 16), subgoal_steps=4, batch_size=16)
_OFFLINE_DATA = NavigateParams(episodes=3, episode_length=40)


def _offline_train(learner: Any, seed: int) -> None:
    data = generate_navigate(_OFFLINE_DATA)
    if isinstance(learner, CFHRLAgent):
        learner.set_candidates(data.observations, make_rng(seed))
    sampler = GoalSampler(data.observations, data.actions, learner.hp.sampling())
    train_offline(learner, sampler, 3, 16, make_rng(seed))


def _offline_actions(learner: Any) -> list[Any]:
    rng = make_rng(0)
    obs, goals = rng.uniform(0, 11, size=(4, 2)), rng.uniform(0, 11, size=(4, 2))
    acts = [learner.act(obs, goals).tolist()]
    if isinstance(learner, CFHRLAgent):
        acts += [learner.policy(m)(obs, goals).tolist() for m in ("adaptive", "no-support")]
    return acts


# ---- on-policy learners on MiniGrid (FuN and its flat baselines) ---------------------------
def _train_minigrid(learner: Any, seed: int) -> None:
    """Two rollout segments on DoorKey-5x5 with two envs."""
    envs = make_minigrid_vector("MiniGrid-DoorKey-5x5-v0", 2)
    train_on_policy(learner, envs, frames=2 * 2 * learner.rollout_steps, seed=seed)


def _minigrid_actions(learner: Any) -> list[Any]:
    """Sampled actions over four steps from a fresh state on fixed observations."""
    obs = torch.from_numpy(make_rng(0).integers(0, 2, size=(4, 3, OBS_SIZE)).astype(np.float32))
    gen, state, out = torch.Generator().manual_seed(0), learner.actor.initial_state(3), []
    with torch.no_grad():
        for t in range(4):
            actions, _, state = learner.actor.step(obs[t], state, gen)
            out += actions.tolist()
    return out


RL2_SMALL = RL2Config(hidden_size=8, updates=2, batch_trials=8)


def _rl2_bandit(seed: int) -> RL2Learner:
    return RL2Learner(BatchedBernoulliBandit(2, 5), RL2_SMALL, seed)


def _rl2_mdp(seed: int) -> RL2Learner:
    return RL2Learner(BatchedRandomMDP(3, 2, 2, 3), RL2_SMALL, seed)


def _rl2_train(learner: RL2Learner, seed: int) -> None:
    del seed  # the learner's own generators come from its seed
    learner.train()


def _rl2_totals(learner: RL2Learner, tasks: Any) -> list[Any]:
    return [
        learner.evaluate(tasks, make_rng(1), torch_generator(2), greedy=greedy).tolist()
        for greedy in (False, True)
    ]


# ---- HiMeta (tri-level meta-RL) on the point-manipulation tasks ---------------------------
_HIMETA = HiMetaConfig(
    obs_dim=MANIP_OBS, act_dim=ACT_SIZE, ego_indices=EGO_INDICES, width=16, encoder_hidden=8,
    num_envs=4, trial_episodes=2, ppo=PPOConfig(epochs=1, minibatches=2),
)  # fmt: skip
_MANIP_TASK = np.array([0, 1, 0, 1])


def _manip() -> PointManipVectorEnv:
    return PointManipVectorEnv(4, ("reach", "push"), horizon=5)


def _train_himeta(learner: HiMeta, seed: int) -> None:
    del seed  # its generators come from its seed
    learner.train_iteration(_manip(), _MANIP_TASK)


def _himeta_actions(learner: HiMeta) -> list[Any]:
    """Deterministic trials (softmax y, mean z and a) from a fixed reset seed."""
    _, rollout = learner.evaluate(_manip(), _MANIP_TASK, seed=1)
    return [rollout.actions.tolist(), rollout.y.tolist(), rollout.z.tolist()]


# ---- tabular-MDP baselines (model-based planners over per-trial counts) --------------------
def _mdp(policy: Callable[[], MDPPolicy]) -> Callable[[int], MDPLearner]:
    return lambda seed: MDPLearner(policy(), 3, 2, 3, batch=4, rng=make_rng(seed))


def _train_mdp(learner: MDPLearner, seed: int) -> None:
    """Four steps of one trial (an episode and a step into the next: a plan is current)."""
    env = BatchedRandomMDP(3, 2, 2, 3)
    env.reset(make_rng(seed), sample_mdps(4, 3, 2, make_rng(seed + 1)))
    for _ in range(4):
        actions = learner.act(env.states)
        learner.update(*_with_actions(env.transition(actions), actions))


def _with_actions(transition: tuple[np.ndarray, ...], actions: np.ndarray) -> tuple[Any, ...]:
    states, rewards, next_states = transition
    return states, actions, rewards, next_states


def _mdp_actions(learner: MDPLearner) -> list[Any]:
    return [learner.act(np.array([s, (s + 1) % 3, 2, 0])).tolist() for s in range(3)]


# ---- PANDA and the other bilevel optimizers (their iterate is what they learn) -------------
_GAME = sample_game(np.random.default_rng(0), n_states=2, incentive_cost=0.05)


def _bilevel(kind: str, config: Any) -> Callable[[int], Any]:
    """The config (and its seed for the initial logits) is part of the checkpoint."""
    return lambda seed: make_optimizer(kind, config, _GAME.x_dim, _GAME.shape)


def _train_bilevel(learner: Any, seed: int) -> None:
    for _ in range(2):
        learner.step(_GAME)


def _bilevel_iterate(learner: Any) -> list[Any]:
    policies = learner.policies() if hasattr(learner, "policies") else ()
    return [learner.x.tolist()] + [p.tolist() for p in policies]


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
    "her-dqn": Case(_her, _train_her, _her_actions),
    "td3": Case(_td3, _untrained, _td3_actions),
    "td3-her": Case(_td3_her, _train_td3_her, _td3_her_actions),
    "hiro": Case(_hiro, _train_hiro, _hiro_actions),
    "hiro-her-worker": Case(
        lambda s: HIROHERAgent(PointMazeEnv(), _HIRO, s), _train_hiro, _hiro_actions
    ),
    "gciql": Case(lambda s: GCIQLAgent(2, 2, _OFFLINE, s), _offline_train, _offline_actions),
    "hiql": Case(lambda s: HIQLAgent(2, 2, _OFFLINE, s), _offline_train, _offline_actions),
    "carl-hiql": Case(
        lambda s: HIQLAgent(2, 2, replace(_OFFLINE, subgoal_rep="carl"), s),
        _offline_train,
        _offline_actions,
    ),
    "cfhrl": Case(
        lambda s: CFHRLAgent(2, 2, CFHRLConfig(base=_OFFLINE, candidates=32, knn=4), s),
        _offline_train,
        _offline_actions,
    ),
    "fun": Case(
        lambda s: FuNAgent(OBS_SIZE, 6, FuNConfig(rollout_steps=8), s),
        _train_minigrid,
        _minigrid_actions,
    ),
    "a2c": Case(
        lambda s: A2CAgent(OBS_SIZE, 6, A2CConfig(rollout_steps=8), s),
        _train_minigrid,
        _minigrid_actions,
    ),
    "a2c-lstm": Case(
        lambda s: A2CAgent(OBS_SIZE, 6, A2CConfig(core="lstm", rollout_steps=8), s),
        _train_minigrid,
        _minigrid_actions,
    ),
    "ppo": Case(
        lambda s: PPOAgent(OBS_SIZE, 6, PPOAgentConfig(rollout_steps=8), s),
        _train_minigrid,
        _minigrid_actions,
    ),
    "ham-q": Case(_ham_q, _train_four_rooms, _ham_actions),
    "bandit-random": Case(_bandit(RandomPolicy), _train_bandit, lambda b: b.act().tolist()),
    "bandit-greedy": Case(_bandit(GreedyPolicy), _train_bandit, lambda b: b.act().tolist()),
    "bandit-epsilon-greedy": Case(
        _bandit(lambda: EpsilonGreedyPolicy(0.3)), _train_bandit, lambda b: b.act().tolist()
    ),
    "bandit-bayes-optimal": Case(
        _bandit(lambda: BayesOptimalPolicy(3, 10)), _train_bandit, lambda b: b.act().tolist()
    ),
    "bandit-thompson": Case(_bandit(ThompsonPolicy), _train_bandit, lambda b: b.act().tolist()),
    "bandit-ucb1": Case(_bandit(UCB1Policy), _train_bandit, lambda b: b.act().tolist()),
    "bandit-gittins": Case(
        _bandit(lambda: FiniteHorizonGittinsPolicy(10)), _train_bandit, lambda b: b.act().tolist()
    ),
    "ncts": Case(
        _causal(lambda: NCTSAgent(NCTSConfig(meta_noise=1.0))), _train_causal, _causal_actions
    ),
    "joint-ts": Case(
        _causal(lambda: JointRegressionTS(JointTSConfig())), _train_causal, _causal_actions
    ),
    "diayn": Case(_diayn, lambda d, seed: d.train(), _diayn_actions),
    "rl2-bandit": Case(
        _rl2_bandit, _rl2_train, lambda a: _rl2_totals(a, sample_tasks(8, 2, make_rng(0)))
    ),
    "rl2-mdp": Case(
        _rl2_mdp, _rl2_train, lambda a: _rl2_totals(a, sample_mdps(8, 3, 2, make_rng(0)))
    ),
    "sac": Case(_sac, _untrained, _sac_actions),
    "pearl": Case(_pearl, _train_pearl, _pearl_actions),
    "rl2-continuous": Case(_rl2c, _train_rl2c, _rl2c_actions),
    **{
        method: Case(_meta(method), _train_maml, _maml_actions)
        for method in ("maml", "fomaml", "anil", "reptile")
    },
    "himeta": Case(lambda s: HiMeta(_HIMETA, s), _train_himeta, _himeta_actions),
    "himeta-rl2-ppo": Case(
        lambda s: HiMeta(replace(_HIMETA, high="rl2", macro=False), s),
        _train_himeta,
        _himeta_actions,
    ),
    "mdp-random": Case(_mdp(RandomMDPPolicy), _train_mdp, _mdp_actions),
    "mdp-greedy": Case(_mdp(lambda: GreedyMDPPolicy(epsilon=0.2)), _train_mdp, _mdp_actions),
    "mdp-psrl": Case(_mdp(PSRLPolicy), _train_mdp, _mdp_actions),
    "mdp-beb": Case(_mdp(BEBPolicy), _train_mdp, _mdp_actions),
    "mdp-ucrl2": Case(_mdp(UCRL2Policy), _train_mdp, _mdp_actions),
    "panda": Case(
        _bilevel("panda", PANDAConfig(init_scale=0.3, lower_steps=2)),
        _train_bilevel,
        _bilevel_iterate,
    ),
    "implicit-hypergradient": Case(
        _bilevel("implicit", ImplicitConfig(lr_x=0.5)), _train_bilevel, _bilevel_iterate
    ),
    "unrolled-gda": Case(
        _bilevel("unrolled", UnrolledConfig(init_scale=0.3, unroll=2)),
        _train_bilevel,
        _bilevel_iterate,
    ),
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
