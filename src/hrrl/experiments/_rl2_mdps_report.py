"""``rl2-mdps`` (:mod:`hrrl.experiments.rl2_mdps`): the task size, the tuning grids and RL²'s
configuration it states in its notes, and its report (tables, standing, curves, notes)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hrrl.agents.rl2 import RL2Config
from hrrl.core.report import markdown_table, new_figure, save_figure
from hrrl.core.stats import mean_ci
from hrrl.experiments._rl2_common import rl2_training_time

if TYPE_CHECKING:
    from hrrl.experiments.rl2_mdps import Protocol


N_STATES, N_ACTIONS, HORIZON = 10, 5, 10
"""The MDP size and episode length of Duan et al. §5 (as stated in issue #15)."""


EPSILON_GRID = (0.0, 0.05, 0.1, 0.2)


BEB_GRID = (0.1, 0.3, 1.0, 3.0)


UCRL2_GRID = (0.03, 0.1, 0.3, 1.0)


RL2_METHOD = "RL²"


RL2_CONFIG = RL2Config(hidden_size=64, lr=3e-3, epochs=4, minibatches=4, batch_trials=128)
"""RL² for MDPs (γ 0.95, GAE λ 0.9 as the bandit default), from three short pilot runs on training
MDPs (n = 10, seed 0): the bandit default (lr 1e-2, 1 epoch × 2 minibatches) and GRU-128 with lr
3e-3 stayed at random play for 100 updates; 4 epochs × 4 minibatches at lr 3e-3 began to learn."""


def table(by_n: dict[int, list[dict]]) -> tuple[str, dict[str, Any]]:
    names: list[str] = []
    for runs in by_n.values():
        for r in runs:
            names += [m for m in r["methods"] if m not in names]
    summary: dict[str, Any] = {}
    rows = []
    for name in names:
        cells = []
        for n, runs in by_n.items():
            values = [r["methods"][name] for r in runs if name in r["methods"]]
            if not values:
                cells.append("—")
                continue
            ci = mean_ci(values)
            summary.setdefault(name, {})[f"n={n}"] = {
                "mean": ci.mean,
                "ci95": ci.half_width,
                "seeds": ci.n,
            }
            cells.append(ci.format(1))
        rows.append([name, *cells])
    return markdown_table(["method", *(f"n = {n}" for n in by_n)], rows), summary


def standing(by_n: dict[int, list[dict]]) -> str:
    """RL² against random play and the best baseline, per n (generated from the numbers)."""
    lines = ["## Where our RL² stands (generated from the numbers above)", ""]
    misses: list[bool] = []
    for n, runs in by_n.items():
        ours = [r["methods"][RL2_METHOD] for r in runs if RL2_METHOD in r["methods"]]
        if not ours:
            continue
        baselines = [
            m for m in runs[0]["methods"] if m not in (RL2_METHOD, "Oracle (knows the MDP)")
        ]
        best = max(baselines, key=lambda m: np.mean([r["methods"][m] for r in runs]))
        parts = []
        for name in ("Random", best):
            ref = mean_ci([r["methods"][name] for r in runs])
            gap = mean_ci(ours).mean - ref.mean
            side = "below" if gap < 0 else "above"
            if abs(gap) <= mean_ci(ours).half_width + ref.half_width:
                side = "within the CIs of"
            parts.append(f"**{side}** {name} {ref.format(1)} ({gap:+.1f})")
        lines.append(f"- n = {n}: RL² {mean_ci(ours).format(1)} is " + "; ".join(parts) + ".")
        misses.append("**below**" in parts[-1])
    if misses and all(misses):
        lines += [
            "",
            "RL² is below the best classical learner at every n: the survey's claim that RL² "
            "adapts rapidly on tabular MDPs (seed 001 line 185) is **not reproduced** at this "
            "budget. Most likely cause: the training budget (protocol notes), far below the "
            "paper's.",
        ]
    return "\n".join(lines)


def tuning_table(by_n: dict[int, list[dict]]) -> str:
    names = list(by_n[next(iter(by_n))][0]["tuned"])
    rows = [
        [n, *(", ".join(str(r["tuned"][name]) for r in runs) for name in names)]
        for n, runs in by_n.items()
    ]
    return markdown_table(["n", *(f"{name} (per seed)" for name in names)], rows)


def curves(by_n: dict[int, list[dict]], path: Path) -> None:
    fig, ax = new_figure(7.0, 4.0)
    for n, runs in by_n.items():
        curves = [r["curve"] for r in runs if "curve" in r]
        if curves:
            ax.plot(np.mean(curves, axis=0) / (n * HORIZON), label=f"n = {n}")
    ax.set_xlabel("PPO update")
    ax.set_ylabel("mean reward per step (training trials)")
    ax.set_title("RL² training curves on random MDPs (mean over seeds)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def notes(protocol: Protocol, quick: bool, by_n: dict[int, list[dict]]) -> str:
    time_text, resumed_note = rl2_training_time([r for runs in by_n.values() for r in runs])
    c = RL2_CONFIG
    steps = {n: protocol.updates * protocol.batch_trials(n) * n * HORIZON for n in by_n}
    return "\n".join(
        [
            "## Protocol and notes",
            "",
            f"- Protocol: {'quick' if quick else 'full'}. MDPs: {N_STATES} states, {N_ACTIONS} "
            f"actions, episodes of {HORIZON} steps starting in a uniformly random state; "
            "transition rows ~ flat Dirichlet, mean rewards ~ N(1, 1), reward noise N(0, 1). "
            "The paper's exact task distribution is not in our seeds (seed 001 lines 175–185 "
            "only name tabular MDPs), so this generator is our choice.",
            f"- Every number is the mean total reward of one n-episode trial on each of "
            f"{protocol.held_out} held-out MDPs; ± is the 95 % Student-t interval over seeds "
            "(each seed draws its own MDPs). All methods of a seed see the same random numbers.",
            f"- RL²: GRU of {c.hidden_size} units, PPO (lr {c.lr}, γ {c.gamma}, GAE λ "
            f"{c.gae_lambda}, entropy {c.entropy_start} → {c.entropy_end}), {protocol.updates} "
            "updates of ~12,800 steps ("
            + ", ".join(f"n = {n}: {s / 1e6:.1f}M steps" for n, s in steps.items())
            + f"); hidden state kept across the episodes of a trial. Training time: {time_text} "
            "(1 thread, shared machine; summed over resumed parts of a run). "
            "Hyperparameters from three short pilot runs on training MDPs (n = 10), never on "
            "held-out MDPs: the bandit default and GRU-128 at lr 3e-3 stayed at random play for "
            "100 updates; 4 PPO epochs × 4 minibatches at lr 3e-3 began to learn. PPO epochs "
            f"× minibatches here: {c.epochs} × {c.minibatches}.",
            *resumed_note,
            "- Baselines plan each episode by finite-horizon value iteration: Greedy on the "
            "posterior-mean MDP (the empirical MDP shrunk to the prior), PSRL on one posterior "
            "sample per episode, BEB with bonus β/(1 + n(s, a)), UCRL2 by extended value iteration "
            "over its L1 confidence sets (widths × a tuned scale, δ = 0.05; replanned every "
            "episode rather than on UCRL2's doubling schedule). Greedy, PSRL and BEB are given "
            "the true prior. Tuned on separate tuning MDPs: ε in "
            f"{EPSILON_GRID}, β in {BEB_GRID}, UCRL2 scale in {UCRL2_GRID}.",
            "- Oracle: the expected total of the optimal policy that knows the MDP (an upper "
            "bound no learner reaches).",
            "- Published numbers: Duan et al. (2016) Table 2 reports these methods on random "
            "MDPs; that table is not in our seeds, so no published number is quoted here. Seed "
            '001 line 185 states only that RL² "rapidly adapts" on tabular MDPs. The paper '
            "trained with TRPO on a far larger budget than this CPU run (budget difference).",
        ]
    )
