"""Point manipulation: a fast numpy multi-task suite mirroring MetaWorld ML10 (HiMeta, seed 002).

A kinematic point "hand" moves in the square ``[-1, 1]²``: ``hand ← clip(hand + 0.05·a_xy)``;
``a_grip > 0`` closes the gripper. Each task has one object (a handle, a block, a button) whose
motion follows one of four mechanisms:

* ``static``  — the object never moves (reach: it is a marker; the hand is the thing to move);
* ``free``    — the object follows the hand while attached (pick-place, push, sweep, …);
* ``rail``    — the object follows the hand projected onto a segment (drawer, window, button);
* ``arc``     — the object follows the hand projected onto an arc around a hinge (door, lever).

The object is *attached* during a step when the hand starts the step within ``GRAB_RADIUS`` of
it and, for grip tasks, the gripper is closed (no-grip tasks "push": the object sticks to the hand
while in contact).

Observation (16 float32): ``[hand x, hand y, grip, object x, object y, fixture x, fixture y]``, the
same 7 values of the previous frame, then 2 goal slots that are always zero (as in ML10, the goal is
hidden: it must be inferred from rewards). The fixture is the hinge (arc), the rail's far end
(rail) or the object's start (free/static). **Ego-state** (:data:`EGO_INDICES`): hand, grip and
their previous frame — indices ``[0, 1, 2, 7, 8, 9]``; the rest is other-state.

Action: ``Box(-1, 1, (3,))``. Reward: ``-0.1·(d(hand, object) + 2·d(object, goal))`` (reach:
``-0.3·d(hand, goal)``) plus 1 on steps where the task is solved; ``info["success"]`` is that flag.
Episodes never terminate; they are truncated after ``horizon`` (100) steps. Each task is frozen to
one configuration (like HiMeta's ML10 protocol); only the hand's start is jittered (± 0.05).

Tasks: 10 training tasks named after ML10's training set and 5 held-out test tasks named after its
test set (:data:`TRAIN_TASKS`, :data:`TEST_TASKS`); each test task reuses a mechanism seen in
training with a new layout. :func:`scripted_action` solves every task (tested).

Version history: v0 — first version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

OBS_SIZE = 16
ACT_SIZE = 3
EGO_INDICES = (0, 1, 2, 7, 8, 9)
"""Hand xy, grip, and their previous frame."""
OTHER_INDICES = tuple(i for i in range(OBS_SIZE) if i not in EGO_INDICES)
HORIZON = 100
STEP = 0.05
GRAB_RADIUS = 0.08
SUCCESS_RADIUS = 0.05
STATIC, FREE, RAIL, ARC = 0, 1, 2, 3


@dataclass(frozen=True)
class TaskSpec:
    """One frozen task configuration."""

    name: str
    kind: int
    """STATIC, FREE, RAIL or ARC."""
    grip: bool
    """Whether the object moves only while the gripper is closed."""
    obj: tuple[float, float]
    """Object start (for ARC: computed from hinge, radius and start angle)."""
    goal: tuple[float, float]
    """Where the object (reach: the hand) must go."""
    fixture: tuple[float, float] = (0.0, 0.0)
    """Hinge (ARC) or rail end (RAIL); FREE/STATIC: the object's start."""
    radius: float = 0.0
    angles: tuple[float, float] = (0.0, 0.0)
    """ARC: the reachable angle interval (radians)."""
    tolerance: float = SUCCESS_RADIUS


def _arc(name: str, grip: bool, hinge, radius, start, end) -> TaskSpec:
    obj = (hinge[0] + radius * np.cos(start), hinge[1] + radius * np.sin(start))
    goal = (hinge[0] + radius * np.cos(end), hinge[1] + radius * np.sin(end))
    lo, hi = min(start, end), max(start, end)
    return TaskSpec(name, ARC, grip, obj, goal, hinge, radius, (lo, hi))


def _rail(name: str, grip: bool, start, end) -> TaskSpec:
    return TaskSpec(name, RAIL, grip, start, end, end)


def _free(name: str, grip: bool, start, goal, tolerance=SUCCESS_RADIUS) -> TaskSpec:
    return TaskSpec(name, FREE, grip, start, goal, start, tolerance=tolerance)


TASKS: tuple[TaskSpec, ...] = (
    # ML10 training tasks
    TaskSpec("reach", STATIC, False, (0.8, -0.8), (0.5, 0.5), (0.8, -0.8)),
    _free("push", False, (0.3, 0.0), (0.3, 0.6)),
    _free("pick-place", True, (-0.3, 0.2), (-0.6, 0.7)),
    _arc("door-open", True, (-0.6, 0.4), 0.4, 0.0, np.pi / 2),
    _rail("drawer-close", False, (0.6, 0.6), (0.6, 0.2)),
    _rail("button-press", False, (0.0, 0.5), (0.0, 0.75)),
    _free("peg-insert-side", True, (0.4, -0.3), (0.85, -0.3), tolerance=0.03),
    _rail("window-open", False, (-0.2, -0.6), (0.3, -0.6)),
    _free("sweep", False, (-0.4, -0.2), (-0.85, -0.2)),
    _free("basketball", True, (0.0, -0.5), (0.0, 0.85)),
    # ML10 test tasks
    _rail("drawer-open", True, (-0.5, -0.2), (-0.5, -0.6)),
    _arc("door-close", False, (0.5, -0.5), 0.35, np.pi / 2, 0.0),
    _free("shelf-place", True, (0.2, 0.3), (0.6, 0.8)),
    _free("sweep-into", False, (0.5, 0.0), (0.8, 0.3)),
    _arc("lever-pull", True, (0.0, 0.2), 0.3, 0.0, -np.pi / 2),
)
TASK_NAMES = tuple(t.name for t in TASKS)
TRAIN_TASKS = TASK_NAMES[:10]
TEST_TASKS = TASK_NAMES[10:]
TASK_INDEX = {name: i for i, name in enumerate(TASK_NAMES)}


def _table(field: str) -> np.ndarray:
    return np.asarray([np.asarray(getattr(t, field), dtype=np.float64) for t in TASKS])


_KIND = _table("kind").astype(np.int64)
_GRIP = _table("grip").astype(bool)
_OBJ = _table("obj")
_GOAL = _table("goal")
_FIX = _table("fixture")
_RADIUS = _table("radius")
_ANGLES = _table("angles")
_TOL = _table("tolerance")


def task_ids(names) -> np.ndarray:
    return np.asarray([TASK_INDEX[n] for n in names], dtype=np.int64)


class PointManipVectorEnv(VectorEnv):
    """``num_envs`` point-manipulation envs stepped together in numpy (same-step autoreset).

    ``tasks`` names the task of each sub-env (cycled when shorter than ``num_envs``);
    :meth:`set_tasks` changes them (takes effect at the next reset of each sub-env). When a sub-env
    is truncated its returned observation is already the next episode's first one and
    ``info["final_obs"]`` holds the last one (rows of finished envs; ``info["_final_obs"]`` masks
    them), so learners can bootstrap at truncation.
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(self, num_envs: int, tasks=TRAIN_TASKS, horizon: int = HORIZON) -> None:
        self.num_envs = num_envs
        self.horizon = horizon
        self.single_observation_space = spaces.Box(-2.0, 2.0, (OBS_SIZE,), np.float32)
        self.single_action_space = spaces.Box(-1.0, 1.0, (ACT_SIZE,), np.float32)
        self.observation_space = spaces.Box(-2.0, 2.0, (num_envs, OBS_SIZE), np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, (num_envs, ACT_SIZE), np.float32)
        self.task = np.resize(task_ids(tasks), num_envs)
        self.hand = np.zeros((num_envs, 2))
        self.grip = np.zeros(num_envs)
        self.obj = np.zeros((num_envs, 2))
        self.prev = np.zeros((num_envs, 7))
        self.t = np.zeros(num_envs, dtype=np.int64)
        self._rng = np.random.default_rng()

    def set_tasks(self, task_index: np.ndarray) -> None:
        self.task = np.resize(np.asarray(task_index, dtype=np.int64), self.num_envs)

    def _frame(self) -> np.ndarray:
        return np.concatenate([self.hand, self.grip[:, None], self.obj, _FIX[self.task]], axis=1)

    def _obs(self) -> np.ndarray:
        frame = self._frame()
        zeros = np.zeros((self.num_envs, 2))
        return np.concatenate([frame, self.prev, zeros], axis=1).astype(np.float32)

    def _reset_rows(self, rows: np.ndarray) -> None:
        n = int(rows.sum())
        if n == 0:
            return
        self.hand[rows] = self._rng.uniform(-0.05, 0.05, size=(n, 2))
        self.grip[rows] = 0.0
        self.obj[rows] = _OBJ[self.task[rows]]
        self.t[rows] = 0
        self.prev[rows] = self._frame()[rows]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        if options and "tasks" in options:
            self.set_tasks(options["tasks"])
        self._reset_rows(np.ones(self.num_envs, dtype=bool))
        return self._obs(), {}

    def success(self) -> np.ndarray:
        point = np.where((_KIND[self.task] == STATIC)[:, None], self.hand, self.obj)
        return np.linalg.norm(point - _GOAL[self.task], axis=1) < _TOL[self.task]

    def step(self, actions):
        actions = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
        self.prev = self._frame()
        task = self.task
        near = np.linalg.norm(self.hand - self.obj, axis=1) < GRAB_RADIUS  # before moving
        self.hand = np.clip(self.hand + STEP * actions[:, :2], -1.0, 1.0)
        self.grip = (actions[:, 2] > 0).astype(np.float64)
        kind = _KIND[task]
        attached = near & (~_GRIP[task] | (self.grip > 0)) & (kind != STATIC)
        # candidate positions under each mechanism
        fix = _FIX[task]
        start = _OBJ[task]
        seg = fix - start
        u = np.clip(
            np.sum((self.hand - start) * seg, axis=1) / np.maximum(np.sum(seg * seg, 1), 1e-9),
            0.0,
            1.0,
        )
        on_rail = start + u[:, None] * seg
        rel = self.hand - fix
        angle = np.clip(np.arctan2(rel[:, 1], rel[:, 0]), _ANGLES[task, 0], _ANGLES[task, 1])
        on_arc = fix + _RADIUS[task, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
        moved = np.where(
            (kind == FREE)[:, None], self.hand, np.where((kind == RAIL)[:, None], on_rail, on_arc)
        )
        self.obj = np.where(attached[:, None], moved, self.obj)
        self.t += 1
        success = self.success()
        goal = _GOAL[task]
        d_hand_obj = np.linalg.norm(self.hand - self.obj, axis=1)
        d_obj_goal = np.linalg.norm(self.obj - goal, axis=1)
        d_hand_goal = np.linalg.norm(self.hand - goal, axis=1)
        shaped = np.where(kind == STATIC, -0.3 * d_hand_goal, -0.1 * (d_hand_obj + 2 * d_obj_goal))
        reward = shaped + success
        truncated = self.t >= self.horizon
        terminated = np.zeros(self.num_envs, dtype=bool)
        obs = self._obs()
        info: dict[str, Any] = {"success": success.copy(), "task": task.copy()}
        if truncated.any():
            info["final_obs"] = obs.copy()
            info["_final_obs"] = truncated.copy()
            self._reset_rows(truncated)
            obs = self._obs()
        return obs, reward.astype(np.float64), terminated, truncated, info


class PointManipEnv(gymnasium.Env):
    """One point-manipulation task as a Gymnasium env (``task`` = a name in :data:`TASK_NAMES`).

    Spaces, reward and version history: see the module docstring.
    """

    metadata = {"render_modes": []}

    def __init__(self, task: str = "reach", horizon: int = HORIZON) -> None:
        if task not in TASK_INDEX:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASK_NAMES)}")
        self.task = task
        self._vec = PointManipVectorEnv(1, (task,), horizon=horizon)
        self.observation_space = self._vec.single_observation_space
        self.action_space = self._vec.single_action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._vec._rng = self.np_random
        obs, _ = self._vec.reset()
        return obs[0], {}

    def step(self, action):
        obs, reward, terminated, truncated, info = self._vec.step(np.asarray(action)[None])
        if truncated[0]:
            obs = info["final_obs"]
        out = {"success": bool(info["success"][0])}
        return obs[0], float(reward[0]), bool(terminated[0]), bool(truncated[0]), out


def scripted_action(obs: np.ndarray, task_index: np.ndarray) -> np.ndarray:
    """A hand-written controller per task (batched): reach the object, grip if needed, drive it
    towards the goal along its mechanism. Proves every task solvable."""
    obs = np.asarray(obs, dtype=np.float64)
    hand, obj = obs[:, 0:2], obs[:, 3:5]
    task = np.asarray(task_index)
    kind, goal = _KIND[task], _GOAL[task]
    near = np.linalg.norm(hand - obj, axis=1) < 0.5 * GRAB_RADIUS
    target = np.where(near[:, None], goal, obj)
    # ARC: follow the arc by aiming slightly ahead along it
    fix = _FIX[task]
    rel = hand - fix
    ang = np.arctan2(rel[:, 1], rel[:, 0])
    goal_ang = np.arctan2(goal[:, 1] - fix[:, 1], goal[:, 0] - fix[:, 0])
    step_ang = np.clip(goal_ang - ang, -0.1, 0.1)
    ahead = fix + _RADIUS[task, None] * np.stack(
        [np.cos(ang + step_ang), np.sin(ang + step_ang)], 1
    )
    target = np.where(((kind == ARC) & near)[:, None], ahead, target)
    target = np.where((kind == STATIC)[:, None], goal, target)
    direction = (target - hand) / STEP
    direction = np.clip(direction, -1.0, 1.0)
    grip = np.where(near & _GRIP[task], 1.0, -1.0)
    return np.concatenate([direction, grip[:, None]], axis=1).astype(np.float32)
