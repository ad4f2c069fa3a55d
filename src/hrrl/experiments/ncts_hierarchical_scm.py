"""``ncts-hierarchical-scm``: Nested Causal Thompson Sampling on a synthetic hierarchical SCM.

The three experiments of the NCTS abstract (seeds/003, line 2), on the two-level polynomial SCM of
:mod:`hrrl.tasks.causal_scm` (one random instance per seed):

1. **zero-shot transfer**: NCTS and the joint-regression Thompson samplers learn online on
   ``u ~ N(0, 1)``, then play frozen (no updates, one posterior draw per episode) under exogenous
   shifts ``u ~ N(Δ, 1)``;
2. **recursive vs joint commit**: NCTS choosing the inner arm after seeing ``c`` against the same
   posterior committing to ``(a1, a2)`` up front (per-seed cumulative regret, paired test, CDFs);
3. **PAC-Bayes certificate vs offline data**: NCTS fitted on ``n`` uniformly logged episodes, its
   Gibbs policy's value certified off-policy (:func:`hrrl.agents.ncts.certify_gibbs_value`).

Regret is pseudo-regret ``V*(u) − E[y | u, a1, inner response]`` computed exactly by quadrature,
so no reward noise enters the curves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as st

from hrrl.agents.ncts import (
    JointRegressionTS,
    JointTSConfig,
    NCTSAgent,
    NCTSConfig,
    certify_gibbs_value,
)
from hrrl.core.parallel import Job, run_jobs
from hrrl.core.report import load_note, markdown_table, new_figure, save_figure, write_report
from hrrl.core.seeding import spawn_seeds
from hrrl.core.stats import mean_ci
from hrrl.experiments.base import Experiment, ExperimentContext
from hrrl.tasks.causal_scm import NestedSCM, sample_scm

SEEDS_FILE = "seeds/003 (abstracts), line 2"
CLAIMS = {
    "transfer": "the factorised SCM-mechanism posterior transfers significantly better zero-shot "
    "under exogenous distribution shifts",
    "commit": "the recursive meta-to-inner commit significantly dominates the joint-commit "
    "alternative in distribution",
    "certificate": "the certificate significantly contracts as offline data accumulates",
}
SIGMA1 = 1.0
"""Spread of the inner context around its mean (the SCM's meta-mechanism noise)."""
SIGMA2 = 0.5
"""Reward noise."""
REWARD_RANGE = (-10.0, 10.0)
"""Rewards are mapped to ``[0, 1]`` by ``clip((y + 10) / 20)`` for the certificate only."""
METHODS = ("NCTS (recursive)", "NCTS (joint commit)", "RFF-GP joint TS", "Polynomial joint TS")


@dataclass(frozen=True)
class Protocol:
    episodes: int
    """Online learning episodes on the training distribution."""
    eval_episodes: int
    """Frozen episodes per shift."""
    shifts: tuple[float, ...]
    """Exogenous shifts Δ of the mean of ``u``."""
    data_sizes: tuple[int, ...]
    """Offline data sizes for the certificate."""
    draws: int
    """Posterior draws for the Gibbs estimate."""
    value_contexts: int
    """Contexts ``u`` for the true value of the Gibbs policy (coverage check)."""


QUICK = Protocol(300, 100, (0.0, 1.0, 2.0, 3.0), (100, 300, 1000, 3000, 10000), 500, 200)
FULL = Protocol(1000, 300, (0.0, 1.0, 2.0, 3.0), (100, 300, 1000, 3000, 10000, 30000), 1000, 400)


def make_agents(seed: int) -> dict[str, Any]:
    base: dict[str, Any] = {"meta_noise": SIGMA1, "inner_noise": SIGMA2, "seed": seed}
    return {
        METHODS[0]: NCTSAgent(NCTSConfig(**base)),
        METHODS[1]: NCTSAgent(NCTSConfig(**base, commit="joint")),
        METHODS[2]: JointRegressionTS(JointTSConfig(seed=seed)),
        METHODS[3]: JointRegressionTS(JointTSConfig(seed=seed, features="poly")),
    }


def _regret(scm: NestedSCM, agent: Any, u: float, a1: int) -> float:
    return float(scm.optimal_value(np.asarray(u))) - scm.response_value(u, a1, agent.inner_actions)


def play(scm: NestedSCM, agent: Any, episodes: int, seed: int, learn: bool) -> np.ndarray:
    """Per-episode pseudo-regret; ``u``, context noise and reward noise come from separate streams
    so every agent sees the same contexts ``u`` (common random numbers)."""
    u_rng, c_rng, y_rng = (np.random.default_rng(s) for s in spawn_seeds(seed, 3))
    regrets = np.empty(episodes)
    us = scm.sample_u(episodes, u_rng)
    for t, u in enumerate(us):
        a1 = agent.begin_episode(float(u))
        regrets[t] = _regret(scm, agent, float(u), a1)
        if learn:
            c = scm.sample_context(float(u), a1, c_rng)
            a2 = agent.act_inner(c)
            agent.update(float(u), a1, c, a2, scm.sample_reward(c, a2, y_rng))
    return regrets


def run_online(seed: int, episodes: int, eval_episodes: int, shifts: list[float]) -> dict:
    """Experiments 1 and 2 for one seed (one SCM instance)."""
    inst_seed, play_seed, eval_seed, agent_seed = spawn_seeds(seed, 4)
    scm = sample_scm(np.random.default_rng(inst_seed), sigma1=SIGMA1, sigma2=SIGMA2)
    gap_u = scm.sample_u(2000, np.random.default_rng(eval_seed))
    out: dict[str, Any] = {"seed": seed, "online": {}, "transfer": {},
                           "joint_gap": joint_commit_gap(scm, gap_u)}  # fmt: skip
    for name, agent in make_agents(agent_seed).items():
        out["online"][name] = play(scm, agent, episodes, play_seed, learn=True).tolist()
        out["transfer"][name] = {
            str(d): float(play(scm.shifted(d), agent, eval_episodes, eval_seed, False).mean())
            for d in shifts
        }
    return out


def scaled(y: np.ndarray) -> np.ndarray:
    lo, hi = REWARD_RANGE
    return np.clip((y - lo) / (hi - lo), 0.0, 1.0)


def run_certificate(seed: int, sizes: list[int], draws: int, value_contexts: int) -> dict:
    """Experiment 3 for one seed: uniform logging, NCTS posterior on the first n, certificate."""
    inst_seed, log_seed, agent_seed, mc_seed, val_seed = spawn_seeds(seed + 10_000, 5)
    scm = sample_scm(np.random.default_rng(inst_seed), sigma1=SIGMA1, sigma2=SIGMA2)
    rng = np.random.default_rng(log_seed)
    n_max = max(sizes)
    k1, k2 = scm.n_meta, scm.n_inner
    u = scm.sample_u(n_max, rng)
    a1 = rng.integers(0, k1, n_max)
    c = scm.context_mean(u)[np.arange(n_max), a1] + SIGMA1 * rng.standard_normal(n_max)
    a2 = rng.integers(0, k2, n_max)
    y = scm.reward_mean(c)[np.arange(n_max), a2] + SIGMA2 * rng.standard_normal(n_max)
    propensity = np.full(n_max, 1.0 / (k1 * k2))
    agent = NCTSAgent(NCTSConfig(meta_noise=SIGMA1, inner_noise=SIGMA2, seed=agent_seed))
    u_val = scm.sample_u(value_contexts, np.random.default_rng(val_seed))
    legacy = _scaled_value(scm, u_val, None, None)
    rows = []
    done = 0
    for n in sorted(sizes):
        for i in range(done, n):
            agent.update(u[i], int(a1[i]), c[i], int(a2[i]), y[i])
        done = n
        mc = np.random.default_rng([mc_seed, n])
        p1, p2 = agent.gibbs_actions(u[:n], c[:n], draws, mc)
        matches = (p1 == a1[:n]) & (p2 == a2[:n])
        cert = certify_gibbs_value(
            matches, scaled(y[:n]), propensity[:n], agent.posterior_kl(), 0.05
        )
        true_value = _gibbs_true_value(scm, agent, u_val, mc)
        rows.append(
            {
                "n": n,
                "estimate": cert.estimate,
                "lower": cert.lower,
                "width": cert.width,
                "slack": true_value - cert.lower,
                "kl": cert.kl,
                "true_value": true_value,
                "covered": bool(cert.lower <= true_value),
                "certified_gain_over_legacy": cert.lower - legacy,
            }
        )
    optimal = float(np.mean(scaled_mean(scm.optimal_value(u_val))))
    return {"seed": seed, "rows": rows, "legacy_value": legacy, "optimal_value": optimal}


def scaled_mean(values: np.ndarray) -> np.ndarray:
    """Value in the certificate's units (``E[ỹ] ≈ (E[y] − lo) / (hi − lo)``; clipping is rare)."""
    lo, hi = REWARD_RANGE
    return (values - lo) / (hi - lo)


def _scaled_value(scm: NestedSCM, u_val: np.ndarray, a1s, inner) -> float:
    """Mean scaled value over ``u_val`` of the uniform legacy policy (both levels uniform)."""
    nodes, w = scm.context_nodes(u_val)  # (U, K1, G)
    per_pair = np.einsum("ukgj,g->ukj", scm.reward_mean(nodes), w)
    return float(np.mean(scaled_mean(per_pair.mean(axis=(1, 2)))))


def _gibbs_true_value(scm: NestedSCM, agent: NCTSAgent, u_val: np.ndarray, rng) -> float:
    """Exact (quadrature) value of the Gibbs policy at ``u_val``, averaged over 64 draws."""
    t1 = agent.meta.sample(rng, 64)
    t2 = agent.inner.sample(rng, 64)
    nodes, w = scm.context_nodes(u_val)  # (U, K1, G)
    rows = np.arange(u_val.size)
    values = []
    for m in range(t1.shape[0]):
        a1 = agent.meta_policy(t1[m], t2[m], u_val)
        c = nodes[rows, a1]  # (U, G)
        a2 = agent.inner_policy(t2[m], c)
        rewards = np.take_along_axis(scm.reward_mean(c), a2[..., None], axis=-1)[..., 0]
        values.append(float((rewards @ w).mean()))
    return float(np.mean(scaled_mean(np.asarray(values))))


def joint_commit_gap(scm: NestedSCM, u: np.ndarray) -> float:
    """Mean per-episode regret of committing to ``(a1, a2)`` before ``c`` with the *true* model:
    the price of the joint commit that no amount of learning removes."""
    nodes, w = scm.context_nodes(u)
    joint = np.einsum("ukgj,g->ukj", scm.reward_mean(nodes), w).max(axis=(1, 2))
    return float(np.mean(scm.optimal_value(u) - joint))


# --- report --------------------------------------------------------------------------------------


def _cumulative(online: list[dict], name: str) -> np.ndarray:
    return np.asarray([np.cumsum(r["online"][name]) for r in online])


def _curve_figure(online: list[dict], path: Any) -> None:
    fig, ax = new_figure(7.0, 4.2)
    for name in METHODS:
        curves = _cumulative(online, name)
        mean = curves.mean(axis=0)
        half = st.t.ppf(0.975, len(curves) - 1) * curves.std(axis=0, ddof=1) / np.sqrt(len(curves))
        x = np.arange(1, mean.size + 1)
        ax.plot(x, mean, label=name)
        ax.fill_between(x, mean - half, mean + half, alpha=0.2)
    ax.set_xlabel("episode")
    ax.set_ylabel("cumulative pseudo-regret")
    ax.set_title(f"Online learning, u ~ N(0, 1) (mean ± 95 % CI, {len(online)} seeds)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _cdf_figure(online: list[dict], path: Any) -> None:
    fig, ax = new_figure(6.0, 4.0)
    for name in METHODS[:2]:
        final = np.sort(_cumulative(online, name)[:, -1])
        ax.step(final, np.arange(1, final.size + 1) / final.size, where="post", label=name)
    ax.set_xlabel("cumulative pseudo-regret at the last episode")
    ax.set_ylabel("fraction of seeds")
    ax.set_title("Recursive vs joint commit: empirical CDFs over seeds")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _cert_figure(cert: list[dict], path: Any) -> None:
    fig, ax = new_figure(6.0, 4.0)
    sizes = [row["n"] for row in cert[0]["rows"]]
    for key, label in (("slack", "slack (true value − bound)"), ("width", "estimate − bound")):
        values = np.asarray([[row[key] for row in r["rows"]] for r in cert])
        ax.loglog(sizes, values.mean(axis=0), "o-", label=label)
    ax.set_xlabel("offline episodes n")
    ax.set_ylabel("scaled-reward units (mean over seeds)")
    ax.set_title(f"PAC-Bayes certificate vs offline data ({len(cert)} seeds)")
    ax.legend(fontsize=8)
    save_figure(fig, path)


def _transfer_section(online: list[dict], shifts: tuple[float, ...]) -> tuple[str, dict]:
    rows: list[list[str]] = []
    summary: dict[str, Any] = {}
    for name in METHODS:
        cells = []
        for d in shifts:
            ci = mean_ci([r["transfer"][name][str(d)] for r in online])
            cells.append(ci.format(3))
            summary.setdefault(name, {})[str(d)] = {"mean": ci.mean, "ci95": ci.half_width}
        rows.append([name, *cells])
    tests = []
    for d in shifts:
        ncts = np.asarray([r["transfer"][METHODS[0]][str(d)] for r in online])
        for other in METHODS[2:]:
            base = np.asarray([r["transfer"][other][str(d)] for r in online])
            p = float(st.wilcoxon(ncts, base, alternative="less").pvalue)
            summary.setdefault("wilcoxon_p_ncts_less_than", {}).setdefault(other, {})[str(d)] = p
            tests.append([f"Δ = {d:g}", other, f"{np.mean(ncts < base):.2f}", f"{p:.2g}"])
    table = markdown_table(["method", *(f"Δ = {d:g}" for d in shifts)], rows)
    test_table = markdown_table(
        ["shift", "baseline", "fraction of seeds NCTS lower", "one-sided Wilcoxon p"], tests
    )
    return table + "\n\n" + test_table, summary


def _commit_section(online: list[dict]) -> tuple[str, dict]:
    rec = _cumulative(online, METHODS[0])[:, -1]
    joint = _cumulative(online, METHODS[1])[:, -1]
    p = float(st.wilcoxon(rec, joint, alternative="less").pvalue)
    grid = np.union1d(rec, joint)
    cdf_rec = np.searchsorted(np.sort(rec), grid, side="right") / rec.size
    cdf_joint = np.searchsorted(np.sort(joint), grid, side="right") / joint.size
    worst = float(np.max(cdf_joint - cdf_rec))
    ks = float(st.ks_2samp(rec, joint, alternative="greater").pvalue)
    summary: dict[str, Any] = {
        "recursive_final_regret": mean_ci(rec).mean,
        "joint_final_regret": mean_ci(joint).mean,
        "fraction_seeds_recursive_lower": float(np.mean(rec < joint)),
        "wilcoxon_p": p,
        "ks_p_recursive_cdf_above": ks,
        "max_cdf_violation": worst,
        "first_order_dominance": worst <= 0.0,
    }
    gap = mean_ci([r["joint_gap"] for r in online])
    summary["joint_commit_gap_per_episode"] = {"mean": gap.mean, "ci95": gap.half_width}
    text = markdown_table(
        ["", "NCTS (recursive)", "NCTS (joint commit)"],
        [["final cumulative regret", mean_ci(rec).format(1), mean_ci(joint).format(1)]],
    )
    text += (
        f"\n\nRecursive lower on {np.mean(rec < joint):.0%} of seeds; paired one-sided Wilcoxon "
        f"p = {p:.2g}; one-sided KS test that the recursive CDF lies above p = {ks:.2g}; largest "
        f"violation of first-order stochastic dominance max_x (F_joint − F_rec)(x) = {worst:.2f} "
        f"({'none: the recursive CDF is everywhere above' if worst <= 0 else 'dominance fails'})."
        f" With the true model, committing jointly costs {gap.format(3)} per episode against the "
        "recursive optimum (mean ± 95 % CI over instances): the most the recursive commit can "
        "gain per episode once learning is done, to set against its costlier exploration."
    )
    return text, summary


def _cert_section(cert: list[dict]) -> tuple[str, dict]:
    sizes = [row["n"] for row in cert[0]["rows"]]
    rows: list[list[Any]] = []
    summary: dict[str, Any] = {}
    for j, n in enumerate(sizes):
        get = {k: [r["rows"][j][k] for r in cert] for k in cert[0]["rows"][0]}
        width, lower, true = (
            mean_ci(get["slack"]),
            mean_ci(get["lower"]),
            mean_ci(get["true_value"]),
        )
        gain = mean_ci(get["certified_gain_over_legacy"])
        cover = float(np.mean(get["covered"]))
        rows.append([n, width.format(4), lower.format(4), true.format(4), gain.format(4),
                     mean_ci(get["kl"]).format(1), f"{cover:.0%}"])  # fmt: skip
        summary[str(n)] = {"slack": width.mean, "slack_ci95": width.half_width,
                           "lower": lower.mean, "true_value": true.mean, "coverage": cover,
                           "certified_gain": gain.mean}  # fmt: skip
    logs = np.log(np.asarray(sizes, dtype=float))
    slopes = [np.polyfit(logs, np.log([row["slack"] for row in r["rows"]]), 1)[0] for r in cert]
    slope = mean_ci(slopes)
    first = np.asarray([r["rows"][0]["slack"] for r in cert])
    last = np.asarray([r["rows"][-1]["slack"] for r in cert])
    p = float(st.wilcoxon(last, first, alternative="less").pvalue)
    summary["slack_loglog_slope"] = {"mean": slope.mean, "ci95": slope.half_width}
    summary["wilcoxon_p_last_below_first"] = p
    headers = ["n", "slack (true value − bound)", "certified lower bound", "true value of π_Q",
               "certified gain over legacy", "KL(Q‖P)", "coverage"]  # fmt: skip
    text = markdown_table(headers, rows) + (
        "\n\nThe contraction is measured by the slack: true value of π_Q minus the certified "
        "lower bound (≥ 0 whenever the bound holds; the estimate − bound width saturates while "
        f"the bound is vacuous). Log–log slope of the slack against n: {slope.format(3)} (95 % "
        f"CI over seeds); paired one-sided Wilcoxon, slack at n = {sizes[-1]} below n = "
        f"{sizes[0]}: p = {p:.2g}. "
        f"Legacy (uniform) value {mean_ci([r['legacy_value'] for r in cert]).format(4)}, optimal "
        f"{mean_ci([r['optimal_value'] for r in cert]).format(4)} (scaled units)."
    )
    return text, summary


def run(ctx: ExperimentContext) -> dict[str, Any]:
    started = time.perf_counter()
    protocol = QUICK if ctx.quick else FULL
    jobs = [
        Job(f"online-{s}", run_online, {"seed": s, "episodes": protocol.episodes,
            "eval_episodes": protocol.eval_episodes, "shifts": list(protocol.shifts)})
        for s in range(ctx.seeds)
    ] + [
        Job(f"cert-{s}", run_certificate, {"seed": s, "sizes": list(protocol.data_sizes),
            "draws": protocol.draws, "value_contexts": protocol.value_contexts})
        for s in range(ctx.seeds)
    ]  # fmt: skip
    results = run_jobs(jobs, workers=ctx.workers, description="ncts")
    online, cert = results[: ctx.seeds], results[ctx.seeds :]
    _curve_figure(online, ctx.out / "regret_curves.png")
    _cdf_figure(online, ctx.out / "commit_cdf.png")
    _cert_figure(cert, ctx.out / "certificate.png")
    transfer_text, transfer = _transfer_section(online, protocol.shifts)
    commit_text, commit = _commit_section(online)
    cert_text, certificate = _cert_section(cert)
    finals = {n: mean_ci(_cumulative(online, n)[:, -1]) for n in METHODS}
    verdicts = _verdicts(transfer, commit, certificate, protocol.shifts)
    sections = [
        "Source: " + SEEDS_FILE + ". The abstract is all we have of the paper: the SCM, the "
        "baselines' kernels and priors, the certificate's form and every test below are our "
        "choices, documented here and in `hrrl.tasks.causal_scm` / `hrrl.agents.ncts`.",
        "## Claims and verdicts\n\n"
        + markdown_table(["claim (003:2)", "ours", "verdict"], verdicts),
        f"## Online learning ({protocol.episodes} episodes, {ctx.seeds} seeds)\n\n"
        + markdown_table(
            ["method", "final cumulative pseudo-regret (mean ± 95 % CI)"],
            [[n, ci.format(1)] for n, ci in finals.items()],
        )
        + "\n\n![regret curves](regret_curves.png)",
        f"## 1. Zero-shot transfer under exogenous shift u ~ N(Δ, 1)\n\nMean pseudo-regret per "
        f"episode of the frozen learners ({protocol.eval_episodes} episodes per shift, one "
        f"posterior draw per episode; mean ± 95 % CI over {ctx.seeds} seeds).\n\n" + transfer_text,
        "## 2. Recursive vs joint commit (same NCTS posterior family)\n\n"
        + commit_text
        + "\n\n![CDF](commit_cdf.png)",
        "## 3. PAC-Bayes certificate as offline data grows\n\n"
        + cert_text
        + "\n\n![certificate](certificate.png)",
        _notes(protocol),
        f"## Run time\n\n{time.perf_counter() - started:.0f} s with {ctx.workers} worker "
        f"processes; {load_note()}",
    ]
    write_report(ctx.out / "REPORT.md", "NCTS on a hierarchical SCM", ctx.command, sections)
    return {
        "final_cumulative_regret": {
            n: {"mean": c.mean, "ci95": c.half_width} for n, c in finals.items()
        },
        "transfer_regret": transfer,
        "commit": commit,
        "certificate": certificate,
        "verdicts": {row[0]: row[2] for row in verdicts},
        "protocol": protocol.__dict__,
    }


def _verdicts(transfer: dict, commit: dict, cert: dict, shifts) -> list[list[str]]:
    big = str(max(shifts))
    p_rff = transfer["wilcoxon_p_ncts_less_than"]["RFF-GP joint TS"][big]
    ncts, rff = transfer[METHODS[0]][big]["mean"], transfer["RFF-GP joint TS"][big]["mean"]
    slope = cert["slack_loglog_slope"]
    return [
        [CLAIMS["transfer"], f"at Δ = {big}: NCTS {ncts:.3f} vs RFF-GP {rff:.3f} regret/episode, "
         f"p = {p_rff:.2g}", "reproduced" if p_rff < 0.05 and ncts < rff else "not reproduced"],
        [CLAIMS["commit"], f"final regret {commit['recursive_final_regret']:.1f} vs "
         f"{commit['joint_final_regret']:.1f}, Wilcoxon p = {commit['wilcoxon_p']:.2g}, "
         f"CDF violation {commit['max_cdf_violation']:.2f}",
         "reproduced" if commit["wilcoxon_p"] < 0.05 and commit["first_order_dominance"]
         else ("partly: significant in mean, no first-order dominance"
               if commit["wilcoxon_p"] < 0.05 else "not reproduced")],
        [CLAIMS["certificate"], f"slack slope {slope['mean']:.2f} ± {slope['ci95']:.2f} on "
         f"log–log, p = {cert['wilcoxon_p_last_below_first']:.2g}",
         "reproduced" if slope["mean"] + slope["ci95"] < 0
         and cert["wilcoxon_p_last_below_first"] < 0.05 else "not reproduced"],
    ]  # fmt: skip


NOTES = """## Protocol and notes (our choices)

- SCM (`hrrl.tasks.causal_scm`): u ~ N(0, 1); 3 meta arms, c = θ1[a1]·(1, u) + {s1}·ε;
  3 inner arms, y = θ2[a2]·(1, c, c²) + {s2}·ε; coefficients of degree 0, 1, 2 drawn N(0, 1),
  N(0, 1), N(0, 0.3²) per seed. NCTS knows the feature degrees and noise levels and has the true
  prior (well specified).
- RFF-GP joint TS: per arm pair, Bayesian linear regression of y on a constant plus 64 random
  Fourier features of u (RBF kernel, lengthscale 1, signal std 2; noise std 1). Polynomial joint
  TS: per arm pair, y on (1, u, u²) — the exact form of E[y | u, a1, a2] in this SCM, i.e. the same
  function class seen jointly. Both commit to (a1, a2) before c is seen and never use c.
- Regret is pseudo-regret against the recursive optimum V*(u), by 40-node Gauss–Hermite
  quadrature over c; all methods see the same contexts u (common random numbers).
- Certificate: behaviour = uniform at both levels (the legacy controller); rewards scaled to
  [0, 1] by clip((y − {lo:g}) / {span:g}). For the Gibbs policy π_Q of the NCTS posterior Q
  (prior P = NCTS's prior), the importance-weighted value 1[π_θ plays the logged arms at both
  levels]·ỹ/propensity is bounded by PAC-Bayes-kl (Seeger 2002, Maurer 2004) with KL(Q‖P) of the
  two mechanisms' Gaussians, anytime through δ_n = δ/(n(n+1)), δ = 0.05, the Gibbs mean over
  {draws} posterior draws lower-bounded by empirical Bernstein (δ/2). A valid certificate of our
  construction, not the paper's bound (the abstract does not state it). The 'true value' column
  checks it (quadrature, 64 draws × {contexts} contexts).
- Significance: paired one-sided Wilcoxon signed-rank tests over seeds (one SCM instance per
  seed); 'dominates in distribution' is read as first-order stochastic dominance of the per-seed
  final regret (recursive CDF above the joint CDF everywhere).
- Not built: the progressive certified handover (the abstract's combination of the three
  results); only its ingredient, the certified gain over the legacy controller, is reported.
"""


def _notes(protocol: Protocol) -> str:
    lo, hi = REWARD_RANGE
    return NOTES.format(s1=SIGMA1, s2=SIGMA2, lo=lo, span=hi - lo, draws=protocol.draws,
                        contexts=protocol.value_contexts)  # fmt: skip


EXPERIMENT = Experiment(
    name="ncts-hierarchical-scm",
    summary="NCTS vs RFF-GP joint Thompson sampling on a hierarchical SCM: transfer, commit, "
    "PAC-Bayes certificate (003 line 2)",
    run=run,
    default_seeds=12,
    quick_seeds=6,
)

__all__ = ["EXPERIMENT", "run_certificate", "run_online"]
