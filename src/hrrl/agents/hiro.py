"""HIRO (Nachum et al. 2018): a TD3 manager and worker with off-policy goal relabelling.

Every ``c`` steps the manager (a TD3 agent on ``state ‖ desired goal``) picks a *relative*
subgoal ``g`` in ``[−r, r]^d``; between its decisions the subgoal follows the goal transition
``h(s, g, s') = s + g − s'`` so that it keeps pointing at the same absolute state. The worker
(a TD3 agent on ``state ‖ g``) gets the intrinsic reward ``−‖s + g − s'‖`` and never terminates.
The manager's transition is ``(s_t, g_t, Σ scaled env rewards, s_{t+c})``.

Because the worker keeps changing, a stored ``g_t`` no longer explains the stored low-level
actions. With ``relabel=True`` each sampled manager transition gets the candidate goal (the
original, ``s_{t+c} − s_t``, and Gaussian samples around the latter) that maximises the
log-likelihood of the stored actions under the current worker policy, taken as a Gaussian around
the deterministic action: ``log π(a_{t:t+c} | s, g̃) ∝ −½ Σ_i ‖(a_i − μ(s_i, g̃_i)) / w‖²``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import numpy as np
import torch

from hrrl.agents.td3 import (
    TD3Config,
    TD3Learner,
    final_goal_evaluation,
    log_goal_progress,
    record_trace,
)
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger
from hrrl.core.replay import ReplayBuffer
from hrrl.core.rollout import Step, goal_success, run_episode
from hrrl.core.seeding import make_rng, spawn_seeds


@dataclass(frozen=True)
class HIROConfig:
    subgoal_period: int = 10
    """``c``: environment steps between manager decisions."""
    subgoal_range: float = 2.0
    """``r``: each coordinate of a relative subgoal lies in ``[−r, r]``."""
    relabel: bool = True
    """HIRO off-policy correction of manager transitions (False: HIRO without correction)."""
    gaussian_candidates: int = 8
    """Candidates drawn around ``s_{t+c} − s_t`` (plus the original and that difference)."""
    candidate_std: float = 0.5
    """Std of those candidates, as a fraction of ``r``."""
    manager_reward_scale: float = 0.1
    """Factor on the summed environment reward of a manager transition."""
    warmup_steps: int = 1000
    """Steps with uniformly random subgoals and actions before learning starts."""
    buffer_capacity: int = 200_000
    """Worker replay capacity in transitions (the manager keeps ``1/c`` of it)."""
    worker: TD3Config = field(default_factory=lambda: TD3Config(exploration_noise=0.2))
    """The worker's TD3."""
    manager: TD3Config = field(default_factory=lambda: TD3Config(exploration_noise=0.3))
    """The manager's TD3 (``gamma`` per manager step)."""


def goal_transition(state: np.ndarray, goal: np.ndarray, next_state: np.ndarray) -> np.ndarray:
    """``h(s, g, s') = s + g − s'``: the relative subgoal that still points at ``s + g``."""
    return state + goal - next_state


def worker_reward(state: np.ndarray, goal: np.ndarray, next_state: np.ndarray) -> np.ndarray:
    """``−‖s + g − s'‖``."""
    return -np.linalg.norm(state + goal - next_state, axis=-1)


def candidate_goals(
    states: np.ndarray,
    lengths: np.ndarray,
    original: np.ndarray,
    config: HIROConfig,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(B, 2 + n, d)`` candidates: the original goal, ``s_{t+c} − s_t`` and ``n`` Gaussian
    samples around it, all clipped to ``[−r, r]``."""
    rows = np.arange(len(states))
    displacement = states[rows, lengths] - states[:, 0]
    r = config.subgoal_range
    noise = rng.normal(
        0.0,
        config.candidate_std * r,
        size=(len(states), config.gaussian_candidates, states.shape[-1]),
    )
    candidates = np.concatenate(
        [original[:, None], displacement[:, None], displacement[:, None] + noise], axis=1
    )
    return np.clip(candidates, -r, r)


def action_log_likelihood(
    actor: torch.nn.Module,
    states: np.ndarray,
    actions: np.ndarray,
    lengths: np.ndarray,
    candidates: np.ndarray,
    action_scale: np.ndarray,
) -> np.ndarray:
    """``(B, K)`` log-likelihoods (up to a constant) of the stored actions under the worker for
    each candidate subgoal, following the goal transition along the stored states."""
    batch, n_candidates, _ = candidates.shape
    steps = actions.shape[1]
    start = states[:, None, :1]  # (B, 1, 1, d)
    path = states[:, None, :steps]  # (B, 1, c, d)
    goals = start + candidates[:, :, None] - path  # g_i = s_0 + g − s_i, (B, K, c, d)
    worker_obs = np.concatenate([np.broadcast_to(path, goals.shape), goals], axis=-1)
    with torch.no_grad():
        flat = torch.as_tensor(worker_obs.reshape(-1, worker_obs.shape[-1]), dtype=torch.float32)
        mean = actor(flat).numpy().reshape(batch, n_candidates, steps, -1)
    error = (actions[:, None] - mean) / action_scale
    valid = (np.arange(steps)[None, :] < lengths[:, None])[:, None, :]  # (B, 1, c)
    return -0.5 * np.sum(np.sum(error**2, axis=-1) * valid, axis=-1)


def relabel_goals(
    actor: torch.nn.Module,
    states: np.ndarray,
    actions: np.ndarray,
    lengths: np.ndarray,
    candidates: np.ndarray,
    action_scale: np.ndarray,
) -> np.ndarray:
    """The candidate with the highest action log-likelihood, per transition ``(B, d)``."""
    scores = action_log_likelihood(actor, states, actions, lengths, candidates, action_scale)
    return candidates[np.arange(len(candidates)), scores.argmax(axis=1)]


class HIROAgent(StateArrays):
    """The manager and worker TD3 learners, their buffers, acting and updates."""

    STATE = ("manager", "worker")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`)."""

    def __init__(self, env: gymnasium.Env, config: HIROConfig, seed: int) -> None:
        space = env.observation_space
        self.state_dim = int(space["observation"].shape[0])
        goal_dim = int(space["desired_goal"].shape[0])
        manager_seed, worker_seed = spawn_seeds(seed, 2)
        r = config.subgoal_range
        self.config = config
        self.manager = TD3Learner(
            self.state_dim + goal_dim,
            np.full(self.state_dim, -r),
            np.full(self.state_dim, r),
            config.manager,
            manager_seed,
        )
        self.worker = TD3Learner(
            2 * self.state_dim,
            env.action_space.low,
            env.action_space.high,
            config.worker,
            worker_seed,
        )
        self.action_scale = (env.action_space.high - env.action_space.low) / 2
        self.worker_buffer = ReplayBuffer(config.buffer_capacity)
        self.manager_buffer = ReplayBuffer(max(1, config.buffer_capacity // config.subgoal_period))

    def choose_subgoal(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator | None
    ) -> np.ndarray:
        manager_obs = np.concatenate([obs["observation"], obs["desired_goal"]])
        return self.manager.act(manager_obs, rng)

    def update_worker(self, rng: np.random.Generator) -> None:
        if len(self.worker_buffer) >= self.config.worker.batch_size:
            self.worker.update(self.worker_buffer.sample(self.config.worker.batch_size, rng))

    def update_manager(self, rng: np.random.Generator) -> None:
        if len(self.manager_buffer) < self.config.manager.batch_size:
            return
        batch = self.manager_buffer.sample(self.config.manager.batch_size, rng)
        if self.config.relabel:
            lengths = batch["length"]
            candidates = candidate_goals(
                batch["states"], lengths, batch["action"], self.config, rng
            )
            batch.data["action"] = relabel_goals(
                self.worker.actor, batch["states"], batch["actions"], lengths, candidates,
                self.action_scale,
            ).astype(np.float32)  # fmt: skip
        self.manager.update(batch)


@dataclass
class _Segment:
    """The manager transition being collected (up to ``c`` steps under one subgoal)."""

    manager_obs: np.ndarray
    subgoal: np.ndarray
    states: list[np.ndarray]
    actions: list[np.ndarray] = field(default_factory=list)
    reward: float = 0.0


def _store_segment(
    agent: HIROAgent, segment: _Segment, next_manager_obs: np.ndarray, terminated: bool
) -> None:
    c = agent.config.subgoal_period
    length = len(segment.actions)
    states = np.zeros((c + 1, agent.state_dim), dtype=np.float32)
    states[: length + 1] = segment.states
    actions = np.zeros((c, len(agent.action_scale)), dtype=np.float32)
    actions[:length] = segment.actions
    agent.manager_buffer.add(
        {
            "obs": segment.manager_obs[None],
            "action": segment.subgoal[None],
            "reward": np.array([segment.reward], dtype=np.float32),
            "next_obs": next_manager_obs[None],
            "terminated": np.array([terminated], dtype=np.float32),
            "states": states[None],
            "actions": actions[None],
            "length": np.array([length], dtype=np.int64),
        }
    )


def _manager_obs(obs: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([obs["observation"], obs["desired_goal"]]).astype(np.float32)


def hiro_episode(
    env: gymnasium.Env,
    agent: HIROAgent,
    rng: np.random.Generator,
    explore: bool,
    random_actions: Callable[[], bool] = lambda: False,
    on_step: Callable[[], None] = lambda: None,
    trace: list[np.ndarray] | None = None,
) -> bool:
    """One episode (:func:`~hrrl.core.rollout.run_episode`); stores and learns when ``explore``
    (``on_step`` runs after every step). ``random_actions()`` (asked each step) replaces both
    levels by uniform draws; ``trace`` collects the achieved goals. Returns success."""
    config = agent.config
    r = config.subgoal_range
    segment: _Segment | None = None
    goal = np.zeros(agent.state_dim, dtype=np.float32)
    worker_obs = goal
    last: list[Step] = []

    def act(obs: dict[str, np.ndarray]) -> np.ndarray:
        """The manager's subgoal at the start of a segment, then the worker's action."""
        nonlocal segment, goal, worker_obs
        state = obs["observation"].astype(np.float32)
        if segment is None:
            uniform = explore and random_actions()
            goal = (
                rng.uniform(-r, r, size=agent.state_dim).astype(np.float32)
                if uniform
                else agent.choose_subgoal(obs, rng if explore else None)
            )
            segment = _Segment(_manager_obs(obs), goal.copy(), [state])
        worker_obs = np.concatenate([state, goal])
        if explore and random_actions():
            space = env.action_space  # drawn from our generator, not the space's own RNG
            return rng.uniform(space.low, space.high).astype(np.float32)
        return agent.worker.act(worker_obs, rng if explore else None)

    def observe(step: Step) -> None:
        """Worker transition, segment bookkeeping, the manager transition when it ends."""
        nonlocal segment, goal
        assert segment is not None
        state = step.obs["observation"].astype(np.float32)
        next_state = step.next_obs["observation"].astype(np.float32)
        if trace is not None:
            record_trace(trace, step, first=not last)
        next_goal = goal_transition(state, goal, next_state).astype(np.float32)
        segment.states.append(next_state)
        segment.actions.append(step.action)
        segment.reward += config.manager_reward_scale * step.reward
        if explore:
            agent.worker_buffer.add(
                {
                    "obs": worker_obs[None],
                    "action": step.action[None],
                    "reward": worker_reward(state, goal, next_state)[None].astype(np.float32),
                    "next_obs": np.concatenate([next_state, next_goal])[None],
                    "terminated": np.zeros(1, dtype=np.float32),
                }
            )
        goal = next_goal
        segment_over = len(segment.actions) == config.subgoal_period
        if explore and (segment_over or step.done):
            _store_segment(agent, segment, _manager_obs(step.next_obs), step.terminated)
        if segment_over:
            segment = None
        if explore:
            on_step()
        last[:] = [step]

    run_episode(env, act, observe)
    return goal_success(last[0])


def train_hiro(
    make_env: Callable[[], gymnasium.Env],
    config: HIROConfig,
    seed: int,
    steps: int,
    eval_every: int,
    eval_episodes: int = 10,
    make_eval_env: Callable[[], gymnasium.Env] | None = None,
    logger: Logger | None = None,
    make_agent: Callable[[gymnasium.Env, HIROConfig, int], HIROAgent] = HIROAgent,
) -> dict[str, Any]:
    """Train for ``steps`` environment steps; greedy success rate every ``eval_every`` steps on
    ``make_eval_env()`` (by default another ``make_env()``). ``logger`` gets each training
    episode's success and each evaluation (:func:`~hrrl.agents.td3.log_goal_progress`).
    ``make_agent(env, config, seed)`` builds the agent (a variant such as
    :class:`~hrrl.agents.hiro_her.HIROHERAgent`)."""
    torch.set_num_threads(1)
    env_seed, eval_seed, agent_seed, rng_seed = spawn_seeds(seed, 4)
    env = make_env()
    eval_env = (make_eval_env or make_env)()
    env.reset(seed=env_seed)
    eval_env.reset(seed=eval_seed)
    agent = make_agent(env, config, agent_seed)
    rng = make_rng(rng_seed)
    counter = {"steps": 0}
    curve: list[tuple[int, float]] = []

    def on_step() -> None:
        counter["steps"] += 1
        if counter["steps"] <= config.warmup_steps:
            return
        agent.update_worker(rng)
        if counter["steps"] % config.subgoal_period == 0:
            agent.update_manager(rng)
        if counter["steps"] % eval_every == 0:
            wins = [hiro_episode(eval_env, agent, rng, explore=False) for _ in range(eval_episodes)]
            curve.append((counter["steps"], float(np.mean(wins))))
            log_goal_progress(logger, counter["steps"], curve=curve)

    episodes = 0
    while counter["steps"] < steps:
        won = hiro_episode(
            env, agent, rng, True, lambda: counter["steps"] < config.warmup_steps, on_step
        )
        episodes += 1
        log_goal_progress(logger, counter["steps"], won, episodes)
    return final_goal_evaluation(
        lambda trace: hiro_episode(eval_env, agent, rng, explore=False, trace=trace),
        eval_episodes, curve, counter["steps"], episodes,
    )  # fmt: skip
