"""What the RL² experiments (``rl2-bandits``, ``rl2-mdps``) share: training timed across resumed
checkpoints, and the report's line on that time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hrrl.agents.rl2 import RL2Learner
from hrrl.core.checkpoint import timed


def train_timed(learner: RL2Learner, checkpoint: str | None) -> float | None:
    """Train (resuming from ``checkpoint``); the seconds of training so far, summed over resumed
    parts (:func:`hrrl.core.checkpoint.timed`; the learner's own count for a checkpoint written
    before that field existed; None: not recorded)."""
    folder = None if checkpoint is None else Path(checkpoint)
    _, seconds = timed(folder, lambda: learner.train(checkpoint=folder))
    if seconds is None and learner.time_recorded:
        return learner.train_seconds
    return seconds


def rl2_training_time(runs: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """RL²'s mean training time per policy, and a note on policies resumed from checkpoints.

    A policy resumed from a checkpoint that predates time recording has no ``rl2_train_s``: it is
    left out of the mean (never counted as 0 s), and the note says how many were.
    """
    policies = [r for r in runs if "rl2_resumed_at" in r]
    known = [r["rl2_train_s"] for r in policies if "rl2_train_s" in r]
    if not known:
        time_text = "not recorded"
    else:
        time_text = f"{np.mean(known):.0f} s per policy on average"
        if len(known) < len(policies):
            time_text += f" (the {len(known)} of {len(policies)} policies whose time was recorded)"
    resumed = [r["rl2_resumed_at"] for r in policies if r["rl2_resumed_at"]]
    note = [
        f"- {len(resumed)} of {len(policies)} RL² policies were resumed from checkpoints of an "
        f"earlier run (at updates {sorted(set(resumed))}); training time is summed over the parts; "
        f"{len(policies) - len(known)} of them resumed from a checkpoint that did not record its "
        "time, so their time is unknown and left out."
    ]
    return time_text, note if resumed else []
