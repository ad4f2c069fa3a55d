"""Random tabular MDPs and their classical learners (PSRL, BEB, UCRL2, Greedy, ε-greedy, random):
environment API and common random numbers, finite-horizon planning and UCRL2's extended value
iteration against brute force, the posterior updates, and that learning beats random play."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from scipy.optimize import linprog

from hrrl.agents.tabular_mdp_baselines import (
    BEBPolicy,
    GreedyMDPPolicy,
    MDPHistory,
    NormalDirichletPrior,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
    extended_value_iteration,
    optimistic_transitions,
    play_mdp_trials,
    sample_dirichlet,
)
from hrrl.core.tabular import finite_horizon_q
from hrrl.envs.random_mdps import BatchedRandomMDP, MDPTasks, RandomMDPEnv, sample_mdps


def test_gymnasium_env_is_clean_and_equals_the_batched_env() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(RandomMDPEnv(4, 3, n_episodes=2, horizon=3), skip_render_check=True)
    tasks = sample_mdps(1, 4, 3, np.random.default_rng(0))
    env = RandomMDPEnv(4, 3, n_episodes=3, horizon=4)
    obs, _ = env.reset(seed=5, options={"task": (tasks.P[0], tasks.R[0])})
    batched = BatchedRandomMDP(4, 3, 3, 4)
    bobs = batched.reset(np.random.default_rng(5), tasks)
    np.testing.assert_array_equal(obs, bobs[0])
    actions = np.random.default_rng(1).integers(0, 3, size=12)
    for t, a in enumerate(actions):
        obs, reward, terminated, _, info = env.step(a)
        bobs, brewards, done = batched.step(np.array([a]))
        np.testing.assert_array_equal(obs, bobs[0])
        assert reward == brewards[0] and terminated == done
        assert info["episode_end"] == ((t + 1) % 4 == 0) == bool(obs[-1])
    assert terminated


def test_sampled_mdps_are_valid_and_the_start_state_is_one_hot() -> None:
    tasks = sample_mdps(50, 10, 5, np.random.default_rng(0))
    np.testing.assert_allclose(tasks.P.sum(-1), 1.0)
    assert abs(tasks.R.mean() - 1.0) < 0.05 and abs(tasks.R.std() - 1.0) < 0.05
    obs = BatchedRandomMDP(10, 5, 2, 10).reset(np.random.default_rng(0), tasks)
    assert np.all(obs[:, :10].sum(1) == 1) and np.all(obs[:, 10:] == 0)


def _brute_force_q(P: np.ndarray, R: np.ndarray, horizon: int) -> np.ndarray:
    """Expectimax by enumerating every action sequence tree recursively (tiny MDPs only)."""
    n_states, n_actions = R.shape

    def value(s: int, left: int) -> float:
        return 0.0 if left == 0 else max(q(s, a, left) for a in range(n_actions))

    def q(s: int, a: int, left: int) -> float:
        return R[s, a] + sum(P[s, a, t] * value(t, left - 1) for t in range(n_states))

    return np.array(
        [
            [[q(s, a, horizon - h) for a in range(n_actions)] for s in range(n_states)]
            for h in range(horizon)
        ]
    )


def test_finite_horizon_q_matches_brute_force() -> None:
    tasks = sample_mdps(3, 3, 2, np.random.default_rng(1))
    Q = finite_horizon_q(tasks.P, tasks.R, 4)
    for b in range(3):
        np.testing.assert_allclose(Q[b], _brute_force_q(tasks.P[b], tasks.R[b], 4))


def _lp_best(p_hat: np.ndarray, radius: float, V: np.ndarray) -> float:
    """max p·V over the simplex ∩ L1 ball, as a linear programme in (p, |p − p̂|)."""
    n = p_hat.size
    c = np.concatenate([-V, np.zeros(n)])
    eye = np.eye(n)
    a_ub = np.block([[eye, -eye], [-eye, -eye], [np.zeros((1, n)), np.ones((1, n))]])
    b_ub = np.concatenate([p_hat, -p_hat, [radius]])
    a_eq = np.concatenate([np.ones(n), np.zeros(n)])[None]
    res = linprog(c, a_ub, b_ub, a_eq, [1.0], bounds=[(0, None)] * (2 * n))
    assert res.success
    return float(-res.fun)


def test_optimistic_transitions_solve_the_inner_lp() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        n = int(rng.integers(2, 6))
        p_hat = rng.dirichlet(np.ones(n))[None, None, None]
        radius = np.array([[[rng.uniform(0, 2.5)]]])
        V = rng.normal(size=(1, n))
        p = optimistic_transitions(p_hat, radius, V)[0, 0, 0]
        assert np.all(p >= -1e-12) and abs(p.sum() - 1) < 1e-9
        assert np.abs(p - p_hat[0, 0, 0]).sum() <= radius[0, 0, 0] + 1e-9
        assert p @ V[0] == pytest.approx(_lp_best(p_hat[0, 0, 0], radius[0, 0, 0], V[0]), abs=1e-7)


def test_extended_value_iteration_is_brute_force_optimism_on_a_tiny_mdp() -> None:
    """Radius 0 gives plain planning; a positive radius gives the best MDP of the set, which on
    two states is found by brute force over a fine grid of transition rows."""
    tasks = sample_mdps(1, 2, 2, np.random.default_rng(3))
    zero = np.zeros((1, 2, 2))
    np.testing.assert_allclose(
        extended_value_iteration(tasks.P, tasks.R, zero, 3), finite_horizon_q(tasks.P, tasks.R, 3)
    )
    radius = np.full((1, 2, 2), 0.3)
    Q = extended_value_iteration(tasks.P, tasks.R, radius, 2)[0]
    # Horizon 2: Q[0, s, a] = R + max_{p in ball} p·V1 with V1 = max_a R (no choice at the end).
    V1 = tasks.R[0].max(1)
    for s, a in itertools.product(range(2), range(2)):
        grid = np.linspace(0, 1, 2001)
        ok = np.abs(grid - tasks.P[0, s, a, 0]) * 2 <= 0.3 + 1e-12
        best = max(g * V1[0] + (1 - g) * V1[1] for g in grid[ok])
        assert Q[0, s, a] == pytest.approx(tasks.R[0, s, a] + best, abs=1e-3)


def _history_with(P: np.ndarray, R: np.ndarray, visits: float) -> MDPHistory:
    history = MDPHistory.empty(1, *R.shape, horizon=5)
    history.counts[0] = visits * P
    history.reward_sum[0] = visits * R
    history.steps = int(visits * R.size)
    return history


def test_posterior_update_is_conjugate() -> None:
    prior = NormalDirichletPrior(alpha=1.0, mean=1.0, std=2.0, noise_std=0.5)
    history = MDPHistory.empty(1, 2, 1, horizon=3)
    for s, a, r, t in [(0, 0, 3.0, 1), (0, 0, 1.0, 1), (1, 0, -1.0, 0)]:
        history.record(np.array([s]), np.array([a]), np.array([r]), np.array([t]))
    alphas, mean, std = history.posterior(prior)
    np.testing.assert_array_equal(alphas[0, 0, 0], [1.0, 3.0])
    np.testing.assert_array_equal(alphas[0, 1, 0], [2.0, 1.0])
    # Normal-normal: precision 1/4 + n/0.25, mean (1/4 + Σr/0.25) / precision.
    assert mean[0, 0, 0] == pytest.approx((0.25 + 4.0 / 0.25) / (0.25 + 8.0))
    assert std[0, 1, 0] == pytest.approx(1 / np.sqrt(0.25 + 4.0))
    draws = sample_dirichlet(np.broadcast_to(alphas[0, 0, 0], (20000, 2)), np.random.default_rng(0))
    np.testing.assert_allclose(draws.mean(0), [0.25, 0.75], atol=0.01)


def test_greedy_plans_in_the_empirical_mdp_once_data_dominate() -> None:
    tasks = sample_mdps(1, 3, 2, np.random.default_rng(4))
    history = _history_with(tasks.P[0], tasks.R[0], 1e7)
    Q = GreedyMDPPolicy().plan(history, np.random.default_rng(0))
    np.testing.assert_allclose(Q, finite_horizon_q(tasks.P, tasks.R, 5), atol=1e-4)
    # UCRL2 is optimistic: its Q dominates the true one when the true MDP is in its set.
    Q_ucrl = UCRL2Policy().plan(_history_with(tasks.P[0], tasks.R[0], 50), np.random.default_rng(0))
    assert np.all(Q_ucrl >= finite_horizon_q(tasks.P, tasks.R, 5) - 1e-9)
    # BEB with β = 0 is Greedy; PSRL with that much data samples (almost) the true MDP.
    np.testing.assert_allclose(BEBPolicy(beta=0.0).plan(history, np.random.default_rng(0)), Q)
    Q_psrl = PSRLPolicy().plan(history, np.random.default_rng(0))
    np.testing.assert_allclose(Q_psrl, Q, atol=0.05)


def test_learners_beat_random_and_share_random_numbers() -> None:
    tasks = sample_mdps(200, 10, 5, np.random.default_rng(5))
    env = BatchedRandomMDP(10, 5, n_episodes=10, horizon=10)

    def total(policy: object) -> float:
        totals = play_mdp_trials(
            policy, env, tasks, np.random.default_rng(6), np.random.default_rng(7)
        )  # type: ignore[arg-type]
        return float(totals.mean())

    random = total(RandomMDPPolicy())
    assert random == pytest.approx(100 * tasks.R.mean(), rel=0.05)
    # ε = 1 Greedy acts uniformly too, and sees the same rewards as Random (same generators).
    for policy in (GreedyMDPPolicy(), PSRLPolicy(), BEBPolicy(beta=1.0), UCRL2Policy(scale=0.1)):
        assert total(policy) > random + 20, policy.name


def test_bad_tasks_are_refused() -> None:
    env = BatchedRandomMDP(3, 2, 1, 2)
    with pytest.raises(ValueError):
        env.reset(
            np.random.default_rng(0), MDPTasks(np.ones((1, 2, 2, 2)) / 2, np.zeros((1, 2, 2)))
        )
    with pytest.raises(ValueError):
        RandomMDPEnv(3, 2).set_task((np.ones((3, 2, 3)), np.zeros((3, 2))))


def test_experiment_setting_runs_every_method_on_the_same_mdps(tmp_path: Path) -> None:
    from hrrl.experiments.rl2_mdps import Protocol, run_setting

    protocol = Protocol(episodes=(2,), updates=2, held_out=20, tuning=10)
    result = run_setting(2, 0, protocol, 2, str(tmp_path / "ckpt"))
    methods = result["methods"]
    assert {"Random", "Greedy", "PSRL", "BEB (tuned β)", "UCRL2 (tuned scale)", "RL²"} <= set(
        methods
    )
    assert set(result["tuned"]) == {"ε-greedy (tuned ε)", "BEB (tuned β)", "UCRL2 (tuned scale)"}
    # Nobody beats the oracle that knows the MDP by more than reward noise (20 MDPs, 20 steps).
    assert max(v for k, v in methods.items() if k != "Oracle (knows the MDP)") < (
        methods["Oracle (knows the MDP)"] + 3.0
    )
    assert len(result["curve"]) == 2
