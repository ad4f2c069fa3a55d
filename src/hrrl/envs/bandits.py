"""Bernoulli multi-armed bandits as meta-RL tasks (the RL² benchmark of Duan et al. 2016).

A *task* is the vector of success probabilities ``p`` (shape ``(k,)``); a *trial* is ``n`` pulls of
one task. :class:`BernoulliBanditEnv` is the Gymnasium version (one trial = one episode);
:class:`BatchedBernoulliBandit` plays ``B`` trials at once with numpy, for fast training and
evaluation. Both draw the whole trial's randomness at reset as a table of uniforms
``u[t, a]``; pull ``t`` of arm ``a`` pays ``1`` iff ``u[t, a] < p[a]``. Under the same generator
the two give exactly the same rewards (tested), and every method evaluated on the same tables
sees common random numbers.

The observation is what an RL² policy needs at each pull: the one-hot previous action (all zeros
before the first pull), the previous reward, and the fraction of the trial already played
``t / n``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

BanditTask = np.ndarray
"""Success probabilities of the ``k`` arms, float64 in ``[0, 1]``, shape ``(k,)``."""


def sample_tasks(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` tasks with every arm's probability drawn i.i.d. from U[0, 1]; shape ``(n, k)``."""
    return rng.random((n, k))


def expected_best_arm_total(n_pulls: int, k: int) -> float:
    """``n · E[max_i p_i]`` for ``p_i ~ U[0, 1]`` i.i.d.: ``n · k / (k + 1)`` (an upper bound)."""
    return n_pulls * k / (k + 1)


def observation_size(k: int) -> int:
    """Length of the observation vector: ``k`` one-hot entries, previous reward, progress."""
    return k + 2


def encode_observations(
    prev_actions: np.ndarray, prev_rewards: np.ndarray, t: int, n_pulls: int, k: int
) -> np.ndarray:
    """Observations for a batch; ``prev_actions < 0`` means "no pull yet" (all-zero one-hot)."""
    batch = prev_actions.shape[0]
    obs = np.zeros((batch, observation_size(k)), dtype=np.float32)
    pulled = prev_actions >= 0
    obs[np.flatnonzero(pulled), prev_actions[pulled]] = 1.0
    obs[:, k] = prev_rewards
    obs[:, k + 1] = t / n_pulls
    return obs


def _check_task(task: np.ndarray, k: int) -> np.ndarray:
    task = np.asarray(task, dtype=np.float64)
    if task.shape != (k,):
        raise ValueError(f"a task must have shape ({k},), got {task.shape}")
    if np.any(task < 0) or np.any(task > 1):
        raise ValueError("arm probabilities must lie in [0, 1]")
    return task.copy()


class BernoulliBanditEnv(gym.Env[np.ndarray, np.int64]):
    """A ``k``-armed Bernoulli bandit played for ``n_pulls`` pulls (one episode = one trial).

    **Action space**: ``Discrete(k)``, the arm to pull.

    **Observation space**: ``Box(0, 1, shape=(k + 2,), float32)`` holding the one-hot previous
    action (zeros at reset), the previous reward, and ``t / n_pulls`` (pulls made so far over the
    trial length).

    **Rewards**: ``1.0`` if the pulled arm pays, else ``0.0``; arm ``a`` pays with probability
    ``p[a]``. Pull ``t`` of arm ``a`` pays iff ``u[t, a] < p[a]`` where ``u`` is a
    ``(n_pulls, k)`` table of uniforms drawn from ``self.np_random`` at reset.

    **Episode end**: *terminated* after ``n_pulls`` pulls (the trial's length is part of the
    problem, visible in the observation, so it is a true terminal); never truncated.

    **Tasks** (meta-RL API): :meth:`sample_tasks` draws tasks ``p ~ U[0, 1]^k``;
    :meth:`set_task` fixes the task for the following resets (as does ``reset(options={"task":
    p})`` or the ``task`` argument); :meth:`get_task` returns it. While no task is fixed, every
    reset draws a fresh task from ``self.np_random`` (before the uniform table), which is what
    ``gymnasium.make("hrrl/BernoulliBandit-v0")`` gives. ``info["task"]`` at reset is the task.

    **Version history**: v0 — first release.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        k: int = 5,
        n_pulls: int = 10,
        task: np.ndarray | None = None,
        render_mode: str | None = None,
    ) -> None:
        if k < 1 or n_pulls < 1:
            raise ValueError("need k >= 1 arms and n_pulls >= 1")
        self.k = k
        self.n_pulls = n_pulls
        self.render_mode = render_mode
        self.action_space = spaces.Discrete(k)
        self.observation_space = spaces.Box(
            0.0, 1.0, shape=(observation_size(k),), dtype=np.float32
        )
        self._fixed_task = task is not None
        self._task = _check_task(task, k) if task is not None else np.full(k, 0.5)
        self._uniforms = np.zeros((n_pulls, k))
        self._t = 0
        self._last_action = -1
        self._last_reward = 0.0

    # --- meta-RL task API -------------------------------------------------------------------

    def sample_tasks(self, n: int, rng: np.random.Generator) -> list[BanditTask]:
        """``n`` tasks drawn from the task distribution (arm probabilities i.i.d. U[0, 1])."""
        return list(sample_tasks(n, self.k, rng))

    def set_task(self, task: BanditTask) -> None:
        """Fix the arm probabilities used from the next reset on."""
        self._task = _check_task(task, self.k)
        self._fixed_task = True

    def get_task(self) -> BanditTask:
        """The current arm probabilities (a copy)."""
        return self._task.copy()

    # --- Gymnasium API ------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and options.get("task") is not None:
            self.set_task(options["task"])
        if not self._fixed_task:
            self._task = sample_tasks(1, self.k, self.np_random)[0]
        self._uniforms = self.np_random.random((self.n_pulls, self.k))
        self._t = 0
        self._last_action = -1
        self._last_reward = 0.0
        return self._observation(), {"task": self.get_task()}

    def step(self, action: np.int64 | int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._t >= self.n_pulls:
            raise RuntimeError("the trial is over: call reset()")
        arm = int(action)
        if not self.action_space.contains(arm):
            raise ValueError(f"invalid arm {action!r} for {self.k} arms")
        reward = float(self._uniforms[self._t, arm] < self._task[arm])
        self._t += 1
        self._last_action = arm
        self._last_reward = reward
        terminated = self._t >= self.n_pulls
        return self._observation(), reward, terminated, False, {"p_arm": float(self._task[arm])}

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return (
            f"pull {self._t}/{self.n_pulls}  last arm {self._last_action}  "
            f"last reward {self._last_reward:.0f}"
        )

    def _observation(self) -> np.ndarray:
        return encode_observations(
            np.array([self._last_action]),
            np.array([self._last_reward]),
            self._t,
            self.n_pulls,
            self.k,
        )[0]


class BatchedBernoulliBandit:
    """``B`` independent Bernoulli-bandit trials stepped together with numpy.

    ``reset(rng, tasks)`` draws the ``(B, n_pulls, k)`` uniform table from ``rng`` in one call
    (after drawing ``(B, k)`` tasks from ``rng`` when ``tasks`` is None). Because numpy draws
    arrays in row order, this equals ``B`` :class:`BernoulliBanditEnv` resets in sequence on the
    same generator with the same tasks. ``step(actions)`` returns ``(obs, rewards, done)``;
    ``done`` is True after the last pull.
    """

    def __init__(self, k: int, n_pulls: int) -> None:
        if k < 1 or n_pulls < 1:
            raise ValueError("need k >= 1 arms and n_pulls >= 1")
        self.k = k
        self.n_pulls = n_pulls
        self.tasks = np.zeros((0, k))
        self._uniforms = np.zeros((0, n_pulls, k))
        self._t = 0

    @property
    def batch_size(self) -> int:
        return self.tasks.shape[0]

    @property
    def n_actions(self) -> int:
        return self.k

    @property
    def trial_length(self) -> int:
        """Steps in one trial (the pulls)."""
        return self.n_pulls

    @property
    def observation_size(self) -> int:
        return observation_size(self.k)

    @property
    def t(self) -> int:
        """Pulls made so far in the current trials."""
        return self._t

    def reset(
        self,
        rng: np.random.Generator,
        tasks: np.ndarray | None = None,
        batch_size: int | None = None,
    ) -> np.ndarray:
        """Start new trials (on ``tasks``, or ``batch_size`` fresh ones); returns observations."""
        if tasks is None:
            if batch_size is None:
                raise ValueError("give tasks or a batch_size")
            tasks = sample_tasks(batch_size, self.k, rng)
        tasks = np.asarray(tasks, dtype=np.float64)
        if tasks.ndim != 2 or tasks.shape[1] != self.k:
            raise ValueError(f"tasks must have shape (B, {self.k}), got {tasks.shape}")
        self.tasks = tasks.copy()
        self._uniforms = rng.random((tasks.shape[0], self.n_pulls, self.k))
        self._t = 0
        batch = tasks.shape[0]
        return encode_observations(np.full(batch, -1), np.zeros(batch), 0, self.n_pulls, self.k)

    def pull(self, actions: np.ndarray) -> np.ndarray:
        """Rewards (float64, 0/1) of pulling ``actions`` now, advancing the clock."""
        if self._t >= self.n_pulls:
            raise RuntimeError("the trials are over: call reset()")
        actions = np.asarray(actions, dtype=np.int64)
        rows = np.arange(self.batch_size)
        paid = self._uniforms[rows, self._t, actions] < self.tasks[rows, actions]
        self._t += 1
        return paid.astype(np.float64)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
        """Pull ``actions``; returns next observations, rewards and whether the trials ended."""
        rewards = self.pull(actions)
        obs = encode_observations(
            np.asarray(actions, dtype=np.int64), rewards, self._t, self.n_pulls, self.k
        )
        return obs, rewards, self._t >= self.n_pulls
