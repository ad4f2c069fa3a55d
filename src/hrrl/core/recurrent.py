"""On-policy rollouts of (possibly recurrent) actors on a vector env, shared by A2C, PPO and FuN.

An actor (:class:`RecurrentActor`) keeps its memory in a ``State``: a dict of tensors whose first
axis is the env, all zeros at the start of an episode. :class:`RolloutRunner` steps a same-step-
autoreset Gymnasium vector env (``info["final_obs"]`` holds the last observation of an episode
that ended) for ``steps`` steps and returns a :class:`Segment`:

* ``records``: whatever the actor's ``step`` returned per step (log-probabilities, values, …),
  stacked to ``(T, N, ...)``; run with gradients on (A2C: one update on the graph of the rollout)
  or off (PPO: the loss is recomputed from stored observations);
* ``final``: the actor's ``peek`` (no gradient, state unchanged) on the final observation of every
  episode that ended, taken with the state *before* it is zeroed for the next episode — the
  bootstrap value at a time-limit truncation, which is not a termination;
* ``bootstrap``: ``peek`` on the observation after the last step.

:func:`next_of` lines these up into "the value after step t" for GAE. The segment's state is
detached at the start of each segment (truncated back-propagation through time), and a row's
state is zeroed when its episode ends. :func:`train_on_policy` is the one loop: collect a segment,
let the agent update on it, until the frame budget is spent. :func:`evaluate_episodes` plays one
episode in each of ``n`` fresh envs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from hrrl.core import ppo
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.seeding import init_module, spawn_seeds, torch_generator

State = dict[str, torch.Tensor]


class RecurrentActor(Protocol):
    """An actor over a batch of envs with memory (an MLP actor has an empty state)."""

    def initial_state(self, n: int) -> State: ...

    def step(
        self, obs: torch.Tensor, state: State, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], State]:
        """Actions ``(N,)``, this step's records, and the state after the step."""
        ...

    def peek(self, obs: torch.Tensor, state: State) -> dict[str, torch.Tensor]:
        """Records (e.g. values) at ``obs`` from ``state``, without gradient and without acting."""
        ...


def reset_rows(state: State, done: torch.Tensor) -> State:
    """``state`` with the rows where ``done`` is true set to zero (a new episode starts)."""
    out: State = {}
    for key, value in state.items():
        mask = done.reshape(done.shape + (1,) * (value.dim() - 1))
        out[key] = torch.where(mask, torch.zeros_like(value), value)
    return out


def select_rows(state: State, rows: torch.Tensor) -> State:
    return {key: value[rows] for key, value in state.items()}


@dataclass
class Segment:
    """``T`` steps of ``N`` envs (time along axis 0)."""

    records: dict[str, torch.Tensor]
    """The actor's per-step records, ``(T, N, ...)`` (with the rollout's graph if any)."""
    rewards: torch.Tensor
    """Extrinsic rewards ``(T, N)``."""
    terminated: torch.Tensor
    """The step ended its episode by termination ``(T, N)`` bool."""
    truncated: torch.Tensor
    """The step ended its episode by the time limit."""
    final: dict[str, torch.Tensor]
    """``peek`` on the final observation where an episode ended, zeros elsewhere ``(T, N, ...)``."""
    bootstrap: dict[str, torch.Tensor]
    """``peek`` on the observation after the last step ``(N, ...)``."""

    @property
    def episode_end(self) -> torch.Tensor:
        return self.terminated | self.truncated


def next_of(segment: Segment, key: str) -> torch.Tensor:
    """Record ``key`` of the state reached after each step (detached): the next step's, the final
    observation's where the episode ended, the bootstrap's after the last step."""
    rec = segment.records[key].detach()
    following = torch.cat([rec[1:], segment.bootstrap[key][None]])
    ended = segment.episode_end.reshape(segment.episode_end.shape + (1,) * (rec.dim() - 2))
    return torch.where(ended, segment.final[key], following)


@dataclass
class EpisodeLog:
    """Every finished training episode, in the order they ended."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    """Terminated with a positive return (reached the goal) rather than cut by the time limit."""
    frames: list[int] = field(default_factory=list)
    """Frames (env steps over all envs) spent when the episode ended."""


class RolloutRunner:
    """Steps a same-step-autoreset vector env with an actor, keeping its state across segments."""

    def __init__(self, envs: Any, actor: RecurrentActor, seed: int) -> None:
        self.envs = envs
        self.num_envs = int(envs.num_envs)
        obs, _ = envs.reset(seed=seed)
        self.obs = torch.as_tensor(obs, dtype=torch.float32)
        self.state = actor.initial_state(self.num_envs)
        self.episode_return = np.zeros(self.num_envs)
        self.episode_length = np.zeros(self.num_envs, dtype=np.int64)
        self.log = EpisodeLog()
        self.frames = 0

    def collect(
        self, actor: RecurrentActor, steps: int, generator: torch.Generator, grad: bool
    ) -> Segment:
        state = {key: value.detach() for key, value in self.state.items()}
        records: list[dict[str, torch.Tensor]] = []
        finals: list[tuple[int, torch.Tensor, dict[str, torch.Tensor]]] = []
        rewards, terms, truncs = [], [], []
        for t in range(steps):
            with torch.set_grad_enabled(grad):
                actions, record, state = actor.step(self.obs, state, generator)
            obs, reward, terminated, truncated, info = self.envs.step(actions.numpy())
            ended = np.logical_or(terminated, truncated)
            ended_t = torch.as_tensor(ended)
            if ended.any():
                rows = torch.nonzero(ended_t)[:, 0]
                final_obs = torch.as_tensor(
                    np.stack([info["final_obs"][i] for i in rows.tolist()]), dtype=torch.float32
                )
                finals.append((t, rows, actor.peek(final_obs, select_rows(state, rows))))
                state = reset_rows(state, ended_t)
            self._count(reward, terminated, ended)
            records.append(record)
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
            terms.append(torch.as_tensor(terminated))
            truncs.append(torch.as_tensor(truncated))
            self.obs = torch.as_tensor(obs, dtype=torch.float32)
        self.state = state
        stacked = {key: torch.stack([r[key] for r in records]) for key in records[0]}
        bootstrap = actor.peek(self.obs, state)
        final = {key: torch.zeros_like(stacked[key].detach()) for key in bootstrap}
        for t, rows, values in finals:
            for key, value in values.items():
                final[key][t, rows] = value
        return Segment(
            stacked, torch.stack(rewards), torch.stack(terms), torch.stack(truncs), final, bootstrap
        )

    def _count(self, reward: np.ndarray, terminated: np.ndarray, ended: np.ndarray) -> None:
        self.frames += self.num_envs
        self.episode_return += reward
        self.episode_length += 1
        for i in np.flatnonzero(ended):
            self.log.returns.append(float(self.episode_return[i]))
            self.log.lengths.append(int(self.episode_length[i]))
            self.log.successes.append(bool(terminated[i] and self.episode_return[i] > 0))
            self.log.frames.append(self.frames)
        self.episode_return[ended] = 0.0
        self.episode_length[ended] = 0


class OnPolicyAgent(Protocol):
    """What :func:`train_on_policy` drives."""

    actor: Any
    generator: torch.Generator

    @property
    def rollout_steps(self) -> int: ...

    @property
    def rollout_grad(self) -> bool: ...

    def update(self, segment: Segment, progress: float) -> dict[str, float]: ...


class ActorAgent(StateArrays):
    """The setup the on-policy agents share: one ``actor`` module initialised from the seed, Adam
    over its parameters, a torch generator for sampling, and ``rollout_steps`` read from the
    config. Subclasses set ``rollout_grad`` and write ``update``; ``actor`` is their saved state."""

    STATE = ("actor",)
    config: Any

    def _setup(self, actor: nn.Module, lr: float, seed: int, extra_seeds: int = 0) -> list[int]:
        """Initialise ``actor``, its optimiser and the generator; returns ``extra_seeds`` more
        child seeds of ``seed`` for the subclass (the first two always go to the actor and the
        generator, so adding seeds never changes them)."""
        init_seed, torch_seed, *extra = spawn_seeds(seed, 2 + extra_seeds)
        self.actor = init_module(actor, init_seed)
        self.optimizer = torch.optim.Adam(self.actor.parameters(), lr=lr)
        self.generator = torch_generator(torch_seed)
        return extra

    @property
    def rollout_steps(self) -> int:
        return int(self.config.rollout_steps)


def train_on_policy(
    agent: OnPolicyAgent,
    envs: Any,
    frames: int,
    seed: int,
    on_update: Callable[[int, RolloutRunner], None] | None = None,
    logger: Logger | None = None,
) -> EpisodeLog:
    """Collect segments and update ``agent`` until ``frames`` env steps are spent; ``logger``
    gets every finished episode's return, length and success at the frames spent when it
    ended."""
    runner = RolloutRunner(envs, agent.actor, seed)
    update = logged = 0
    while runner.frames < frames:
        segment = runner.collect(
            agent.actor, agent.rollout_steps, agent.generator, agent.rollout_grad
        )
        agent.update(segment, runner.frames / frames)
        update += 1
        log = runner.log
        for i in range(logged, len(log.returns)):
            row = {"return": log.returns[i], "length": log.lengths[i], "success": log.successes[i]}
            log_step(logger, log.frames[i], row)
        logged = len(log.returns)
        if on_update is not None:
            on_update(update, runner)
    return runner.log


def a2c_loss(
    log_probs: torch.Tensor,
    entropies: torch.Tensor,
    values: torch.Tensor,
    rewards: torch.Tensor,
    next_values: torch.Tensor,
    segment: Segment,
    gamma: float,
    lam: float,
    value_coef: float,
    entropy_coef: float,
) -> torch.Tensor:
    """Advantage actor-critic loss on a segment: GAE(λ) advantages (bootstrapped at truncation),
    policy gradient + value regression − entropy bonus."""
    advantages, returns = ppo.gae(
        rewards, values.detach(), next_values, segment.terminated, segment.episode_end, gamma, lam
    )
    policy_loss = -(advantages * log_probs).mean()
    value_loss = (returns - values).pow(2).mean()
    return policy_loss + value_coef * value_loss - entropy_coef * entropies.mean()


def gradient_step(
    optimizer: torch.optim.Optimizer, params: list[nn.Parameter], loss: torch.Tensor, clip: float
) -> float:
    """One optimiser step on ``loss`` with gradient-norm clipping; the loss value."""
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(params, clip)
    optimizer.step()
    return float(loss.detach())


def sample_categorical(
    logits: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Actions drawn from softmax(logits) with ``generator``; their log-probs; the entropies."""
    log_probs = torch.log_softmax(logits, dim=-1)
    actions = torch.multinomial(log_probs.detach().exp(), 1, generator=generator)[:, 0]
    chosen = log_probs.gather(-1, actions[:, None])[:, 0]
    return actions, chosen, ppo.categorical_entropy(logits)


def evaluate_episodes(
    actor: RecurrentActor,
    envs: Any,
    seed: int,
    generator: torch.Generator,
    max_steps: int = 100_000,
) -> EpisodeLog:
    """The first episode of each env of ``envs`` (fresh, seeded), the actor sampling its actions
    (one episode per env, so that short episodes are not over-represented)."""
    runner = RolloutRunner(envs, actor, seed)
    done = np.zeros(runner.num_envs, dtype=bool)
    out = EpisodeLog()
    for _ in range(max_steps):
        before = len(runner.log.returns)
        segment = runner.collect(actor, 1, generator, grad=False)
        for j, i in enumerate(np.flatnonzero(segment.episode_end[0].numpy())):
            if not done[i]:
                out.returns.append(runner.log.returns[before + j])
                out.lengths.append(runner.log.lengths[before + j])
                out.successes.append(runner.log.successes[before + j])
                out.frames.append(runner.log.frames[before + j])
                done[i] = True
        if done.all():
            break
    return out
