"""NCTS: the SCM oracle, conjugate posteriors against closed forms, the PAC-Bayes certificate,
recursive vs joint commit, determinism and save/load of every learner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hrrl.agents.ncts import (
    BayesLinearArms,
    JointRegressionTS,
    JointTSConfig,
    NCTSAgent,
    NCTSConfig,
    certify_gibbs_value,
    gaussian_kl,
    kl_bernoulli,
    kl_inverse_lower,
    pac_bayes_kl_lower,
)
from hrrl.tasks.causal_scm import NestedSCM, gauss_hermite, sample_scm


def _scm() -> NestedSCM:
    return sample_scm(np.random.default_rng(3), sigma1=1.0)


def test_quadrature_is_exact_for_polynomials_and_the_oracle_matches_monte_carlo() -> None:
    z, w = gauss_hermite(20)
    assert np.isclose(w.sum(), 1.0) and np.isclose(w @ z**2, 1.0) and np.isclose(w @ z**4, 3.0)
    scm = _scm()
    rng = np.random.default_rng(0)
    u = 0.7
    mc = []
    for a1 in range(scm.n_meta):
        c = scm.context_mean(np.asarray(u))[a1] + scm.sigma1 * rng.standard_normal(400_000)
        mc.append(scm.reward_mean(c).max(axis=-1).mean())
    assert np.allclose(scm.meta_values(np.asarray(u)), mc, atol=0.02)
    # the recursive optimum is at least any joint commitment and any fixed inner response
    best_pair = max(
        scm.response_value(u, a1, lambda c, a2=a2: np.full(c.shape, a2))
        for a1 in range(scm.n_meta)
        for a2 in range(scm.n_inner)
    )
    assert scm.optimal_value(np.asarray(u)) >= best_pair - 1e-12


def test_posterior_equals_the_batch_closed_form_and_samples_have_its_moments() -> None:
    rng = np.random.default_rng(1)
    prior_var = np.array([1.0, 4.0, 0.25])
    post = BayesLinearArms.prior(2, prior_var, noise=0.5)
    x = rng.standard_normal((50, 3))
    y = x @ np.array([0.3, -1.0, 2.0]) + 0.5 * rng.standard_normal(50)
    for xi, yi in zip(x, y, strict=True):
        post.update(1, xi, yi)
    cov = np.linalg.inv(np.diag(1 / prior_var) + x.T @ x / 0.25)
    mean = cov @ x.T @ y / 0.25
    assert np.allclose(post.mean()[1], mean) and np.allclose(post.cov()[1], cov)
    assert np.allclose(post.mean()[0], 0.0) and np.allclose(post.cov()[0], np.diag(prior_var))
    draws = post.sample(np.random.default_rng(2), 100_000)[:, 1]
    assert np.allclose(draws.mean(0), mean, atol=5 * np.sqrt(np.diag(cov).max() / 1e5))
    assert np.allclose(np.cov(draws.T), cov, atol=0.05 * np.abs(cov).max())


def test_gaussian_kl_and_binary_kl_inverse() -> None:
    m, s = np.array([[1.0, -2.0]]), np.array([[[0.5, 0.1], [0.1, 0.3]]])
    assert np.isclose(gaussian_kl(m, s, m, s), 0.0)
    one_d = gaussian_kl(np.array([[1.0]]), np.array([[[0.25]]]), np.zeros((1, 1)), np.eye(1)[None])
    assert np.isclose(one_d, 0.5 * (0.25 + 1.0 - 1.0 - np.log(0.25)))
    q = kl_inverse_lower(0.3, 0.05)
    assert q < 0.3 and np.isclose(kl_bernoulli(0.3, q), 0.05, atol=1e-9)
    assert kl_inverse_lower(0.3, 0.0) == pytest.approx(0.3)


def test_pac_bayes_lower_bound_covers_the_truth_in_repeated_trials() -> None:
    """Point-mass Q = P (KL 0): the bound is a kl-Chernoff bound and must hold ≥ 95 %."""
    rng = np.random.default_rng(4)
    misses = sum(pac_bayes_kl_lower(rng.binomial(200, 0.2) / 200, 0.0, 200, 0.05) > 0.2
                 for _ in range(2000))  # fmt: skip
    assert misses / 2000 <= 0.05


def test_certificate_matches_its_estimate_and_shrinks_with_data() -> None:
    rng = np.random.default_rng(5)
    widths = []
    for n in (200, 20_000):
        matches = rng.random((300, n)) < 1 / 9
        cert = certify_gibbs_value(matches, np.full(n, 0.6), np.full(n, 1 / 9), 20.0, 0.05)
        assert cert.lower <= cert.estimate and abs(cert.estimate - 0.6) < 0.1
        widths.append(cert.width)
    assert widths[1] < 0.7 * widths[0]


def _play(agent, scm: NestedSCM, episodes: int, seed: int) -> list[tuple[int, int]]:
    rng = np.random.default_rng(seed)
    actions = []
    for _ in range(episodes):
        u = float(scm.sample_u(1, rng)[0])
        a1 = agent.begin_episode(u)
        c = scm.sample_context(u, a1, rng)
        a2 = agent.act_inner(c)
        agent.update(u, a1, c, a2, scm.sample_reward(c, a2, rng))
        actions.append((a1, a2))
    return actions


AGENTS = [
    lambda: NCTSAgent(NCTSConfig(seed=7, meta_noise=1.0)),
    lambda: NCTSAgent(NCTSConfig(seed=7, meta_noise=1.0, commit="joint")),
    lambda: JointRegressionTS(JointTSConfig(seed=7)),
    lambda: JointRegressionTS(JointTSConfig(seed=7, features="poly")),
]


@pytest.mark.parametrize("make", AGENTS)
def test_learners_are_deterministic_and_save_load_continues_exactly(make, tmp_path: Path) -> None:
    scm = _scm()
    assert _play(make(), scm, 40, 0) == _play(make(), scm, 40, 0)
    agent = make()
    _play(agent, scm, 30, 1)
    agent.save(tmp_path / "ckpt")
    assert not list(tmp_path.glob("**/*.pkl")) and not list(tmp_path.glob("**/*.pt"))
    restored = type(agent).load(tmp_path / "ckpt")
    assert restored.episodes == agent.episodes == 30
    assert _play(agent, scm, 20, 2) == _play(restored, scm, 20, 2)


def test_recursive_commit_uses_the_context_and_joint_commit_does_not() -> None:
    agent = NCTSAgent(NCTSConfig(seed=0, meta_noise=1.0, quadrature=80))
    # belief: inner arm 0 pays c, arm 1 pays -c: the best inner arm flips at c = 0
    agent.inner.b[:] = 0
    agent._theta1 = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    agent._theta2 = np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [-5.0, 0.0, 0.0]])
    agent._committed_inner = None
    assert list(agent.inner_actions(np.array([-1.0, 1.0]))) == [1, 0]
    joint, recursive = agent.meta_scores(0.0, agent._theta1, agent._theta2)
    # E|c| = sqrt(2/π) for c ~ N(0, 1): the value of adapting to c; committing gets 0
    assert np.allclose(recursive, np.sqrt(2 / np.pi), atol=0.01)  # quadrature of a kink
    assert np.allclose(joint[:, :2], 0.0, atol=1e-9)


def test_ncts_learns_the_scm_and_beats_the_rff_gp_under_a_shift() -> None:
    from hrrl.experiments.ncts_hierarchical_scm import play

    scm = _scm()
    ncts = NCTSAgent(NCTSConfig(seed=0, meta_noise=1.0))
    rff = JointRegressionTS(JointTSConfig(seed=0))
    early = play(scm, ncts, 200, 0, learn=True)
    play(scm, rff, 200, 0, learn=True)
    assert early[-50:].mean() < early[:50].mean()
    shifted = scm.shifted(3.0)
    assert play(shifted, ncts, 60, 1, False).mean() < play(shifted, rff, 60, 1, False).mean()


def test_the_experiment_writes_its_report_on_a_tiny_protocol(tmp_path: Path, monkeypatch) -> None:
    from hrrl.experiments import ncts_hierarchical_scm as exp
    from hrrl.experiments.base import run_experiment

    monkeypatch.setattr(exp, "QUICK", exp.Protocol(20, 5, (0.0, 3.0), (100, 300, 1000), 20, 20))
    results = run_experiment(exp.EXPERIMENT, tmp_path, quick=True, seeds=3, workers=1)
    report = (tmp_path / "REPORT.md").read_text()
    assert "003:2" in report and (tmp_path / "certificate.png").is_file()
    assert len(results["verdicts"]) == 3
    cert = results["certificate"]
    assert all(cert[str(n)]["coverage"] == 1.0 for n in (100, 300, 1000))
