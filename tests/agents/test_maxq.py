"""MAXQ-Q: completion-function updates by hand, the value decomposition, the Taxi graph's
abstractions, hierarchical execution, the exact evaluator, and learning the optimal Taxi policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from hrrl.agents.maxq import MaxQConfig, MaxQLearner
from hrrl.core.task_graph import Child, Primitive, Subtask, TaskGraph
from hrrl.solvers.value_iteration import TabularModel, value_iteration
from hrrl.tasks.taxi import (
    N_ACTIONS,
    N_OBS,
    TAXI_ID,
    TaxiModel,
    exact_return,
    flat_return,
    taxi_graph,
    taxi_model,
)


def _toy_learner(alpha: float = 0.5, gamma: float = 0.9) -> MaxQLearner:
    """Root → {a0, T}; T → {a1}; T ends in state 2; every table indexed by the state (0..2)."""
    state = (lambda s: s), 3
    a0 = Primitive("a0", 0, *state)
    a1 = Primitive("a1", 1, *state)
    t = Subtask("T", (Child("a1", lambda s: 1, *state),), lambda s: s == 2)
    root = Subtask(
        "Root",
        (Child("a0", lambda s: 0, *state), Child("T", lambda s: 2, *state)),
        lambda s: False,
    )
    return MaxQLearner(TaskGraph((a0, a1, t, root), root=3), MaxQConfig(alpha=alpha, gamma=gamma))


def test_completion_update_bootstraps_on_the_parents_value() -> None:
    learner = _toy_learner()
    learner.v[1][1] = -2.0  # V(a1, 1)
    learner.c[2][0][1] = 4.0  # C(T, 1, a1)
    # a1 ran one step from 0 to 1, T goes on: target γ·V(T, 1) = 0.9·(−2 + 4) = 1.8.
    error = learner.update_completion(2, 0, state=0, steps=1, next_state=1, ended=False)
    assert error == pytest.approx(1.8)
    assert learner.c[2][0][0] == pytest.approx(0.9)  # 0 + 0.5·1.8


def test_completion_update_targets_zero_when_the_subtask_ended() -> None:
    learner = _toy_learner()
    learner.c[2][0][1] = 4.0
    learner.update_completion(2, 0, state=1, steps=1, next_state=2, ended=True)
    assert learner.c[2][0][1] == pytest.approx(2.0)  # 4 + 0.5·(0 − 4)


def test_completion_update_discounts_by_the_childs_duration() -> None:
    learner = _toy_learner()
    learner.v[0][2] = 5.0  # V(a0, 2)
    learner.c[3][0][2] = 1.0  # C(Root, 2, a0); T is over in state 2, so only a0 is eligible
    learner.update_completion(3, 1, state=0, steps=3, next_state=2, ended=False)
    assert learner.c[3][1][0] == pytest.approx(0.5 * 0.9**3 * 6.0)


def test_primitive_value_averages_rewards() -> None:
    learner = _toy_learner()
    learner.update_primitive(0, 1, reward=-4.0)
    learner.update_primitive(0, 1, reward=-4.0)
    assert learner.v[0][1] == pytest.approx(-3.0)  # −2, then −2 + 0.5·(−4 + 2)


def test_value_decomposes_into_child_value_plus_completion() -> None:
    learner = MaxQLearner(taxi_graph(), MaxQConfig())
    rng = np.random.default_rng(0)
    for table in learner.v.values():
        table[:] = rng.normal(size=table.shape)
    for tables in learner.c.values():
        for table in tables:
            table[:] = rng.normal(size=table.shape)
    root = learner.graph.root
    for state in range(0, N_OBS, 7):
        if learner.is_terminal(root, state):
            continue
        slots, q = learner.q_row(root, state)
        best = slots[int(np.argmax(q))]
        child = learner.graph.nodes[root].children[best].node(state)  # type: ignore[union-attr]
        decomposed = learner.value(child, state) + learner.completion(root, state, best)
        assert learner.value(root, state) == pytest.approx(decomposed)


def test_taxi_graph_sizes_and_eligible_children() -> None:
    abstract = MaxQLearner(taxi_graph(abstract=True), MaxQConfig())
    assert abstract.n_values == 637
    assert MaxQLearner(taxi_graph(abstract=False), MaxQConfig()).n_values == 14000
    taxi = gym.make(TAXI_ID).unwrapped
    waiting = taxi.encode(0, 0, 0, 2)  # type: ignore[attr-defined]  taxi on the passenger at R
    aboard = taxi.encode(2, 2, 4, 1)  # type: ignore[attr-defined]  passenger in the taxi
    names = {id_: node.name for id_, node in enumerate(abstract.graph.nodes)}
    root = abstract.graph.root
    assert [names[c] for _, c in abstract.eligible(root, waiting)] == ["Get"]
    assert [names[c] for _, c in abstract.eligible(root, aboard)] == ["Put"]
    get = next(i for i, n in names.items() if n == "Get")
    # Navigate(R) is already over when the taxi is at R: only Pickup is eligible.
    assert [names[c] for _, c in abstract.eligible(get, waiting)] == ["Pickup"]


def test_unwind_pops_ended_subtasks_and_clears_on_termination() -> None:
    learner = MaxQLearner(taxi_graph(), MaxQConfig())
    taxi = gym.make(TAXI_ID).unwrapped
    names = {node.name: id_ for id_, node in enumerate(learner.graph.nodes)}
    stack = (names["Root"], names["Get"], names["Navigate(0)"])
    at_r = taxi.encode(0, 0, 0, 2)  # type: ignore[attr-defined]
    away = taxi.encode(1, 0, 0, 2)  # type: ignore[attr-defined]
    assert learner.unwind(stack, away, terminated=False) == stack
    assert learner.unwind(stack, at_r, terminated=False) == stack[:2]
    assert learner.unwind(stack, away, terminated=True) == ()


def test_truncated_episode_is_not_terminated() -> None:
    env = gym.make(TAXI_ID, max_episode_steps=5)
    learner = MaxQLearner(taxi_graph(), MaxQConfig())
    stats = learner.run_episode(env, np.random.default_rng(0), epsilon=1.0, seed=0)
    assert stats.steps == 5 and not stats.terminated


def _mc_return(env: gym.Env, policy: np.ndarray, episodes: int, seed: int) -> np.ndarray:
    returns = np.zeros(episodes)
    env.reset(seed=seed)
    for i in range(episodes):
        obs, _ = env.reset()
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(policy[obs]))
            returns[i] += reward
            done = terminated or truncated
    return returns


def test_exact_evaluation_matches_monte_carlo_on_the_fickle_rainy_taxi() -> None:
    env = gym.make(TAXI_ID, is_rainy=True, fickle_passenger=True)
    tabular = TabularModel.from_gymnasium_P(env.unwrapped.P, N_OBS, N_ACTIONS)  # type: ignore[attr-defined]
    _, q = value_iteration(tabular, gamma=1.0)
    policy = np.argmax(q[:N_OBS], axis=1)
    exact = flat_return(taxi_model(env), policy)
    sampled = _mc_return(env, policy, 2000, seed=5)
    assert abs(sampled.mean() - exact) < 4 * sampled.std() / np.sqrt(sampled.size)


def _start_state_returns(learner: MaxQLearner, model: TaxiModel, starts: list[int]) -> np.ndarray:
    """Exact return of greedy hierarchical execution from each start state on its own."""
    rng = np.random.default_rng(0)

    def choose(node: int, obs: int) -> int:
        return learner.greedy_child(node, obs, rng)

    return np.array(
        [
            exact_return(
                TaxiModel(model.transitions, [(1.0, s)], N_OBS),
                lambda obs, stack: learner.descend(stack, obs, choose),
                lambda stack, obs, done: learner.unwind(stack, obs, done),
                (learner.graph.root,),
            )
            for s in starts
        ]
    )


def test_maxq_learns_the_optimal_deterministic_taxi_policy() -> None:
    env = gym.make(TAXI_ID)
    model = taxi_model(env)
    tabular = TabularModel.from_gymnasium_P(env.unwrapped.P, N_OBS, N_ACTIONS)  # type: ignore[attr-defined]
    v_star, _ = value_iteration(tabular, gamma=1.0)
    config = MaxQConfig(epsilon_start=0.2, epsilon_end=0.0, epsilon_decay_episodes=1000)
    learner = MaxQLearner(taxi_graph(), config)
    rng = np.random.default_rng(3)
    for episode in range(1200):
        learner.run_episode(env, rng, learner.epsilon(episode), seed=11 if episode == 0 else None)
    # Oracle (value iteration on the known model), per start state: hierarchical execution is
    # optimal from nearly all of them, and the decomposed V(Root, s) matches V*(s).
    starts = [s for _, s in model.start]
    optimal = np.abs(_start_state_returns(learner, model, starts) - v_star[starts]) < 1e-6
    values = np.array([learner.value(learner.graph.root, s) for s in starts])
    assert optimal.mean() >= 0.95
    assert np.mean(np.abs(values - v_star[starts]) < 0.05) >= 0.85


def test_speedup_over_converged_runs_only_is_marked_as_a_bound() -> None:
    from hrrl.experiments.maxq_taxi import ratio_bound

    def summary(done: int) -> dict[str, int]:
        return {"converged_runs": done, "runs": 5}

    assert ratio_bound(summary(5), summary(5)) == ""
    assert ratio_bound(summary(3), summary(5)) == "≥ "
    assert ratio_bound(summary(5), summary(4)) == "≤ "
    assert ratio_bound(summary(3), summary(4)) == "? "
