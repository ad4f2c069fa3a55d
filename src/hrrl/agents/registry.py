"""Load a trained number-line agent from its run directory, whatever method made it.

A run directory holds ``state.json`` whose ``"agent"`` names the method. The policy is built by
``hrrl.agents.<agent>.load_policy(run_dir, mask=...)``, or by the ``"loader"``
(``"hrrl.module:function"``) that ``state.json`` names. Only modules inside ``hrrl`` are imported,
and checkpoints are safetensors + JSON, so loading never executes code from the run directory.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

from hrrl.errors import InputError
from hrrl.policies import NumberLinePolicy

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def run_dir_of(path: str | Path) -> Path:
    """The run directory for ``path`` (the directory itself, or the checkpoint file in it)."""
    path = Path(path)
    if path.is_file():
        path = path.parent
    if not path.is_dir():
        raise InputError(f"agent not found: {path}")
    if not (path / "state.json").is_file():
        raise InputError(
            f"{path} holds no trained agent (no state.json); train one with hrrl train"
        )
    return path


def load_policy(path: str | Path, *, mask: bool = False) -> NumberLinePolicy:
    run_dir = run_dir_of(path)
    try:
        state = json.loads((run_dir / "state.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {run_dir / 'state.json'}: {exc}") from None
    loader = state.get("loader") if isinstance(state, dict) else None
    agent = state.get("agent") if isinstance(state, dict) else None
    if isinstance(loader, str) and loader.startswith("hrrl.") and ":" in loader:
        module_name, _, function_name = loader.partition(":")
    elif isinstance(agent, str) and _NAME.match(agent):
        module_name, function_name = f"hrrl.agents.{agent}", "load_policy"
    else:
        raise InputError(f"{run_dir / 'state.json'} does not name a known agent")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise InputError(f"unknown agent {agent or loader!r} in {run_dir}") from None
    function = getattr(module, function_name, None)
    if function is None:
        raise InputError(f"{module_name} has no {function_name}")
    return function(run_dir, mask=mask)
