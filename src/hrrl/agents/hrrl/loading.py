"""Loading a trained HRRL run: its Q-network and config, from the checkpoint alone.

Apart from the trainer (which writes runs) and the policy (which acts from them), so that neither
imports the other's module to load one.
"""

from __future__ import annotations

from pathlib import Path

from hrrl.agents.hrrl import features as F
from hrrl.agents.hrrl.config import HRRLConfig, config_from_dict
from hrrl.agents.hrrl.network import PhaseQNetwork
from hrrl.core.checkpoint import load_checkpoint
from hrrl.errors import InputError

__all__ = ["load_network"]


def load_network(path: Path) -> tuple[PhaseQNetwork, HRRLConfig]:
    """The trained Q-network and config of a run dir (or a file inside it)."""
    folder = path.parent if path.is_file() else path
    try:
        groups, state = load_checkpoint(folder)
    except FileNotFoundError:
        raise InputError(f"no HRRL checkpoint in {path}") from None
    except InputError:
        raise
    except Exception as exc:  # safetensors, JSON and OS errors alike: a bad checkpoint
        raise InputError(f"unreadable HRRL checkpoint in {path}: {exc}".splitlines()[0]) from None
    if state.get("agent") != "hrrl":
        raise InputError(f"{path} holds a {state.get('agent')!r} checkpoint, not an HRRL one")
    config = config_from_dict(state["config"])
    heads = 3 if config.phase_heads else 1
    network = PhaseQNetwork(
        features=F.feature_dim(config.feature_set), hidden=config.hidden, heads=heads
    )
    try:
        network.load_state_dict(groups["q"])
    except (KeyError, RuntimeError) as exc:
        raise InputError(f"HRRL checkpoint in {path} does not match its config") from exc
    return network, config
