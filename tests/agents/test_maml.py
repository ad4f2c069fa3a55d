"""MAML / FOMAML / ANIL / Reptile: meta-gradients against oracles, the inner step, baseline,
memory, determinism, save/load."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.func import functional_call

from hrrl.agents.maml import (
    MAMLConfig,
    MetaLearner,
    MetaLearnerConfig,
    TaskData,
    TrainLog,
    adapt,
    advantages,
    detach_params,
    discounted_returns,
    evaluate_adaptation,
    head_names,
    inner_lr_at,
    inner_step,
    linear_baseline,
    make_actor,
    make_policy,
    maml_iteration,
    meta_gradient,
    meta_loss,
    policy_params,
    reptile_outer_step,
    stack_params,
    surrogate_loss,
    train_maml,
    train_meta,
)
from hrrl.core.checkpoint import STATE, TENSORS
from hrrl.core.learner import load_learner, save_learner
from hrrl.envs.nav2d import Nav2DConfig, rollout_batch, sample_goals

TINY = MAMLConfig(hidden_sizes=(4,), init_log_std=-0.5)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """The machine is shared: keep torch on one thread for these tests, then restore."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def _fixed_data(rng: np.random.Generator, n_tasks: int, m: int) -> list[TaskData]:
    """Deterministic surrogate-loss data: the loss is then a smooth function of the params."""
    return [
        TaskData(
            obs=torch.as_tensor(rng.normal(size=(m, 2))),
            actions=torch.as_tensor(rng.normal(size=(m, 2))),
            weights=torch.as_tensor(rng.normal(size=m) / m),
        )
        for _ in range(n_tasks)
    ]


def _tiny_policy() -> torch.nn.Module:
    return make_policy(TINY, seed=5, dtype=torch.float64)


def _objective(
    policy: torch.nn.Module,
    flat: torch.Tensor,
    shapes: dict[str, torch.Size],
    pre: list[TaskData],
    post: list[TaskData],
    lr: float,
    names: frozenset[str] | None = None,
) -> float:
    params = _unflatten(flat, shapes)
    params = {k: v.requires_grad_(True) for k, v in params.items()}
    adapted = adapt(policy, params, pre, lr, first_order=False, names=names)
    return float(meta_loss(policy, adapted, post).detach())


def _unflatten(flat: torch.Tensor, shapes: dict[str, torch.Size]) -> dict[str, torch.Tensor]:
    out, i = {}, 0
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        out[name] = flat[i : i + n].reshape(shape).clone()
        i += n
    return out


def test_maml_meta_gradient_matches_finite_differences() -> None:
    policy = _tiny_policy()
    rng = np.random.default_rng(0)
    pre, post = _fixed_data(rng, 2, 12), _fixed_data(rng, 2, 12)
    lr = 0.5
    params = policy_params(policy)
    grads = meta_gradient(policy, params, pre, post, lr, first_order=False)
    analytic = torch.cat([g.reshape(-1) for g in grads])
    shapes = {k: v.shape for k, v in params.items()}
    flat = torch.cat([p.detach().reshape(-1) for p in params.values()])
    eps = 1e-6
    numeric = torch.zeros_like(flat)
    for i in range(flat.numel()):
        bump = torch.zeros_like(flat)
        bump[i] = eps
        plus = _objective(policy, flat + bump, shapes, pre, post, lr)
        minus = _objective(policy, flat - bump, shapes, pre, post, lr)
        numeric[i] = (plus - minus) / (2 * eps)
    assert torch.allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    first_order = torch.cat(
        [g.reshape(-1) for g in meta_gradient(policy, params, pre, post, lr, first_order=True)]
    )
    # The second-order term is not negligible here, so the check above is a real one.
    assert (first_order - analytic).norm() > 1e-3 * analytic.norm()


def test_fomaml_gradient_is_outer_gradient_at_adapted_params() -> None:
    policy = _tiny_policy()
    rng = np.random.default_rng(1)
    pre, post = _fixed_data(rng, 3, 10), _fixed_data(rng, 3, 10)
    params = policy_params(policy)
    fomaml = meta_gradient(policy, params, pre, post, 0.3, first_order=True)
    expected = [torch.zeros_like(p) for p in params.values()]
    for pre_k, post_k in zip(pre, post, strict=True):
        adapted = detach_params(inner_step(policy, params, pre_k, 0.3, create_graph=False))
        adapted = {k: v.requires_grad_(True) for k, v in adapted.items()}
        loss = surrogate_loss(policy, adapted, post_k.obs, post_k.actions, post_k.weights)
        for acc, g in zip(expected, torch.autograd.grad(loss, list(adapted.values())), strict=True):
            acc += g / len(pre)
    for got, want in zip(fomaml, expected, strict=True):
        assert torch.allclose(got, want, rtol=1e-10, atol=1e-12)


def test_inner_step_lowers_inner_loss() -> None:
    policy = _tiny_policy()
    data = _fixed_data(np.random.default_rng(2), 1, 50)[0]
    params = policy_params(policy)
    before = float(surrogate_loss(policy, params, data.obs, data.actions, data.weights).detach())
    adapted = inner_step(policy, params, data, lr=0.05, create_graph=False)
    after = float(surrogate_loss(policy, adapted, data.obs, data.actions, data.weights).detach())
    assert after < before - 1e-6


def test_discounted_returns_hand_example() -> None:
    rewards = np.array([[1.0, 2.0, 4.0, 8.0]])
    valid = np.array([[True, True, True, False]])
    got = discounted_returns(rewards, valid, gamma=0.5)
    assert np.allclose(got, [[1 + 1 + 1, 2 + 2, 4, 0]])


def test_linear_baseline_fits_linear_returns_exactly() -> None:
    rng = np.random.default_rng(3)
    obs = rng.normal(size=(2, 3, 5, 2))
    t = np.arange(5) / 100.0
    returns = 2.0 * obs[..., 0] - obs[..., 1] ** 2 + 3.0 * t - 0.5
    valid = np.ones((2, 3, 5), dtype=bool)
    assert np.allclose(linear_baseline(obs, returns, valid, reg=1e-12), returns, atol=1e-6)


def test_advantages_are_normalised_per_task_and_zero_on_padding() -> None:
    config = Nav2DConfig(horizon=30)
    rng = np.random.default_rng(4)
    goals = np.array([[0.05, 0.0], [0.4, -0.3]])
    batch = rollout_batch(
        lambda o: 10.0 * (goals[:, None] - o) + rng.normal(size=o.shape), goals, 6, config
    )
    adv = advantages(batch, MAMLConfig())
    assert not batch.valid.all()  # some trajectories terminated early
    assert np.all(adv[~batch.valid] == 0.0)
    for k in range(2):
        valid_adv = adv[k][batch.valid[k]]
        assert valid_adv.mean() == pytest.approx(0.0, abs=1e-9)
        assert valid_adv.std() == pytest.approx(1.0, rel=1e-6)


def test_batched_actor_uses_each_tasks_params() -> None:
    policy = make_policy(TINY, seed=1)
    base = policy_params(policy)
    shifted = {k: v.detach() + 0.5 for k, v in base.items()}
    stacked = stack_params([base, shifted])
    obs = np.random.default_rng(5).normal(size=(2, 3, 2))
    means = make_actor(policy, stacked, np.random.default_rng(0))
    zero_noise = make_actor(
        policy, {**stacked, "log_std": stacked["log_std"] - 1e6}, np.random.default_rng(1)
    )
    got = zero_noise(obs)
    for k, p in enumerate([base, shifted]):
        want, _ = functional_call(policy, p, (torch.as_tensor(obs[k], dtype=torch.float32),))
        assert np.allclose(got[k], want.detach().numpy(), atol=1e-6)
    assert means(obs).shape == (2, 3, 2)


def _live_tensors() -> int:
    gc.collect()
    tensor_types = (torch.Tensor, torch.nn.Parameter)
    return sum(1 for obj in gc.get_objects() if type(obj) in tensor_types)


def test_no_memory_growth_across_meta_iterations() -> None:
    config = MAMLConfig(hidden_sizes=(8,), meta_batch_size=3, trajectories_per_task=4)
    env = Nav2DConfig(horizon=15)
    policy = make_policy(config, seed=0)
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    log = TrainLog()
    counts = []
    for _ in range(5):
        maml_iteration(policy, optimizer, config, env, rng, log)
        counts.append(_live_tensors())
    assert counts[-1] == counts[1]
    assert all(p.grad is None or p.grad.grad_fn is None for p in policy.parameters())


def _tiny_run(seed: int) -> tuple[list[float], list[float]]:
    config = MAMLConfig(hidden_sizes=(8,), meta_batch_size=3, trajectories_per_task=4)
    env = Nav2DConfig(horizon=15)
    policy = make_policy(config, seed=seed)
    log = train_maml(policy, config, env, 3, np.random.default_rng(seed))
    return log.post_return, [float(p.detach().sum()) for p in policy.parameters()]


def test_training_is_deterministic_under_a_seed() -> None:
    assert _tiny_run(7) == _tiny_run(7)
    assert _tiny_run(7) != _tiny_run(8)


def test_maml_learns_to_adapt_on_nav2d() -> None:
    """A short meta-training run: one adaptation step must help far more than at initialisation."""
    config = MAMLConfig(hidden_sizes=(32, 32), meta_lr=1e-2, meta_batch_size=10)
    env = Nav2DConfig(horizon=30)
    policy = make_policy(config, seed=0)
    goals = sample_goals(20, np.random.default_rng(99), env)
    before = evaluate_adaptation(policy, config, env, goals, 1, np.random.default_rng(1))
    train_maml(policy, config, env, 25, np.random.default_rng(0))
    after = evaluate_adaptation(policy, config, env, goals, 1, np.random.default_rng(1))
    gain_before = before["distance"][:, 1].mean() - before["distance"][:, 0].mean()
    gain_after = after["distance"][:, 1].mean() - after["distance"][:, 0].mean()
    assert after["distance"][:, 1].mean() > before["distance"][:, 1].mean() + 3.0
    assert gain_after > gain_before


# --- ANIL ------------------------------------------------------------------------------------


def test_anil_inner_step_leaves_the_body_unchanged() -> None:
    policy = _tiny_policy()
    data = _fixed_data(np.random.default_rng(10), 1, 30)[0]
    params = policy_params(policy)
    head = head_names(policy)
    assert head == {"mean_net.2.weight", "mean_net.2.bias"}
    adapted = inner_step(policy, params, data, lr=0.5, create_graph=True, names=head)
    for name, p in params.items():
        if name in head:
            assert not torch.equal(adapted[name], p)
        else:
            assert adapted[name] is p
    full = inner_step(policy, params, data, lr=0.5, create_graph=False)
    for name in head:  # the head's step is the full step's head part
        assert torch.allclose(adapted[name], full[name])


def test_anil_meta_gradient_matches_finite_differences() -> None:
    """The body is not adapted but still gets the second-order meta-gradient through the head."""
    policy = _tiny_policy()
    rng = np.random.default_rng(11)
    pre, post = _fixed_data(rng, 2, 12), _fixed_data(rng, 2, 12)
    lr, head = 0.5, head_names(policy)
    params = policy_params(policy)
    grads = meta_gradient(policy, params, pre, post, lr, first_order=False, names=head)
    analytic = torch.cat([g.reshape(-1) for g in grads])
    shapes = {k: v.shape for k, v in params.items()}
    flat = torch.cat([p.detach().reshape(-1) for p in params.values()])
    numeric = torch.zeros_like(flat)
    eps = 1e-6
    for i in range(flat.numel()):
        bump = torch.zeros_like(flat)
        bump[i] = eps
        plus = _objective(policy, flat + bump, shapes, pre, post, lr, head)
        minus = _objective(policy, flat - bump, shapes, pre, post, lr, head)
        numeric[i] = (plus - minus) / (2 * eps)
    assert torch.allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    maml = torch.cat(
        [g.reshape(-1) for g in meta_gradient(policy, params, pre, post, lr, first_order=False)]
    )
    assert (maml - analytic).norm() > 1e-3 * analytic.norm()


# --- Reptile ---------------------------------------------------------------------------------


def test_reptile_outer_step_is_the_interpolation() -> None:
    policy = _tiny_policy()
    theta = {k: v.detach().clone() for k, v in policy_params(policy).items()}
    gen = torch.Generator().manual_seed(0)
    adapted = [
        {k: v + torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in theta.items()}
        for _ in range(3)
    ]
    eps = 0.3
    reptile_outer_step(policy, adapted, eps)
    for name, p in policy_params(policy).items():
        mean = sum(a[name] for a in adapted) / 3
        assert torch.allclose(p.detach(), theta[name] + eps * (mean - theta[name]), atol=1e-12)


def test_reptile_with_one_task_and_unit_step_lands_on_the_adapted_params() -> None:
    policy = _tiny_policy()
    data = _fixed_data(np.random.default_rng(12), 1, 20)[0]
    adapted = detach_params(inner_step(policy, policy_params(policy), data, 0.2, False))
    reptile_outer_step(policy, [adapted], 1.0)
    for name, p in policy_params(policy).items():
        assert torch.allclose(p.detach(), adapted[name], atol=1e-12)


# --- step-size schedule, best-model selection --------------------------------------------------


def test_inner_step_size_is_halved_after_the_first_step() -> None:
    config = MAMLConfig(inner_lr=0.1, inner_lr_after_first=0.05)
    assert [inner_lr_at(config, s) for s in range(3)] == [0.1, 0.05, 0.05]
    assert [inner_lr_at(MAMLConfig(inner_lr=0.1), s) for s in range(3)] == [0.1, 0.1, 0.1]


def test_train_maml_keeps_the_best_validated_model() -> None:
    config = MAMLConfig(hidden_sizes=(8,), meta_batch_size=3, trajectories_per_task=4)
    env = Nav2DConfig(horizon=15)
    policy = make_policy(config, seed=0)
    snapshots: list[dict[str, torch.Tensor]] = []
    scores = iter([1.0, 5.0, 2.0])

    def validate(p: torch.nn.Module) -> float:
        snapshots.append({k: v.detach().clone() for k, v in p.state_dict().items()})
        return next(scores)

    log = train_maml(policy, config, env, 6, np.random.default_rng(0), validate, 2)
    assert log.validation == [(2, 1.0), (4, 5.0), (6, 2.0)]
    assert log.best_iteration == 4
    for k, v in policy.state_dict().items():
        assert torch.equal(v, snapshots[1][k])
    # Validation draws nothing from the training generator: without it, the same training.
    plain = make_policy(config, seed=0)
    plain_log = train_maml(plain, config, env, 6, np.random.default_rng(0))
    assert plain_log.post_return == log.post_return


# --- every method: determinism, save / load --------------------------------------------------

METHODS = ("maml", "fomaml", "anil", "reptile")


def _learner(method: str, seed: int) -> MetaLearner:
    agent = MAMLConfig(hidden_sizes=(8,), meta_batch_size=3, trajectories_per_task=4, inner_steps=2)
    learner = MetaLearner(MetaLearnerConfig(method=method, agent=agent), seed)
    learner.train(Nav2DConfig(horizon=15), 3, np.random.default_rng(seed))
    return learner


@pytest.mark.parametrize("method", METHODS)
def test_every_method_is_deterministic_under_a_seed(method: str) -> None:
    a, b, c = _learner(method, 3), _learner(method, 3), _learner(method, 4)
    for key, value in a.state_arrays().items():
        assert torch.equal(value, b.state_arrays()[key])
    assert any(not torch.equal(v, c.state_arrays()[k]) for k, v in a.state_arrays().items())


@pytest.mark.parametrize("method", METHODS)
def test_every_method_saves_and_loads(method: str, tmp_path: Path) -> None:
    learner = _learner(method, 5)
    save_learner(tmp_path, learner)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([STATE, TENSORS])
    fresh = load_learner(tmp_path, MetaLearner(learner.config, seed=99))
    obs = np.random.default_rng(0).normal(size=(2, 3, 2))
    assert np.array_equal(
        learner.act(obs, np.random.default_rng(1)), fresh.act(obs, np.random.default_rng(1))
    )
    env = Nav2DConfig(horizon=15)
    goals = sample_goals(3, np.random.default_rng(2), env)
    before = learner.adapt_and_evaluate(env, goals, 2, np.random.default_rng(3))
    after = fresh.adapt_and_evaluate(env, goals, 2, np.random.default_rng(3))
    assert np.array_equal(before["distance"], after["distance"])


def test_train_meta_rejects_an_unknown_method() -> None:
    with pytest.raises(ValueError, match="unknown"):
        train_meta("pearl", _tiny_policy(), TINY, Nav2DConfig(), 1, np.random.default_rng(0))


def test_survey_policy_options_squash_the_mean_and_clamp_the_std() -> None:
    config = MAMLConfig(hidden_sizes=(8,), tanh_mean=True, log_std_bounds=(-6.9, 0.0))
    policy = make_policy(config, 0)
    with torch.no_grad():
        policy.log_std.fill_(3.0)
        mean, log_std = policy(torch.full((4, 2), 1e3))
    assert float(mean.abs().max()) <= 1.0 and torch.all(log_std == 0.0)


def test_without_baseline_advantages_are_the_normalised_returns_to_go() -> None:
    from hrrl.agents.maml import advantages, discounted_returns

    config = MAMLConfig(linear_baseline=False, gamma=0.9)
    env = Nav2DConfig(horizon=6)
    batch = rollout_batch(
        lambda p: np.ones_like(p), sample_goals(2, np.random.default_rng(0), env), 1, env
    )
    adv = advantages(batch, config)
    returns = discounted_returns(batch.rewards, batch.valid, 0.9)
    for k in range(2):
        r = returns[k, 0][batch.valid[k, 0]]
        expected = (r - r.mean()) / (r.std() + 1e-8)
        assert np.allclose(adv[k, 0][batch.valid[k, 0]], expected)


def test_training_killed_part_way_resumes_to_the_same_weights(tmp_path: Path) -> None:
    from hrrl.agents.maml import train_maml

    config = MAMLConfig(hidden_sizes=(8,), meta_batch_size=2, trajectories_per_task=2)
    env = Nav2DConfig(horizon=5)

    def validate(policy: torch.nn.Module) -> float:
        return -float(sum(p.detach().abs().sum() for p in policy.parameters()))

    straight = make_policy(config, 0)
    log = train_maml(straight, config, env, 6, np.random.default_rng(1), validate, 2)
    # "killed" after 4 iterations (last checkpoint at 4), then restarted for the full 6
    first = make_policy(config, 0)
    train_maml(first, config, env, 4, np.random.default_rng(1), validate, 2, tmp_path, 2)
    resumed = make_policy(config, 7)  # other initial weights: all must come from the checkpoint
    log2 = train_maml(resumed, config, env, 6, np.random.default_rng(99), validate, 2, tmp_path, 2)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
    assert log2.validation == log.validation and log2.best_iteration == log.best_iteration
    assert log2.post_return == log.post_return


def test_wide_report_calls_a_claim_above_the_oracle_not_reachable() -> None:
    from hrrl.core.stats import mean_ci
    from hrrl.experiments.maml_nav2d_wide import oracle_section, wide_protocol

    cis = {m: [mean_ci([-400.0, -390.0])] * 6 for m in ("maml", "fomaml", "random")}
    env = wide_protocol(False, None).env
    assert "**not reachable**" in oracle_section(-51.15, env, cis)  # −20 > −51.15
    assert "**reachable**" in oracle_section(-10.0, env, cis)  # −20 < −10
