"""The learner contract: every learner acts, updates, and saves and loads without pickle.

A learner names the attributes that hold what it has learned in ``STATE`` (numpy arrays, torch
modules, or containers of them: dicts, lists, tuples, nested learners) and gets
:meth:`StateArrays.state_arrays` / :meth:`StateArrays.load_state_arrays` from :class:`StateArrays`.
:func:`save_learner` writes them as one safetensors file plus JSON (the learner's class, its
config, the state of its own random generator) through :func:`hrrl.core.checkpoint.save_checkpoint`;
:func:`load_learner` fills a freshly built learner of the same kind and config, in place. Nothing
is unpickled, so a checkpoint from anywhere is safe to load.

``tests/agents/test_learner_contract.py`` holds every learner to it (as stable-baselines3 tests its
algorithms): the same seed gives the same learned state and actions; save → load gives the same
actions; the files are safetensors and JSON only.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import numpy as np
import torch

from hrrl.core.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint

GROUP = "learner"


@runtime_checkable
class Learner(Protocol):
    """What the contract asks of a learner (acting and updating are per-method signatures)."""

    config: Any

    def state_arrays(self) -> dict[str, torch.Tensor]: ...

    def load_state_arrays(self, arrays: Mapping[str, torch.Tensor]) -> None: ...


class StateArrays:
    """Mixin: a learner's learned state from the attributes named in ``STATE``."""

    STATE: ClassVar[tuple[str, ...]] = ()

    def state_arrays(self) -> dict[str, torch.Tensor]:
        """Every learned array and tensor, by dotted name (copies, safe to keep)."""
        out: dict[str, torch.Tensor] = {}
        for name in self.STATE:
            _flatten(name, getattr(self, name), out)
        return out

    def load_state_arrays(self, arrays: Mapping[str, torch.Tensor]) -> None:
        """Fill the learned state in place from :meth:`state_arrays`' output (shapes must match)."""
        expected = set(self.state_arrays())
        if set(arrays) != expected:
            missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
            raise ValueError(f"learner state does not match: missing {missing}, unexpected {extra}")
        for name in self.STATE:
            _restore(name, getattr(self, name), arrays)


def _flatten(prefix: str, value: Any, out: dict[str, torch.Tensor]) -> None:
    if isinstance(value, np.ndarray):
        out[prefix] = torch.from_numpy(value.copy())
    elif isinstance(value, torch.Tensor):
        out[prefix] = value.detach().cpu().clone()
    elif isinstance(value, torch.nn.Module):
        for key, tensor in value.state_dict().items():
            out[f"{prefix}.{key}"] = tensor.detach().cpu().clone()
    elif isinstance(value, StateArrays):
        for key, tensor in value.state_arrays().items():
            out[f"{prefix}.{key}"] = tensor
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, out)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _flatten(f"{prefix}.{i}", item, out)
    else:
        raise TypeError(f"{prefix}: cannot save a {type(value).__name__} as learner state")


def _restore(prefix: str, value: Any, arrays: Mapping[str, torch.Tensor]) -> None:
    if isinstance(value, np.ndarray):
        np.copyto(value, arrays[prefix].numpy())
    elif isinstance(value, torch.Tensor):
        with torch.no_grad():
            value.copy_(arrays[prefix])
    elif isinstance(value, torch.nn.Module):
        start = len(prefix) + 1
        value.load_state_dict(
            {k[start:]: t for k, t in arrays.items() if k.startswith(prefix + ".")}
        )
    elif isinstance(value, StateArrays):
        start = len(prefix) + 1
        value.load_state_arrays(
            {k[start:]: t for k, t in arrays.items() if k.startswith(prefix + ".")}
        )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _restore(f"{prefix}.{key}", item, arrays)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _restore(f"{prefix}.{i}", item, arrays)


def _below(prefix: str, arrays: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {k[start:]: t for k, t in arrays.items() if k.startswith(prefix + ".")}


def _config_json(config: Any) -> Any:
    """The config as plain JSON data (as it reads back from ``state.json``)."""
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        return None
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def save_learner(folder: str | Path, learner: Learner) -> Path:
    """Save ``learner``'s learned state (safetensors) and its kind, config and RNG (JSON)."""
    state: dict[str, Any] = {
        "learner": type(learner).__name__,
        "config": _config_json(learner.config),
    }
    rng = getattr(learner, "rng", None)
    if isinstance(rng, np.random.Generator):
        state["rng"] = rng_state(rng)
    return save_checkpoint(folder, {GROUP: learner.state_arrays()}, state)


T = TypeVar("T", bound=Learner)


def load_learner(folder: str | Path, learner: T) -> T:
    """Fill ``learner`` (freshly built, same kind and config) from :func:`save_learner`'s folder."""
    groups, state = load_checkpoint(folder)
    if state.get("learner") != type(learner).__name__:
        raise ValueError(
            f"{folder} holds a {state.get('learner')!r}, not a {type(learner).__name__}"
        )
    if state.get("config") != _config_json(learner.config):
        raise ValueError(f"{folder} was saved with another config")
    learner.load_state_arrays(groups.get(GROUP, {}))
    if "rng" in state:
        setattr(learner, "rng", restore_rng(state["rng"]))  # noqa: B010 (not every learner has one)
    return learner
