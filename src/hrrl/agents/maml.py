"""MAML, first-order MAML, ANIL and Reptile for reinforcement learning.

MAML: Finn, Abbeel & Levine 2017. ANIL (Raghu et al. 2020, "Almost No Inner Loop"): MAML whose
inner loop adapts only the policy's head (the last linear layer of the mean network; the body and
the log standard deviation are meta-learned but not adapted). Reptile (Nichol, Achiam & Schulman
2018): a few plain inner policy-gradient steps per task, then ``θ ← θ + ε (mean_i θ̃_i − θ)``, no
meta-gradient. All four share one inner step (:func:`inner_step`) on a parameter dict.

The policy is a Gaussian MLP with a state-independent learned log standard deviation. The inner
loop is one vanilla policy-gradient step per task: advantages are discounted returns minus a
linear feature baseline (Duan et al. 2016) fitted per task, normalised per task, and the step is
``θ'_i = θ - α ∇_θ L_i(θ)`` computed with ``torch.func.functional_call`` on a parameter dict.
MAML keeps the graph of that step (``create_graph=True``) so the meta-gradient contains the
second-order term; FOMAML detaches the inner gradient, so its meta-gradient is the outer
gradient evaluated at the adapted parameters. As in the paper, the dependence of the
pre-update sampling distribution on ``θ`` is not differentiated.

The outer optimiser is Adam on the post-update policy-gradient surrogate, not TRPO: a trust
region on a second-order meta-objective needs third-order Hessian-vector products per
conjugate-gradient iteration; Adam keeps the MAML / FOMAML comparison about the meta-gradient
alone and is what many reproductions use. Reptile's outer step is the paper's interpolation.

No episode loop of its own (:mod:`hrrl.core.rollout`): the learner hands an ``act(obs (K, N, d))``
to the task's batched rollout (:func:`~hrrl.envs.nav2d.rollout_batch`, all tasks and trajectories
stepped as one array), which is where the stepping happens; its training loops log each
iteration through the shared :class:`~hrrl.core.logging.Logger` (``logger``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap

from hrrl.core.checkpoint import STATE, load_checkpoint, restore_rng, rng_state, save_checkpoint
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.networks import mlp
from hrrl.core.seeding import init_module
from hrrl.envs.nav2d import Nav2DConfig, RewardKind, TrajectoryBatch, rollout_batch, sample_goals

Params = dict[str, torch.Tensor]


@dataclass(frozen=True)
class MAMLConfig:
    hidden_sizes: tuple[int, ...] = (100, 100)
    """Hidden layer widths of the policy mean network (ReLU)."""
    init_log_std: float = 0.0
    """Initial log standard deviation of the Gaussian policy (state-independent, learned)."""
    obs_scale: float = 1.0
    """Observations are multiplied by this before entering the network."""
    inner_lr: float = 0.1
    """Inner (adaptation) policy-gradient step size α."""
    meta_lr: float = 1e-3
    """Adam learning rate of the outer (meta) update."""
    meta_batch_size: int = 20
    """Tasks per meta-iteration."""
    trajectories_per_task: int = 20
    """Trajectories sampled per task for each inner step and for the outer loss."""
    gamma: float = 0.99
    """Discount used for the advantages (returns are reported undiscounted)."""
    baseline_reg: float = 1e-5
    """Ridge coefficient of the linear feature baseline."""
    first_order: bool = False
    """FOMAML: drop the second-order term (detach the inner gradient)."""
    inner_steps: int = 1
    """Adaptation steps during meta-training, each on freshly sampled trajectories."""
    inner_lr_after_first: float | None = None
    """Step size of every adaptation step after the first (Finn et al. halve it: 0.1 → 0.05);
    None: ``inner_lr`` throughout."""
    head_only: bool = False
    """ANIL: the inner loop adapts only the head (last linear layer of the mean network)."""
    reptile_step_size: float = 1.0
    """Reptile's outer step size ε in ``θ ← θ + ε (mean θ̃ − θ)``."""
    tanh_mean: bool = False
    """Squash the policy mean with tanh into [-1, 1] (the survey's demo, seed 001 line 1173)."""
    log_std_bounds: tuple[float, float] | None = None
    """Clamp the log standard deviation to these bounds (seed 001 line 1174: std in
    [1e-3, 1]); None: unclamped."""
    linear_baseline: bool = True
    """Subtract the linear feature baseline from the returns-to-go before normalising; False:
    normalised returns-to-go alone (the survey's demo, seed 001 lines 1219-1226)."""


def inner_lr_at(config: MAMLConfig, step: int) -> float:
    """The inner step size of adaptation step ``step`` (0-based)."""
    if step > 0 and config.inner_lr_after_first is not None:
        return config.inner_lr_after_first
    return config.inner_lr


# --- policy ----------------------------------------------------------------------------------


class GaussianMLPPolicy(nn.Module):
    """``a ~ N(mlp(obs · obs_scale), diag(exp(log_std))²)``."""

    def __init__(self, obs_dim: int, act_dim: int, config: MAMLConfig) -> None:
        super().__init__()
        self.obs_scale = config.obs_scale
        self.init_log_std = config.init_log_std
        self.tanh_mean = config.tanh_mean
        self.log_std_bounds = config.log_std_bounds
        self.mean_net = mlp([obs_dim, *config.hidden_sizes, act_dim])
        self.log_std = nn.Parameter(torch.full((act_dim,), config.init_log_std))

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.log_std.fill_(self.init_log_std)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.mean_net(obs * self.obs_scale)
        if self.tanh_mean:
            mean = torch.tanh(mean)
        log_std = self.log_std
        if self.log_std_bounds is not None:
            log_std = log_std.clamp(*self.log_std_bounds)
        return mean, log_std.expand_as(mean)


def make_policy(
    config: MAMLConfig, seed: int, dtype: torch.dtype = torch.float32
) -> GaussianMLPPolicy:
    """A freshly initialised 2-D navigation policy, deterministic in ``seed``."""
    policy = GaussianMLPPolicy(2, 2, config)
    init_module(policy, seed)
    return policy.to(dtype)


def head_names(policy: GaussianMLPPolicy) -> frozenset[str]:
    """Names of the head's parameters: the last linear layer of the mean network (ANIL)."""
    linears = [n for n, m in policy.mean_net.named_modules() if isinstance(m, nn.Linear)]
    return frozenset(f"mean_net.{linears[-1]}.{p}" for p in ("weight", "bias"))


def adapted_names(policy: nn.Module, config: MAMLConfig) -> frozenset[str] | None:
    """The parameters the inner loop adapts: the head for ANIL, all (None) otherwise."""
    if not config.head_only:
        return None
    if not isinstance(policy, GaussianMLPPolicy):
        raise TypeError(
            "ANIL needs a GaussianMLPPolicy (its head is the mean network's last layer)"
        )
    return head_names(policy)


def policy_params(policy: nn.Module) -> Params:
    """The policy's parameters as a name → tensor dict (the tensors themselves, not copies)."""
    return dict(policy.named_parameters())


def detach_params(params: Params) -> Params:
    return {name: p.detach() for name, p in params.items()}


def gaussian_log_prob(
    policy: nn.Module, params: Params, obs: torch.Tensor, actions: torch.Tensor
) -> torch.Tensor:
    """log π(a | s) under ``params`` (summed over action dimensions)."""
    mean, log_std = functional_call(policy, params, (obs,))
    z = (actions - mean) * torch.exp(-log_std)
    return torch.sum(-0.5 * z * z - log_std - 0.5 * math.log(2 * math.pi), dim=-1)


def surrogate_loss(
    policy: nn.Module,
    params: Params,
    obs: torch.Tensor,
    actions: torch.Tensor,
    weights: torch.Tensor,
) -> torch.Tensor:
    """Policy-gradient surrogate ``-Σ log π(a|s) · w`` (``w``: advantage / number of steps)."""
    return -torch.sum(gaussian_log_prob(policy, params, obs, actions) * weights)


# --- per-task data ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskData:
    """Flattened steps of one task's trajectories, ready for the surrogate loss."""

    obs: torch.Tensor
    """(M, 2) observations."""
    actions: torch.Tensor
    """(M, 2) sampled actions."""
    weights: torch.Tensor
    """(M,) normalised advantage / number of valid steps (0 on padding steps)."""


def discounted_returns(rewards: np.ndarray, valid: np.ndarray, gamma: float) -> np.ndarray:
    """Reward-to-go ``Σ_{t' ≥ t} γ^{t'-t} r_t'`` along the last axis, ignoring invalid steps."""
    masked = np.where(valid, rewards, 0.0)
    out = np.zeros_like(masked)
    running = np.zeros(masked.shape[:-1])
    for t in range(masked.shape[-1] - 1, -1, -1):
        running = masked[..., t] + gamma * running
        out[..., t] = running
    return out


def baseline_features(observations: np.ndarray) -> np.ndarray:
    """rllab's linear-baseline features ``[o, o², t, t², t³, 1]`` with ``t = step / 100``."""
    obs = np.clip(observations, -10.0, 10.0)
    steps = np.arange(obs.shape[-2], dtype=np.float64) / 100.0
    time_feats = np.stack([steps, steps**2, steps**3, np.ones_like(steps)], axis=-1)
    time_feats = np.broadcast_to(time_feats, (*obs.shape[:-1], 4))
    return np.concatenate([obs, obs**2, time_feats], axis=-1)


def linear_baseline(
    observations: np.ndarray, returns: np.ndarray, valid: np.ndarray, reg: float
) -> np.ndarray:
    """Per-task ridge-regression fit of returns on :func:`baseline_features`; its predictions.

    Shapes: observations (K, N, T, d), returns and valid (K, N, T); one fit per task ``k``.
    """
    feats = baseline_features(observations)
    n_tasks, n_feats = feats.shape[0], feats.shape[-1]
    x = feats.reshape(n_tasks, -1, n_feats) * valid.reshape(n_tasks, -1, 1)
    y = (returns * valid).reshape(n_tasks, -1)
    gram = np.einsum("kmf,kmg->kfg", x, x) + reg * np.eye(n_feats)
    coef = np.linalg.solve(gram, np.einsum("kmf,km->kf", x, y)[..., None])[..., 0]
    return np.einsum("kntf,kf->knt", feats, coef)


def advantages(batch: TrajectoryBatch, config: MAMLConfig) -> np.ndarray:
    """(K, N, T) per-task normalised advantages (returns-to-go minus the baseline); 0 on padding."""
    returns = discounted_returns(batch.rewards, batch.valid, config.gamma)
    adv = returns
    if config.linear_baseline:
        adv = returns - linear_baseline(
            batch.observations, returns, batch.valid, config.baseline_reg
        )
    axes = (1, 2)
    count = np.maximum(batch.valid.sum(axis=axes, keepdims=True), 1)
    mean = np.sum(np.where(batch.valid, adv, 0.0), axis=axes, keepdims=True) / count
    var = np.sum(np.where(batch.valid, (adv - mean) ** 2, 0.0), axis=axes, keepdims=True) / count
    return np.where(batch.valid, (adv - mean) / (np.sqrt(var) + 1e-8), 0.0)


def task_data(batch: TrajectoryBatch, config: MAMLConfig, dtype: torch.dtype) -> list[TaskData]:
    """One :class:`TaskData` per task of ``batch``."""
    adv = advantages(batch, config)
    n_valid = np.maximum(batch.valid.sum(axis=(1, 2)), 1)
    weights = adv / n_valid[:, None, None]
    out = []
    for k in range(batch.goals.shape[0]):
        out.append(
            TaskData(
                obs=torch.as_tensor(batch.observations[k].reshape(-1, 2), dtype=dtype),
                actions=torch.as_tensor(batch.actions[k].reshape(-1, 2), dtype=dtype),
                weights=torch.as_tensor(weights[k].reshape(-1), dtype=dtype),
            )
        )
    return out


# --- inner step and meta-gradient ------------------------------------------------------------


def inner_step(
    policy: nn.Module,
    params: Params,
    data: TaskData,
    lr: float,
    create_graph: bool,
    names: Collection[str] | None = None,
) -> Params:
    """One vanilla policy-gradient step ``θ - α ∇L(θ)`` on ``data``.

    ``create_graph=True`` keeps the step differentiable in ``θ`` (MAML); with ``False`` the
    gradient is a constant and the result depends on ``θ`` only through the identity (FOMAML).
    ``names`` restricts the step to those parameters (ANIL: the head); the others are returned
    as the very same tensors.
    """
    stepped = list(params) if names is None else [n for n in params if n in names]
    loss = surrogate_loss(policy, params, data.obs, data.actions, data.weights)
    grads = torch.autograd.grad(loss, [params[n] for n in stepped], create_graph=create_graph)
    out = dict(params)
    for name, g in zip(stepped, grads, strict=True):
        out[name] = params[name] - lr * g
    return out


def adapt(
    policy: nn.Module,
    params: Params,
    data: Sequence[TaskData],
    lr: float,
    first_order: bool,
    names: Collection[str] | None = None,
) -> list[Params]:
    """Adapted parameters for every task (graph kept unless ``first_order``)."""
    return [inner_step(policy, params, d, lr, not first_order, names) for d in data]


def meta_loss(
    policy: nn.Module, adapted: Sequence[Params], post_data: Sequence[TaskData]
) -> torch.Tensor:
    """Mean over tasks of the outer surrogate at each task's adapted parameters."""
    losses = [
        surrogate_loss(policy, p, d.obs, d.actions, d.weights)
        for p, d in zip(adapted, post_data, strict=True)
    ]
    return torch.stack(losses).mean()


def meta_gradient(
    policy: nn.Module,
    params: Params,
    pre_data: Sequence[TaskData],
    post_data: Sequence[TaskData],
    lr: float,
    first_order: bool,
    names: Collection[str] | None = None,
) -> list[torch.Tensor]:
    """∇_θ of :func:`meta_loss` after :func:`adapt` (MAML, or FOMAML with ``first_order``;
    ANIL with ``names`` = the head)."""
    adapted = adapt(policy, params, pre_data, lr, first_order, names)
    loss = meta_loss(policy, adapted, post_data)
    return list(torch.autograd.grad(loss, list(params.values())))


# --- sampling --------------------------------------------------------------------------------


def stack_params(per_task: Sequence[Params]) -> Params:
    """Stack per-task parameter dicts along a new leading task axis (detached)."""
    return {name: torch.stack([p[name].detach() for p in per_task]) for name in per_task[0]}


def make_actor(
    policy: nn.Module, stacked: Params, rng: np.random.Generator
) -> Callable[[np.ndarray], np.ndarray]:
    """Sampling function for :func:`~hrrl.envs.nav2d.rollout_batch`: task ``k`` uses
    ``stacked[·][k]``; the Gaussian noise comes from ``rng``."""
    dtype = next(iter(stacked.values())).dtype
    batched_forward = vmap(lambda p, o: functional_call(policy, p, (o,)))

    def act(obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            mean, log_std = batched_forward(stacked, torch.as_tensor(obs, dtype=dtype))
        noise = rng.standard_normal(mean.shape)
        return mean.double().numpy() + np.exp(log_std.double().numpy()) * noise

    return act


def sample(
    policy: nn.Module,
    per_task: Sequence[Params],
    goals: np.ndarray,
    n_trajectories: int,
    env_config: Nav2DConfig,
    rng: np.random.Generator,
) -> TrajectoryBatch:
    """Trajectories for every goal, task ``k`` acting with ``per_task[k]``."""
    return rollout_batch(
        make_actor(policy, stack_params(per_task), rng), goals, n_trajectories, env_config
    )


# --- training --------------------------------------------------------------------------------


@dataclass
class TrainLog:
    """Per-iteration training curve and timings."""

    pre_return: list[float] = field(default_factory=list)
    """Mean return of the pre-update trajectories, per iteration."""
    post_return: list[float] = field(default_factory=list)
    """Mean return of the post-update trajectories (MAML / FOMAML), per iteration."""
    iteration_seconds: list[float] = field(default_factory=list)
    """Wall time of each whole iteration (sampling, adaptation, meta-update)."""
    update_seconds: list[float] = field(default_factory=list)
    """Wall time of the adaptation + meta-gradient + optimiser step alone."""
    validation: list[tuple[int, float]] = field(default_factory=list)
    """(iterations done, validation score) when training keeps the best model."""
    best_iteration: int | None = None
    """Iterations done when the kept (best-validated) model was taken; None: the last model."""

    def log_last(self, logger: Logger | None) -> None:
        """The latest iteration's returns (and a validation made at it) to ``logger``."""
        done = len(self.pre_return)
        row = {"pre_return": self.pre_return[-1]}
        if len(self.post_return) == done:
            row["post_return"] = self.post_return[-1]
        log_step(logger, done - 1, row)
        if self.validation and self.validation[-1][0] == done:
            log_step(logger, done - 1, {"score": self.validation[-1][1]}, prefix="validation/")


def maml_iteration(
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    rng: np.random.Generator,
    log: TrainLog,
) -> None:
    """One meta-iteration: sample tasks, adapt on pre-update trajectories, meta-update on
    post-update trajectories; appends returns and timings to ``log``."""
    if config.inner_steps < 1:
        raise ValueError("MAML needs at least one inner step")
    params = policy_params(policy)
    names = adapted_names(policy, config)
    dtype = next(iter(params.values())).dtype
    started = time.perf_counter()
    goals = sample_goals(config.meta_batch_size, rng, env_config)
    n = config.trajectories_per_task
    adapted: list[Params] = [params] * len(goals)
    update_time = 0.0
    for step in range(config.inner_steps):
        batch = sample(policy, adapted, goals, n, env_config, rng)
        if step == 0:
            pre = batch
        data = task_data(batch, config, dtype)
        update_started = time.perf_counter()
        lr = inner_lr_at(config, step)
        adapted = [
            inner_step(policy, p, d, lr, not config.first_order, names)
            for p, d in zip(adapted, data, strict=True)
        ]
        update_time += time.perf_counter() - update_started
    post = sample(policy, adapted, goals, n, env_config, rng)
    post_data = task_data(post, config, dtype)
    update_started = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    meta_loss(policy, adapted, post_data).backward()
    optimizer.step()
    now = time.perf_counter()
    log.update_seconds.append(update_time + now - update_started)
    log.iteration_seconds.append(now - started)
    log.pre_return.append(float(pre.returns().mean()))
    log.post_return.append(float(post.returns().mean()))


Validator = Callable[[nn.Module], float]
"""Scores a policy on a fixed validation set (higher is better); must not touch the training
generator."""


def train_maml(
    policy: nn.Module,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    iterations: int,
    rng: np.random.Generator,
    validate: Validator | None = None,
    validate_every: int = 0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    logger: Logger | None = None,
) -> TrainLog:
    """Meta-train ``policy`` in place with MAML (FOMAML if ``config.first_order``, ANIL if
    ``config.head_only``).

    With ``validate`` and ``validate_every`` > 0 the policy is scored every ``validate_every``
    iterations (and at the end) and the best-scoring parameters are loaded back at the end
    (Finn et al. keep the best model); ``log.validation`` and ``log.best_iteration`` record it.

    With ``checkpoint`` (a folder) the run saves its whole state there every
    ``checkpoint_every`` iterations (policy, Adam moments, ``rng``, log, best model: safetensors
    + JSON, :mod:`hrrl.core.checkpoint`) and, if the folder already holds one, resumes from it:
    a run killed part-way and restarted ends with the same weights as an uninterrupted one.
    ``logger`` gets each iteration's returns and validation scores (:meth:`TrainLog.log_last`).
    """
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.meta_lr)
    log = TrainLog()
    best: tuple[float, dict[str, torch.Tensor]] | None = None
    start = 0
    if checkpoint is not None and (Path(checkpoint) / STATE).is_file():
        start, best = _resume(Path(checkpoint), policy, optimizer, rng, log)
    for i in range(start, iterations):
        maml_iteration(policy, optimizer, config, env_config, rng, log)
        done = i + 1
        due = validate_every > 0 and (done % validate_every == 0 or done == iterations)
        if validate is not None and due:
            score = float(validate(policy))
            log.validation.append((done, score))
            if best is None or score > best[0]:
                state = {k: v.detach().clone() for k, v in policy.state_dict().items()}
                best = (score, state)
                log.best_iteration = done
        log.log_last(logger)
        if checkpoint is not None and (done % checkpoint_every == 0 or done == iterations):
            _save_training(Path(checkpoint), done, policy, optimizer, rng, log, best)
    if best is not None:
        policy.load_state_dict(best[1])
    return log


def _save_training(
    folder: Path,
    done: int,
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    log: TrainLog,
    best: tuple[float, dict[str, torch.Tensor]] | None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    moments = {
        f"{i}.{k}": torch.as_tensor(v)
        for i, st in optimizer.state_dict()["state"].items()
        for k, v in st.items()
    }
    tensors: dict[str, dict[str, torch.Tensor]] = {"policy": policy.state_dict(), "adam": moments}
    if best is not None:
        tensors["best"] = best[1]
    state = {
        "iterations_done": done,
        "rng": rng_state(rng),
        "log": asdict(log),
        "best_score": None if best is None else best[0],
    }
    save_checkpoint(folder, tensors, state)


def _resume(
    folder: Path,
    policy: nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: np.random.Generator,
    log: TrainLog,
) -> tuple[int, tuple[float, dict[str, torch.Tensor]] | None]:
    groups, state = load_checkpoint(folder)
    policy.load_state_dict(groups["policy"])
    opt_state = optimizer.state_dict()
    per_param: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in groups.get("adam", {}).items():
        i, _, name = key.partition(".")
        per_param.setdefault(int(i), {})[name] = value
    opt_state["state"] = per_param
    optimizer.load_state_dict(opt_state)
    rng.bit_generator.state = restore_rng(state["rng"]).bit_generator.state
    for key, value in state["log"].items():
        if key == "validation":
            value = [(int(n), float(v)) for n, v in value]
        setattr(log, key, value)
    best = None if state["best_score"] is None else (float(state["best_score"]), groups["best"])
    return int(state["iterations_done"]), best


def reptile_outer_step(policy: nn.Module, adapted: Sequence[Params], step_size: float) -> None:
    """Reptile's outer update in place: ``θ ← θ + ε (mean_i θ̃_i − θ)``."""
    with torch.no_grad():
        for name, p in policy.named_parameters():
            target = torch.stack([a[name].detach() for a in adapted]).mean(dim=0)
            p.add_(step_size * (target - p))


def reptile_iteration(
    policy: nn.Module,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    rng: np.random.Generator,
    log: TrainLog,
) -> None:
    """One Reptile iteration: ``config.inner_steps`` policy-gradient steps per task, each on
    fresh trajectories (the same :func:`inner_step` as MAML, no graph kept), then
    :func:`reptile_outer_step`. Logs the returns before and after the first step."""
    params = policy_params(policy)
    names = adapted_names(policy, config)
    dtype = next(iter(params.values())).dtype
    started = time.perf_counter()
    goals = sample_goals(config.meta_batch_size, rng, env_config)
    adapted: list[Params] = [detach_params(params)] * len(goals)
    update_time = 0.0
    returns = []
    for step in range(config.inner_steps):
        batch = sample(policy, adapted, goals, config.trajectories_per_task, env_config, rng)
        returns.append(float(batch.returns().mean()))
        data = task_data(batch, config, dtype)
        update_started = time.perf_counter()
        lr = inner_lr_at(config, step)
        adapted = [
            detach_params(inner_step(policy, _requiring_grad(p), d, lr, False, names))
            for p, d in zip(adapted, data, strict=True)
        ]
        update_time += time.perf_counter() - update_started
    update_started = time.perf_counter()
    reptile_outer_step(policy, adapted, config.reptile_step_size)
    now = time.perf_counter()
    log.update_seconds.append(update_time + now - update_started)
    log.iteration_seconds.append(now - started)
    log.pre_return.append(returns[0])
    if len(returns) > 1:
        log.post_return.append(returns[1])


def train_reptile(
    policy: nn.Module,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    iterations: int,
    rng: np.random.Generator,
    logger: Logger | None = None,
) -> TrainLog:
    """Meta-train ``policy`` in place with Reptile (each iteration's returns to ``logger``)."""
    if config.inner_steps < 1:
        raise ValueError("Reptile needs at least one inner step")
    log = TrainLog()
    for _ in range(iterations):
        reptile_iteration(policy, config, env_config, rng, log)
        log.log_last(logger)
    return log


def train_pretrained(
    policy: nn.Module,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    iterations: int,
    rng: np.random.Generator,
    logger: Logger | None = None,
) -> TrainLog:
    """Multi-task pretraining baseline: plain policy gradient (Adam) on the mixture of tasks
    (each iteration's return to ``logger``)."""
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.meta_lr)
    params = policy_params(policy)
    dtype = next(iter(params.values())).dtype
    log = TrainLog()
    for _ in range(iterations):
        started = time.perf_counter()
        goals = sample_goals(config.meta_batch_size, rng, env_config)
        batch = sample(
            policy, [params] * len(goals), goals, config.trajectories_per_task, env_config, rng
        )
        data = task_data(batch, config, dtype)
        update_started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        meta_loss(policy, [params] * len(data), data).backward()
        optimizer.step()
        now = time.perf_counter()
        log.update_seconds.append(now - update_started)
        log.iteration_seconds.append(now - started)
        log.pre_return.append(float(batch.returns().mean()))
        log.log_last(logger)
    return log


# --- evaluation ------------------------------------------------------------------------------


def evaluate_adaptation(
    policy: nn.Module,
    config: MAMLConfig,
    env_config: Nav2DConfig,
    goals: np.ndarray,
    steps: int,
    rng: np.random.Generator,
    reward_kinds: Sequence[RewardKind] = ("distance", "squared_distance"),
) -> dict[str, np.ndarray]:
    """Mean return per task (K, steps + 1) after 0..``steps`` policy-gradient adaptation steps.

    Each step samples ``config.trajectories_per_task`` trajectories per task with the current
    adapted parameters, records their mean return under every reward kind, and adapts on them
    with the env's own reward (step size :func:`inner_lr_at`; only the head for ANIL).
    """
    names = adapted_names(policy, config)
    params = detach_params(policy_params(policy))
    dtype = next(iter(params.values())).dtype
    per_task = [params] * len(goals)
    out = {kind: np.zeros((len(goals), steps + 1)) for kind in reward_kinds}
    for step in range(steps + 1):
        batch = sample(policy, per_task, goals, config.trajectories_per_task, env_config, rng)
        for kind in reward_kinds:
            out[kind][:, step] = batch.returns(kind).mean(axis=1)
        if step == steps:
            break
        data = task_data(batch, config, dtype)
        lr = inner_lr_at(config, step)
        per_task = [
            detach_params(inner_step(policy, _requiring_grad(p), d, lr, False, names))
            for p, d in zip(per_task, data, strict=True)
        ]
    return out


def _requiring_grad(params: Params) -> Params:
    return {name: p.detach().requires_grad_(True) for name, p in params.items()}


# --- learner ---------------------------------------------------------------------------------

META_METHODS = ("maml", "fomaml", "anil", "reptile")


@dataclass(frozen=True)
class MetaLearnerConfig:
    """A meta-learner: its method and the agent settings it trains with."""

    method: str = "maml"
    """One of :data:`META_METHODS`."""
    agent: MAMLConfig = field(default_factory=MAMLConfig)
    """Policy, inner step and outer settings (``first_order`` / ``head_only`` follow ``method``)."""


def method_config(method: str, agent: MAMLConfig) -> MAMLConfig:
    """``agent`` with the switches of ``method`` set (``first_order`` for FOMAML, ``head_only``
    for ANIL)."""
    if method not in META_METHODS:
        raise ValueError(f"unknown meta-learning method {method!r}")
    return replace(agent, first_order=method == "fomaml", head_only=method == "anil")


def train_meta(
    method: str,
    policy: nn.Module,
    agent: MAMLConfig,
    env_config: Nav2DConfig,
    iterations: int,
    rng: np.random.Generator,
    validate: Validator | None = None,
    validate_every: int = 0,
    logger: Logger | None = None,
) -> TrainLog:
    """Meta-train ``policy`` in place with ``method`` (see :data:`META_METHODS`)."""
    config = method_config(method, agent)
    if method == "reptile":
        return train_reptile(policy, config, env_config, iterations, rng, logger)
    return train_maml(
        policy, config, env_config, iterations, rng, validate, validate_every, logger=logger
    )


class MetaLearner(StateArrays):
    """A meta-trained navigation policy under the learner contract (:mod:`hrrl.core.learner`):
    its weights are the learned state, saved as safetensors with the config as JSON.

    The outer optimiser's moments are not part of the state: a loaded learner adapts and acts
    exactly as the saved one; meta-training it further restarts Adam."""

    STATE = ("policy",)

    def __init__(self, config: MetaLearnerConfig, seed: int) -> None:
        self.config = config
        self.agent = method_config(config.method, config.agent)
        self.policy = make_policy(self.agent, seed)

    def train(
        self,
        env_config: Nav2DConfig,
        iterations: int,
        rng: np.random.Generator,
        logger: Logger | None = None,
    ) -> TrainLog:
        return train_meta(
            self.config.method, self.policy, self.config.agent, env_config, iterations, rng,
            logger=logger,
        )  # fmt: skip

    def adapt_and_evaluate(
        self, env_config: Nav2DConfig, goals: np.ndarray, steps: int, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """:func:`evaluate_adaptation` of this learner's policy (its own inner loop)."""
        return evaluate_adaptation(self.policy, self.agent, env_config, goals, steps, rng)

    def act(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Actions of the unadapted policy for (K, N, 2) observations (one task per row)."""
        params = detach_params(policy_params(self.policy))
        return make_actor(self.policy, stack_params([params] * obs.shape[0]), rng)(obs)
