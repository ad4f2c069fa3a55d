"""HAMs and HAMQ-learning: machine semantics, exact evaluation, learning, determinism, save/load."""

from __future__ import annotations

import numpy as np
import pytest

from hrrl.agents.ham import HamQConfig, HamQLearner, ham_expected_steps
from hrrl.agents.options import (
    OptionSet,
    expected_primitive_steps,
    greedy_selection,
    primitive_options,
)
from hrrl.core.machines import HAM, Act, Call, Choose, Machine, Stop
from hrrl.core.seeding import make_rng
from hrrl.envs.four_rooms import HALLWAYS, FourRoomsEnv
from hrrl.experiments.ham_four_rooms import run_trial
from hrrl.tasks.four_rooms import optimal_expected_steps
from hrrl.tasks.four_rooms_ham import door_ham, flat_ham

GOAL = (9, 10)


def _goal_mask(env: FourRoomsEnv) -> np.ndarray:
    mask = np.zeros(env.n_states, dtype=bool)
    mask[env.goal_state] = True
    return mask


def test_calls_and_stops_follow_the_stack():
    inner = Machine("inner", "go", {"go": Act(lambda s: 1, next="stop"), "stop": Stop()})
    root = Machine(
        "root",
        "choose",
        {
            "choose": Choose(("call", "left")),
            "call": Call("inner", next=lambda s: "choose"),
            "left": Act(lambda s: 0, next="choose"),
        },
    )
    ham = HAM([root, inner], "root", n_states=3)
    start = ham.start(0)
    assert start == (("root", "choose"),)
    called = ham.after_choice(start, 0, 0)
    assert called == (("root", "call"), ("inner", "go"))
    assert ham.after_action(called, 2) == (("root", "choose"),)
    assert ham.choice_points == [(("root", "choose"),)]
    assert len(ham.action_points) == 2 and ham.n_choices == 2


def test_a_root_that_stops_is_refused():
    root = Machine("root", "stop", {"stop": Stop()})
    with pytest.raises(ValueError, match="root machine stopped"):
        HAM([root], "root", n_states=2)


def test_door_machine_only_allows_moves_toward_its_door():
    env = FourRoomsEnv(goal=GOAL)
    ham = door_ham(env)
    assert len(ham.choice_points) == 6  # root, 4 doors, the step machine
    door_points = [i for i, c in enumerate(ham.choice_points) if c[-1][0].startswith("door")]
    hallway = HALLWAYS[0]  # (3, 6): between the upper rooms
    point = next(i for i in door_points if ham.choice_points[i][-1][0] == f"door{hallway}")
    s = env.index[(3, 2)]  # same row, west of the door: only "east" goes closer
    assert ham.available(point, s).tolist() == [False, False, False, True, False]
    s = env.index[(1, 1)]  # north-west of it: south and east both go closer
    assert ham.available(point, s).tolist() == [False, True, False, True, False]
    root = ham.choice_index[(("root", "choose"),)]
    # The root may call a door machine only inside the rooms that door joins, always "step".
    lower_right = env.index[(11, 11)]
    allowed = ham.available(root, lower_right)
    assert allowed[-1] and allowed.sum() == 3


def test_flat_ham_evaluates_like_the_flat_option_set():
    env = FourRoomsEnv(goal=GOAL)
    dynamics, goal = env.dynamics(), _goal_mask(env)
    rng = make_rng(0)
    q = rng.normal(size=(env.n_states, 4))
    ham = flat_ham(env)
    learner = HamQLearner(ham, HamQConfig(), make_rng(0))
    learner.q[:, 0, :] = q
    by_ham = ham_expected_steps(ham, dynamics, goal, learner.greedy_selection())
    flat = OptionSet(primitive_options(env.n_states, 4), 4)
    by_options = expected_primitive_steps(dynamics, goal, flat, greedy_selection(q, flat))
    finite = np.isfinite(by_options)
    assert np.array_equal(finite, np.isfinite(by_ham))
    assert np.allclose(by_ham[finite], by_options[finite])


def _train(ham_factory, seed: int, episodes: int):
    env = FourRoomsEnv(goal=GOAL)
    rng = make_rng(seed)
    learner = HamQLearner(ham_factory(env), HamQConfig(), rng)
    for episode in range(episodes):
        learner.run_episode(env, seed=seed if episode == 0 else None)
    return env, learner


def test_hamq_with_the_door_machine_learns_a_policy_that_reaches_the_goal():
    env, learner = _train(door_ham, seed=1, episodes=400)
    steps = ham_expected_steps(
        learner.ham, env.dynamics(), _goal_mask(env), learner.greedy_selection()
    )
    assert np.all(np.isfinite(steps))
    # A uniformly random walk needs hundreds of steps on average; the optimum is 17.
    assert np.mean(steps[~_goal_mask(env)]) < 2.0 * optimal_expected_steps(env)
    # Greedy rollouts (ε = 0) reach the goal well inside the time limit.
    greedy = HamQLearner(learner.ham, HamQConfig(epsilon=0.0), make_rng(7))
    greedy.q = learner.q
    results = [greedy.run_episode(env, seed=100 + i, learn=False) for i in range(20)]
    assert all(r.terminated for r in results)
    assert np.mean([r.steps for r in results]) < 40


def test_hamq_is_deterministic_under_a_seed_and_save_load_continues_identically(tmp_path):
    _, a = _train(door_ham, seed=3, episodes=40)
    _, b = _train(door_ham, seed=3, episodes=40)
    assert np.array_equal(a.q, b.q)
    _, c = _train(door_ham, seed=4, episodes=40)
    assert not np.array_equal(a.q, c.q)
    a.save(tmp_path / "ham")
    assert not list(tmp_path.glob("ham/*.pkl"))
    env = FourRoomsEnv(goal=GOAL)
    loaded = HamQLearner.load(tmp_path / "ham", door_ham(env))
    assert np.array_equal(loaded.q, a.q) and loaded.config == a.config
    env_a, env_b = FourRoomsEnv(goal=GOAL), FourRoomsEnv(goal=GOAL)
    env_a.reset(seed=9), env_b.reset(seed=9)
    for _ in range(5):
        ra, rb = a.run_episode(env_a), loaded.run_episode(env_b)
        assert ra == rb
    assert np.array_equal(a.q, loaded.q)
    with pytest.raises(ValueError, match="different choice points"):
        HamQLearner.load(tmp_path / "ham", flat_ham(env))


def test_ham_trial_is_deterministic():
    kwargs = dict(goal="G1", seed=5, episodes=50, eval_every=25, alpha=0.25, epsilon=0.1)
    assert run_trial("HAMQ door machine", **kwargs) == run_trial("HAMQ door machine", **kwargs)
