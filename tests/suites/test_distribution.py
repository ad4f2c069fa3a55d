import numpy as np
import pytest

from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.errors import InputError
from hrrl.problem import make_problem
from hrrl.suites.distribution import ProblemDistribution


def test_draws_are_valid_problems_of_the_distribution():
    dist = ProblemDistribution(targets=(5, 30), forbidden_count=(2, 5))
    problems = dist.draw(np.random.default_rng(0), 500)
    for p in problems:
        assert 5 <= p.target <= 30
        assert 2 <= len(p.forbidden) <= 5
        assert all(0 < f < p.target for f in p.forbidden)
        # identical to the validated constructor
        assert p == make_problem(p.target, p.forbidden, p.actions)
    targets = np.array([p.target for p in problems])
    assert targets.min() == 5 and targets.max() == 30
    counts = np.bincount([len(p.forbidden) for p in problems])
    assert all(counts[k] > 50 for k in range(2, 6))


def test_forbidden_positions_are_uniform_over_the_interior():
    problems = ProblemDistribution(targets=(11, 11), forbidden_count=(2, 2)).draw(
        np.random.default_rng(1), 4000
    )
    hits = np.bincount([f for p in problems for f in p.forbidden], minlength=11)[1:]
    assert hits.sum() == 8000
    np.testing.assert_allclose(hits / 8000, np.full(10, 0.1), atol=0.02)


def test_same_seed_same_draws():
    dist = ProblemDistribution()
    assert dist.draw(np.random.default_rng(3), 20) == dist.draw(np.random.default_rng(3), 20)


def test_bad_distribution_is_an_input_error():
    with pytest.raises(InputError):
        ProblemDistribution(targets=(10, 5))
    with pytest.raises(InputError):
        ProblemDistribution(actions=(1, -1))


def test_vector_env_with_batch_sampler_redraws_finished_episodes():
    dist = ProblemDistribution(targets=(5, 20))
    env = NumberLineVectorEnv(num_envs=64, batch_sampler=dist.draw)
    env.reset(seed=0)
    seen = set()
    rng = np.random.default_rng(0)
    for _ in range(200):
        obs, _, terminated, _, _ = env.step(rng.integers(0, 3, size=64))
        seen.update(env.target.tolist())
        for i in np.flatnonzero(env._needs_reset):
            assert env.problems[i].target == env.target[i]
        forbidden_now = env.is_forbidden(np.arange(64), env.position)
        # a sub-env sits on a forbidden state only on the step its episode ended there
        assert not (forbidden_now & ~terminated).any()
    assert len(seen) >= 12
    assert (obs[:, 1] == env.target).all()


def test_batch_arrays_and_lazy_problems_agree():
    dist = ProblemDistribution(targets=(5, 40))
    batch = dist.draw_batch(np.random.default_rng(2), 50)
    problems = batch.problems()
    assert [p.target for p in problems] == batch.targets.tolist()
    assert sum(len(p.forbidden) for p in problems) == batch.forbidden_values.size
    env = NumberLineVectorEnv(num_envs=50, batch_sampler=dist.draw_batch)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(60):
        env.step(rng.integers(0, 3, size=50))
        for i in (0, 17, 49):
            p = env.problems[i]
            assert p.target == env.target[i] and p.max_steps == env.budget[i]
            assert all(env.is_forbidden(np.array([i]), np.array([f]))[0] for f in p.forbidden)
            assert not env.is_forbidden(np.array([i]), np.array([p.target]))[0]
    assert len(env.problems) == 50 and env.problems[-1] == env.problems[49]
