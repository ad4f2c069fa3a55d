"""CFHRL (Coarse-to-Fine Hierarchical Goal RL; seeds/003 line 5), our reading of its abstract.

"Starting from the final goal, CFHRL recursively proposes intermediate targets, trained from
replay-supported candidates, and stops refinement once the current target is estimated to be
locally executable by a learned reachability cost." Here, on top of HIQL's value and low-level
policy (:class:`~hrrl.agents.hiql.HIQLAgent`, trained identically — the proposer has its own
optimiser and reads the same batches, so the HIQL part is the same network a plain HIQL run
learns):

* **proposer** ``p(s, g)``: a Gaussian over states trained by AWR on *replay* midpoints — for a
  dataset state ``s_t`` and a future state ``g = s_{t+j}`` of its episode, the target is
  ``s_{t+⌈j/2⌉}``, weighted by ``exp(β (V(mid, g) − V(s, g)))`` (more progress, more weight);
* **reachability cost** ``c(s, g)``: the steps to go that ``V(s, g)`` stands for
  (:func:`hrrl.core.offline_gcrl.steps_to_go`);
* **refinement** at every step: ``target ← g``; while ``c(s, target) > k`` (not locally
  executable; ``k`` is the low level's horizon) and depth < ``max_depth``: propose
  ``p(s, target)`` and, with replay support, replace it by the best of its ``knn`` nearest dataset
  states by ``c(s, x) + c(x, target)``; the low level then steers to ``target``.

Ablations (as the abstract names them): ``flat`` — no refinement (the low level steers to the
final goal); ``fixed`` — ``fixed_depth`` refinements always, no stopping rule; ``no-support`` —
the stopping rule with the proposer's raw output (not snapped to dataset states).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from hrrl.agents.hiql import HIQLAgent, OfflineGCConfig, _adam, _init
from hrrl.core.offline_gcrl import GaussianPolicy, awr_weights
from hrrl.core.seeding import spawn_seeds

MODES = ("adaptive", "flat", "fixed", "no-support")


@dataclass(frozen=True)
class CFHRLConfig:
    base: OfflineGCConfig = field(default_factory=OfflineGCConfig)
    max_depth: int = 8
    fixed_depth: int = 3
    candidates: int = 4096
    """Dataset states kept as replay-supported candidates."""
    knn: int = 16
    executable_steps: float = 0.0
    """Cost threshold of the stopping rule; 0 means the low level's horizon k."""


class CFHRLAgent(HIQLAgent):
    STATE = (*HIQLAgent.STATE, "proposer", "candidates")

    def __init__(self, obs_dim: int, action_dim: int, config: CFHRLConfig, seed: int) -> None:
        super().__init__(obs_dim, action_dim, config.base, seed)
        self.config = config
        self.cf = config
        s_p = spawn_seeds(seed, 5)[4]
        self.proposer = _init(
            GaussianPolicy(2 * obs_dim, obs_dim, config.base.hidden, tanh_mean=False), s_p
        )
        self.proposer_opt = _adam(self.proposer, lr=config.base.lr)
        self.candidates = np.zeros((config.candidates, obs_dim), dtype=np.float32)

    @property
    def threshold(self) -> float:
        return self.cf.executable_steps or float(self.hp.subgoal_steps)

    def set_candidates(self, observations: np.ndarray, rng: np.random.Generator) -> None:
        """Keep ``candidates`` dataset states, drawn uniformly without replacement."""
        flat = np.asarray(observations, dtype=np.float32).reshape(-1, self.candidates.shape[1])
        pick = rng.choice(
            len(flat), size=len(self.candidates), replace=len(flat) < len(self.candidates)
        )
        self.candidates[:] = flat[pick]

    def update(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        losses = super().update(batch)
        s, mid, g = batch["obs"], batch["midpoints"], batch["actor_goals"]
        with torch.no_grad():
            adv = self.value(mid, g) - self.value(s, g)
        loss = self.proposer.awr_loss(
            torch.cat([s, g], -1), mid, awr_weights(adv, self.hp.temperature)
        )
        self.proposer_opt.zero_grad()
        loss.backward()
        self.proposer_opt.step()
        losses["proposer_loss"] = loss.item()
        return losses

    def refine(
        self, obs: torch.Tensor, goals: torch.Tensor, mode: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Targets for the low level and the refinement depth used, per row."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        target = goals.clone()
        depth = torch.zeros(len(obs), dtype=torch.int64)
        if mode == "flat":
            return target, depth
        bank = torch.as_tensor(self.candidates)
        levels = self.cf.fixed_depth if mode == "fixed" else self.cf.max_depth
        for _ in range(levels):
            if mode == "fixed":
                active = torch.ones(len(obs), dtype=torch.bool)
            else:
                active = self.cost(obs, target) > self.threshold
            if not bool(active.any()):
                break
            s, t = obs[active], target[active]
            with torch.no_grad():
                proposal = self.proposer.mean(torch.cat([s, t], -1))
            if mode != "no-support":
                proposal = self._supported(s, t, proposal, bank)
            target[active] = proposal
            depth[active] += 1
        return target, depth

    def _supported(
        self, s: torch.Tensor, t: torch.Tensor, proposal: torch.Tensor, bank: torch.Tensor
    ) -> torch.Tensor:
        """Among the proposal's ``knn`` nearest candidates, the one with the least
        ``c(s, x) + c(x, t)``."""
        near = torch.cdist(proposal, bank).topk(self.cf.knn, largest=False).indices
        options = bank[near]  # (B, K, d)
        b, k, d = options.shape
        flat = options.reshape(b * k, d)
        total = (
            self.cost(s.repeat_interleave(k, 0), flat) + self.cost(flat, t.repeat_interleave(k, 0))
        ).reshape(b, k)
        return options[torch.arange(b), total.argmin(1)]

    def policy(self, mode: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A batched ``act(obs, goals)`` for one refinement mode."""

        def act(obs: np.ndarray, goals: np.ndarray) -> np.ndarray:
            s = torch.as_tensor(obs, dtype=torch.float32)
            target, _ = self.refine(s, torch.as_tensor(goals, dtype=torch.float32), mode)
            with torch.no_grad():
                return self.low_act(s, self.subgoal_rep(s, target)).numpy()

        return act
