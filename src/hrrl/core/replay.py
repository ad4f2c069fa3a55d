"""Replay buffers: uniform and prioritized, storing named numpy fields.

A transition is a mapping of field name to array; shapes and dtypes are fixed by the first ``add``
(or by ``spec``). ``terminated`` and ``truncated`` are stored apart so that learners bootstrap at
time limits; a learner reads whatever fields it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass
class Batch:
    """Sampled transitions, their buffer indices and importance weights (ones when uniform)."""

    data: dict[str, np.ndarray]
    indices: np.ndarray
    weights: np.ndarray

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]


class ReplayBuffer:
    """A ring buffer of ``capacity`` transitions with uniform sampling."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self._fields: dict[str, np.ndarray] = {}
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def _allocate(self, example: Mapping[str, np.ndarray]) -> None:
        for key, value in example.items():
            value = np.asarray(value)
            self._fields[key] = np.zeros((self.capacity, *value.shape[1:]), dtype=value.dtype)

    def add(self, transitions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Add a batch of transitions (leading axis = count); returns the slots written."""
        arrays = {k: np.asarray(v) for k, v in transitions.items()}
        count = len(next(iter(arrays.values())))
        if not self._fields:
            self._allocate(arrays)
        if set(arrays) != set(self._fields):
            raise KeyError(f"fields {sorted(arrays)} differ from {sorted(self._fields)}")
        idx = (self._next + np.arange(count)) % self.capacity
        for key, value in arrays.items():
            if len(value) != count:
                raise ValueError(f"field {key!r} has {len(value)} rows, expected {count}")
            self._fields[key][idx] = value
        self._next = int((self._next + count) % self.capacity)
        self._size = min(self.capacity, self._size + count)
        self._on_add(idx)
        return idx

    def _on_add(self, indices: np.ndarray) -> None:
        """Hook for subclasses (priorities)."""

    def get(self, indices: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[indices] for k, v in self._fields.items()}

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        if self._size == 0:
            raise ValueError("cannot sample from an empty buffer")
        idx = rng.integers(0, self._size, size=batch_size)
        return Batch(self.get(idx), idx, np.ones(batch_size, dtype=np.float32))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Arrays only (no pickle): the fields plus a small header."""
        out = {f"field.{k}": v[: self._size] for k, v in self._fields.items()}
        out["meta"] = np.array([self.capacity, self._next, self._size], dtype=np.int64)
        return out

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        capacity, nxt, size = (int(x) for x in state["meta"])
        if capacity != self.capacity:
            raise ValueError(f"buffer capacity {capacity} != {self.capacity}")
        fields = {k[len("field.") :]: np.asarray(v) for k, v in state.items() if k != "meta"}
        self._fields = {}
        if fields:
            self._allocate({k: v[:1] if len(v) else v for k, v in fields.items()})
            for key, value in fields.items():
                self._fields[key][:size] = value
        self._next, self._size = nxt, size


class SumTree:
    """A binary sum tree over ``capacity`` leaves with vectorized update and prefix-sum search."""

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self._leaves = 1
        while self._leaves < self.capacity:
            self._leaves *= 2
        self.tree = np.zeros(2 * self._leaves, dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def leaf_values(self, indices: np.ndarray) -> np.ndarray:
        return self.tree[np.asarray(indices) + self._leaves]

    def update(self, indices: np.ndarray, values: np.ndarray) -> None:
        pos = np.asarray(indices, dtype=np.int64) + self._leaves
        self.tree[pos] = np.asarray(values, dtype=np.float64)
        pos = np.unique(pos // 2)
        while pos.size and pos[0] >= 1:
            self.tree[pos] = self.tree[2 * pos] + self.tree[2 * pos + 1]
            if pos[0] == 1:
                break
            pos = np.unique(pos // 2)

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """Leaf index whose cumulative range contains each prefix sum."""
        prefix = np.array(prefix, dtype=np.float64)
        node = np.ones(prefix.shape, dtype=np.int64)
        while node[0] < self._leaves:
            left = 2 * node
            left_sum = self.tree[left]
            go_right = prefix >= left_sum
            prefix = np.where(go_right, prefix - left_sum, prefix)
            node = np.where(go_right, left + 1, left)
        return np.minimum(node - self._leaves, self.capacity - 1)


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al. 2016).

    ``P(i) ∝ p_i^alpha``; importance weights ``(N·P(i))^-beta`` normalised by their maximum. New
    transitions get the largest priority seen so far, so each is replayed at least once early on.
    """

    def __init__(self, capacity: int, alpha: float = 0.6, eps: float = 1e-6) -> None:
        super().__init__(capacity)
        self.alpha = float(alpha)
        self.eps = float(eps)
        self._tree = SumTree(capacity)
        self._max_priority = 1.0

    def _on_add(self, indices: np.ndarray) -> None:
        self._tree.update(indices, np.full(len(indices), self._max_priority**self.alpha))

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 0.4) -> Batch:
        if self._size == 0:
            raise ValueError("cannot sample from an empty buffer")
        total = self._tree.total
        bounds = np.linspace(0.0, total, batch_size + 1)
        prefix = rng.uniform(bounds[:-1], bounds[1:])
        idx = self._tree.find(prefix)
        idx = np.minimum(idx, self._size - 1)
        probs = self._tree.leaf_values(idx) / total
        weights = (self._size * np.maximum(probs, 1e-12)) ** (-beta)
        weights = (weights / weights.max()).astype(np.float32)
        return Batch(self.get(idx), idx, weights)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        self._max_priority = max(self._max_priority, float(priorities.max()))
        self._tree.update(indices, priorities**self.alpha)

    def state_dict(self) -> dict[str, np.ndarray]:
        state = super().state_dict()
        state["priorities"] = self._tree.leaf_values(np.arange(self._size))
        state["max_priority"] = np.array([self._max_priority])
        return state

    def load_state_dict(self, state: Mapping[str, np.ndarray]) -> None:
        base = {k: v for k, v in state.items() if k not in ("priorities", "max_priority")}
        super().load_state_dict(base)
        self._tree = SumTree(self.capacity)
        self._tree.update(np.arange(self._size), np.asarray(state["priorities"]))
        self._max_priority = float(np.asarray(state["max_priority"])[0])
