"""Random tabular MDPs as meta-RL tasks (the RL² MDP benchmark, Duan et al. 2016 §5).

A *task* is one MDP with ``S`` states and ``A`` actions: transition rows ``P[s, a] ~
Dirichlet(1, …, 1)`` (flat) and mean rewards ``μ[s, a] ~ N(1, 1)``; a step pays ``μ[s, a] + ε``
with ``ε ~ N(0, 1)``. A *trial* is ``n`` episodes of ``horizon`` steps on the same MDP, each
episode starting in a uniformly random state. These distributions are our choice: seed 001
(lines 175–185) only names "Tabular MDPs", and the paper's exact generator is not in our seeds.

:class:`RandomMDPEnv` is the Gymnasium version (one trial = one Gymnasium episode, so a recurrent
policy keeps its memory across the MDP's episodes); :class:`BatchedRandomMDP` steps ``B`` trials
at once with numpy. At every step both draw, in this order, one uniform for the transition and
one standard normal for the reward noise (and, at an episode start, one uniform for the start
state) regardless of the action taken, so two methods played with the same generator on the same
MDPs see common random numbers; under the same generator the two classes give identical trials
(tested).

The observation (what RL² sees, as in seed 004 line 63: state, previous action, reward and done
flag) is ``[one-hot state (S), one-hot previous action (A), previous reward, previous done]``;
the previous action is all zeros at the start of a trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

REWARD_MEAN_PRIOR = (1.0, 1.0)
"""Mean and standard deviation of the normal prior of each ``μ[s, a]``."""
REWARD_NOISE_STD = 1.0
"""Standard deviation of the per-step reward noise."""
REWARD_OBS_BOUND = 10.0
"""The previous reward is clipped to ``±REWARD_OBS_BOUND`` in the observation (a reward beyond
±10 has probability below 1e-14 under the task distribution; the reward itself is not clipped)."""


@dataclass(frozen=True)
class MDPTasks:
    """A batch of MDPs: ``P (B, S, A, S)`` transition rows and ``R (B, S, A)`` mean rewards."""

    P: np.ndarray
    R: np.ndarray

    @property
    def batch_size(self) -> int:
        return self.P.shape[0]

    def __getitem__(self, idx: Any) -> MDPTasks:
        return MDPTasks(self.P[idx], self.R[idx])


def sample_mdps(n: int, n_states: int, n_actions: int, rng: np.random.Generator) -> MDPTasks:
    """``n`` MDPs: flat-Dirichlet transitions, ``N(1, 1)`` mean rewards."""
    P = rng.dirichlet(np.ones(n_states), size=(n, n_states, n_actions))
    mean, std = REWARD_MEAN_PRIOR
    R = rng.normal(mean, std, size=(n, n_states, n_actions))
    return MDPTasks(P, R)


def observation_size(n_states: int, n_actions: int) -> int:
    return n_states + n_actions + 2


def encode_observations(
    states: np.ndarray,
    prev_actions: np.ndarray,
    prev_rewards: np.ndarray,
    prev_done: np.ndarray,
    n_states: int,
    n_actions: int,
) -> np.ndarray:
    """Observations for a batch; ``prev_actions < 0`` means "no step yet" (all-zero one-hot)."""
    batch = states.shape[0]
    obs = np.zeros((batch, observation_size(n_states, n_actions)), dtype=np.float32)
    rows = np.arange(batch)
    obs[rows, states] = 1.0
    acted = prev_actions >= 0
    obs[rows[acted], n_states + prev_actions[acted]] = 1.0
    obs[:, n_states + n_actions] = np.clip(prev_rewards, -REWARD_OBS_BOUND, REWARD_OBS_BOUND)
    obs[:, n_states + n_actions + 1] = prev_done
    return obs


def _next_states(P_rows: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling of one next state per row of ``P_rows (B, S)``."""
    cdf = np.cumsum(P_rows, axis=1)
    idx = (cdf < uniforms[:, None]).sum(axis=1)
    return np.minimum(idx, P_rows.shape[1] - 1)


class BatchedRandomMDP:
    """``B`` trials of ``n_episodes × horizon`` steps on ``B`` MDPs, stepped together with numpy.

    ``step(actions)`` returns ``(obs, rewards, done)``; ``done`` is True after the last step of
    the trial. :attr:`episode_end` tells whether the step just taken ended an episode (the next
    observation is then the next episode's start state). Per step the generator draws ``(B,)``
    transition uniforms then ``(B,)`` reward normals, then ``(B,)`` start uniforms when an episode
    ends (and once at reset).
    """

    def __init__(self, n_states: int, n_actions: int, n_episodes: int, horizon: int) -> None:
        if min(n_states, n_actions, n_episodes, horizon) < 1:
            raise ValueError("need at least one state, action, episode and step")
        self.n_states = n_states
        self.n_actions = n_actions
        self.n_episodes = n_episodes
        self.horizon = horizon
        self.tasks = MDPTasks(np.zeros((0, n_states, n_actions, n_states)), np.zeros((0, 1, 1)))
        self.states = np.zeros(0, dtype=np.int64)
        self.episode_end = False
        self._t = 0
        self._rng = np.random.default_rng(0)

    @property
    def trial_length(self) -> int:
        """Steps in one trial (``n_episodes · horizon``)."""
        return self.n_episodes * self.horizon

    @property
    def observation_size(self) -> int:
        return observation_size(self.n_states, self.n_actions)

    @property
    def batch_size(self) -> int:
        return self.tasks.batch_size

    @property
    def t(self) -> int:
        """Steps taken so far in the current trials."""
        return self._t

    @property
    def step_in_episode(self) -> int:
        return self._t % self.horizon

    def reset(
        self,
        rng: np.random.Generator,
        tasks: MDPTasks | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Start new trials (on ``tasks``, or ``batch_size`` fresh MDPs drawn from ``rng``)."""
        if tasks is None:
            if batch_size is None:
                raise ValueError("give tasks or a batch_size")
            tasks = sample_mdps(batch_size, self.n_states, self.n_actions, rng)
        if tasks.P.shape[1:] != (self.n_states, self.n_actions, self.n_states):
            raise ValueError(
                f"tasks do not have {self.n_states} states and {self.n_actions} actions"
            )
        self.tasks = tasks
        self._rng = rng
        self._t = 0
        self.episode_end = False
        batch = tasks.batch_size
        self.states = self._start_states(batch)
        zeros = np.zeros(batch)
        return encode_observations(
            self.states, np.full(batch, -1), zeros, zeros, self.n_states, self.n_actions
        )

    def _start_states(self, batch: int) -> np.ndarray:
        return np.minimum(
            (self._rng.random(batch) * self.n_states).astype(np.int64), self.n_states - 1
        )

    def transition(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take ``actions``: returns (states acted in, rewards, next states before any reset)."""
        if self._t >= self.trial_length:
            raise RuntimeError("the trials are over: call reset()")
        actions = np.asarray(actions, dtype=np.int64)
        rows = np.arange(self.batch_size)
        u = self._rng.random(self.batch_size)
        noise = self._rng.standard_normal(self.batch_size)
        states = self.states
        rewards = self.tasks.R[rows, states, actions] + REWARD_NOISE_STD * noise
        next_states = _next_states(self.tasks.P[rows, states, actions], u)
        self._t += 1
        self.episode_end = self._t % self.horizon == 0
        self.states = self._start_states(self.batch_size) if self.episode_end else next_states
        if self._t >= self.trial_length:
            self.states = next_states
        return states, rewards, next_states

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Take ``actions``; returns next observations, rewards and whether the trials ended."""
        _, rewards, _ = self.transition(actions)
        done = np.full(self.batch_size, float(self.episode_end))
        obs = encode_observations(
            self.states, np.asarray(actions), rewards, done, self.n_states, self.n_actions
        )
        return obs, rewards, self._t >= self.trial_length


class RandomMDPEnv(gym.Env[np.ndarray, np.int64]):
    """One trial (``n_episodes`` episodes of ``horizon`` steps) on a random tabular MDP.

    **Action space**: ``Discrete(A)``.

    **Observation space**: ``Box(-10, 10, shape=(S + A + 2,), float32)``: one-hot current state,
    one-hot previous action (zeros at reset), previous reward (clipped to ±10), previous done flag
    (1.0 right after an inner episode ended; the state is then the next episode's start state).

    **Rewards**: ``μ[s, a] + ε``, ``ε ~ N(0, 1)``.

    **Episode end**: *terminated* after ``n_episodes · horizon`` steps (the trial); never truncated.
    ``info["episode_end"]`` marks the end of each inner episode.

    **Tasks** (meta-RL API): :meth:`sample_tasks`, :meth:`set_task` (or ``reset(options={"task":
    (P, R)})``), :meth:`get_task`. While no task is fixed, every reset draws a fresh MDP from
    ``self.np_random``. Stepping draws from ``self.np_random`` exactly as
    :class:`BatchedRandomMDP` does from its generator.

    **Version history**: v0 — first release.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        n_states: int = 10,
        n_actions: int = 5,
        n_episodes: int = 10,
        horizon: int = 10,
        render_mode: str | None = None,
    ) -> None:
        self._batched = BatchedRandomMDP(n_states, n_actions, n_episodes, horizon)
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(n_actions)
        self.observation_space = spaces.Box(
            -REWARD_OBS_BOUND,
            REWARD_OBS_BOUND,
            shape=(observation_size(n_states, n_actions),),
            dtype=np.float32,
        )
        self._task: MDPTasks | None = None
        self._last = ""

    def sample_tasks(self, n: int, rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
        env = self._batched
        tasks = sample_mdps(n, env.n_states, env.n_actions, rng)
        return [(tasks.P[i], tasks.R[i]) for i in range(n)]

    def set_task(self, task: tuple[np.ndarray, np.ndarray]) -> None:
        P, R = (np.asarray(x, dtype=np.float64) for x in task)
        env = self._batched
        if P.shape != (env.n_states, env.n_actions, env.n_states) or R.shape != P.shape[:2]:
            raise ValueError("task shapes do not match the MDP size")
        if np.any(P < 0) or not np.allclose(P.sum(-1), 1.0):
            raise ValueError("transition rows must be probability vectors")
        self._task = MDPTasks(P[None].copy(), R[None].copy())

    def get_task(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self._task is None else (self._task.P[0].copy(), self._task.R[0].copy())

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and options.get("task") is not None:
            self.set_task(options["task"])
        env = self._batched
        tasks = self._task or sample_mdps(1, env.n_states, env.n_actions, self.np_random)
        obs = env.reset(self.np_random, tasks)
        return obs[0], {"state": int(env.states[0])}

    def step(self, action: np.int64 | int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(int(action)):
            raise ValueError(f"invalid action {action!r}")
        env = self._batched
        obs, rewards, done = env.step(np.array([int(action)]))
        self._last = f"step {env.t}/{env.trial_length} state {int(env.states[0])}"
        info = {"episode_end": env.episode_end, "state": int(env.states[0])}
        return obs[0], float(rewards[0]), bool(done), False, info

    def render(self) -> str | None:
        return self._last if self.render_mode == "ansi" else None


def oracle_total(tasks: MDPTasks, n_episodes: int, horizon: int) -> np.ndarray:
    """Expected total over ``n_episodes`` episodes of ``horizon`` steps of the optimal policy that
    knows the MDP (uniform start state), per task."""
    from hrrl.core.tabular import finite_horizon_q

    Q = finite_horizon_q(tasks.P, tasks.R, horizon)
    return n_episodes * Q[:, 0].max(-1).mean(-1)
