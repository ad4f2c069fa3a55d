"""Options as data (Sutton, Precup & Singh 1999): an initiation set, a policy and a termination
condition over finite states, and the set a policy over options chooses from. Tasks build options
(:func:`hrrl.tasks.four_rooms.hallway_options`); learners (:mod:`hrrl.agents.options`) and the exact
evaluator (:mod:`hrrl.solvers.markov_chain`) read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Option:
    """A Markov option with a deterministic policy over a finite state set."""

    name: str
    """Label used in reports."""
    initiation: np.ndarray
    """Boolean (S,): states where the option may be started."""
    policy: np.ndarray
    """Int (S,): the action taken in each state, −1 where the option never acts."""
    termination: np.ndarray
    """Float (S,): β(s), the probability of stopping on entering s."""

    @classmethod
    def primitive(cls, action: int, n_states: int, name: str | None = None) -> Option:
        """The one-step option of ``action``: available everywhere, always stops (β ≡ 1)."""
        return cls(
            name=name or f"a{action}",
            initiation=np.ones(n_states, dtype=bool),
            policy=np.full(n_states, action, dtype=np.int64),
            termination=np.ones(n_states),
        )


class OptionSet:
    """Options stacked into (S, O) tables, with the lookups the learners need precomputed."""

    def __init__(self, options: Sequence[Option], n_actions: int) -> None:
        if not options:
            raise ValueError("an option set needs at least one option")
        self.options = list(options)
        self.names = [o.name for o in self.options]
        self.available = np.stack([o.initiation for o in self.options], axis=1).astype(bool)
        self.policy = np.stack([o.policy for o in self.options], axis=1).astype(np.int64)
        self.beta = np.stack([o.termination for o in self.options], axis=1).astype(float)
        self.n_states, self.n_options = self.available.shape
        self.n_actions = int(n_actions)
        self._check()
        self.available_at = [np.flatnonzero(row) for row in self.available]
        self.consistent = [
            [np.flatnonzero(self.policy[s] == a) for a in range(self.n_actions)]
            for s in range(self.n_states)
        ]

    def _check(self) -> None:
        if np.any(self.available & (self.policy < 0)):
            raise ValueError(
                "an option must define its action in every state of its initiation set"
            )
        if not np.all(self.available.any(axis=1)):
            raise ValueError("every state needs at least one available option")
        if np.any((self.beta < 0) | (self.beta > 1)):
            raise ValueError("termination probabilities must lie in [0, 1]")

    def __len__(self) -> int:
        return self.n_options


def primitive_options(n_states: int, n_actions: int) -> list[Option]:
    """One primitive option per action: an option set of these alone is flat Q-learning."""
    return [Option.primitive(a, n_states) for a in range(n_actions)]


# -------------------------------------------------------------------------------- update rules
