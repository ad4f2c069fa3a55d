"""Linear probes and information measures for representation diagnostics (e.g. HiMeta's z, y)."""

from __future__ import annotations

import numpy as np


def _design(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((x.shape[0], 1))], axis=1)


def ridge_fit(x: np.ndarray, y: np.ndarray, ridge: float = 1e-3) -> np.ndarray:
    """Least squares with a bias column and a small ridge; returns the weights."""
    d = _design(x)
    return np.linalg.solve(d.T @ d + ridge * np.eye(d.shape[1]), d.T @ y)


def linear_r2(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray
) -> float:
    """Held-out R² of a linear map ``x → y`` (averaged over output dimensions by variance)."""
    w = ridge_fit(x_train, y_train)
    pred = _design(x_test) @ w
    ss_res = float(((y_test - pred) ** 2).sum())
    ss_tot = float(((y_test - y_test.mean(0)) ** 2).sum())
    return 1.0 - ss_res / max(ss_tot, 1e-12)


def linear_accuracy(
    x_train: np.ndarray, labels_train: np.ndarray, x_test: np.ndarray, labels_test: np.ndarray
) -> float:
    """Held-out accuracy of a least-squares one-vs-all linear classifier."""
    classes = np.unique(np.concatenate([labels_train, labels_test]))
    onehot = (labels_train[:, None] == classes[None]).astype(float)
    w = ridge_fit(x_train, onehot)
    pred = classes[np.argmax(_design(x_test) @ w, axis=1)]
    return float((pred == labels_test).mean())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (bits) between two discrete label arrays, from their joint counts."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    joint = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(joint, (ai, bi), 1.0)
    joint /= joint.sum()
    pa, pb = joint.sum(1, keepdims=True), joint.sum(0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log2(joint[nz] / (pa @ pb)[nz])).sum())


def entropy_bits(labels: np.ndarray) -> float:
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def mean_cosine(u: np.ndarray, v: np.ndarray, min_norm: float = 1e-6) -> float:
    """Mean cosine similarity of paired rows, ignoring rows where either vector is ~0."""
    nu, nv = np.linalg.norm(u, axis=1), np.linalg.norm(v, axis=1)
    keep = (nu > min_norm) & (nv > min_norm)
    if not keep.any():
        return float("nan")
    return float(((u[keep] * v[keep]).sum(1) / (nu[keep] * nv[keep])).mean())


def macro_diagnostics(
    z: np.ndarray,
    obs: np.ndarray,
    y: np.ndarray,
    task: np.ndarray,
    horizon: int,
    k: int,
    z_dims: tuple[int, ...],
    obs_dims: tuple[int, ...],
    ego_indices: tuple[int, ...],
    replicas_train: np.ndarray,
) -> dict[str, float]:
    """Is a macro-action directional and task-agnostic? From evaluation trials ``(T, N, ·)``:

    * ``cos_z_delta``: mean cos(z[z_dims]_t, obs[obs_dims]_{t+k} − obs[obs_dims]_t) within episodes;
    * ``r2_z_to_dego``: held-out R² of a linear probe z_t → Δego over k steps;
    * ``task_acc_from_z`` / ``task_acc_from_y``: held-out task-id probe accuracy (chance 1/#tasks);
    * ``mi_argmax_y_task_bits`` and ``task_entropy_bits``.

    ``replicas_train`` marks the columns (trials) used to fit probes; the others test them.
    """
    T, n = z.shape[:2]
    t = np.arange(T)
    valid_t = (t % horizon) + k < horizon
    valid_t &= t + k < T
    ts = t[valid_t]
    dz = z[ts][..., list(z_dims)]
    delta = obs[ts + k][..., list(obs_dims)] - obs[ts][..., list(obs_dims)]
    ego = list(ego_indices)
    dego = obs[ts + k][..., ego] - obs[ts][..., ego]
    out = {
        "cos_z_delta": mean_cosine(dz.reshape(-1, dz.shape[-1]), delta.reshape(-1, len(obs_dims)))
    }
    tr, te = replicas_train, ~replicas_train
    zt = z[ts]
    out["r2_z_to_dego"] = linear_r2(
        zt[:, tr].reshape(-1, z.shape[-1]), dego[:, tr].reshape(-1, len(ego)),
        zt[:, te].reshape(-1, z.shape[-1]), dego[:, te].reshape(-1, len(ego)),
    )  # fmt: skip
    out["task_acc_from_z"] = linear_accuracy(
        z[:, tr].reshape(-1, z.shape[-1]), np.broadcast_to(task[tr], (T, tr.sum())).ravel(),
        z[:, te].reshape(-1, z.shape[-1]), np.broadcast_to(task[te], (T, te.sum())).ravel(),
    )  # fmt: skip
    if y.shape[-1] > 0:
        out["task_acc_from_y"] = linear_accuracy(
            y[:, tr].reshape(-1, y.shape[-1]), np.broadcast_to(task[tr], (T, tr.sum())).ravel(),
            y[:, te].reshape(-1, y.shape[-1]), np.broadcast_to(task[te], (T, te.sum())).ravel(),
        )  # fmt: skip
        labels = np.broadcast_to(task[None], (T, n)).ravel()
        out["mi_argmax_y_task_bits"] = mutual_information(y.argmax(-1).ravel(), labels)
    out["task_entropy_bits"] = entropy_bits(task)
    return out
