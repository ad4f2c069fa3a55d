"""Option discovery for finite MDPs: bottleneck subgoals, eigenoptions and DIAYN skills.

Every learner here reads only a goal-free transition model ``dynamics[s, a, s']`` (and the graph it
induces); none knows a particular domain. Each returns :class:`~hrrl.agents.options.Option` objects
that any option learner can use beside the primitives.

* **Bottleneck subgoals** (the survey's "bottleneck states based" discovery, seed 001 line 40):
  betweenness centrality of the undirected transition graph, its local maxima (non-maximum
  suppression within ``radius`` edges) as subgoal candidates, optionally *snapped* to the
  narrowest cell (lowest degree) next to each peak whose centrality is within ``tolerance`` of
  it. :func:`subgoal_options` cuts the graph at the subgoals and builds, for every subgoal and
  every region it borders, an option that goes from the region to the subgoal (the construction
  of the hand-made hallway options, done from the graph alone).
* **Eigenoptions** (Machado, Bellemare & Bowling 2017): eigenvectors ``e`` of the normalised graph
  Laplacian with the smallest non-zero eigenvalues; for ``±e`` an option maximises the intrinsic
  reward ``e(s') − e(s)`` (value iteration on the model, with the option free to stop at value
  0) and stops where no further increase is worth it.
* **DIAYN** (Eysenbach et al. 2018; survey seed 001 lines 42–46): ``n_skills`` skill-conditioned
  soft-Q tables trained on the reward ``log q(z | s') − log p(z)``, with a small torch
  discriminator ``q(z | s)`` (an MLP on given state features, one-hot by default) trained by
  cross-entropy on the states the skills visit. A skill
  becomes an option: its greedy policy, started where the discriminator does not yet name it,
  stopping once it does (``q(z | s) ≥ threshold``) or with a small floor probability anywhere.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import torch

from hrrl.agents.options import Option
from hrrl.core.checkpoint import load_checkpoint, restore_rng, rng_state, save_checkpoint
from hrrl.core.learner import StateArrays
from hrrl.core.logging import Logger, log_step
from hrrl.core.rollout import Step, run_episode
from hrrl.core.seeding import init_module, make_rng
from hrrl.core.tabular import SampledModel, sample_index


# ---------------------------------------------------------------------------------- the graph
def transition_graph(dynamics: np.ndarray) -> nx.Graph:
    """Undirected graph on states 0..S−1: an edge where some action moves s to s' ≠ s."""
    n_states = dynamics.shape[0]
    graph = nx.Graph()
    graph.add_nodes_from(range(n_states))
    src, _, dst = np.nonzero(dynamics > 0)
    graph.add_edges_from((int(a), int(b)) for a, b in zip(src, dst, strict=True) if a != b)
    return graph


@dataclass(frozen=True)
class Bottlenecks:
    """What :func:`betweenness_subgoals` found."""

    centrality: np.ndarray
    """Float (S,): betweenness centrality of every state (normalised, networkx)."""
    peaks: tuple[int, ...]
    """The ``k`` local maxima of centrality, highest first."""
    subgoals: tuple[int, ...]
    """The peaks snapped to the narrowest nearby cell (equal to ``peaks`` without refinement)."""


def betweenness_subgoals(
    graph: nx.Graph, k: int, radius: int = 2, refine: bool = True, tolerance: float = 0.1
) -> Bottlenecks:
    """The ``k`` highest betweenness peaks, at least ``radius + 1`` edges apart.

    With ``refine``, each peak moves to the lowest-degree node among itself and its neighbours
    whose centrality is at least ``(1 − tolerance)`` × the peak's (ties: higher centrality, then
    lower index): on a grid the betweenness peak of a doorway lies one cell inside a room (paths
    within the room add to it), while the doorway itself is the narrowest cell.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    bc = nx.betweenness_centrality(graph)
    centrality = np.array([bc[n] for n in range(graph.number_of_nodes())])
    order = sorted(range(centrality.size), key=lambda n: (-centrality[n], n))
    peaks: list[int] = []
    blocked: set[int] = set()
    for node in order:
        if node in blocked:
            continue
        peaks.append(node)
        blocked |= set(nx.single_source_shortest_path_length(graph, node, cutoff=radius))
        if len(peaks) == k:
            break
    subgoals = [_narrowest(graph, p, centrality, tolerance) if refine else p for p in peaks]
    return Bottlenecks(centrality, tuple(peaks), tuple(subgoals))


def _narrowest(graph: nx.Graph, peak: int, centrality: np.ndarray, tolerance: float) -> int:
    floor = (1.0 - tolerance) * centrality[peak]
    near = [n for n in [peak, *graph.neighbors(peak)] if centrality[n] >= floor]
    return min(near, key=lambda n: (graph.degree[n], -centrality[n], n))


# -------------------------------------------------------------------------- subgoal options
def subgoal_options(
    dynamics: np.ndarray, graph: nx.Graph, subgoals: Sequence[int], prefix: str = "to"
) -> list[Option]:
    """Options that reach each subgoal from each region the subgoals cut the graph into.

    Regions: connected components of the graph without the subgoals. For a subgoal g bordering a
    region C, the option's domain is C plus the subgoals bordering C; it may start anywhere in the
    domain but g, acts greedily on the expected shortest-path distance to g (inside the domain)
    after one step of ``dynamics``, never stops inside its initiation set and always stops
    outside it (at g, or after slipping out of the domain).
    """
    goals = [int(g) for g in subgoals]
    rest = graph.subgraph(set(graph.nodes) - set(goals))
    regions = sorted((sorted(c) for c in nx.connected_components(rest)), key=lambda c: c[0])
    options = []
    for region in regions:
        members = set(region)
        borders = [g for g in goals if any(n in members for n in graph.neighbors(g))]
        for g in borders:
            domain = members | set(borders)
            options.append(
                _reach_option(dynamics, graph, domain, g, f"{prefix} {g} from R{region[0]}")
            )
    return options


def _reach_option(
    dynamics: np.ndarray, graph: nx.Graph, domain: set[int], goal: int, name: str
) -> Option:
    n_states = dynamics.shape[0]
    far = 10.0 * n_states
    distance = np.full(n_states, far)
    distance[goal] = 0.0
    queue = deque([goal])
    while queue:
        s = queue.popleft()
        for nxt in sorted(graph.neighbors(s)):
            if nxt in domain and distance[nxt] == far:
                distance[nxt] = distance[s] + 1
                queue.append(nxt)
    initiation = np.zeros(n_states, dtype=bool)
    initiation[sorted(domain - {goal})] = True
    policy = np.where(initiation, np.argmin(dynamics @ distance, axis=1), -1)
    return Option(name, initiation, policy, np.where(initiation, 0.0, 1.0))


# ----------------------------------------------------------------------------- eigenoptions
def laplacian_eigenvectors(graph: nx.Graph, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` eigenpairs of the normalised Laplacian after the first (smallest) one.

    Returns (eigenvalues (k,), eigenvectors (S, k)); each vector's sign is fixed so that its
    largest-magnitude entry is positive, which makes the result deterministic.
    """
    nodes = list(range(graph.number_of_nodes()))
    lap = nx.normalized_laplacian_matrix(graph, nodelist=nodes).toarray()
    values, vectors = np.linalg.eigh(lap)
    values, vectors = values[1 : k + 1], vectors[:, 1 : k + 1]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])])
    return values, vectors * signs


def eigenoption(
    dynamics: np.ndarray,
    vector: np.ndarray,
    gamma: float = 0.9,
    name: str = "eig",
    tol: float = 1e-8,
) -> Option:
    """The option that climbs ``vector``: reward ``e(s') − e(s)``, stop where value ≤ 0."""
    dynamics.shape[0]
    reward = dynamics @ vector - vector[:, None]  # (S, A): expected e(s') − e(s)
    q = np.zeros_like(reward)
    for _ in range(10_000):
        cont = np.maximum(q.max(axis=1), 0.0)  # the option may stop (value 0) in any state
        new = reward + gamma * dynamics @ cont
        if np.max(np.abs(new - q)) < 1e-12:
            q = new
            break
        q = new
    initiation = q.max(axis=1) > tol
    if not initiation.any():
        raise ValueError("this eigenvector gives an option that never starts")
    policy = np.argmax(q, axis=1).astype(np.int64)
    return Option(name, initiation, policy, np.where(initiation, 0.0, 1.0))


def eigenoptions(
    dynamics: np.ndarray, graph: nx.Graph, k: int, gamma: float = 0.9
) -> tuple[list[Option], np.ndarray]:
    """Two options (±e) for each of the first ``k`` non-trivial Laplacian eigenvectors."""
    _, vectors = laplacian_eigenvectors(graph, k)
    options = []
    for i in range(k):
        for sign, tag in ((1.0, "+"), (-1.0, "-")):
            options.append(eigenoption(dynamics, sign * vectors[:, i], gamma, f"eig{i + 1}{tag}"))
    return options, vectors


# -------------------------------------------------------------------------------------- DIAYN
@dataclass(frozen=True)
class DiaynConfig:
    """Hyper-parameters of :class:`DiaynLearner`."""

    n_skills: int = 4
    """Number of skills z, drawn uniformly (p(z) = 1 / n_skills) at the start of each episode."""
    episodes: int = 1200
    """Training episodes."""
    episode_length: int = 30
    """Steps per episode (no reward, no termination: the model is sampled, not an env)."""
    alpha: float = 0.5
    """Step size of the soft-Q update."""
    gamma: float = 0.9
    """Discount of the intrinsic return."""
    temperature: float = 0.05
    """Entropy temperature τ: the policy is softmax(Q / τ), V = τ logsumexp(Q / τ)."""
    hidden: int = 32
    """Hidden units of the discriminator q(z | s) (one-hot state in, skill logits out)."""
    disc_lr: float = 0.02
    """Adam step size of the discriminator."""
    disc_steps: int = 1
    """Adam steps of the discriminator after each episode, each on a minibatch of past (s', z)."""
    disc_batch: int = 256
    """Minibatch size, drawn uniformly from every (s', z) visited so far (skills mixed, kept as
    visit counts)."""
    threshold: float = 0.5
    """A skill's option stops on entering a state where q(z | s) ≥ threshold."""
    beta_floor: float = 0.05
    """…and with this probability anywhere else, so every skill option ends."""


class DiaynLearner(StateArrays):
    """DIAYN on a known tabular model: soft-Q skill tables + a torch discriminator.

    Episodes start in a uniformly random state; each step samples s' from ``dynamics`` (a
    :class:`~hrrl.core.tabular.SampledModel` on the learner's generator, played by
    :func:`~hrrl.core.rollout.run_episode`). The skill
    reward ``log q(z | s') − log p(z)`` uses the discriminator as it stands at the start of the
    episode; after the episode the discriminator takes one Adam step on the visited (s', z).
    """

    STATE = ("q", "discriminator")
    """What it has learned (the learner contract, :mod:`hrrl.core.learner`; Adam's moments are
    not kept, so training resumed from a checkpoint restarts them)."""

    def __init__(
        self,
        dynamics: np.ndarray,
        config: DiaynConfig,
        seed: int,
        features: np.ndarray | None = None,
    ) -> None:
        self.dynamics = np.asarray(dynamics, dtype=float)
        self.n_states, self.n_actions, _ = self.dynamics.shape
        self.features = np.eye(self.n_states) if features is None else np.asarray(features, float)
        if self.features.shape[0] != self.n_states:
            raise ValueError("features needs one row per state")
        self._inputs = torch.as_tensor(self.features, dtype=torch.float32)
        self.config = config
        self.seed = int(seed)
        self.rng = make_rng(seed)
        self.q = np.zeros((config.n_skills, self.n_states, self.n_actions))
        self.discriminator = torch.nn.Sequential(
            torch.nn.Linear(self.features.shape[1], config.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(config.hidden, config.n_skills),
        )
        init_module(self.discriminator, seed)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=config.disc_lr)
        self.episodes_done = 0
        self._visits = np.zeros((config.n_skills, self.n_states))

    # ------------------------------------------------------------------------ discriminator
    def skill_probs(self) -> np.ndarray:
        """(S, Z): q(z | s) for every state."""
        with torch.no_grad():
            logits = self.discriminator(self._inputs)
            return torch.softmax(logits, dim=1).numpy().astype(float)

    def _policy(self, z: int, s: int) -> np.ndarray:
        logits = self.q[z, s] / self.config.temperature
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def _value(self, z: int, s: int) -> float:
        tau = self.config.temperature
        logits = self.q[z, s] / tau
        top = logits.max()
        return float(tau * (top + np.log(np.exp(logits - top).sum())))

    # ----------------------------------------------------------------------------- training
    def train(self, episodes: int | None = None, logger: Logger | None = None) -> list[float]:
        """Run ``episodes`` (default: the config's remainder); mean log q(z|s') per episode (also
        to ``logger``, at the episode's index)."""
        cfg = self.config
        todo = cfg.episodes - self.episodes_done if episodes is None else episodes
        scores = []
        for _ in range(max(todo, 0)):
            log_q = np.log(np.clip(self.skill_probs(), 1e-8, 1.0))
            z = int(self.rng.integers(cfg.n_skills))
            visited = self._episode(z, log_q)
            scores.append(float(np.mean(log_q[visited, z])))
            self._visits[z, visited] += 1
            for _ in range(cfg.disc_steps):
                self._discriminator_step()
            log_step(logger, self.episodes_done, {"log_q": scores[-1]})
            self.episodes_done += 1
        return scores

    def _episode(self, z: int, log_q: np.ndarray) -> list[int]:
        """One episode of skill ``z`` on the model, soft-Q learning on ``log q(z | s') − log p(z)``
        (``log_q``: the discriminator's log-probabilities at its start); the states visited."""
        cfg = self.config
        log_pz = -np.log(cfg.n_skills)
        visited: list[int] = []

        def act(s: int) -> int:
            return sample_index(np.cumsum(self._policy(z, s)), self.rng.random())

        def observe(step: Step) -> None:
            s, a, nxt = step.obs, step.action, step.next_obs
            reward = log_q[nxt, z] - log_pz
            target = reward + cfg.gamma * self._value(z, nxt)
            self.q[z, s, a] += cfg.alpha * (target - self.q[z, s, a])
            visited.append(nxt)

        run_episode(SampledModel(self.dynamics, cfg.episode_length, self.rng), act, observe)
        return visited

    def _discriminator_step(self) -> None:
        counts = self._visits.ravel()
        pick = self.rng.choice(counts.size, size=self.config.disc_batch, p=counts / counts.sum())
        skills, states = np.divmod(pick, self.n_states)
        inputs = self._inputs[torch.as_tensor(states)]
        target = torch.as_tensor(skills, dtype=torch.long)
        loss = torch.nn.functional.cross_entropy(self.discriminator(inputs), target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    # ------------------------------------------------------------------------------ options
    def skill_options(self) -> list[Option]:
        """Each skill as an option (see the module docstring)."""
        cfg = self.config
        probs = self.skill_probs()
        options = []
        for z in range(cfg.n_skills):
            reached = probs[:, z] >= cfg.threshold
            initiation = ~reached
            if not initiation.any():
                continue
            policy = np.argmax(self.q[z], axis=1).astype(np.int64)
            beta = np.where(reached, 1.0, cfg.beta_floor)
            options.append(Option(f"skill{z}", initiation, policy, beta))
        return options

    # ---------------------------------------------------------------------------- save/load
    def save(self, folder: str | Path) -> Path:
        """Safetensors: skill tables, discriminator, Adam moments; JSON: the rest."""
        opt = self.optimizer.state_dict()
        moments: dict[str, torch.Tensor] = {}
        steps: dict[str, float] = {}
        for idx, st in opt["state"].items():
            moments[f"{idx}.exp_avg"] = st["exp_avg"]
            moments[f"{idx}.exp_avg_sq"] = st["exp_avg_sq"]
            steps[str(idx)] = float(st["step"])
        state: dict[str, Any] = {
            "config": asdict(self.config),
            "seed": self.seed,
            "episodes_done": self.episodes_done,
            "rng": rng_state(self.rng),
            "adam_steps": steps,
            "visits": self._visits.tolist(),
        }
        tensors = {
            "q": {"table": torch.from_numpy(self.q)},
            "discriminator": self.discriminator.state_dict(),
            "adam": moments,
            "model": {
                "dynamics": torch.from_numpy(self.dynamics),
                "features": torch.from_numpy(self.features),
            },
        }
        return save_checkpoint(folder, tensors, state)

    @classmethod
    def load(cls, folder: str | Path) -> DiaynLearner:
        groups, state = load_checkpoint(folder)
        model = groups["model"]
        learner = cls(
            model["dynamics"].numpy(),
            DiaynConfig(**state["config"]),
            state["seed"],
            features=model["features"].numpy(),
        )
        learner.q = groups["q"]["table"].numpy().copy()
        learner.discriminator.load_state_dict(groups["discriminator"])
        opt = learner.optimizer.state_dict()
        for idx_text, step in state["adam_steps"].items():
            idx = int(idx_text)
            opt["state"][idx] = {
                "step": torch.tensor(step),
                "exp_avg": groups["adam"][f"{idx}.exp_avg"],
                "exp_avg_sq": groups["adam"][f"{idx}.exp_avg_sq"],
            }
        learner.optimizer.load_state_dict(opt)
        learner.rng = restore_rng(state["rng"])
        learner.episodes_done = int(state["episodes_done"])
        learner._visits = np.asarray(state["visits"], dtype=float)
        return learner
