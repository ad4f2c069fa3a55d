import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from hypothesis import given
from hypothesis import strategies as st

import hrrl.envs
from hrrl.envs.numberline import NumberLineEnv
from hrrl.envs.numberline_vector import NumberLineVectorEnv
from hrrl.envs.rewards import Transition, get_reward, make_potential_reward, paper_reward
from hrrl.problem import make_problem
from hrrl.suites.generator import SuiteSpec, generate


def sampler(rng: np.random.Generator):
    """Curriculum-like sampler: a fresh small problem per reset."""
    target = int(rng.integers(5, 40))
    forbidden = rng.choice(np.arange(1, target), size=min(3, target - 1), replace=False)
    return make_problem(target, forbidden.tolist())


@pytest.mark.parametrize("env_id", hrrl.envs.registered_ids())
def test_every_registered_env_passes_check_env_without_warnings(env_id):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make(env_id)
        check_env(env.unwrapped)
        env.close()


def test_numberline_is_registered():
    assert "hrrl/NumberLine-v0" in hrrl.envs.registered_ids()


def test_episode_rules_and_paper_reward_by_hand():
    env = NumberLineEnv(make_problem(10, [6], max_steps=4), reward="paper")
    obs, info = env.reset(seed=0)
    assert obs.tolist() == [0, 10, 4]
    assert info["problem"].target == 10
    obs, r, term, trunc, info = env.step(2)  # +5 → 5, closer
    assert (obs.tolist(), r, term, trunc, info["outcome"]) == (
        [5, 10, 3],
        10.0,
        False,
        False,
        "move",
    )
    obs, r, term, trunc, info = env.step(0)  # +1 → 6 forbidden
    assert (r, term, trunc, info["outcome"]) == (-50.0, True, False, "forbidden")
    env.reset()
    env.step(2)
    _, r, term, _, info = env.step(2)  # 10: success at step 2
    assert (r, term, info["outcome"]) == (98.0, True, "success")
    env.reset()
    env.step(2)
    env.step(1)  # 8
    _, r, term, _, info = env.step(2)  # 13 > 10: overshoot
    assert (r, term, info["outcome"]) == (-20.0, True, "overshoot")


def test_truncation_is_not_termination():
    env = NumberLineEnv(make_problem(100, [], max_steps=2), reward="steps")
    env.reset(seed=0)
    _, _, term, trunc, _ = env.step(0)
    assert not term and not trunc
    _, r, term, trunc, _ = env.step(0)
    assert not term and trunc and r == -1.0


def test_mixed_actions_never_overshoot_terminate():
    env = NumberLineEnv(make_problem(4, [], actions=[5, -3], max_steps=10))
    env.reset(seed=0)
    _, _, term, _, info = env.step(0)  # 5 > 4 but a -3 move can come back
    assert not term and info["outcome"] == "move"


@given(st.lists(st.integers(0, 2), min_size=1, max_size=40), st.integers(0, 3))
def test_potential_shaping_telescopes_to_steps_return(actions, seed):
    """With γ = 1 the shaped return equals the unshaped return plus Φ(start) (Φ(end) = 0 at a
    terminal state): shaping cannot change which policy is best."""
    problem = generate(SuiteSpec("t", 1, (10, 60), (2, 5)), seed)[0]
    shaped = NumberLineEnv(problem, reward="potential")
    plain = NumberLineEnv(problem, reward="steps")
    shaped.reset(seed=0)
    plain.reset(seed=0)
    total_shaped = total_plain = 0.0
    terminal = False
    for a in actions:
        _, r1, term, trunc, _ = shaped.step(a)
        _, r2, _, _, _ = plain.step(a)
        total_shaped += r1
        total_plain += r2
        if term or trunc:
            terminal = term
            break
    phi_start = -problem.gap / 5
    if terminal:
        assert total_shaped == pytest.approx(total_plain - phi_start)
    else:
        phi_now = -abs(problem.target - shaped.position) / 5
        assert total_shaped == pytest.approx(total_plain + phi_now - phi_start)


def test_paper_reward_pays_for_slowness():
    """Creeping by +1 to T = 20 earns more than the 4-step optimum under the paper's reward."""

    def episode_return(move: int, steps: int) -> float:
        prev = np.arange(steps) * move
        t = Transition(
            prev=prev,
            new=prev + move,
            step=np.arange(1, steps + 1),
            outcome=np.where(np.arange(steps) == steps - 1, 1, 0).astype(np.int8),
            target=np.full(steps, 20),
            max_steps=np.full(steps, 50),
            largest_move=np.full(steps, 5),
        )
        return float(paper_reward(t).sum())

    assert episode_return(1, 20) > episode_return(5, 4)


def test_unknown_reward_is_an_input_error():
    from hrrl.errors import InputError

    with pytest.raises(InputError, match="unknown reward"):
        get_reward("nope")
    assert make_potential_reward(0.9) is not None


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_env_equals_sync_vector_env_step_for_step(mode):
    n, seed = 6, 123
    ours = NumberLineVectorEnv(num_envs=n, sampler=sampler, autoreset_mode=mode)
    reference = SyncVectorEnv(
        [lambda: NumberLineEnv(sampler=sampler) for _ in range(n)], autoreset_mode=mode
    )
    obs_a, _ = ours.reset(seed=seed)
    obs_b, _ = reference.reset(seed=seed)
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    for _ in range(300):
        actions = rng.integers(0, 3, size=n)
        a = ours.step(actions)
        b = reference.step(actions)
        for x, y in zip(a[:4], b[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        if mode == AutoresetMode.SAME_STEP and "final_obs" in b[4]:
            done = b[4]["_final_obs"]
            np.testing.assert_array_equal(
                a[4]["final_obs"][done], np.stack(b[4]["final_obs"][done])
            )


def test_vector_env_fixed_problems_and_partial_reset():
    problems = [make_problem(10, [5]), make_problem(20, [3])]
    env = NumberLineVectorEnv(problems, autoreset_mode=AutoresetMode.DISABLED)
    env.reset(seed=0)
    env.step(np.array([2, 2]))
    assert env.position.tolist() == [5, 5]
    env.reset(options={"reset_mask": np.array([True, False])})
    assert env.position.tolist() == [0, 5]
    assert env.is_forbidden(np.array([0, 1]), np.array([5, 5])).tolist() == [True, False]


def test_vector_env_rejects_problems_with_other_action_counts():
    with pytest.raises(ValueError, match="actions"):
        NumberLineVectorEnv([make_problem(10), make_problem(10, actions=[1, 2])])


@given(
    st.integers(0, 2),
    st.integers(1, 60),
    st.sets(st.integers(1, 80), max_size=15),
    st.integers(1, 200),
)
def test_repeat_moves_equals_single_steps(action, repeats, forbidden, target):
    problem = make_problem(target, forbidden - {target}, max_steps=30)
    fast = NumberLineVectorEnv([problem], autoreset_mode=AutoresetMode.DISABLED)
    slow = NumberLineEnv(problem)
    fast.reset(seed=0)
    slow.reset(seed=0)
    made, term, trunc, _ = fast.repeat_moves(np.array([0]), np.array([action]), np.array([repeats]))
    done = False
    count = 0
    # repeat_moves only stops early at an episode end; with a truthful promise the slow env does
    # exactly the same moves
    while count < made[0] and not done:
        _, _, t1, t2, _ = slow.step(action)
        count += 1
        done = t1 or t2
    assert slow.position == fast.position[0]
    assert slow.steps == fast.steps[0]
    assert done == bool(term[0] or trunc[0])


def test_relative_reward_by_hand():
    env = NumberLineEnv(make_problem(10, [6], max_steps=4), reward="relative")
    env.reset(seed=0)
    _, r, _, _, _ = env.step(2)  # +5 of a largest move 5: −1 + 5/5
    assert r == pytest.approx(0.0)
    _, r, _, _, _ = env.step(0)  # +1 onto forbidden 6: −1 + 1/5 − 10
    assert r == pytest.approx(-10.8)
