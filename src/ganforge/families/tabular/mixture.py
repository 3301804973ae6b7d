"""Mode-specific normalization: a Gaussian mixture per continuous column, fitted for all columns at once.

The mixture has ``max_modes`` components per column and a stick-breaking (Dirichlet process) prior on
the weights with a small concentration, fitted by variational EM on the weights (expected log weights
from the stick lengths) with point estimates of the means and variances. Components left with a weight
under ``weight_threshold`` are dropped, as in CTGAN. Everything is one batched tensor computation over
(columns, rows, modes): fitting 100k rows x 20 columns takes seconds, where one scikit-learn
BayesianGaussianMixture per column takes minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

VARIANCE_FLOOR = 1e-6  # in units of the column's variance: spikes (repeated values) stay finite


@dataclass
class Modes:
    """The fitted modes of one column (original units)."""

    means: list[float]
    stds: list[float]
    weights: list[float]
    exact: bool = False  # one spike per distinct training value (``transform.value_modes``), not a mixture


def fit_modes(columns: list[np.ndarray], max_modes: int = 10, concentration: float = 1e-3,
              weight_threshold: float = 5e-3, iterations: int = 100, max_rows: int = 20_000,
              seed: int = 0) -> list[Modes]:
    """The modes of each 1-D array of finite values (at most ``max_rows`` of each, drawn with ``seed``)."""
    if not columns:
        return []
    rng = np.random.default_rng(seed)
    picked = [c if len(c) <= max_rows else rng.choice(c, max_rows, replace=False) for c in columns]
    length = max(len(c) for c in picked)
    x = np.zeros((len(picked), length), dtype=np.float32)
    w = np.zeros((len(picked), length), dtype=np.float32)
    for i, c in enumerate(picked):
        x[i, : len(c)], w[i, : len(c)] = c, 1.0
    x_t, w_t = torch.from_numpy(x), torch.from_numpy(w)
    center = (x_t * w_t).sum(1, keepdim=True) / w_t.sum(1, keepdim=True)
    scale = ((((x_t - center) ** 2) * w_t).sum(1, keepdim=True) / w_t.sum(1, keepdim=True)).sqrt().clamp_min(1e-12)
    z = (x_t - center) / scale
    means, variances, weights = _em(z, w_t, max_modes, concentration, iterations)
    result = []
    for i in range(len(picked)):
        keep = weights[i] > weight_threshold
        if not keep.any():
            keep = weights[i] == weights[i].max()
        mu = (means[i][keep] * scale[i] + center[i]).tolist()
        sd = (variances[i][keep].sqrt() * scale[i]).tolist()
        pi = (weights[i][keep] / weights[i][keep].sum()).tolist()
        result.append(_merge_close(mu, sd, pi))
    return result


def _merge_close(mu: list[float], sd: list[float], pi: list[float]) -> Modes:
    """Sorted modes, with modes closer than half a standard deviation merged (e.g. several fitted to one
    spike of repeated values)."""
    merged: list[tuple[float, float, float]] = []  # (weight, mean, variance)
    for j in np.argsort(mu):
        m, v, w = mu[j], max(sd[j], 1e-12) ** 2, pi[j]
        if merged:
            pw, pm, pv = merged[-1]
            if abs(m - pm) < 0.5 * np.sqrt(min(v, pv)):
                total = pw + w
                mean = (pw * pm + w * m) / total
                var = (pw * (pv + (pm - mean) ** 2) + w * (v + (m - mean) ** 2)) / total
                merged[-1] = (total, mean, var)
                continue
        merged.append((w, m, v))
    return Modes([float(m) for _, m, _ in merged], [float(np.sqrt(v)) for _, _, v in merged],
                 [float(w) for w, _, _ in merged])


def _em(z: torch.Tensor, w: torch.Tensor, k: int, concentration: float,
        iterations: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batched EM on standardized values ``z`` [C, N] with row weights ``w`` (0 = padding)."""
    cols = z.shape[0]
    # initial means at evenly spaced quantiles of each column (padding sorts to the end)
    order = torch.where(w > 0, z, torch.full_like(z, float("inf"))).sort(1).values
    counts = w.sum(1)
    ranks = ((torch.arange(k, dtype=z.dtype) + 0.5) / k)[None, :] * (counts[:, None] - 1)
    means = order.gather(1, ranks.round().long())
    variances = torch.full((cols, k), 1.0 / k, dtype=z.dtype)
    log_pi = torch.full((cols, k), -float(np.log(k)), dtype=z.dtype)
    alive = torch.ones(cols, k, dtype=torch.bool)
    nk = torch.zeros(cols, k, dtype=z.dtype)
    for step in range(iterations):
        previous = means
        log_p = (log_pi[:, None, :] - 0.5 * torch.log(2 * torch.pi * variances[:, None, :])
                 - 0.5 * (z[:, :, None] - means[:, None, :]) ** 2 / variances[:, None, :])
        log_p = log_p.masked_fill(~alive[:, None, :], -float("inf"))
        resp = torch.softmax(log_p, dim=2) * w[:, :, None]
        nk = resp.sum(1)  # [C, K]
        safe = nk.clamp_min(1e-10)
        means = torch.where(alive, (resp * z[:, :, None]).sum(1) / safe, means)
        var = (resp * (z[:, :, None] - means[:, None, :]) ** 2).sum(1) / safe
        variances = torch.where(alive, var.clamp_min(VARIANCE_FLOOR), variances)
        log_pi = _stick_breaking_log_weights(nk, concentration)
        alive = alive & (nk / counts[:, None] > 1e-4)
        if step % 10 == 9 and float((means - previous).abs().max()) < 1e-4:
            break  # converged (in units of the column's standard deviation)
    weights = (nk / counts[:, None]) * alive
    return means, variances, weights


def _stick_breaking_log_weights(nk: torch.Tensor, concentration: float) -> torch.Tensor:
    """E[log pi_k] under the variational posterior of a Dirichlet process's stick lengths."""
    after = nk.flip(1).cumsum(1).flip(1) - nk  # sum_{j>k} n_j
    a, b = 1.0 + nk, concentration + after
    log_v = torch.digamma(a) - torch.digamma(a + b)
    log_1mv = torch.digamma(b) - torch.digamma(a + b)
    return log_v + torch.cat([torch.zeros_like(log_1mv[:, :1]), log_1mv.cumsum(1)[:, :-1]], dim=1)


def assign_modes(values: np.ndarray, modes: Modes) -> tuple[np.ndarray, np.ndarray]:
    """The most likely mode of each value (among those within 4 std of it) and its offset
    ``(x - mean) / (4 std)`` in that mode; a value beyond 4 std of every mode takes the nearest, clipped."""
    mu, sd = np.asarray(modes.means), np.asarray(modes.stds)
    log_p = np.log(np.asarray(modes.weights))[None, :] - np.log(sd)[None, :]
    log_p = log_p - 0.5 * ((values[:, None] - mu[None, :]) / sd[None, :]) ** 2
    offsets = np.abs(values[:, None] - mu[None, :]) / (4 * sd[None, :])
    inside = offsets <= 1.0
    log_p = np.where(inside, log_p, -np.inf)
    mode = np.where(inside.any(1), log_p.argmax(1), offsets.argmin(1))
    alpha = (values - mu[mode]) / (4 * sd[mode])
    return mode, np.clip(alpha, -1.0, 1.0)


def values_from_modes(mode: np.ndarray, alpha: np.ndarray, modes: Modes) -> np.ndarray:
    """The inverse of ``assign_modes``."""
    mu, sd = np.asarray(modes.means), np.asarray(modes.stds)
    return alpha * 4 * sd[mode] + mu[mode]
