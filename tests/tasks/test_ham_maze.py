"""The corridor maze (tasks/ham_maze.py): its machine, its options, FourRoomsEnv's layout."""

from __future__ import annotations

import numpy as np
from gymnasium.utils.env_checker import check_env

from hrrl.agents.ham import HamQConfig, HamQLearner, ham_expected_steps
from hrrl.core.machines import Choose
from hrrl.core.seeding import make_rng
from hrrl.envs.four_rooms import FourRoomsEnv
from hrrl.tasks.four_rooms import optimal_expected_steps
from hrrl.tasks.ham_maze import (
    MAZE_LAYOUT,
    corridor_ham,
    corridor_options,
    free_directions,
    maze_env,
    nodes,
    oracle_selection,
)


def test_layout_argument_builds_the_maze_and_keeps_four_rooms_default() -> None:
    env = maze_env()
    assert env.n_states == sum(row.count(" ") for row in MAZE_LAYOUT) == 115
    assert FourRoomsEnv().n_states == 104
    check_env(maze_env(), skip_render_check=True)


def test_machine_offers_exactly_the_free_directions() -> None:
    env = maze_env()
    ham = corridor_ham(env)
    rng = make_rng(0)
    for episode in range(5):
        state, _ = env.reset(seed=episode)
        control = ham.start(int(state))
        steps = 0
        while steps < 300:
            node = ham.node(control)
            if isinstance(node, Choose):
                allowed = np.flatnonzero(ham.available(ham.choice_index[control], state))
                assert set(allowed) == set(free_directions(env, state))
                control = ham.after_choice(control, int(rng.choice(allowed)), state)
                continue
            state, _, terminated, _, _ = env.step(int(node.action(state)))
            steps += 1
            if terminated:
                break
            control = ham.after_action(control, int(state))


def test_without_slips_the_machine_only_chooses_at_nodes() -> None:
    env = FourRoomsEnv(goal=(11, 17), layout=MAZE_LAYOUT, success_prob=1.0)
    ham = corridor_ham(env)
    node_set = set(nodes(env))
    learner = HamQLearner(ham, HamQConfig(epsilon=1.0), make_rng(1))
    visits: list[int] = []
    original = learner.select

    def spy(state: int, point: int, epsilon: float) -> int:
        visits.append(state)
        return original(state, point, epsilon)

    learner.select = spy  # type: ignore[method-assign]
    for episode in range(5):
        visits.clear()
        learner.run_episode(env, seed=episode)
        assert all(s in node_set for s in visits[1:])


def test_corridor_options_reach_their_far_node() -> None:
    env = maze_env()
    options = corridor_options(env)
    assert len(options) > len(nodes(env))
    deterministic = FourRoomsEnv(goal=(11, 17), layout=MAZE_LAYOUT, success_prob=1.0)
    table = deterministic._move_table
    for option in options:
        for start in np.flatnonzero(option.initiation):
            state = int(start)
            for _ in range(env.n_states):
                state = int(table[state, option.policy[state]])
                if option.termination[state] == 1.0:
                    break
            assert not option.initiation[state]  # stopped at the far node


def test_oracle_choices_make_the_machine_near_optimal() -> None:
    env = maze_env()
    ham = corridor_ham(env)
    goal = env.tabular_model().terminal
    steps = ham_expected_steps(ham, env.dynamics(), goal, oracle_selection(env, ham))
    optimum = optimal_expected_steps(env)
    assert optimum <= np.mean(steps[~goal]) <= 1.01 * optimum
