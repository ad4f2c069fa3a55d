"""Explicit random state: generators are passed around, nothing is seeded globally."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

ModuleT = TypeVar("ModuleT", bound=torch.nn.Module)


def make_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed`` (numpy SeedSequence), stable across runs."""
    children = np.random.SeedSequence(seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def torch_generator(seed: int) -> torch.Generator:
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    return gen


def init_module(module: ModuleT, seed: int) -> ModuleT:
    """Re-initialise every parameter of ``module`` deterministically from ``seed``.

    Uses the layers' own ``reset_parameters`` under a forked RNG, so the global torch RNG is left
    exactly as it was.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for layer in module.modules():
            reset = getattr(layer, "reset_parameters", None)
            if callable(reset):
                reset()
    return module
