"""MetaWorld ML10 as a multi-task vector env (optional extra: ``pip install 'hrrl[metaworld]'``).

:class:`ML10VectorEnv` steps one MetaWorld env per sub-env in a Python loop and has the interface
of :class:`hrrl.envs.point_manip.PointManipVectorEnv` (same-step autoreset, ``set_tasks``,
``info["success"]``, ``info["final_obs"]``). Task indices 0–9 are ML10's training classes, 10–14
its test classes. Protocols:

* ``fixed`` — each class frozen to **one** configuration (its first task), as HiMeta's public code
  evaluates (easier than the standard benchmark);
* ``standard`` — every episode draws one of the class's 50 configurations (training classes from
  ``train_tasks``, test classes from ``test_tasks``), goals hidden, as the benchmark defines.

Observations are MetaWorld's 39 floats (goal slots 36–38 zero in ML10); ego indices
:data:`EGO_INDICES` = hand xyz, gripper, and their previous-frame copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EGO_INDICES = (0, 1, 2, 3, 18, 19, 20, 21)
OBS_SIZE = 39
ACT_SIZE = 4
HORIZON = 500


def available() -> bool:
    try:
        import metaworld  # noqa: F401
    except ImportError:
        return False
    return True


def build_ml10(seed: int = 0) -> Any:
    """``metaworld.ML10(seed)`` (≈ 13 s on an idle core)."""
    import metaworld

    return metaworld.ML10(seed=seed)


class ML10VectorEnv:
    """``num_envs`` MetaWorld envs; sub-env i runs task ``tasks[i]`` (an index 0–14)."""

    def __init__(
        self,
        benchmark: Any,
        num_envs: int,
        tasks: list[int],
        protocol: str = "fixed",
        horizon: int = HORIZON,
    ) -> None:
        if protocol not in ("fixed", "standard"):
            raise ValueError("protocol must be fixed or standard")
        self.benchmark = benchmark
        self.num_envs = num_envs
        self.horizon = horizon
        self.protocol = protocol
        self.names = [*benchmark.train_classes, *benchmark.test_classes]
        self.classes = {**benchmark.train_classes, **benchmark.test_classes}
        self._configs: dict[str, list[Any]] = {}
        for split in (benchmark.train_tasks, benchmark.test_tasks):
            for task in split:
                self._configs.setdefault(task.env_name, []).append(task)
        self._envs: dict[int, Any] = {}
        self.task = np.resize(np.asarray(tasks, dtype=np.int64), num_envs)
        self.t = np.zeros(num_envs, dtype=np.int64)
        self._rng = np.random.default_rng()
        self._obs = np.zeros((num_envs, OBS_SIZE), dtype=np.float32)

    def set_tasks(self, task_index: np.ndarray) -> None:
        self.task = np.resize(np.asarray(task_index, dtype=np.int64), self.num_envs)

    def _env(self, i: int) -> Any:
        name = self.names[int(self.task[i])]
        env = self._envs.get(i)
        if env is None or env.__class__ is not self.classes[name]:
            env = self.classes[name]()
            self._envs[i] = env
        return env

    def _reset_one(self, i: int) -> np.ndarray:
        env = self._env(i)
        configs = self._configs[self.names[int(self.task[i])]]
        pick = 0 if self.protocol == "fixed" else int(self._rng.integers(len(configs)))
        env.set_task(configs[pick])
        obs, _ = env.reset(seed=int(self._rng.integers(2**31)))
        self.t[i] = 0
        return np.asarray(obs, dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        for i in range(self.num_envs):
            self._obs[i] = self._reset_one(i)
        return self._obs.copy(), {}

    def step(self, actions: np.ndarray):
        actions = np.clip(np.asarray(actions, dtype=np.float32), -1.0, 1.0)
        reward = np.zeros(self.num_envs)
        success = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        final = np.zeros_like(self._obs)
        for i in range(self.num_envs):
            obs, r, _, _, info = self._envs[i].step(actions[i])
            self.t[i] += 1
            reward[i], success[i] = r, bool(info.get("success", 0.0))
            self._obs[i] = obs
            if self.t[i] >= self.horizon:
                truncated[i] = True
                final[i] = obs
                self._obs[i] = self._reset_one(i)
        info_out: dict[str, Any] = {"success": success, "task": self.task.copy()}
        if truncated.any():
            info_out["final_obs"] = final
            info_out["_final_obs"] = truncated
        terminated = np.zeros(self.num_envs, dtype=bool)
        return self._obs.copy(), reward, terminated, truncated, info_out
