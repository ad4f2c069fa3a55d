"""FeUdal Networks: the dilated LSTM, the intrinsic reward, the transition policy gradient, the
horizon targets, and the recurrent rollout helper they run on (bootstrap at truncation)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from hrrl.agents.a2c import ActorCriticNet
from hrrl.agents.fun import (
    DilatedLSTM,
    FuNAgent,
    FuNConfig,
    FuNNet,
    horizon_targets,
    intrinsic_reward,
    transition_policy_loss,
)
from hrrl.core.recurrent import RolloutRunner, next_of, reset_rows
from hrrl.core.seeding import init_module, torch_generator
from hrrl.envs.minigrid_compact import OBS_SIZE, CompactMiniGrid, encode_view, make_minigrid


@pytest.fixture(autouse=True)
def _one_thread() -> object:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_dilated_lstm_updates_core_t_mod_r_only() -> None:
    radius, n, hidden = 3, 2, 5
    cell = init_module(DilatedLSTM(4, hidden, radius), 0)
    h, c = torch.zeros(n, radius, hidden), torch.zeros(n, radius, hidden)
    x = torch.randn(3 * radius, n, 4, generator=torch_generator(1))
    last_change = {k: -1 for k in range(radius)}
    with torch.no_grad():
        for t in range(3 * radius):
            out, h2, c2 = cell(x[t], h, c, torch.full((n,), t % radius))
            changed = [k for k in range(radius) if not torch.equal(h2[:, k], h[:, k])]
            assert changed == [t % radius]
            assert torch.equal(
                c2[:, [k for k in range(radius) if k != t % radius]],
                c[:, [k for k in range(radius) if k != t % radius]],
            )
            if last_change[t % radius] >= 0:
                assert t - last_change[t % radius] == radius  # each core ticks every r steps
            last_change[t % radius] = t
            torch.testing.assert_close(out, h2.mean(dim=1))
            h, c = h2, c2


def test_dilated_lstm_rows_use_their_own_core() -> None:
    cell = init_module(DilatedLSTM(2, 3, 4), 0)
    h, c = torch.zeros(2, 4, 3), torch.zeros(2, 4, 3)
    _, h2, _ = cell(torch.ones(2, 2), h, c, torch.tensor([1, 3]))
    assert h2[0, 1].abs().sum() > 0 and h2[1, 3].abs().sum() > 0
    assert h2[0, [0, 2, 3]].abs().sum() == 0 and h2[1, [0, 1, 2]].abs().sum() == 0


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_intrinsic_reward_hand_made() -> None:
    s_now = torch.tensor([[1.0, 1.0]])
    s_hist = torch.tensor([[[0.0, 1.0], [1.0, 0.0], [5.0, 5.0]]])  # s_{t-1}, s_{t-2}, s_{t-3}
    g_hist = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]])
    valid = torch.tensor([[True, True, False]])  # only two steps into the episode
    # cos((1,0),(1,0)) = 1 ; cos((0,1),(0,1)) = 1  -> mean 1
    assert float(intrinsic_reward(s_now, s_hist, g_hist, valid)[0]) == pytest.approx(1.0)
    g_hist2 = torch.tensor([[[0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]])
    expected = _cos(np.array([1, 0]), np.array([0, 1])) + _cos(np.array([0, 1]), np.array([1, 1]))
    got = float(intrinsic_reward(s_now, s_hist, g_hist2, valid)[0])
    assert got == pytest.approx(expected / 2)
    none = intrinsic_reward(s_now, s_hist, g_hist, torch.zeros(1, 3, dtype=torch.bool))
    assert float(none[0]) == 0.0


def test_fun_step_intrinsic_matches_the_formula_over_an_episode() -> None:
    config = FuNConfig(horizon=3, radius=3)
    net = init_module(FuNNet(6, 4, config), 0)
    gen = torch_generator(0)
    xs = torch.rand(8, 1, 6, generator=gen)
    state = net.initial_state(1)
    s_seq, g_seq, r_seq = [], [], []
    with torch.no_grad():
        for t in range(8):
            actions, rec, state = net.step(xs[t], state, gen)
            assert actions.shape == (1,) and rec["goal"].shape == (1, config.latent)
            assert float(rec["goal"].norm()) == pytest.approx(1.0, abs=1e-5)
            s_seq.append(rec["s"][0].numpy())
            g_seq.append(rec["goal"][0].numpy())
            r_seq.append(float(rec["intrinsic"][0]))
    for t in range(8):
        m = min(t, config.horizon)
        cosines = [_cos(s_seq[t] - s_seq[t - i], g_seq[t - i]) for i in range(1, m + 1)]
        expected = float(np.mean(cosines)) if m else 0.0
        assert r_seq[t] == pytest.approx(expected, abs=1e-5)


def test_fun_shapes_and_goal_pooling() -> None:
    config = FuNConfig()
    net = init_module(FuNNet(OBS_SIZE, 6, config), 0)
    state = net.initial_state(5)
    logits, out, new = net.forward_step(torch.rand(5, OBS_SIZE), state)
    assert logits.shape == (5, 6)
    assert out["value_m"].shape == out["value_w"].shape == out["intrinsic"].shape == (5,)
    assert new["mh"].shape == (5, config.radius, config.latent)
    assert new["g_hist"].shape == (5, config.horizon, config.latent)
    assert torch.equal(new["g_hist"][:, 0], out["goal"].detach())
    assert torch.equal(new["age"], torch.ones(5, dtype=torch.long))
    # the worker does not send gradient into the manager through the goals
    net.zero_grad()
    logits.sum().backward()
    assert net.goal_head.weight.grad is None or float(net.goal_head.weight.grad.abs().sum()) == 0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_transition_policy_gradient_sign(sign: float) -> None:
    raw = torch.nn.Parameter(torch.tensor([[1.0, 0.2, -0.5]]))
    s = torch.zeros(1, 1, 3)
    target = torch.tensor([[[0.0, 1.0, 0.0]]])
    before = _cos(target[0, 0].numpy(), raw.detach()[0].numpy())
    opt = torch.optim.SGD([raw], lr=0.1)
    loss = transition_policy_loss(
        torch.tensor([[sign]]),
        s,
        target,
        F.normalize(raw, dim=-1)[None],
        torch.ones(1, 1, dtype=torch.bool),
    )
    loss.backward()
    opt.step()
    after = _cos(target[0, 0].numpy(), raw.detach()[0].numpy())
    assert (after - before) * sign > 0  # positive advantage: the goal turns toward the transition


def test_horizon_targets_stop_at_episode_end_and_segment_end() -> None:
    steps, c = 6, 3
    s_next = torch.arange(steps, dtype=torch.float32)[:, None, None].expand(steps, 1, 2) + 1
    ends = torch.zeros(steps, 1, dtype=torch.bool)
    ends[1] = True  # the episode ends after step 1
    target, valid = horizon_targets(s_next, ends, c)
    got = target[:, 0, 0].tolist()
    # step 0 and 1: the episode's last state (s_next[1] = 2); step 2: s_next[4] = 5;
    # step 3: s_next[5] = 6; steps 4, 5: beyond the segment -> invalid
    assert got[:4] == [2.0, 2.0, 5.0, 6.0]
    assert valid[:, 0].tolist() == [True, True, True, True, False, False]


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped")
def test_compact_minigrid_passes_check_env_and_encodes() -> None:
    env = make_minigrid("MiniGrid-DoorKey-5x5-v0")
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (OBS_SIZE,) and env.action_space.n == 6
    assert set(np.unique(obs)) <= {0.0, 1.0}
    assert obs[:-4].sum() == 7 * 7 * 3 and obs[-4:].sum() == 1  # three one-hots per cell
    again, _ = env.reset(seed=0)
    assert np.array_equal(obs, again)
    image = np.zeros((7, 7, 3), dtype=np.uint8)
    image[..., 0] = 2  # walls everywhere
    assert encode_view(image, 3)[2] == 1.0 and encode_view(image, 3)[-1] == 1.0
    with pytest.raises(ValueError):
        CompactMiniGrid(gym.make("MiniGrid-DoorKey-5x5-v0"), n_actions=9)
    with pytest.raises(ValueError):
        make_minigrid("CartPole-v1")


def test_rollout_bootstraps_from_the_final_observation_at_truncation() -> None:
    envs = SyncVectorEnv(
        [lambda: CompactMiniGrid(gym.make("MiniGrid-DoorKey-5x5-v0", max_steps=3))] * 2,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    net = init_module(ActorCriticNet(OBS_SIZE, 6, 16, "lstm"), 0)
    runner = RolloutRunner(envs, net, seed=0)
    gen = torch_generator(0)
    with torch.no_grad():
        seg = runner.collect(net, 5, gen, grad=False)
    ended = seg.episode_end
    assert ended[2].all() and not ended[:2].any()
    nv = next_of(seg, "value")
    assert torch.equal(nv[2], seg.final["value"][2])
    assert torch.equal(nv[1], seg.records["value"][2])
    assert torch.equal(nv[4], seg.bootstrap["value"])
    assert not torch.equal(seg.final["value"][2], seg.records["value"][3])
    # the LSTM state was zeroed at the new episode: step 3 acts from a fresh state
    zeroed = reset_rows(
        net.initial_state(2) | {"h": torch.ones(2, 16)}, torch.tensor([True, False])
    )
    assert zeroed["h"][0].abs().sum() == 0 and zeroed["h"][1].sum() == 16


def test_fun_agent_update_runs_and_rejects_short_rollouts() -> None:
    with pytest.raises(ValueError):
        FuNAgent(OBS_SIZE, 6, FuNConfig(rollout_steps=2, horizon=4), 0)
    envs = SyncVectorEnv(
        [lambda: make_minigrid("MiniGrid-DoorKey-5x5-v0")] * 2,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    agent = FuNAgent(OBS_SIZE, 6, FuNConfig(rollout_steps=8), 0)
    runner = RolloutRunner(envs, agent.actor, seed=0)
    before = [p.detach().clone() for p in agent.actor.parameters()]
    stats = agent.update(runner.collect(agent.actor, 8, agent.generator, grad=True), 0.0)
    assert np.isfinite(stats["loss"])
    moved = [not torch.equal(a, b) for a, b in zip(before, agent.actor.parameters(), strict=True)]
    assert all(moved)  # every part (manager included) gets gradient


class _PickZero(gym.Env):
    """Constant observation; action 0 ends the episode with reward 1, others give 0 (5 steps)."""

    observation_space = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    action_space = gym.spaces.Discrete(3)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple:
        super().reset(seed=seed)
        self.t = 0
        return np.ones(4, dtype=np.float32), {}

    def step(self, action: int) -> tuple:
        self.t += 1
        return np.ones(4, dtype=np.float32), float(action == 0), action == 0, self.t >= 5, {}


@pytest.mark.parametrize(
    "name", [pytest.param("fun", marks=pytest.mark.slow), "a2c", "a2c-lstm", "ppo"]
)
def test_every_on_policy_learner_learns_the_rewarded_action(name: str) -> None:
    from hrrl.agents.a2c import A2CAgent, A2CConfig, PPOAgent, PPOAgentConfig
    from hrrl.core.ppo import PPOConfig
    from hrrl.core.recurrent import evaluate_episodes, train_on_policy

    agents = {
        "fun": lambda: FuNAgent(4, 3, FuNConfig(rollout_steps=8, lr=1e-2), 0),
        "a2c": lambda: A2CAgent(4, 3, A2CConfig(rollout_steps=8, lr=1e-2), 0),
        "a2c-lstm": lambda: A2CAgent(4, 3, A2CConfig(core="lstm", rollout_steps=8, lr=1e-2), 0),
        "ppo": lambda: PPOAgent(4, 3, PPOAgentConfig(rollout_steps=16, ppo=PPOConfig(lr=1e-2)), 0),
    }
    agent = agents[name]()

    def envs(n: int) -> SyncVectorEnv:
        return SyncVectorEnv([_PickZero] * n, autoreset_mode=AutoresetMode.SAME_STEP)

    before = evaluate_episodes(agent.actor, envs(64), 1, torch_generator(1))
    log = train_on_policy(agent, envs(8), frames=4000 if name == "a2c-lstm" else 2000, seed=0)
    after = evaluate_episodes(agent.actor, envs(64), 1, torch_generator(1))
    # untrained: uniform over 3 actions, E[length] = 3 (1 − (2/3)^5) ≈ 2.6; optimal: 1
    assert log.returns and np.mean(before.lengths) > 2.2
    assert np.mean(after.lengths) < 1.7 and np.mean(after.successes) == 1.0
