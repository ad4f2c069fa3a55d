"""What the two HiMeta experiments share: training one variant on a multi-task vector env, success
summaries clipped to [0, 1], tables and learning-curve figures."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hrrl.agents.himeta import HiMeta, HiMetaConfig, MultiTaskVectorEnv, train
from hrrl.core.checkpoint import STATE
from hrrl.core.logging import Logger
from hrrl.core.report import new_figure, save_figure
from hrrl.core.stats import mean_ci
from hrrl.errors import InputError


def train_variant(
    config: HiMetaConfig,
    seed: int,
    steps: int,
    make_env: Callable[[int, Sequence[int]], MultiTaskVectorEnv],
    train_tasks: Sequence[int],
    log_dir: str | None,
    checkpoint_steps: int = 50_000,
) -> tuple[HiMeta, dict[str, Any]]:
    """Train one seed of one configuration; returns the agent and its curve / timing / stability.

    With a ``log_dir`` the run checkpoints to ``log_dir/checkpoint`` every ``checkpoint_steps`` env
    steps and at the end, with its curve and the training time so far; called again with the same
    ``log_dir`` it resumes from there exactly (each iteration resets the env from the agent's own
    generator, so the agent's state is the whole state of the run)."""
    torch.set_num_threads(1)
    folder = Path(log_dir) / "checkpoint" if log_dir else None
    agent, history, elapsed = _resume(folder, config, seed)
    env = make_env(config.num_envs, train_tasks)
    task = np.resize(np.asarray(train_tasks), config.num_envs)
    resumed = agent.steps if history else None
    logger = Logger.for_run(log_dir, resume_step=resumed) if log_dir else Logger([])
    started = time.perf_counter()
    saved_at = agent.steps

    def on_iteration(_: int, stats: dict[str, float]) -> None:
        nonlocal saved_at
        history.append(stats)
        logger.log(int(stats["steps"]), {f"train/{k}": v for k, v in stats.items()})
        due = agent.steps - saved_at >= checkpoint_steps or agent.steps >= steps
        if folder is not None and due:
            so_far = elapsed + time.perf_counter() - started
            agent.save(folder, extra={"history": history, "train_s": so_far})
            saved_at = agent.steps

    with logger:
        train(agent, env, task, steps, on_iteration)
    train_s = elapsed + time.perf_counter() - started
    entropy = np.array([h["entropy"] for h in history])
    info = {
        "curve_steps": [int(h["steps"]) for h in history],
        "curve_success": [round(h["success"], 4) for h in history],
        "train_s": round(train_s, 1),
        "steps": agent.steps,
        "steps_per_s": round(agent.steps / max(train_s, 1e-9), 1),
        "max_approx_kl": float(max(h["approx_kl"] for h in history)),
        "max_entropy_jump": float(np.abs(np.diff(entropy)).max()) if entropy.size > 1 else 0.0,
        "max_vae_kl": float(max(h.get("vae_kl", 0.0) for h in history)),
    }
    return agent, info


def _resume(
    folder: Path | None, config: HiMetaConfig, seed: int
) -> tuple[HiMeta, list[dict[str, float]], float]:
    """The agent, curve and training seconds saved in ``folder``, or a fresh agent."""
    if folder is None or not (folder / STATE).is_file():
        return HiMeta(config, seed), [], 0.0
    agent = HiMeta.load(folder)
    if agent.config != config or agent.seed != seed:
        raise InputError(
            f"{folder} holds a checkpoint of another configuration or seed; "
            "move it away to start this run afresh"
        )
    extra = agent.extra
    return agent, list(extra.get("history", [])), float(extra.get("train_s", 0.0))


def evaluate_tasks(
    agent: HiMeta,
    make_env: Callable[[int, Sequence[int]], MultiTaskVectorEnv],
    tasks: Sequence[int],
    replicas: int,
    seed: int,
) -> tuple[dict[int, float], Any, np.ndarray]:
    """Deterministic trials, ``replicas`` per task; success rate per task, the rollout, columns."""
    columns = np.repeat(np.asarray(tasks), replicas)
    env = make_env(columns.size, list(columns))
    success, rollout = agent.evaluate(env, columns, seed=seed)
    per_task = {int(t): float(success[columns == t].mean()) for t in tasks}
    return per_task, rollout, columns


def cached_jobs(cache: Path, jobs: Sequence[Any]) -> int:
    """How many of ``jobs`` already have a cached result (they will not be rerun)."""
    return sum((cache / f"{job.key}.json").is_file() for job in jobs)


def success_ci(values: Sequence[float]) -> dict[str, float | None]:
    """Mean ± 95 % CI over seeds, the interval clipped to [0, 1]."""
    ci = mean_ci(values)
    half = 0.0 if np.isnan(ci.half_width) else ci.half_width
    return {
        "mean": round(ci.mean, 4),
        "ci95": round(ci.half_width, 4) if ci.n > 1 else None,
        "low": round(max(0.0, ci.mean - half), 4),
        "high": round(min(1.0, ci.mean + half), 4),
        "n": ci.n,
    }


def fmt_ci(summary: dict[str, Any], digits: int = 2) -> str:
    if summary["n"] == 0 or np.isnan(summary["mean"]):
        return "—"
    text = f"{summary['mean']:.{digits}f}"
    if summary["ci95"] is not None:
        text += f" ± {summary['ci95']:.{digits}f} [{summary['low']:.2f}, {summary['high']:.2f}]"
    return f"{text} (n={summary['n']})"


def fmt_values(values: Sequence[float], digits: int = 2) -> str:
    ci = mean_ci(values)
    return ci.format(digits) + f" (n={ci.n})" if ci.n else "—"


def curve_figure(runs: dict[str, list[dict]], path: Path, title: str) -> None:
    """Training success (last episode of each training trial) against env steps, mean of seeds."""
    fig, ax = new_figure(7.0, 4.2)
    for name, seeds in runs.items():
        length = min(len(r["curve_steps"]) for r in seeds)
        if length == 0:
            continue
        steps = np.asarray(seeds[0]["curve_steps"][:length])
        success = np.mean([r["curve_success"][:length] for r in seeds], axis=0)
        ax.plot(steps, success, label=name)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("training success (sampled actions)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def compare(runs: dict[str, list[dict]], a: str, b: str, key: str = "train_success") -> str:
    """Paired (by seed) difference a − b with its 95 % CI, and whether the CI excludes 0."""
    pairs = {r["seed"]: r[key] for r in runs[a]}
    diffs = [pairs[r["seed"]] - r[key] for r in runs[b] if r["seed"] in pairs]
    ci = mean_ci(diffs)
    if ci.n < 2:
        return f"{a} − {b} = {ci.format(2)} (one seed: no test)"
    verdict = "a real difference" if ci.low > 0 or ci.high < 0 else "no measurable difference"
    return f"{a} − {b} = {ci.format(2)} (n={ci.n}): {verdict}"
