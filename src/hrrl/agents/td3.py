"""Twin Delayed DDPG (TD3, Fujimoto et al. 2018) for box action spaces.

Targets use clipped double-Q learning and target policy smoothing:
``y = r + γ (1 − terminated) min_i Q'_i(s', clip(π'(s') + clip(ε, −c, c), low, high))`` with
``ε ~ N(0, σ²)``; the actor is updated (and the targets Polyak-averaged) every ``policy_delay``
critic updates. Noise scales are fractions of the half-width of the action box. Batches carry
``obs, action, reward, next_obs, terminated`` and an optional per-sample ``discount``;
truncation is never termination, so time limits bootstrap.

For Dict goal environments, :class:`GoalTD3Agent` runs TD3 on ``observation ‖ desired_goal`` fed
from a :class:`~hrrl.core.her_replay.HindsightReplayBuffer` (TD3 + HER with ``n_sampled_goal > 0``,
plain goal-conditioned TD3 with 0), and :func:`train_goal_td3` is its training loop.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from hrrl.agents.her import uvfa_batch
from hrrl.core.her_replay import EpisodeRecorder, HindsightReplayBuffer
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger
from hrrl.core.networks import mlp, soft_update
from hrrl.core.replay import Batch
from hrrl.core.rollout import Step, goal_success, run_episode
from hrrl.core.seeding import init_module, make_rng, spawn_seeds, torch_generator


@dataclass(frozen=True)
class TD3Config:
    gamma: float = 0.99
    """Discount factor (per transition; a batch ``discount`` field overrides it)."""
    actor_lr: float = 1e-3
    """Adam learning rate of the actor."""
    critic_lr: float = 1e-3
    """Adam learning rate of the twin critics."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of actor and critics."""
    tau: float = 0.005
    """Polyak rate of the target networks."""
    policy_delay: int = 2
    """Critic updates per actor (and target) update."""
    policy_noise: float = 0.2
    """Std of the target policy smoothing noise, as a fraction of the action half-width."""
    noise_clip: float = 0.5
    """Clip of the smoothing noise, as a fraction of the action half-width."""
    exploration_noise: float = 0.2
    """Std of the Gaussian exploration noise, as a fraction of the action half-width."""
    batch_size: int = 128
    """Transitions per update."""


class Actor(nn.Module):
    """Deterministic policy ``π(s) = centre + half_width · tanh(mlp(s))``."""

    def __init__(
        self, obs_dim: int, low: np.ndarray, high: np.ndarray, hidden: tuple[int, ...]
    ) -> None:
        super().__init__()
        self.body = mlp([obs_dim, *hidden, len(low)], output_activation=nn.Tanh)
        low_t = torch.as_tensor(low, dtype=torch.float32)
        high_t = torch.as_tensor(high, dtype=torch.float32)
        self.register_buffer("centre", (high_t + low_t) / 2)
        self.register_buffer("half_width", (high_t - low_t) / 2)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.centre + self.half_width * self.body(obs)


class Critic(nn.Module):
    """``Q(s, a)``: an MLP on the concatenated observation and action."""

    def __init__(self, obs_dim: int, action_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.body = mlp([obs_dim + action_dim, *hidden, 1])

    def forward(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat([obs, action], dim=-1)).squeeze(-1)


def smoothed_target_actions(
    actor_target: Actor, next_obs: torch.Tensor, noise: torch.Tensor, noise_clip: float
) -> torch.Tensor:
    """``clip(π'(s') + clip(noise, −c·w, c·w), low, high)``; ``noise`` already scaled (``w``:
    the action half-width)."""
    half_width = actor_target.half_width
    low = actor_target.centre - half_width
    high = actor_target.centre + half_width
    clipped = torch.maximum(torch.minimum(noise, noise_clip * half_width), -noise_clip * half_width)
    action = actor_target(next_obs) + clipped
    return torch.maximum(torch.minimum(action, high), low)


def td3_targets(
    actor_target: Actor,
    critic_targets: tuple[Critic, Critic],
    next_obs: torch.Tensor,
    reward: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float | torch.Tensor,
    noise: torch.Tensor,
    noise_clip: float,
) -> torch.Tensor:
    """Clipped double-Q target with target policy smoothing (``noise`` given, already scaled)."""
    with torch.no_grad():
        next_action = smoothed_target_actions(actor_target, next_obs, noise, noise_clip)
        q1 = critic_targets[0](next_obs, next_action)
        q2 = critic_targets[1](next_obs, next_action)
        return reward + gamma * (1.0 - terminated) * torch.minimum(q1, q2)


class TD3Learner(StateArrays):
    """Actor, twin critics, their targets and optimizers; ``update(batch)`` is one TD3 step."""

    STATE = ("actor", "critics", "actor_target", "critic_targets")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(
        self, obs_dim: int, low: np.ndarray, high: np.ndarray, config: TD3Config, seed: int
    ) -> None:
        actor_seed, critic1_seed, critic2_seed, noise_seed = spawn_seeds(seed, 4)
        self.config = config
        self.low = np.asarray(low, dtype=np.float32)
        self.high = np.asarray(high, dtype=np.float32)
        self.actor = init_module(Actor(obs_dim, self.low, self.high, config.hidden), actor_seed)
        self.critics = (
            init_module(Critic(obs_dim, len(self.low), config.hidden), critic1_seed),
            init_module(Critic(obs_dim, len(self.low), config.hidden), critic2_seed),
        )
        self.actor_target = copy.deepcopy(self.actor).requires_grad_(False)
        self.critic_targets = (
            copy.deepcopy(self.critics[0]).requires_grad_(False),
            copy.deepcopy(self.critics[1]).requires_grad_(False),
        )
        self.actor_optimizer = torch.optim.Adam(
            self.actor.parameters(), lr=config.actor_lr, foreach=True
        )
        critic_params = [p for c in self.critics for p in c.parameters()]
        self.critic_optimizer = torch.optim.Adam(critic_params, lr=config.critic_lr, foreach=True)
        self._noise_gen = torch_generator(noise_seed)
        self.updates = 0

    def act(
        self, obs: np.ndarray, rng: np.random.Generator | None = None, noise: float | None = None
    ) -> np.ndarray:
        """Deterministic actions for a batch (or one) observation; Gaussian noise when ``rng``."""
        with torch.no_grad():
            action = self.actor(torch.as_tensor(obs, dtype=torch.float32)).numpy()
        if rng is not None:
            std = self.config.exploration_noise if noise is None else noise
            half_width = (self.high - self.low) / 2
            action = action + rng.normal(0.0, 1.0, size=action.shape) * std * half_width
        return np.clip(action, self.low, self.high).astype(np.float32)

    def update(self, batch: Batch) -> float:
        """One critic step (and every ``policy_delay`` steps an actor and target step)."""
        obs = torch.as_tensor(batch["obs"], dtype=torch.float32)
        action = torch.as_tensor(batch["action"], dtype=torch.float32)
        reward = torch.as_tensor(batch["reward"], dtype=torch.float32)
        next_obs = torch.as_tensor(batch["next_obs"], dtype=torch.float32)
        terminated = torch.as_tensor(batch["terminated"], dtype=torch.float32)
        gamma: float | torch.Tensor = self.config.gamma
        if "discount" in batch.data:
            gamma = torch.as_tensor(batch["discount"], dtype=torch.float32)
        noise = torch.randn(action.shape, generator=self._noise_gen)
        noise = noise * self.config.policy_noise * self.actor.half_width
        target = td3_targets(
            self.actor_target, self.critic_targets, next_obs, reward, terminated, gamma,
            noise, self.config.noise_clip,
        )  # fmt: skip
        critic_loss = sum(
            nn.functional.mse_loss(critic(obs, action), target) for critic in self.critics
        )
        self.critic_optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()  # type: ignore[union-attr]
        self.critic_optimizer.step()
        self.updates += 1
        if self.updates % self.config.policy_delay == 0:
            actor_loss = -self.critics[0](obs, self.actor(obs)).mean()
            self.actor_optimizer.zero_grad(set_to_none=True)
            actor_loss.backward()
            self.actor_optimizer.step()
            soft_update(self.actor_target, self.actor, self.config.tau)
            for critic_target, critic in zip(self.critic_targets, self.critics, strict=True):
                soft_update(critic_target, critic, self.config.tau)
        return float(critic_loss.item())  # type: ignore[union-attr]


def _goal_obs(obs: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([obs["observation"], obs["desired_goal"]], axis=-1).astype(np.float32)


class GoalTD3Agent(StateArrays):
    """TD3 on ``observation ‖ desired_goal`` of a Dict goal env, fed from a
    :class:`~hrrl.core.her_replay.HindsightReplayBuffer`: with ``n_sampled_goal = k > 0`` that is
    TD3 + HER (Andrychowicz et al. 2017, ``future`` strategy, a relabelled goal with probability
    ``k / (k + 1)``, rewards and termination recomputed by the env for the goal trained on);
    ``k = 0`` is plain goal-conditioned TD3 on the same buffer."""

    STATE = ("learner",)
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(
        self,
        env: Any,
        config: TD3Config,
        seed: int,
        n_sampled_goal: int = 4,
        buffer_capacity: int = 200_000,
    ) -> None:
        space = env.observation_space
        obs_dim = int(space["observation"].shape[0] + space["desired_goal"].shape[0])
        self.config = config
        self.n_sampled_goal = int(n_sampled_goal)
        self.learner = TD3Learner(
            obs_dim, env.action_space.low, env.action_space.high, config, seed
        )
        base = env.unwrapped
        self.buffer = HindsightReplayBuffer(
            max(1, buffer_capacity // base.max_steps),
            base.max_steps,
            base.compute_reward,
            getattr(base, "compute_terminated", None),
            self.n_sampled_goal,
        )

    def act(
        self,
        obs: dict[str, np.ndarray],
        rng: np.random.Generator | None = None,
        noise: float | None = None,
    ) -> np.ndarray:
        """Deterministic actions (Gaussian exploration noise when ``rng``)."""
        return self.learner.act(_goal_obs(obs), rng, noise)

    def update(self, rng: np.random.Generator) -> float:
        """One TD3 step on a (hindsight-relabelled) batch; no-op on an empty buffer."""
        if self.buffer.n_episodes == 0:
            return 0.0
        return self.learner.update(uvfa_batch(self.buffer.sample(self.config.batch_size, rng)))


def td3_goal_episode(
    env: Any,
    agent: GoalTD3Agent,
    rng: np.random.Generator,
    explore: bool,
    on_step: Callable[[], None] = lambda: None,
    random_actions: Callable[[], bool] = lambda: False,
    trace: list[np.ndarray] | None = None,
) -> bool:
    """One episode of goal-conditioned TD3 (:func:`~hrrl.core.rollout.run_episode`); when
    ``explore`` the whole episode goes to the agent's buffer at its end and ``on_step()`` runs
    after every step (updates, evaluations); ``trace`` collects the achieved goals. Returns
    success."""
    recorder = EpisodeRecorder()
    last: list[Step] = []

    def act(obs: dict[str, np.ndarray]) -> np.ndarray:
        if explore and random_actions():
            space = env.action_space  # drawn from our generator, not the space's own RNG
            return rng.uniform(space.low, space.high).astype(np.float32)
        return agent.act(obs, rng if explore else None)

    def observe(step: Step) -> None:
        if trace is not None:
            record_trace(trace, step, first=not last)
        if explore:
            recorder.record(step)
            if step.done:
                agent.buffer.add_episode(recorder.episode())
            on_step()
        last[:] = [step]

    run_episode(env, act, observe)
    return goal_success(last[0])


def record_trace(trace: list[np.ndarray], step: Step, first: bool) -> None:
    """Append the achieved goal after ``step`` to ``trace`` (the start state's before it when
    ``step`` is the episode's first)."""
    if first:
        trace.append(step.obs["achieved_goal"].copy())
    trace.append(step.next_obs["achieved_goal"].copy())


def log_goal_progress(
    logger: Logger | None,
    steps: int,
    success: bool | None = None,
    episodes: int | None = None,
    curve: list[tuple[int, float]] | None = None,
) -> None:
    """Log a goal-env training run's progress at ``steps`` env steps: a training episode's
    success (and episodes so far), or the evaluation just appended to ``curve``."""
    if logger is None:
        return
    if curve is not None:
        logger.log(steps, {"eval/success": curve[-1][1]})
    else:
        logger.log(steps, {"train/success": success, "train/episodes": episodes})


def final_goal_evaluation(
    greedy_episode: Callable[[list[np.ndarray]], bool],
    eval_episodes: int,
    curve: list[tuple[int, float]],
    env_steps: int,
    episodes: int,
) -> dict[str, Any]:
    """The closing greedy evaluation of a goal-env training run (``greedy_episode(trace)`` plays
    one episode, appends the achieved goals to ``trace`` and returns success), appended to
    ``curve``, and the run's result dict."""
    traces: list[list[np.ndarray]] = [[] for _ in range(eval_episodes)]
    wins = [greedy_episode(trace) for trace in traces]
    curve.append((env_steps, float(np.mean(wins))))
    return {
        "success": curve[-1][1],
        "curve": curve,
        "env_steps": env_steps,
        "episodes": episodes,
        "final_traces": [np.asarray(t).tolist() for t in traces],
    }


def train_goal_td3(
    make_env: Callable[[], Any],
    config: TD3Config,
    seed: int,
    steps: int,
    eval_every: int,
    eval_episodes: int = 10,
    warmup_steps: int = 1000,
    buffer_capacity: int = 200_000,
    make_eval_env: Callable[[], Any] | None = None,
    n_sampled_goal: int = 0,
    logger: Logger | None = None,
) -> dict[str, Any]:
    """Goal-conditioned TD3 on a Dict goal env for ``steps`` steps (uniform actions for
    ``warmup_steps``, then one update per step), with HER when ``n_sampled_goal > 0``; greedy
    success rate over ``eval_episodes`` episodes every ``eval_every`` steps and at the end, on
    ``make_eval_env()`` (by default another ``make_env()``). ``logger`` gets each training
    episode's success and each evaluation (:func:`log_goal_progress`)."""
    torch.set_num_threads(1)
    env_seed, eval_seed, agent_seed, rng_seed = spawn_seeds(seed, 4)
    env = make_env()
    eval_env = (make_eval_env or make_env)()
    env.reset(seed=env_seed)
    eval_env.reset(seed=eval_seed)
    agent = GoalTD3Agent(env, config, agent_seed, n_sampled_goal, buffer_capacity)
    rng = make_rng(rng_seed)
    curve: list[tuple[int, float]] = []
    counter = {"steps": 0}

    def on_step() -> None:
        counter["steps"] += 1
        if counter["steps"] > warmup_steps:
            agent.update(rng)
        if counter["steps"] % eval_every == 0:
            wins = [td3_goal_episode(eval_env, agent, rng, False) for _ in range(eval_episodes)]
            curve.append((counter["steps"], float(np.mean(wins))))
            log_goal_progress(logger, counter["steps"], curve=curve)

    episodes = 0
    while counter["steps"] < steps:
        won = td3_goal_episode(
            env, agent, rng, True, on_step, lambda: counter["steps"] < warmup_steps
        )
        episodes += 1
        log_goal_progress(logger, counter["steps"], won, episodes)
    return final_goal_evaluation(
        lambda trace: td3_goal_episode(eval_env, agent, rng, False, trace=trace),
        eval_episodes, curve, counter["steps"], episodes,
    )  # fmt: skip
