"""The phase-adaptive Q-network: shapes, head mixing, numpy copy, any number of actions."""

from __future__ import annotations

import numpy as np
import torch

from hrrl.agents.hrrl.network import INVALID, NumpyScorer, PhaseQNetwork
from hrrl.core.seeding import init_module


def rows(batch: int, actions: int, dim: int, seed: int = 0) -> torch.Tensor:
    x = torch.randn(batch, actions, dim, generator=torch.Generator().manual_seed(seed))
    x[..., 0] = 1.0
    return x


def test_scores_have_one_value_per_action_for_any_action_count() -> None:
    net = init_module(PhaseQNetwork(features=12, hidden=256, heads=3), 0)
    for k in (2, 3, 4, 7):
        assert net(rows(5, k, 12)).shape == (5, k)
    assert [m.out_features for m in net.extractor if isinstance(m, torch.nn.Linear)] == [256, 256]


def test_phase_weights_are_a_softmax_that_sums_to_one() -> None:
    net = init_module(PhaseQNetwork(features=12, hidden=32, heads=3), 1)
    x = rows(8, 3, 12)
    weights = net.phase_weights(net.extractor(x), x[..., 0])
    assert weights.shape == (8, 3)
    assert torch.all(weights > 0)
    torch.testing.assert_close(weights.sum(-1), torch.ones(8))


def test_single_head_network_has_no_classifier() -> None:
    net = init_module(PhaseQNetwork(features=12, hidden=32, heads=1), 2)
    assert net.classifier is None
    assert net(rows(4, 3, 12)).shape == (4, 3)


def test_invalid_actions_score_lowest_and_numpy_matches_torch() -> None:
    net = init_module(PhaseQNetwork(features=12, hidden=32, heads=3), 3)
    x = rows(6, 4, 12)
    x[:, 3, :] = 0.0  # padding
    with torch.no_grad():
        expected = net(x).numpy()
    got = NumpyScorer(net.state_dict())(x.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert np.all(got[:, 3] == INVALID)
    assert np.all(got.argmax(1) == expected.argmax(1))
