"""The phase-adaptive Q-network (§3.3), as a per-action scoring network.

Every (state, action) feature row goes through the shared extractor (Linear-ReLU-Linear-ReLU);
three heads (exploration, navigation, precision) score it, and a phase classifier (on the mean of
the extracted rows of a state) gives softmax weights that mix the heads. Because the same weights
score every action, the network takes any number of actions. Feature 0 of a row is its validity
flag: padded (invalid) actions score ``-inf``-like ``INVALID``.

:class:`NumpyScorer` is the acting-side copy of the weights in numpy (fast for small batches).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from hrrl.core.networks import mlp

INVALID = -1e9
"""Score of an invalid (padded or masked) action."""


class PhaseQNetwork(nn.Module):
    """Shared extractor, ``heads`` Q heads and (with more than one head) a phase classifier."""

    def __init__(self, *, features: int, hidden: int, heads: int) -> None:
        super().__init__()
        self.extractor = mlp([features, hidden, hidden], output_activation=nn.ReLU)
        self.heads = nn.Linear(hidden, heads)
        self.classifier = nn.Linear(hidden, heads) if heads > 1 else None

    def phase_weights(self, hidden: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, H) softmax weights of the heads, from the mean extracted row of each state."""
        if self.classifier is None:
            return torch.ones(hidden.shape[0], 1, dtype=hidden.dtype)
        mean = (hidden * valid.unsqueeze(-1)).sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
        return torch.softmax(self.classifier(mean), dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        valid = x[..., 0]
        hidden = self.extractor(x)
        weights = self.phase_weights(hidden, valid)
        q = (self.heads(hidden) * weights.unsqueeze(1)).sum(-1)
        return torch.where(valid > 0.5, q, torch.full_like(q, INVALID))


class NumpyScorer:
    """The same forward pass in numpy (float32), from a :class:`PhaseQNetwork` state dict."""

    def __init__(self, state: Mapping[str, torch.Tensor]) -> None:
        def arr(key: str) -> np.ndarray:
            return state[key].detach().cpu().numpy().astype(np.float32)

        self.w1, self.b1 = arr("extractor.0.weight").T.copy(), arr("extractor.0.bias")
        self.w2, self.b2 = arr("extractor.2.weight").T.copy(), arr("extractor.2.bias")
        self.wh, self.bh = arr("heads.weight").T.copy(), arr("heads.bias")
        self.wc = arr("classifier.weight").T.copy() if "classifier.weight" in state else None
        self.bc = arr("classifier.bias") if "classifier.bias" in state else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(B, K) scores of (B, K, D) features."""
        x = np.asarray(x, dtype=np.float32)
        valid = x[..., 0] > 0.5
        hidden = np.maximum(x @ self.w1 + self.b1, 0.0)
        hidden = np.maximum(hidden @ self.w2 + self.b2, 0.0)
        heads = hidden @ self.wh + self.bh
        if self.wc is None:
            q = heads[..., 0]
        else:
            count = np.maximum(valid.sum(1, keepdims=True), 1)
            mean = (hidden * valid[..., None]).sum(1) / count
            logits = mean @ self.wc + self.bc
            logits -= logits.max(axis=1, keepdims=True)
            weights = np.exp(logits)
            weights /= weights.sum(axis=1, keepdims=True)
            q = (heads * weights[:, None, :]).sum(-1)
        return np.where(valid, q, INVALID)
