"""PANDA and the bilevel Markov-game task: exact equilibria, exact hypergradients against finite
differences, the penalty's O(1/ρ) hypergradient bias, determinism and save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hrrl.agents.panda import (
    PANDA,
    ImplicitConfig,
    PANDAConfig,
    UnrolledConfig,
    iterations_to_stationarity,
    make_optimizer,
)
from hrrl.tasks.markov_games import (
    DTYPE,
    best_response_values,
    nikaido_isoda_gap,
    sample_game,
    solve_equilibrium,
    upper_value,
)

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def game():
    return sample_game(np.random.default_rng(0), n_states=3, incentive_cost=0.05)


def test_equilibrium_satisfies_the_saddle_point_conditions(game) -> None:
    x = torch.linspace(-0.5, 0.5, game.x_dim, dtype=DTYPE)
    z = solve_equilibrium(game, x)
    assert game.residual(z, x).abs().max() < 1e-11
    v, mu, nu = game.unpack(z)
    assert torch.allclose(mu.sum(-1), torch.ones(3, dtype=DTYPE))
    assert torch.allclose(v, game.values(x, mu, nu), atol=1e-10)
    # neither player gains by deviating: the Nikaido-Isoda gap is zero (computed independently)
    hi, lo = best_response_values(game, x, mu, nu)
    assert abs(hi - float(game.game_value(x, mu, nu))) < 1e-9
    assert abs(lo - float(game.game_value(x, mu, nu))) < 1e-9
    uniform = torch.full_like(mu, 0.5)
    assert nikaido_isoda_gap(game, x, uniform, uniform) > 1e-4
    # a warm start from a nearby x reaches the same point
    z2 = solve_equilibrium(game, x, warm=solve_equilibrium(game, x + 0.3))
    assert torch.allclose(z, z2, atol=1e-10)


def test_implicit_hypergradient_matches_central_finite_differences(game) -> None:
    x = torch.as_tensor(np.random.default_rng(1).normal(0, 0.5, game.x_dim), dtype=DTYPE)
    value, grad, z = game.hypergradient(x)
    assert value == pytest.approx(upper_value(game, x))
    h = 1e-5
    fd = []
    for i in range(game.x_dim):
        e = torch.zeros_like(x)
        e[i] = h
        fd.append((upper_value(game, x + e, z) - upper_value(game, x - e, z)) / (2 * h))
    assert np.allclose(grad.numpy(), fd, atol=1e-8)
    assert grad.abs().max() > 1e-3  # not a trivial zero gradient


def test_panda_x_gradient_approaches_the_hypergradient_at_rate_one_over_rho(game) -> None:
    x = torch.as_tensor(np.random.default_rng(2).normal(0, 0.5, game.x_dim), dtype=DTYPE)
    _, grad, _ = game.hypergradient(x)
    errors = []
    for rho in (10.0, 100.0):
        opt = PANDA(PANDAConfig(penalty=rho), game.x_dim, game.shape)
        opt.state["x"] = x.clone()
        for _ in range(600):  # lower level only, x fixed
            opt._lower_step(game)
        g_x, _, gap = opt.x_gradient(game)
        errors.append(float((g_x - grad).norm()))
        assert gap >= -1e-12
    assert errors[1] < errors[0] / 5 and errors[1] < 0.05 * float(grad.norm())


KINDS = [
    ("panda", PANDAConfig(init_scale=0.3, seed=4, lower_steps=3)),
    ("implicit", ImplicitConfig()),
    ("unrolled", UnrolledConfig(init_scale=0.3, seed=4, unroll=3)),
]


@pytest.mark.parametrize(("kind", "config"), KINDS)
def test_optimizers_are_deterministic_and_resume_exactly(
    game, kind, config, tmp_path: Path
) -> None:
    def run(opt, steps):
        return [opt.step(game)["upper"] for _ in range(steps)]

    a, b = (make_optimizer(kind, config, game.x_dim, game.shape) for _ in range(2))
    assert run(a, 4) == run(b, 4)
    a.save(tmp_path / "ckpt")
    restored = type(a).load(tmp_path / "ckpt")
    assert restored.iterations == 4
    assert np.allclose(run(a, 3), run(restored, 3), rtol=0, atol=1e-12)
    assert torch.allclose(a.x, restored.x, rtol=0, atol=1e-10)  # solver warm start not saved


def test_every_method_decreases_stationarity(game) -> None:
    for kind, config in KINDS:
        opt = make_optimizer(kind, config, game.x_dim, game.shape)
        _, g0, warm = game.hypergradient(opt.x)
        for _ in range(40):
            opt.step(game)
        _, g1, _ = game.hypergradient(opt.x, warm)
        assert float(g1 @ g1) < 0.5 * float(g0 @ g0), kind


def test_iterations_to_stationarity_takes_the_first_hit() -> None:
    norms = np.array([1.0, 0.5, 0.05, 0.2, 0.001])
    out = iterations_to_stationarity(norms, np.array([0.6, 0.1, 0.01, 1e-6]))
    assert list(out[:3]) == [1, 2, 4] and np.isnan(out[3])


def test_the_experiment_writes_its_report_on_a_tiny_protocol(tmp_path: Path, monkeypatch) -> None:
    from hrrl.experiments import panda_bilevel_games as exp
    from hrrl.experiments.base import run_experiment

    monkeypatch.setattr(exp, "QUICK", exp.Protocol(iterations=6, penalties=(10.0,)))
    results = run_experiment(exp.EXPERIMENT, tmp_path, quick=True, seeds=2, workers=1)
    assert (tmp_path / "REPORT.md").read_text().count("003:8") == 1
    assert set(results["methods"]) == {
        "implicit hypergradient (exact, 2nd order)",
        "unrolled GDA, K = 5 (ITD, 2nd order)",
        "PANDA ρ = 10 (1st order)",
    }
    assert len(results["verdicts"]) == 3
