"""Option discovery: bottlenecks are the doors, eigenoptions and DIAYN skills are sound options."""

from __future__ import annotations

import numpy as np
import pytest

from hrrl.agents.option_discovery import (
    DiaynConfig,
    DiaynLearner,
    betweenness_subgoals,
    eigenoptions,
    laplacian_eigenvectors,
    subgoal_options,
    transition_graph,
)
from hrrl.agents.options import OptionQConfig, OptionQLearner, OptionSet, primitive_options
from hrrl.core.seeding import make_rng
from hrrl.envs.four_rooms import HALLWAYS, MOVES, FourRoomsEnv
from hrrl.experiments.option_discovery import run_trial
from hrrl.tasks.four_rooms import hallway_options
from hrrl.tasks.four_rooms_discovery import coordinate_features

ENV = FourRoomsEnv()
DYNAMICS = ENV.dynamics()
GRAPH = transition_graph(DYNAMICS)


def _key(option):
    return (option.initiation.tobytes(), option.policy.tobytes(), option.termination.tobytes())


def test_transition_graph_is_the_grid_adjacency():
    assert GRAPH.number_of_nodes() == 104
    # 4-neighbour adjacency of the free cells: every hallway joins exactly two cells.
    for hallway in HALLWAYS:
        assert GRAPH.degree[ENV.index[hallway]] == 2


def test_betweenness_subgoals_of_four_rooms_are_the_hallway_cells():
    found = betweenness_subgoals(GRAPH, 4)
    assert sorted(ENV.cells[g] for g in found.subgoals) == sorted(HALLWAYS)
    # The raw peaks are one step from a hallway, inside a room, and not hallways themselves.
    for peak in found.peaks:
        assert ENV.cells[peak] not in HALLWAYS
        assert any(ENV.index[h] in GRAPH.neighbors(peak) for h in HALLWAYS)
    assert betweenness_subgoals(GRAPH, 4, refine=False).subgoals == found.peaks


def test_subgoal_options_at_the_hallways_rebuild_the_hand_made_options():
    found = betweenness_subgoals(GRAPH, 4)
    discovered = subgoal_options(DYNAMICS, GRAPH, found.subgoals)
    assert sorted(map(_key, discovered)) == sorted(map(_key, hallway_options(ENV)))


def test_eigenvectors_are_orthonormal_and_eigenoptions_climb_them():
    values, vectors = laplacian_eigenvectors(GRAPH, 3)
    assert np.all(np.diff(values) >= -1e-12) and values[0] > 1e-9
    assert np.allclose(vectors.T @ vectors, np.eye(3), atol=1e-8)
    options, _ = eigenoptions(DYNAMICS, GRAPH, 2)
    assert [o.name for o in options] == ["eig1+", "eig1-", "eig2+", "eig2-"]
    for option, (i, sign) in zip(options, [(0, 1), (0, -1), (1, 1), (1, -1)], strict=True):
        e = sign * vectors[:, i]
        stops = np.flatnonzero(~option.initiation)
        assert stops.size >= 1 and option.termination[stops].min() == 1.0
        # The option ends near the top of its eigenvector.
        assert e[stops].max() >= np.quantile(e, 0.9)
        # In its initiation set the chosen move raises e in expectation more than the worst one.
        gains = DYNAMICS @ e - e[:, None]
        inside = np.flatnonzero(option.initiation)
        assert np.all(gains[inside, option.policy[inside]] >= gains[inside].min(axis=1))


def test_discovered_options_are_accepted_by_the_option_learner():
    options, _ = eigenoptions(DYNAMICS, GRAPH, 2)
    opts = OptionSet(options + primitive_options(ENV.n_states, len(MOVES)), len(MOVES))
    learner = OptionQLearner(opts, OptionQConfig(), make_rng(0))
    result = learner.run_episode(FourRoomsEnv(), seed=1)
    assert result.terminated or result.truncated


SMALL = DiaynConfig(n_skills=3, episodes=60, episode_length=10, hidden=8)


def test_diayn_is_deterministic_under_a_seed():
    feats = coordinate_features(ENV)
    a = DiaynLearner(DYNAMICS, SMALL, 3, features=feats)
    b = DiaynLearner(DYNAMICS, SMALL, 3, features=feats)
    assert a.train() == b.train()
    assert np.array_equal(a.q, b.q) and np.allclose(a.skill_probs(), b.skill_probs())
    c = DiaynLearner(DYNAMICS, SMALL, 4, features=feats)
    c.train()
    assert not np.array_equal(a.q, c.q)


def test_diayn_save_load_round_trip_continues_identically(tmp_path):
    feats = coordinate_features(ENV)
    a = DiaynLearner(DYNAMICS, SMALL, 5, features=feats)
    a.train(30)
    a.save(tmp_path / "ckpt")
    assert not list(tmp_path.glob("ckpt/*.pkl")) and (tmp_path / "ckpt" / "state.json").is_file()
    b = DiaynLearner.load(tmp_path / "ckpt")
    assert b.episodes_done == 30 and np.array_equal(a.q, b.q)
    assert a.train() == b.train()
    assert np.array_equal(a.q, b.q) and np.allclose(a.skill_probs(), b.skill_probs())


def test_diayn_learns_skills_the_discriminator_can_tell_apart():
    learner = DiaynLearner(
        DYNAMICS, DiaynConfig(n_skills=2, episodes=300, episode_length=20), 0,
        features=coordinate_features(ENV),
    )  # fmt: skip
    scores = learner.train()
    # log q(z|s') rises above log p(z) = log 1/2 as the two skills separate.
    assert np.mean(scores[-50:]) > np.log(0.5) + 0.05
    assert np.mean(scores[-50:]) > np.mean(scores[:50]) + 0.05
    options = learner.skill_options()
    assert 1 <= len(options) <= 2
    for option in options:
        assert option.termination.min() == pytest.approx(0.05)
        assert option.initiation.any() and not option.initiation.all()


def test_features_must_match_the_states():
    with pytest.raises(ValueError, match="one row per state"):
        DiaynLearner(DYNAMICS, SMALL, 0, features=np.zeros((3, 2)))


def test_trial_is_deterministic_and_reaches_the_criterion_with_hallway_subgoals():
    kwargs = dict(goal="G1", seed=11, episodes=300, eval_every=25, alpha=0.25, epsilon=0.1,
                  diayn_episodes=20)  # fmt: skip
    a = run_trial("betweenness", **kwargs)
    b = run_trial("betweenness", **kwargs)
    a.pop("discovery_s"), b.pop("discovery_s")
    assert a == b
    assert a["n_options"] == 8 and a["episodes_to_rough"] is not None
