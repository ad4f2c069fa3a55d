"""PEARL against MAML and RL² on the same 2-D point-navigation tasks (Finn et al.'s task).

Each seed draws the same 40 held-out goals for all three methods (the goals ``maml-nav2d``
evaluates on) and reports the return after k = 0..3 units of adaptation: MAML's k policy-gradient
steps (each on 20 trajectories), PEARL's episode k+1 (z from the prior for k = 0, then from the
posterior given the k episodes before), RL²'s episode k+1 of one 4-episode trial. The env steps
each method used for meta-training and for adaptation are reported beside the returns.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from hrrl.agents.pearl import PEARL, Episodes, PEARLConfig
from hrrl.agents.rl2_continuous import RL2Continuous, RL2ContinuousConfig
from hrrl.agents.sac import SACConfig
from hrrl.core.parallel import Job
from hrrl.core.report import markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import make_rng, spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.envs.nav2d import (
    Nav2DConfig,
    TrialNav2D,
    oracle_expected_return,
    rollout_batch,
    sample_goals,
)
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.experiments.maml_nav2d import nav2d_protocol, run_method

STEPS = 3
"""Adaptation units after the first (0 = before any adaptation)."""
LABELS = {"maml": "MAML", "pearl": "PEARL", "rl2": "RL²"}
MEAN_DISTANCE_UNIT_SQUARE = (math.sqrt(2) + math.log(1 + math.sqrt(2))) / 6
"""Mean distance from the centre of a unit square to a uniform point in it (≈ 0.3826), exact."""
RETURN_BOUNDS = (None, 0.0)
"""Returns are sums of −distance: never positive (CIs are clipped to this range)."""


@dataclass(frozen=True)
class Budget:
    pearl_iterations: int
    rl2_updates: int
    train_tasks: int = 40
    eval_tasks: int = 40


def budget(quick: bool) -> Budget:
    return Budget(pearl_iterations=15, rl2_updates=15) if quick else Budget(100, 120)


PEARL_CONFIG = PEARLConfig(
    meta_batch=8, batch_size=64, encoder_lr=1e-3, sac=SACConfig(hidden=(64, 64), lr=1e-3)
)
RL2_CONFIG = RL2ContinuousConfig(batch_trials=32)


def nav2d_rollout(env: Nav2DConfig) -> Any:
    """PEARL's ``rollout(act, goals)``: one episode per goal as :class:`Episodes`."""

    def rollout(act: Any, goals: np.ndarray) -> Episodes:
        batch = rollout_batch(lambda p: act(p[:, 0])[:, None], goals, 1, env)
        valid = batch.valid[:, 0]
        later = np.concatenate([valid[:, 1:], np.zeros_like(valid[:, :1])], axis=1)
        terminated = valid & ~later
        terminated[:, -1] = False  # the horizon truncates; termination at the last step is rare
        return Episodes(
            batch.observations[:, 0], np.clip(batch.actions[:, 0], -1.0, 1.0),
            batch.rewards[:, 0], batch.next_positions[:, 0], terminated.astype(np.float32), valid,
        )  # fmt: skip

    return rollout


def eval_goals(seed: int, env: Nav2DConfig, n: int) -> np.ndarray:
    """The held-out goals of ``maml-nav2d``'s :func:`run_method` for the same seed."""
    return sample_goals(n, make_rng(spawn_seeds(seed, 3)[2]), env)


def run_pearl_or_rl2(method: str, seed: int, plan: Budget) -> dict[str, Any]:
    torch.set_num_threads(1)
    env = Nav2DConfig()
    learner_seed, task_seed = spawn_seeds(seed + 1, 2)
    goals = eval_goals(seed, env, plan.eval_tasks)
    started = time.perf_counter()
    if method == "pearl":
        pearl = PEARL(2, 2, PEARL_CONFIG, learner_seed)
        rollout = nav2d_rollout(env)
        train = sample_goals(plan.train_tasks, make_rng(task_seed), env)
        log = pearl.meta_train(rollout, train, plan.pearl_iterations)
        returns = pearl.adapt_and_evaluate(rollout, goals, STEPS + 1)
        curve, steps = log.train_return, pearl.env_steps
    else:
        rl2 = RL2Continuous(2, 2, RL2_CONFIG, learner_seed)
        trials, task_rng = TrialNav2D(env), make_rng(task_seed)
        horizon = env.horizon
        curve = rl2.train(
            trials, lambda n: sample_goals(n, task_rng, env), (STEPS + 1) * horizon,
            plan.rl2_updates,
        )  # fmt: skip
        returns = rl2.evaluate(trials, goals, STEPS + 1, horizon)
        steps = rl2.env_steps
    return {
        "method": method,
        "seed": seed,
        "returns": returns.mean(axis=0).tolist(),
        "curve": curve,
        "train_env_steps": int(steps),
        "adapt_env_steps": [k * env.horizon for k in range(STEPS + 1)],
        "train_s": time.perf_counter() - started,
    }


def run_maml(seed: int, quick: bool) -> dict[str, Any]:
    protocol = replace(nav2d_protocol(quick), methods=("maml",), reward_kinds=("distance",))
    result = run_method("maml", seed, protocol)
    agent = protocol.agent
    per_step = agent.trajectories_per_task * protocol.env.horizon
    return {
        "method": "maml",
        "seed": seed,
        "returns": result["returns"]["distance"],
        "curve": result["post_return_curve"],
        "train_env_steps": protocol.iterations * agent.meta_batch_size * 2 * per_step,
        "adapt_env_steps": [k * per_step for k in range(STEPS + 1)],
        "train_s": result["train_s"],
    }


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    plan = budget(ctx.quick)
    seeds = spawn_seeds(2017, ctx.seeds)  # maml-nav2d's seeds: the same held-out goals
    jobs = []
    for i, s in enumerate(seeds):
        jobs.append(Job(f"maml-s{i}", run_maml, {"seed": s, "quick": ctx.quick}))
        for m in ("pearl", "rl2"):
            jobs.append(Job(f"{m}-s{i}", run_pearl_or_rl2, {"method": m, "seed": s, "plan": plan}))
    results = ctx.run_jobs(jobs, description=ctx.out.name)
    by_method = {m: [r for r in results if r["method"] == m] for m in LABELS}
    rows, headline = [], {}
    for m, runs in by_method.items():
        cis = [mean_ci([r["returns"][k] for r in runs]) for k in range(STEPS + 1)]
        headline[m] = [c.mean for c in cis]
        train_steps = mean_ci([r["train_env_steps"] for r in runs]).mean
        for k, ci in enumerate(cis):
            rows.append(
                [LABELS[m], k, ci.format(2, bounds=RETURN_BOUNDS),
                 runs[0]["adapt_env_steps"][k], f"{train_steps:,.0f}" if k == 0 else ""]
            )  # fmt: skip
    plot(by_method, ctx.out / "adaptation.png")
    table = markdown_table(
        ["Method", "k", "Return (−distance)", "Adaptation env steps / task",
         "Meta-training env steps"],
        rows,
    )  # fmt: skip
    sections = [
        setup_section(plan, ctx.seeds),
        "## Return after k units of adaptation\n\n" + table + f"\n\nMean ± 95 % CI (Student t, "
        f"n = {ctx.seeds} seeds; clipped to returns ≤ 0). k: MAML policy-gradient steps (20 "
        "trajectories each); PEARL and RL²: episodes already seen on the task (the row is the "
        "return of the next episode). Meta-training env steps: PEARL and RL² count the steps "
        "they took; MAML's is iterations × 20 tasks × 20 trajectories × 2 batches × 100 steps, an "
        "upper bound (a trajectory that reaches the goal stops early).\n\n"
        "![adaptation](adaptation.png)\n\n" + references(),
        sources_section(),
        ctx.run_time_section(time.perf_counter() - started)
        + f" ({'quick' if ctx.quick else 'full'} protocol, {ctx.seeds} seeds).",
    ]
    write_report(ctx.out / "REPORT.md", "PEARL vs MAML vs RL² on 2-D navigation", ctx.command,
                 sections)  # fmt: skip
    return {
        "return_after_k": headline,
        "train_env_steps": {
            m: mean_ci([r["train_env_steps"] for r in runs]).mean for m, runs in by_method.items()
        },
    }


def references() -> str:
    env = Nav2DConfig()
    still = -env.horizon * MEAN_DISTANCE_UNIT_SQUARE * (env.goal_high - env.goal_low)
    oracle = oracle_expected_return(env)
    return f"""**References on this task** (no learning): a point that stays at the origin scores
{still:.2f} on average (horizon × the mean distance of a uniform goal, exact); the
straight-to-goal oracle that knows the goal (`straight_to_goal_actions`) scores {oracle:.2f}
(midpoint rule on a 400 × 400 lattice of goals). A method near {still:.0f} has not learned to
move towards the goal."""


def plot(by_method: dict[str, list[dict[str, Any]]], path: Any) -> None:
    fig, ax = new_figure()
    xs = np.arange(STEPS + 1)
    for m, runs in by_method.items():
        cis = [mean_ci([r["returns"][k] for r in runs]) for k in xs]
        means = np.array([c.mean for c in cis])
        half = np.nan_to_num(np.array([c.half_width for c in cis]))
        ax.plot(xs, means, marker="o", label=LABELS[m])
        ax.fill_between(xs, means - half, np.minimum(means + half, 0.0), alpha=0.2)
    ax.set_xlabel("k (MAML: gradient steps; PEARL, RL²: episodes seen)")
    ax.set_ylabel("average return (−distance)")
    ax.set_xticks(xs)
    ax.legend()
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def setup_section(plan: Budget, seeds: int) -> str:
    p, sac, r = PEARL_CONFIG, PEARL_CONFIG.sac, RL2_CONFIG
    return f"""## Setup

- **Tasks**: `maml-nav2d`'s 2-D navigation (goal uniform in [−0.5, 0.5]², unobserved; start at
  the origin; displacement clip(a, −1, 1) × 0.1; horizon 100; reward −distance). Per seed the
  same {plan.eval_tasks} held-out goals for every method.
- **MAML**: `maml-nav2d`'s default protocol (α = 0.1, 20 tasks × 20 trajectories, Adam outer
  step; 100 meta-iterations, 30 with `--quick`), evaluated after 0–{STEPS} steps.
- **PEARL** (Rakelly et al. 2019): encoder MLP {"×".join(map(str, p.encoder_hidden))} on
  (s, a, r, s') → Gaussian factors, product-of-Gaussians posterior over z ∈ ℝ^{p.latent_dim},
  KL to N(0, I) weighted {p.kl_lambda:g}; SAC ({"×".join(map(str, sac.hidden))} twin critics,
  tanh-Gaussian actor, auto temperature, lr {sac.lr:g}, γ {sac.gamma:g}) on (s, z), the encoder
  trained through the critic loss (lr {p.encoder_lr:g}). {plan.train_tasks} training goals, each
  with its own replay buffer; per iteration {p.tasks_per_iteration} tasks refreshed
  ({p.prior_episodes} prior-z episode → encoder buffer, {p.posterior_episodes} posterior-z
  episode → replay only), then {p.gradient_steps} gradient steps on {p.meta_batch} tasks ×
  {p.batch_size} transitions with {p.context_size} context transitions;
  {plan.pearl_iterations} iterations. Test: deterministic actions, z sampled from the prior
  (k = 0) or from the posterior given all k earlier episodes.
- **RL²** (Duan et al. 2016; `hrrl.agents.rl2_continuous`): GRU-{r.hidden_size} Gaussian
  policy on (s, previous a, previous r, episode-start flag), hidden state kept across the
  {STEPS + 1} episodes of a trial; PPO (γ {r.ppo_config.gamma:g}, GAE λ {r.ppo_config.gae_lambda:g},
  {r.batch_trials} trials per update, {plan.rl2_updates} updates, rewards × {r.reward_scale:g}
  for the learner). Test: stochastic policy, one trial per goal.
- **Budget**: set so the whole run fits a shared 2-core machine; none of the three is trained
  to convergence and no paper's budget is matched,
  so the table compares the methods at this budget, not their best."""


def sources_section() -> str:
    return """## Sources

- The survey's description of the two families (seed 004 line 54: optimisation-based, MAML;
  line 55: "Recurrent / context-based (RL$^2$ , PEARL): adaptation = updating the hidden state of an
  RNN as data arrives, no gradients needed at test time"; line 70: "PEARL — which infers a task
  embedding with a separate encoder — is often a happy medium"; line 82: the PEARL reference).
- No published number for PEARL or RL² on this exact task is quoted: Rakelly et al. (2019)
  evaluate on a sparse-reward point robot and MuJoCo tasks, not on Finn et al.'s 2-D
  navigation; their numbers are not in our seeds. MAML's Table 4 comparison is in
  `maml-nav2d`."""


EXPERIMENT = Experiment(
    name="pearl-nav2d",
    report_dir="docs/experiments/pearl-nav2d-full",  # the full protocol's report
    summary="PEARL vs MAML vs RL² on 2-D navigation: return after k units of adaptation",
    run=run,
    default_seeds=3,
    quick_seeds=2,
)
