"""The HRRL agent's configuration: one frozen dataclass, a ``paper`` and a ``default`` preset."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrrl.errors import InputError

FEATURE_SETS = ("local", "paper")
WAYPOINT_MODES = ("soft", "exact")
REWARDS = ("relative", "paper", "potential", "steps", "sparse")


@dataclass(frozen=True, kw_only=True)
class HRRLConfig:
    """Everything that defines an HRRL training run (see ``get_config`` for the presets)."""

    name: str = "default"
    """Preset name, for reports."""
    relational_features: bool = True
    """Relational features on; off = the raw observation (position, target, steps left) only."""
    features: str = "local"
    """Relational feature set when on: ``local`` (ours, per-action, scale-free) or ``paper``."""
    decomposition: bool = True
    """Hierarchical goal decomposition into waypoints (§3.2)."""
    waypoints: str = "soft"
    """``exact`` (the paper: hit each waypoint exactly) or ``soft`` (regions; the goal stays)."""
    phase_heads: bool = True
    """Three phase heads mixed by a phase classifier; off = a single head."""
    curriculum: bool = True
    """Curriculum stages; off = uniform targets over ``final_targets`` from the start."""
    curriculum_stages: tuple[tuple[int, int], ...] = ((5, 10), (12, 18), (20, 30))
    """Target ranges of the stages before the final mixed stage."""
    stage_fraction: float = 0.1
    """Fraction of the episodes spent in each curriculum stage."""
    final_targets: tuple[int, int] = (5, 100)
    """Target range of the final (mixed) stage."""
    forbidden_count: tuple[int, int] = (2, 5)
    """Random forbidden states per sparse episode."""
    dense_fraction: float = 0.5
    """Fraction of episodes whose forbidden states are drawn at a density instead."""
    density: tuple[float, float] = (0.05, 0.3)
    """Density range of dense episodes (runs shorter than the largest move)."""
    tight_fraction: float = 0.2
    """Fraction of episodes whose budget is the optimum (bookkeeping by the solver)."""
    action_sets: tuple[tuple[int, ...], ...] = ((1, 3, 5),)
    """Fixed action sets drawn in training."""
    random_action_fraction: float = 0.5
    """Fraction of episodes with a random action set (2-3 moves from 1..9, maybe one negative)."""
    reward: str = "relative"
    """``relative`` (ours: −1 + progress / largest move, −failure_penalty on failure) or an env
    reward name (``paper``, ``potential``, ``steps``, ``sparse``)."""
    failure_penalty: float = 10.0
    """Extra penalty of a failed move under the ``relative`` reward (in steps)."""
    episodes: int = 5000
    """Training episodes."""
    num_envs: int = 64
    """Episodes run side by side."""
    hidden: int = 256
    """Width of the shared extractor."""
    buffer_capacity: int = 10_000
    """Replay capacity."""
    prioritized: bool = True
    """Prioritized replay."""
    batch_size: int = 64
    """Minibatch size."""
    lr: float = 5e-4
    """Adam learning rate."""
    gamma: float = 1.0
    """Discount factor."""
    double: bool = True
    """Double DQN targets."""
    tau: float = 0.5
    """Soft target update rate."""
    target_every: int = 200
    """Gradient steps between soft target updates."""
    updates_per_step: int = 2
    """Gradient steps per vector step (of ``num_envs`` transitions)."""
    learning_starts: int = 1000
    """Transitions collected before learning starts."""
    epsilon_start: float = 1.0
    """Initial exploration rate."""
    epsilon_end: float = 0.02
    """Final exploration rate."""
    epsilon_fraction: float = 0.5
    """Fraction of the episodes over which epsilon decays linearly."""
    checkpoint_every: int = 1000
    """Episodes between checkpoints."""
    eval_every: int = 1000
    """Episodes between validation evaluations (0: never)."""
    manager: bool = False
    """HRRL v2: a learned goal-conditioned cost-to-go guides a manager (subgoals) and a worker
    (``agents/hrrl/manager.py``); the Q-network fields above are then unused."""
    value_iterations: int = 2000
    """v2: gradient steps of the cost-to-go network (fitted value iteration)."""
    value_hidden: int = 64
    """v2: width of the cost-to-go network."""
    value_expectile: float = 0.5
    """v2: expectile of the Bellman target the cost-to-go network fits (0.5: squared error;
    below 0.5 overestimates cost more than underestimates: see ``value.ValueConfig``)."""
    manager_weight: float = 1.0
    """v2: weight of the learned terms in the manager's search (0: uniform, plain A*)."""
    manager_spacing: int = 32
    """v2: cells between consecutive subgoals."""
    manager_budget: int = 0
    """v2: the manager's lookahead budget per decision in node pops (0: one exhaustive search
    per problem; > 0: the receding-horizon manager of ``manager.plan_budgeted``)."""
    manager_commit: float = 0.5
    """v2 budgeted: fraction of the best frontier path each decision commits to."""
    manager_reuse: bool = False
    """v2 budgeted: keep the search tree below the committed subgoal for the next decision."""

    def __post_init__(self) -> None:
        _check(self.features in FEATURE_SETS, f"features must be one of {FEATURE_SETS}")
        _check(self.waypoints in WAYPOINT_MODES, f"waypoints must be one of {WAYPOINT_MODES}")
        _check(self.reward in REWARDS, f"reward must be one of {REWARDS}")
        for name in ("episodes", "num_envs", "hidden", "buffer_capacity", "batch_size"):
            _check(getattr(self, name) >= 1, f"{name} must be at least 1")
        for name in ("target_every", "checkpoint_every", "updates_per_step"):
            _check(getattr(self, name) >= 1, f"{name} must be at least 1")
        _check(0 < self.lr < 1, "lr must be in (0, 1)")
        _check(0 < self.gamma <= 1, "gamma must be in (0, 1]")
        _check(0 < self.tau <= 1, "tau must be in (0, 1]")
        _check(0 < self.value_expectile < 1, "value_expectile must be in (0, 1)")
        _check(0 < self.manager_commit <= 1, "manager_commit must be in (0, 1]")
        for name in ("dense_fraction", "tight_fraction", "random_action_fraction"):
            _check(0 <= getattr(self, name) <= 1, f"{name} must be in [0, 1]")
        _check(self.final_targets[0] >= 2, "final_targets must start at 2 or more")
        _check(self.final_targets[0] <= self.final_targets[1], "final_targets is an empty range")

    @property
    def feature_set(self) -> str:
        """The feature set the network sees (``raw`` when relational features are off)."""
        return self.features if self.relational_features else "raw"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise InputError(message)


PRESETS: dict[str, HRRLConfig] = {
    "default": HRRLConfig(),
    "v2": HRRLConfig(name="v2", manager=True),
    # The receding-horizon manager with 128 node pops per decision (docs/HARD.md measures it
    # against the same manager without learned values).
    "v2-budgeted": HRRLConfig(name="v2-budgeted", manager=True, manager_budget=128),
    # HRRL v2 with an optimistic learned cost-to-go: the network fits the 0.1-expectile of its
    # Bellman target (overestimates cost 9x underestimates), and the budgeted manager reuses
    # its search tree across decisions, committing a quarter of the best path each time.
    # Expectile, commit and reuse were picked on a pilot suite (hard suite seed 7, 12 problems
    # per family, training seeds 0 and 1), never on the reported suite (docs/HARD.md).
    "v2-budgeted-expectile": HRRLConfig(
        name="v2-budgeted-expectile",
        manager=True,
        manager_budget=128,
        value_expectile=0.1,
        manager_commit=0.25,
        manager_reuse=True,
    ),
    "paper": HRRLConfig(
        name="paper",
        features="paper",
        waypoints="exact",
        dense_fraction=0.0,
        tight_fraction=0.0,
        random_action_fraction=0.0,
        reward="paper",
        gamma=0.99,
        double=False,
        num_envs=16,
        updates_per_step=4,
        epsilon_end=0.05,
    ),
}


def get_config(name_or_path: str) -> HRRLConfig:
    """A preset by name (``default``, ``paper``) or a JSON file of fields over ``default``."""
    if name_or_path in PRESETS:
        return PRESETS[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise InputError(
            f"unknown HRRL config {name_or_path!r}: not a preset ({', '.join(PRESETS)}) or a file"
        )
    try:
        fields = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read HRRL config {path}: {exc}".splitlines()[0]) from None
    if not isinstance(fields, dict):
        raise InputError(f"HRRL config {path} must hold a JSON object")
    return config_from_dict(fields, base=PRESETS[str(fields.get("base", "default"))])


RETIRED_FIELDS = frozenset({"eval_problems"})
"""Fields older runs stored that no code read; accepted and ignored when loading them."""


def config_from_dict(fields: dict[str, Any], *, base: HRRLConfig | None = None) -> HRRLConfig:
    """``base`` (default preset) with the given fields replaced; validates names and types."""
    base = base or PRESETS["default"]
    known = {f.name: f for f in dataclasses.fields(HRRLConfig)}
    unknown = sorted(set(fields) - set(known) - {"base"} - RETIRED_FIELDS)
    if unknown:
        raise InputError(f"unknown HRRL config field(s): {', '.join(unknown)}")
    values = {}
    for key, value in fields.items():
        if key == "base" or key in RETIRED_FIELDS:
            continue
        values[key] = _coerce(key, value, getattr(base, key))
    try:
        return dataclasses.replace(base, **values)
    except TypeError as exc:
        raise InputError(f"bad HRRL config: {exc}") from None


def _coerce(key: str, value: Any, like: Any) -> Any:
    """JSON value to the type of the default (tuples of tuples from lists)."""
    if isinstance(like, bool):
        _check(isinstance(value, bool), f"config field {key} must be true or false")
        return value
    if isinstance(like, int):
        _check(isinstance(value, int) and not isinstance(value, bool), f"{key} must be an integer")
        return value
    if isinstance(like, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        _check(ok, f"config field {key} must be a number")
        return float(value)
    if isinstance(like, str):
        _check(isinstance(value, str), f"config field {key} must be a string")
        return value
    if isinstance(like, tuple):
        _check(isinstance(value, list), f"config field {key} must be a list")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value
