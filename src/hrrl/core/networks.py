"""Network building blocks shared by the agents."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


def mlp(
    sizes: Sequence[int],
    activation: type[nn.Module] = nn.ReLU,
    output_activation: type[nn.Module] | None = None,
) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` between them.

    ``mlp([4, 64, 64, 2])`` is Linear(4,64)-ReLU-Linear(64,64)-ReLU-Linear(64,2).
    """
    if len(sizes) < 2:
        raise ValueError("mlp needs at least an input and an output size")
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
        elif output_activation is not None:
            layers.append(output_activation())
    return nn.Sequential(*layers)


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging: ``target ← (1 − tau)·target + tau·source`` (``tau = 1``: hard copy)."""
    with torch.no_grad():
        targets: list[torch.Tensor] = list(target.parameters())
        sources: list[torch.Tensor] = list(source.parameters())
        if len(targets) != len(sources):
            raise ValueError("target and source have different parameter lists")
        torch._foreach_lerp_(targets, sources, tau)
        for tb, sb in zip(target.buffers(), source.buffers(), strict=True):
            tb.copy_(sb)
