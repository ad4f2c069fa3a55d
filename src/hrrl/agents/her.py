"""Goal-conditioned DQN (a universal value function approximator, Schaul et al. 2015) with
Hindsight Experience Replay (Andrychowicz et al. 2017).

``Q(s ‖ g, a)`` is one network on the concatenated observation and goal; the update is the shared
:func:`~hrrl.agents.dqn.dqn_loss` (double DQN, target network), fed from a
:class:`~hrrl.core.her_replay.HindsightReplayBuffer`. ``n_sampled_goal = 0`` turns HER off (plain
goal-conditioned DQN, the paper's baseline). Training follows the paper's loop: a cycle collects
``episodes_per_cycle`` episodes with ε-greedy exploration (the episodes run side by side, one
batched forward pass per step), then does ``updates_per_cycle`` gradient steps.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch
from torch import nn

from hrrl.agents.dqn import DQNConfig, DQNLearner, q_greedy
from hrrl.core.checkpoint import (
    load_checkpoint,
    load_optimizer_tensors,
    optimizer_tensors,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from hrrl.core.her_replay import EpisodeRecorder, HindsightReplayBuffer
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger
from hrrl.core.networks import mlp
from hrrl.core.replay import Batch
from hrrl.core.rollout import Step, goal_success, run_side_by_side
from hrrl.core.seeding import init_module, make_rng, spawn_seeds


@dataclass(frozen=True)
class HERDQNConfig:
    n_sampled_goal: int = 4
    """HER ``future`` goals per transition (k); 0 disables hindsight relabelling."""
    hidden: tuple[int, ...] = (256,)
    """Hidden layer sizes of the Q-network (the paper: one layer of 256)."""
    batch_size: int = 128
    """Transitions per gradient step."""
    episodes_per_cycle: int = 16
    """Episodes collected (side by side) before each round of updates."""
    updates_per_cycle: int = 40
    """Gradient steps after each cycle of episodes."""
    epsilon: float = 0.2
    """Probability of a uniformly random action while collecting."""
    buffer_episodes: int = 20_000
    """Replay capacity in episodes."""
    dqn: DQNConfig = field(
        default_factory=lambda: DQNConfig(gamma=0.98, lr=1e-3, tau=0.05, target_every=40)
    )
    """The DQN update (targets soft-updated once per cycle by default)."""


def uvfa_network(obs_dim: int, goal_dim: int, n_actions: int, hidden: tuple[int, ...]) -> nn.Module:
    """``Q(s ‖ g, ·)``: an MLP on the concatenated observation and goal."""
    return mlp([obs_dim + goal_dim, *hidden, n_actions])


def uvfa_batch(batch: Batch) -> Batch:
    """Turn a HER batch into the fields :func:`dqn_loss` reads (goal appended to both states)."""
    goal = batch["goal"].astype(np.float32)
    data = {
        "obs": np.concatenate([batch["observation"].astype(np.float32), goal], axis=-1),
        "next_obs": np.concatenate([batch["next_observation"].astype(np.float32), goal], axis=-1),
        "action": batch["action"],
        "reward": batch["reward"],
        "terminated": batch["terminated"],
    }
    return Batch(data, batch.indices, batch.weights)


def _goal_input(obs: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([obs["observation"], obs["desired_goal"]], axis=-1).astype(np.float32)


class HERDQNAgent(StateArrays):
    """ε-greedy acting, HER storage and DQN updates for a discrete-action goal environment."""

    STATE = ("learner",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, env: gymnasium.Env, config: HERDQNConfig, seed: int) -> None:
        space = env.observation_space
        obs_dim = int(np.prod(space["observation"].shape))
        goal_dim = int(np.prod(space["desired_goal"].shape))
        self.n_actions = int(env.action_space.n)
        net_seed, self._rng_seed = spawn_seeds(seed, 2)
        q_net = init_module(
            uvfa_network(obs_dim, goal_dim, self.n_actions, config.hidden), net_seed
        )
        self.learner = DQNLearner(q_net, copy.deepcopy(q_net), config.dqn)
        self.config = config
        base = env.unwrapped
        self.buffer = HindsightReplayBuffer(
            config.buffer_episodes,
            base.max_steps,
            base.compute_reward,
            getattr(base, "compute_terminated", None),
            config.n_sampled_goal,
        )

    def act(
        self, obs: dict[str, np.ndarray], epsilon: float, rng: np.random.Generator
    ) -> np.ndarray:
        """ε-greedy actions for a batch of Dict observations (arrays with a leading axis)."""
        greedy = q_greedy(self.learner.q_net, _goal_input(obs))
        explore = rng.random(len(greedy)) < epsilon
        return np.where(explore, rng.integers(0, self.n_actions, size=len(greedy)), greedy)

    def update(self, rng: np.random.Generator) -> float:
        batch = uvfa_batch(self.buffer.sample(self.config.batch_size, rng))
        loss, _ = self.learner.update(batch)
        return loss


def run_episodes(
    envs: list[gymnasium.Env],
    policy: Callable[[dict[str, np.ndarray]], np.ndarray],
    seeds: list[int] | None = None,
) -> tuple[list[dict[str, np.ndarray]], np.ndarray]:
    """Run one episode in each env side by side (:func:`~hrrl.core.rollout.run_side_by_side`);
    returns the episodes (HER layout) and successes."""
    recorders = [EpisodeRecorder() for _ in envs]
    success = np.zeros(len(envs), dtype=bool)

    def observe(i: int, step: Step) -> None:
        recorders[i].record(step)
        success[i] = goal_success(step)

    run_side_by_side(envs, lambda obs: [int(a) for a in policy(obs)], observe, seeds)
    return [recorder.episode() for recorder in recorders], success


def evaluate(
    agent: HERDQNAgent, envs: list[gymnasium.Env], episodes: int, rng: np.random.Generator
) -> float:
    """Greedy success rate over ``episodes`` fresh episodes."""
    wins = 0
    done = 0
    while done < episodes:
        batch = envs[: min(len(envs), episodes - done)]
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=len(batch))]
        _, success = run_episodes(batch, lambda o: agent.act(o, 0.0, rng), seeds)
        wins += int(success.sum())
        done += len(batch)
    return wins / episodes


def save_progress(
    folder: Path,
    agent: HERDQNAgent,
    rngs: dict[str, np.random.Generator],
    envs: list[gymnasium.Env],
    progress: dict[str, Any],
) -> None:
    """Everything :func:`train_her_dqn` needs to continue exactly (safetensors + JSON)."""
    tensors = {
        "learner": agent.state_arrays(),
        "adam": optimizer_tensors(agent.learner.optimizer),
        "buffer": {
            k: torch.from_numpy(np.ascontiguousarray(v))
            for k, v in agent.buffer.state_dict().items()
        },
    }
    state = {
        **progress,
        "config": json.loads(json.dumps(asdict(agent.config))),
        "updates": agent.learner.updates,
        "rngs": {name: rng_state(rng) for name, rng in rngs.items()},
        "envs": [rng_state(env.unwrapped.np_random) for env in envs],
    }
    save_checkpoint(folder, tensors, state)


def load_progress(
    folder: Path, agent: HERDQNAgent, envs: list[gymnasium.Env]
) -> tuple[dict[str, np.random.Generator], dict[str, Any]] | None:
    """Inverse of :func:`save_progress` (None when ``folder`` holds no checkpoint)."""
    try:
        groups, state = load_checkpoint(folder)
    except FileNotFoundError:
        return None
    if state["config"] != json.loads(json.dumps(asdict(agent.config))):
        raise ValueError(f"{folder} holds a run with another config")
    agent.load_state_arrays(groups["learner"])
    load_optimizer_tensors(agent.learner.optimizer, groups.get("adam", {}))
    agent.learner.updates = int(state["updates"])
    agent.buffer.load_state_dict({k: v.numpy() for k, v in groups["buffer"].items()})
    for env, env_state in zip(envs, state["envs"], strict=True):
        env.unwrapped.np_random = restore_rng(env_state)
    rngs = {name: restore_rng(value) for name, value in state["rngs"].items()}
    return rngs, state


def train_her_dqn(
    make_env: Callable[[], gymnasium.Env],
    config: HERDQNConfig,
    seed: int,
    cycles: int,
    eval_every: int,
    eval_episodes: int = 100,
    checkpoint: Path | None = None,
    checkpoint_every: int = 100,
    logger: Logger | None = None,
) -> dict[str, Any]:
    """Train for ``cycles`` cycles; greedy success rate every ``eval_every`` cycles and at end.

    With ``checkpoint``, progress is saved there every ``checkpoint_every`` cycles and a run
    started again with the same arguments continues from the last save, ending exactly as an
    uninterrupted run. ``logger`` gets each cycle's collection success, mean loss and env
    steps, and each evaluation."""
    torch.set_num_threads(1)
    env_seed, eval_seed, agent_seed, rng_seed = spawn_seeds(seed, 4)
    envs = [make_env() for _ in range(config.episodes_per_cycle)]
    eval_envs = [make_env() for _ in range(config.episodes_per_cycle)]
    for i, env in enumerate(envs):
        env.reset(seed=env_seed + i)
    agent = HERDQNAgent(envs[0], config, agent_seed)
    rngs = {"train": make_rng(rng_seed), "eval": make_rng(eval_seed)}
    progress: dict[str, Any] = {"cycle": 0, "curve": [], "env_steps": 0}
    restored = None if checkpoint is None else load_progress(checkpoint, agent, envs + eval_envs)
    if restored is not None:
        rngs, state = restored
        progress = {k: state[k] for k in progress}
        progress["curve"] = [tuple(point) for point in progress["curve"]]
    rng, eval_rng = rngs["train"], rngs["eval"]
    curve: list[tuple[int, float]] = progress["curve"]
    env_steps = int(progress["env_steps"])
    for cycle in range(int(progress["cycle"]) + 1, cycles + 1):
        episodes, success = run_episodes(envs, lambda o: agent.act(o, config.epsilon, rng))
        for episode in episodes:
            agent.buffer.add_episode(episode)
            env_steps += len(episode["action"])
        losses = [agent.update(rng) for _ in range(config.updates_per_cycle)]
        scalars = {"train/success": success.mean(), "train/env_steps": env_steps}
        if losses:
            scalars["train/loss"] = float(np.mean(losses))
        if cycle % eval_every == 0 or cycle == cycles:
            curve.append((cycle, evaluate(agent, eval_envs, eval_episodes, eval_rng)))
            scalars["eval/success"] = curve[-1][1]
        if logger is not None:
            logger.log(cycle, scalars)
        if checkpoint is not None and (cycle % checkpoint_every == 0 or cycle == cycles):
            done = {"cycle": cycle, "curve": curve, "env_steps": env_steps}
            save_progress(checkpoint, agent, rngs, envs + eval_envs, done)
    return {
        "success": curve[-1][1],
        "curve": curve,
        "env_steps": env_steps,
        "updates": agent.learner.updates,
    }
