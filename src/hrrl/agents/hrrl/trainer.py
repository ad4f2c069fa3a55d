"""Training the HRRL agent (§3.4, §4.1): curriculum, prioritized replay, double DQN.

Learning reuses ``agents/dqn.py`` (``DQNLearner``: double-DQN targets, Huber loss, soft target
updates) and ``core/`` (prioritized replay, checkpoints, logging, progress). Acting during
training is epsilon-greedy on the same per-action scores as the evaluated policy.

Determinism and resume: training runs in chunks of ``checkpoint_every`` episodes. Each chunk
starts by resetting every env with seeds derived from (seed, chunk), and ends with an atomic
checkpoint (networks, optimizer, replay, counters, generator state), so a run resumed from any
checkpoint continues exactly as the uninterrupted run (episodes in flight at a chunk end are
dropped in both).

Acting is not :func:`~hrrl.core.rollout.run_episode`: groups of auto-resetting vector envs (one
group per curriculum target) are stepped together with masked resets, by episode budget per chunk,
so no loop waits for one episode at a time; metrics go through the shared
:class:`~hrrl.core.logging.Logger`.

Rewards: ``relative`` (ours) = −1 + (|T − s| − |T − s'|) / L per move and a further
−``failure_penalty`` on a failed move (forbidden or overshoot). With γ = 1 this is the ``steps``
reward with potential-based shaping Φ = −gap / L, where a failure costs the penalty plus the
remaining lower bound; its Q-values are bounded and scale-free (−1 − excess of the landing), and
its optimal policy is the shortest path whenever a detour never costs more than the penalty.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from hrrl.agents.dqn import DQNConfig, DQNLearner
from hrrl.agents.hrrl import features as F
from hrrl.agents.hrrl.config import HRRLConfig, config_from_dict
from hrrl.agents.hrrl.network import NumpyScorer, PhaseQNetwork
from hrrl.agents.hrrl.policy import HRRLPolicy
from hrrl.core.atomic import atomic_write_json
from hrrl.core.checkpoint import (
    CorruptCheckpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from hrrl.core.lock import run_lock
from hrrl.core.logging import Logger
from hrrl.core.progress import advance, progress_bar
from hrrl.core.replay import PrioritizedReplayBuffer, ReplayBuffer
from hrrl.core.schedules import LinearSchedule
from hrrl.core.seeding import init_module, spawn_seeds
from hrrl.envs.numberline import ProblemSampler
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.rewards import RewardFn, make_relative_reward
from hrrl.errors import InputError
from hrrl.problem import Problem, make_problem
from hrrl.solvers.numberline import solve

MAX_ACTIONS = 4
"""Replay rows are padded to this many actions."""
RESERVED_SEEDS = 1000
"""Chunks whose env seeds are derived up front."""


def relative_reward(failure_penalty: float) -> RewardFn:
    """The ``relative`` reward (module docstring) as an env reward callable."""
    return make_relative_reward(failure_penalty)


# ---- problems -----------------------------------------------------------------------------------
@dataclass
class Curriculum:
    """Draws training problems for the current training progress (shared, mutable)."""

    config: HRRLConfig
    progress: float = 0.0

    def targets(self) -> tuple[int, int]:
        stages = self.config.curriculum_stages if self.config.curriculum else ()
        stage = int(self.progress / self.config.stage_fraction) if stages else len(stages)
        return stages[stage] if stage < len(stages) else self.config.final_targets

    def sampler(self, k: int) -> ProblemSampler:
        def draw(rng: np.random.Generator) -> Problem:
            return self.draw(rng, k)

        return draw

    def draw(self, rng: np.random.Generator, k: int) -> Problem:
        lo, hi = self.targets()
        for _ in range(10):
            target = int(rng.integers(lo, hi + 1))
            actions = self._actions(rng, k)
            dense = rng.random() < self.config.dense_fraction
            forbidden = _forbidden(rng, target, actions, self.config, dense)
            tight = rng.random() < self.config.tight_fraction
            problem = make_problem(target, forbidden, actions)
            if not (dense or tight or actions != (1, 3, 5)):
                return problem
            solution = solve(problem)
            if solution.feasible:
                if tight and solution.steps is not None:
                    return make_problem(target, forbidden, actions, max_steps=solution.steps)
                return problem
        return make_problem(hi, [], (1, 3, 5)[:k] if k <= 3 else (1, 3, 5, 7))

    def _actions(self, rng: np.random.Generator, k: int) -> tuple[int, ...]:
        fixed = [a for a in self.config.action_sets if len(a) == k]
        if fixed and rng.random() >= self.config.random_action_fraction:
            return tuple(fixed[int(rng.integers(len(fixed)))])
        moves = sorted(int(m) for m in rng.choice(np.arange(1, 10), size=k, replace=False))
        if k >= 3 and rng.random() < 0.25:
            moves[0] = -moves[0]
        return tuple(moves)


def _forbidden(
    rng: np.random.Generator,
    target: int,
    actions: tuple[int, ...],
    config: HRRLConfig,
    dense: bool,
) -> list[int]:
    span = target - 1
    if span <= 0:
        return []
    if dense:
        mask = rng.random(span) < rng.uniform(*config.density)
    else:
        mask = np.zeros(span, dtype=bool)
        count = int(rng.integers(config.forbidden_count[0], config.forbidden_count[1] + 1))
        mask[rng.choice(span, size=min(count, span), replace=False)] = True
    largest = max(abs(a) for a in actions)
    run = 0
    for i in range(span):  # no run of forbidden states as long as the largest move
        run = run + 1 if mask[i] else 0
        if run >= largest:
            mask[i], run = False, 0
    return (1 + np.flatnonzero(mask)).tolist()


# ---- the run ------------------------------------------------------------------------------------
@dataclass
class _Group:
    """Envs that share an action count."""

    env: NumberLineVectorEnv
    k: int
    returns: np.ndarray


class _Trainer:
    def __init__(self, config: HRRLConfig, out: Path, seed: int) -> None:
        self.config, self.out, self.seed = config, out, seed
        dim = F.feature_dim(config.feature_set)
        heads = 3 if config.phase_heads else 1
        self.q_net = init_module(
            PhaseQNetwork(features=dim, hidden=config.hidden, heads=heads), seed
        )
        target = PhaseQNetwork(features=dim, hidden=config.hidden, heads=heads)
        dqn = DQNConfig(
            gamma=config.gamma,
            lr=config.lr,
            double=config.double,
            tau=config.tau,
            target_every=config.target_every,
        )
        self.learner = DQNLearner(self.q_net, target, dqn)
        buffer_cls = PrioritizedReplayBuffer if config.prioritized else ReplayBuffer
        self.buffer = buffer_cls(config.buffer_capacity)
        self.rng = np.random.default_rng(spawn_seeds(seed, 2)[0])
        self.curriculum = Curriculum(config)
        self.reward = (
            relative_reward(config.failure_penalty)
            if config.reward == "relative"
            else config.reward
        )
        self.groups = self._make_groups()
        self.episodes = self.transitions = self.chunk = 0
        self.elapsed = self.cpu = 0.0
        self.recent: list[tuple[float, bool]] = []
        self.losses: list[float] = []

    def _make_groups(self) -> list[_Group]:
        config = self.config
        sizes = {3: config.num_envs}
        if config.random_action_fraction > 0:
            twos = max(1, config.num_envs // 4)
            sizes = {3: config.num_envs - twos, 2: twos}
        groups = []
        for k, n in sizes.items():
            env = NumberLineVectorEnv(
                sampler=self.curriculum.sampler(k),
                num_envs=n,
                reward=self.reward,
                gamma=config.gamma,
                autoreset_mode=AutoresetMode.DISABLED,
            )
            groups.append(_Group(env, k, np.zeros(n)))
        return groups

    # ---- acting ----------------------------------------------------------------------------
    def epsilon(self) -> float:
        c = self.config
        return LinearSchedule(c.epsilon_start, c.epsilon_end, c.epsilon_fraction)(self.progress())

    def progress(self) -> float:
        return min(1.0, self.episodes / self.config.episodes)

    def explore_actions(self, feats: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            scores = self.q_net(torch.as_tensor(feats)).numpy()
        greedy = scores.argmax(axis=1)
        explore = self.rng.random(len(feats)) < self.epsilon()
        random_moves = self.rng.integers(0, feats.shape[1], size=len(feats))
        return np.where(explore, random_moves, greedy)

    # ---- one vector step -------------------------------------------------------------------
    def step(self, group: _Group) -> None:
        env = group.env
        feats = F.env_features(self.config.feature_set, env)
        actions = self.explore_actions(feats)
        _, reward, terminated, truncated, info = env.step(actions)
        next_feats = F.env_features(self.config.feature_set, env)
        self.buffer.add(
            {
                "obs": _pad(feats),
                "action": actions,
                "reward": reward.astype(np.float32),
                "next_obs": _pad(next_feats),
                "terminated": terminated.astype(np.float32),
            }
        )
        self.transitions += len(actions)
        group.returns += reward
        done = terminated | truncated
        for i in np.flatnonzero(done):
            self.recent.append((float(group.returns[i]), bool(info["outcome"][i] == 1)))
        self.episodes += int(done.sum())
        group.returns[done] = 0.0
        self.curriculum.progress = self.progress()
        if done.any():
            env.reset(options={"reset_mask": done})

    def learn(self) -> None:
        if len(self.buffer) < max(self.config.learning_starts, self.config.batch_size):
            return
        for _ in range(self.config.updates_per_step):
            if isinstance(self.buffer, PrioritizedReplayBuffer):
                batch = self.buffer.sample(
                    self.config.batch_size, self.rng, beta=0.4 + 0.6 * self.progress()
                )
            else:
                batch = self.buffer.sample(self.config.batch_size, self.rng)
            loss, td = self.learner.update(batch)
            if isinstance(self.buffer, PrioritizedReplayBuffer):
                self.buffer.update_priorities(batch.indices, td)
            self.losses.append(loss)

    # ---- chunks ----------------------------------------------------------------------------
    def run_chunk(self) -> None:
        seeds = spawn_seeds(self.seed + 1, RESERVED_SEEDS + self.chunk + 1)[self.chunk]
        for j, group in enumerate(self.groups):
            group.env.reset(seed=seeds + 1000 * j)
            group.returns[:] = 0.0
        end = min(self.config.episodes, (self.chunk + 1) * self.config.checkpoint_every)
        while self.episodes < end:
            for group in self.groups:
                self.step(group)
            self.learn()
        self.chunk += 1

    def metrics(self) -> dict[str, float]:
        recent = self.recent[-500:]
        return {
            "train/episode_return": float(np.mean([r for r, _ in recent])) if recent else 0.0,
            "train/success_rate": float(np.mean([s for _, s in recent])) if recent else 0.0,
            "train/loss": float(np.mean(self.losses[-200:])) if self.losses else 0.0,
            "train/epsilon": self.epsilon(),
            "train/transitions": float(self.transitions),
        }

    # ---- checkpoints -----------------------------------------------------------------------
    def save(self, finished: bool) -> None:
        optim = self.learner.optimizer.state_dict()
        optim_tensors = {
            f"{i}.{name}": value
            for i, slot in optim["state"].items()
            for name, value in slot.items()
        }
        state: dict[str, Any] = {
            "agent": "hrrl",
            "config": self.config.to_json(),
            "seed": self.seed,
            "episodes": self.episodes,
            "transitions": self.transitions,
            "chunk": self.chunk,
            "updates": self.learner.updates,
            "rng": rng_state(self.rng),
            "training_time_s": self.elapsed,
            "training_cpu_s": self.cpu,
            "finished": finished,
            "recent": self.recent[-500:],
            "losses": self.losses[-200:],
            "optimizer_groups": optim["param_groups"],
        }
        tensors = {
            "q": self.q_net.state_dict(),
            "target": self.learner.target_net.state_dict(),
            "optim": optim_tensors,
            "buffer": self.buffer.state_dict(),
        }
        save_checkpoint(self.out, tensors, state)
        # the checkpoint now carries the config and seed: the placeholder has done its job
        (self.out / PENDING_RUN).unlink(missing_ok=True)

    def restore(self) -> dict[str, Any]:
        groups, state = load_checkpoint(self.out, repair=True)
        self.q_net.load_state_dict(groups["q"])
        self.learner.target_net.load_state_dict(groups["target"])
        slots: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in groups.get("optim", {}).items():
            index, _, name = key.partition(".")
            slots.setdefault(int(index), {})[name] = value
        self.learner.optimizer.load_state_dict(
            {"state": slots, "param_groups": state["optimizer_groups"]}
        )
        self.buffer.load_state_dict({k: v.numpy() for k, v in groups["buffer"].items()})
        self.rng = restore_rng(state["rng"])
        self.episodes, self.transitions = state["episodes"], state["transitions"]
        self.chunk, self.learner.updates = state["chunk"], state["updates"]
        self.elapsed, self.cpu = state["training_time_s"], state["training_cpu_s"]
        self.recent = [(float(r), bool(s)) for r, s in state["recent"]]
        self.losses = list(state["losses"])
        self.curriculum.progress = self.progress()
        return state


def _pad(feats: np.ndarray) -> np.ndarray:
    n, k, d = feats.shape
    out = np.zeros((n, MAX_ACTIONS, d), dtype=np.float32)
    out[:, :k] = feats
    return out


PENDING_RUN = "run.json"
"""The config and seed of a run that has no checkpoint yet, so that ``--resume`` knows them; removed
when the first checkpoint (``state.json``, which carries both) is written, so a run dir holds its
config exactly once."""

RUN_FILES = (
    "state.json",
    "model.safetensors",
    "model.next.safetensors",
    "config.json",  # written by older versions; removed by a fresh run like the rest
    PENDING_RUN,
    "training.json",
    "metrics.jsonl",
)
"""What ``train`` writes into a run dir (plus ``tb/``); a fresh run removes them first."""


def train(
    config: HRRLConfig, out: Path, *, seed: int = 0, resume: bool = False, progress: bool = True
) -> Path:
    """Train, checkpointing every ``checkpoint_every`` episodes; returns the run dir.

    The run dir is locked for the whole call (a second writer gets a one-line ``InputError``).
    A fresh run (``resume=False``) first removes an earlier run's files; ``resume=True`` continues
    from the last checkpoint and refuses a ``config`` or ``seed`` other than the run's own.
    """
    out = Path(out)
    with run_lock(out):
        if config.manager:  # HRRL v2: the manager's cost-to-go network (agents/hrrl/v2.py)
            from hrrl.agents.hrrl.v2 import train_v2

            out.mkdir(parents=True, exist_ok=True)
            return train_v2(config, out, seed=seed)
        return _train_locked(config, out, seed=seed, resume=resume, progress=progress)


def stored_run(out: Path) -> tuple[HRRLConfig, int] | None:
    """The config and seed a run dir was started with (``None`` when it holds no run)."""
    out = Path(out)
    for name in ("state.json", PENDING_RUN):
        path = out / name
        if not path.is_file():
            continue
        try:
            stored = json.loads(path.read_bytes())
            return config_from_dict(stored["config"]), int(stored["seed"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CorruptCheckpoint(f"cannot read the run's settings from {path}: {exc}") from None
    return None


def _train_locked(
    config: HRRLConfig, out: Path, *, seed: int, resume: bool, progress: bool
) -> Path:
    call_started = time.perf_counter()
    torch.set_num_threads(1)
    stored = stored_run(out) if resume else None
    if stored is not None:
        if stored[0] != config:
            raise InputError(f"{out} was trained with another config; resume it with its own")
        if stored[1] != seed:
            raise InputError(f"{out} was trained with seed {stored[1]}, not {seed}")
    if not resume:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "tb", ignore_errors=True)
    trainer = _Trainer(config, out, seed)
    if resume and (out / "state.json").is_file():
        try:
            state = trainer.restore()
        except (KeyError, RuntimeError, ValueError, TypeError) as exc:
            if isinstance(exc, InputError):
                raise
            raise CorruptCheckpoint(f"corrupt checkpoint in {out}: {exc}".splitlines()[0]) from None
        if state.get("finished"):
            return out
    if not (out / "state.json").is_file():
        atomic_write_json(
            out / PENDING_RUN, {"agent": "hrrl", "seed": seed, "config": config.to_json()}
        )
    # a resumed run forgets what was logged after its checkpoint, so no step is logged twice
    logger = Logger.for_run(out, resume_step=trainer.episodes if resume else None)
    validation = _validation_set(seed)
    try:
        with progress_bar("training HRRL", config.episodes, enabled=progress) as bar:
            advance(bar, trainer.episodes)
            while trainer.episodes < config.episodes:
                started, before = time.perf_counter(), trainer.episodes
                cpu = time.process_time()
                trainer.run_chunk()
                trainer.elapsed += time.perf_counter() - started
                trainer.cpu += time.process_time() - cpu
                scalars = trainer.metrics()
                if (
                    config.eval_every
                    and trainer.chunk * config.checkpoint_every % config.eval_every == 0
                ):
                    scalars.update(_validate(trainer, validation))
                logger.log(trainer.episodes, scalars)
                finished = trainer.episodes >= config.episodes
                trainer.save(finished)
                advance(
                    bar, trainer.episodes - before, f"success {scalars['train/success_rate']:.2f}"
                )
    finally:
        logger.close()
    atomic_write_json(
        out / "training.json",
        {
            "training_time_s": trainer.elapsed,
            "training_cpu_s": trainer.cpu,
            "total_wall_s_this_call": time.perf_counter() - call_started,
            "episodes": trainer.episodes,
            "transitions": trainer.transitions,
            "updates": trainer.learner.updates,
        },
    )
    return out


def _validation_set(seed: int) -> list[Problem]:
    from hrrl.suites.generator import SuiteSpec, generate

    specs = [
        SuiteSpec("in-distribution", 30, (5, 100), (2, 5)),
        SuiteSpec("t1e3", 10, (500, 1_000), (5, 20)),
        SuiteSpec("dense", 20, (50, 300), density=0.15),
    ]
    return generate(specs, seed + 12345)


def _validate(trainer: _Trainer, problems: list[Problem]) -> dict[str, float]:
    from hrrl.evaluation import evaluate, summarize

    policy = HRRLPolicy(scorer=NumpyScorer(trainer.q_net.state_dict()), config=trainer.config)
    overall = summarize(evaluate(problems, policy))[-1]
    return {"val/success": overall.success_rate, "val/optimality": overall.mean_efficiency}
