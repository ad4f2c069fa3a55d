"""Checkpoints that load without executing code: safetensors for tensors, JSON for the rest.

A checkpoint is a folder holding ``model.safetensors`` (every tensor, keys prefixed by the name of
the module or array group they belong to) and ``state.json`` (config, counters, RNG states as
plain JSON). Both files are written atomically and ``state.json`` last, so a folder with a readable
``state.json`` is always complete.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from hrrl.core.atomic import atomic_write_bytes, atomic_write_json

TENSORS = "model.safetensors"
STATE = "state.json"


def save_checkpoint(
    folder: str | Path,
    tensors: Mapping[str, Mapping[str, torch.Tensor | np.ndarray]],
    state: Mapping[str, Any],
) -> Path:
    """Save groups of tensors (``{"q": module.state_dict(), "buffer": {...}}``) and JSON state."""
    folder = Path(folder)
    flat: dict[str, torch.Tensor] = {}
    for group, items in tensors.items():
        for key, value in items.items():
            tensor = torch.as_tensor(value).detach().cpu().contiguous()
            flat[f"{group}/{key}"] = tensor.clone() if tensor.data_ptr() == 0 else tensor
    atomic_write_bytes(folder / TENSORS, st_save(flat))
    atomic_write_json(folder / STATE, dict(state))
    return folder


def load_checkpoint(
    folder: str | Path,
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]:
    """Inverse of :func:`save_checkpoint`; raises ``FileNotFoundError`` when incomplete."""
    folder = Path(folder)
    state_path, tensor_path = folder / STATE, folder / TENSORS
    if not state_path.is_file() or not tensor_path.is_file():
        raise FileNotFoundError(f"no checkpoint in {folder}")
    state = json.loads(state_path.read_text())
    flat = st_load(tensor_path.read_bytes())
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for name, tensor in flat.items():
        group, _, key = name.partition("/")
        groups.setdefault(group, {})[key] = tensor
    return groups, state


def rng_state(rng: np.random.Generator) -> dict[str, Any]:
    """A numpy Generator's state as JSON-safe data."""
    return dict(rng.bit_generator.state)


def restore_rng(state: Mapping[str, Any]) -> np.random.Generator:
    name = state["bit_generator"]
    bit_gen = getattr(np.random, name)()
    bit_gen.state = dict(state)
    return np.random.Generator(bit_gen)
