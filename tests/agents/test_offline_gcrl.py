"""Offline goal-conditioned navigation: the navigate dataset (determinism, validity, cache), the
shared offline-GCRL core (expectile loss, goal sampling), CFHRL's refinement, CARL's InfoNCE."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from hrrl.agents.cfhrl import MODES, CFHRLAgent, CFHRLConfig
from hrrl.agents.hiql import HIQLAgent, OfflineGCConfig
from hrrl.core.offline_gcrl import (
    GoalSampler,
    GoalSampling,
    expectile_loss,
    steps_to_go,
    train_offline,
)
from hrrl.envs.point_maze import extend_past_edges, inside_wall, move_with_collision
from hrrl.tasks.offline_maze import (
    MazeLayout,
    NavigateParams,
    batch_move,
    cell_graph,
    dataset_key,
    evaluation_tasks,
    generate_navigate,
    maze_env,
    navigate_dataset,
    rollout_success,
)

SMALL = NavigateParams(episodes=6, episode_length=120)
SMALL_CFG = OfflineGCConfig(hidden=(32, 32), batch_size=32, subgoal_steps=5)


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def small() -> tuple[np.ndarray, np.ndarray]:
    data = generate_navigate(SMALL)
    return data.observations, data.actions


# ---- dataset -----------------------------------------------------------------------------
def test_same_seed_identical_arrays_other_seed_differs() -> None:
    a, b = generate_navigate(SMALL), generate_navigate(SMALL)
    c = generate_navigate(replace(SMALL, seed=1))
    assert np.array_equal(a.observations, b.observations) and np.array_equal(a.actions, b.actions)
    assert not np.array_equal(a.observations, c.observations)


def test_dataset_is_valid(small: tuple[np.ndarray, np.ndarray]) -> None:
    obs, act = small
    layout = MazeLayout()
    walls = tuple(extend_past_edges(w, layout.size) for w in layout.walls())
    assert obs.shape == (6, 121, 2) and act.shape == (6, 120, 2)
    assert np.abs(act).max() <= 1.0 and np.isfinite(obs).all()
    assert obs.min() >= 0.0 and obs.max() <= layout.size
    assert not any(inside_wall(p, walls) for p in obs.reshape(-1, 2))
    # every transition is the library's collision step (so never through a wall), never longer
    # than one full action, and the expert's walks actually move
    for e in range(2):
        for t in range(0, 120, 7):
            step = move_with_collision(obs[e, t], 0.25 * act[e, t].astype(np.float64), walls, 11.0)
            assert np.allclose(step, obs[e, t + 1], atol=1e-5)
    steps = np.linalg.norm(np.diff(obs, axis=1), axis=-1)
    assert steps.max() <= 0.25 * np.sqrt(2) + 1e-5 and steps.mean() > 0.1


def test_no_segment_crosses_a_wall_cell(small: tuple[np.ndarray, np.ndarray]) -> None:
    """Steps are shorter than a cell: consecutive positions lie in the same or adjacent open
    cells, and a diagonal step between two cells never skips through a wall corner."""
    obs, _ = small
    free = MazeLayout().free()
    cells = np.floor(obs.reshape(-1, 2)).astype(int).clip(0, 10)
    assert free[cells[:, 1], cells[:, 0]].all()
    here, there = np.floor(obs[:, :-1]).astype(int), np.floor(obs[:, 1:]).astype(int)
    assert np.abs(there - here).max() <= 1


def test_batch_move_matches_the_env_step() -> None:
    layout = MazeLayout()
    walls = tuple(extend_past_edges(w, layout.size) for w in layout.walls())
    rng = np.random.default_rng(0)
    pos = layout.centre(layout.cells()[rng.integers(len(layout.cells()), size=200)])
    pos += rng.uniform(-0.45, 0.45, size=pos.shape)
    delta = rng.uniform(-0.25, 0.25, size=pos.shape)
    moved = batch_move(pos, delta, walls, float(layout.size))
    expected = np.array(
        [
            move_with_collision(p, d, walls, float(layout.size))
            for p, d in zip(pos, delta, strict=True)
        ]
    )
    assert np.array_equal(moved, expected)


def test_cache_roundtrip_and_key(tmp_path: Path) -> None:
    first = navigate_dataset(SMALL, tmp_path)
    second = navigate_dataset(SMALL, tmp_path)
    assert not first.from_cache and second.from_cache
    assert np.array_equal(first.observations, second.observations)
    assert [p.name for p in tmp_path.iterdir()] == [f"{dataset_key(SMALL)}.npz"]
    assert dataset_key(SMALL) != dataset_key(replace(SMALL, noise=0.3))


def test_maze_is_connected_env_checks_and_tasks_are_long() -> None:
    _, dist, next_hop = cell_graph(MazeLayout())
    assert (dist >= 0).all()
    # next hops walk the shortest path
    for goal, start in ((0, len(dist) - 1), (10, 40)):
        node, hops = start, 0
        while node != goal:
            node, hops = int(next_hop[goal, node]), hops + 1
        assert hops == dist[goal, start]
    check_env(maze_env(), skip_render_check=True)
    tasks = evaluation_tasks()
    assert len(tasks) == 5 and min(t.shortest_cells for t in tasks) >= 20


def test_rollout_success_with_the_oracle() -> None:
    """The expert's waypoint rule, noise-free, solves every task; standing still solves none."""
    layout = MazeLayout()
    node, _, next_hop = cell_graph(layout)
    cells = layout.cells()

    def oracle(pos: np.ndarray, goals: np.ndarray) -> np.ndarray:
        here = node[pos[:, 1].astype(int), pos[:, 0].astype(int)]
        goal = node[goals[:, 1].astype(int), goals[:, 0].astype(int)]
        way = np.where((here == goal)[:, None], goals, layout.centre(cells[next_hop[goal, here]]))
        d = way - pos
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)

    tasks = evaluation_tasks()
    assert rollout_success(oracle, tasks, 2, 400, 0)[0].all()
    assert not rollout_success(lambda p, g: np.zeros_like(p), tasks, 2, 50, 0)[0].any()


# ---- shared core -------------------------------------------------------------------------
def test_expectile_loss_properties() -> None:
    diff = torch.tensor([-2.0, -1.0, 0.5, 3.0])
    assert torch.isclose(expectile_loss(diff, 0.5), 0.5 * (diff**2).mean())
    high, low = expectile_loss(diff, 0.9), expectile_loss(diff, 0.1)
    assert torch.isclose(high, (torch.tensor([0.1, 0.1, 0.9, 0.9]) * diff**2).mean())
    assert expectile_loss(torch.tensor([1.0]), 0.9) > expectile_loss(torch.tensor([-1.0]), 0.9)
    assert low > 0 and high > 0 and expectile_loss(torch.zeros(3), 0.7) == 0
    # the minimiser of the expectile loss over a constant is the τ-expectile (above the mean)
    samples = torch.tensor([0.0, 1.0, 2.0, 10.0])
    grid = torch.linspace(0, 10, 2001)
    best = grid[torch.stack([expectile_loss(samples - c, 0.9) for c in grid]).argmin()]
    assert best > samples.mean()
    sign = torch.tensor([1.0, -1.0])
    assert torch.isclose(expectile_loss(torch.ones(2), 0.8, sign), torch.tensor(0.5))


def test_steps_to_go_inverts_the_discounted_count() -> None:
    d = torch.tensor([0.0, 1.0, 10.0, 100.0])
    value = -(1 - 0.99**d) / (1 - 0.99)
    assert torch.allclose(steps_to_go(value, 0.99), d, atol=1e-3)


def test_goal_sampler_relabels_consistently(small: tuple[np.ndarray, np.ndarray]) -> None:
    obs, act = small
    sampler = GoalSampler(obs, act, GoalSampling(subgoal_steps=5, chunk=5))
    batch = sampler.sample(512, np.random.default_rng(0))
    hit = batch["rewards"] == 0
    assert hit.any() and (~hit).any()
    assert torch.equal(batch["value_goals"][hit], batch["obs"][hit])
    assert torch.equal(batch["masks"], -batch["rewards"])
    assert batch["chunk_actions"].shape == (512, 10)
    again = sampler.sample(512, np.random.default_rng(0))
    assert all(torch.equal(batch[k], again[k]) for k in batch)


# ---- learners ----------------------------------------------------------------------------
def test_cfhrl_trains_the_same_hiql_as_plain_hiql(small: tuple[np.ndarray, np.ndarray]) -> None:
    obs, act = small
    hiql, cf = HIQLAgent(2, 2, SMALL_CFG, 4), CFHRLAgent(2, 2, CFHRLConfig(base=SMALL_CFG), 4)
    for agent in (hiql, cf):
        sampler = GoalSampler(obs, act, SMALL_CFG.sampling())
        train_offline(agent, sampler, 5, 32, np.random.default_rng(1))
    mine = cf.state_arrays()
    assert all(torch.equal(t, mine[k]) for k, t in hiql.state_arrays().items())


def _cfhrl(obs: np.ndarray, **kw: object) -> CFHRLAgent:
    agent = CFHRLAgent(2, 2, CFHRLConfig(base=SMALL_CFG, candidates=64, knn=4, **kw), 0)  # type: ignore[arg-type]
    agent.set_candidates(obs, np.random.default_rng(0))
    return agent


def test_cfhrl_refinement_terminates_on_dataset_states(
    small: tuple[np.ndarray, np.ndarray],
) -> None:
    obs, _ = small
    agent = _cfhrl(obs)
    s = torch.tensor([[0.5, 0.5], [2.5, 0.5], [10.5, 10.5]])
    g = torch.tensor([[10.5, 10.5], [0.5, 0.5], [10.4, 10.4]])
    target, depth = agent.refine(s, g, "adaptive")
    assert (depth <= agent.cf.max_depth).all()
    bank = {tuple(x) for x in agent.candidates.tolist()}
    flat = set(map(tuple, obs.reshape(-1, 2).tolist()))
    for i in range(3):
        if depth[i] > 0:
            assert tuple(target[i].tolist()) in bank and tuple(target[i].tolist()) in flat
        else:
            assert torch.equal(target[i], g[i])
    # the stopping rule: a threshold above every cost stops at once, one below none never does
    assert (_cfhrl(obs, executable_steps=1e9).refine(s, g, "adaptive")[1] == 0).all()
    assert (_cfhrl(obs, executable_steps=-1.0).refine(s, g, "adaptive")[1] == 8).all()
    assert (agent.refine(s, g, "fixed")[1] == agent.cf.fixed_depth).all()
    assert (agent.refine(s, g, "flat")[1] == 0).all()
    for mode in MODES:
        out = agent.policy(mode)(s.numpy(), g.numpy())
        assert out.shape == (3, 2) and np.abs(out).max() <= 1.0
    with pytest.raises(ValueError):
        agent.refine(s, g, "deep")


@pytest.mark.slow
def test_hiql_learns_a_short_task() -> None:
    """A few hundred steps on a small dataset are enough to beat standing still."""
    data = generate_navigate(NavigateParams(episodes=40, episode_length=200))
    cfg = OfflineGCConfig(hidden=(32, 32), subgoal_steps=10)
    agent = HIQLAgent(2, 2, cfg, 0)
    train_offline(agent, GoalSampler(data.observations, data.actions, cfg.sampling()), 300, 64,
                  np.random.default_rng(0))  # fmt: skip
    s, g = torch.tensor([[0.5, 0.5], [0.5, 0.5]]), torch.tensor([[0.5, 0.5], [0.5, 4.5]])
    near, far = agent.cost(s, g)
    assert near < far  # the value orders a reached goal before a distant one


def test_experiment_writes_report_on_a_tiny_protocol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hrrl.experiments import offline_pointmaze as exp
    from hrrl.experiments.base import run_experiment

    tiny = exp.Protocol(NavigateParams(episodes=8, episode_length=60), 2, 1, 10)
    monkeypatch.setattr(exp, "QUICK", tiny)
    out = run_experiment(exp.EXPERIMENT, tmp_path, quick=True, seeds=2, workers=1)
    assert set(out["success"]) == set(exp.ROWS)
    assert all(0.0 <= v["mean"] <= 1.0 and v["n"] == 2 for v in out["success"].values())
    assert out["dataset"]["transitions"] == 8 * 60
    text = (tmp_path / "REPORT.md").read_text()
    assert "003:5" in text and "003:9" in text and "not reproduced" in text
    assert (tmp_path / "carl_clusters.png").stat().st_size > 0
