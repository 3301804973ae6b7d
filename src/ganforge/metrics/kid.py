"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a polynomial kernel, over random subsets.

k(x, y) = (gamma x.y + coef0)^degree with gamma = 1/D by default. For each of ``subsets`` draws,
``subset_size`` real and fake samples are chosen without replacement and

    MMD^2 = sum_{i != j} [k(x_i, x_j) + k(y_i, y_j)] / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2.

The result is the mean and the (population) standard deviation over the subsets. The draws are made like
torch-fidelity's (``np.random.RandomState(seed)``, then per subset ``choice(n_real, m, replace=False)`` and
``choice(n_fake, m, replace=False)``), so with the same seed and features both give the same numbers.

Two exact ways to the same sums, whichever needs fewer kernel evaluations: per subset, the three m x m kernel
matrices; or, when the sets are small next to ``subsets`` x ``subset_size`` (5,000 samples, 100 x 1,000), the kernels
of all pairs, computed in row chunks and reduced at once for every subset by multiplying with the subsets'
0/1 membership matrix (sum over a subset S of K[i, j] = v_S^T K v_S).
"""

from __future__ import annotations

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, feature_pair

_CHUNK_ENTRIES = 1 << 23  # kernel values held at once by the all-pairs path (64 MB)


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor, degree: int, gamma: float, coef0: float) -> torch.Tensor:
    """``(gamma x @ y.T + coef0) ** degree``."""
    return (gamma * (x @ y.T) + coef0) ** degree


def mmd2_unbiased(k_xx: torch.Tensor, k_yy: torch.Tensor, k_xy: torch.Tensor) -> float:
    """Unbiased MMD^2 estimate from the three ``[m, m]`` kernel matrices (diagonals of k_xx, k_yy excluded)."""
    m = k_xx.shape[0]
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2.0 * k_xy.sum() / (m * m))


def kernel_inception_distance(
    real: ArrayLike,
    fake: ArrayLike,
    subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """KID mean and std over ``subsets`` random subsets of ``min(subset_size, len(real), len(fake))`` samples each."""
    x, y = feature_pair(real, fake, min_rows=2)
    if subsets < 1 or subset_size < 2:
        raise GanforgeError(f"KID needs subsets >= 1 and subset_size >= 2, got {subsets} and {subset_size}")
    m = min(subset_size, x.shape[0], y.shape[0])
    kernel_args = (degree, 1.0 / x.shape[1] if gamma is None else gamma, coef0)
    rng = np.random.RandomState(seed)
    draws = [(rng.choice(len(x), m, replace=False), rng.choice(len(y), m, replace=False)) for _ in range(subsets)]
    if len(x) ** 2 + len(y) ** 2 + len(x) * len(y) <= 3 * subsets * m * m:
        mmds = _subset_mmds_all_pairs(x, y, draws, kernel_args)
    else:
        mmds = _subset_mmds_direct(x, y, draws, kernel_args)
    return float(np.mean(mmds)), float(np.std(mmds))


def _subset_mmds_direct(
    x: torch.Tensor, y: torch.Tensor, draws: list[tuple[np.ndarray, np.ndarray]], kernel_args: tuple
) -> list[float]:
    """One MMD^2 per draw, computing each draw's kernel matrices."""
    mmds = []
    for ix, iy in draws:
        xs, ys = x[torch.from_numpy(ix)], y[torch.from_numpy(iy)]
        k_xx, k_yy = polynomial_kernel(xs, xs, *kernel_args), polynomial_kernel(ys, ys, *kernel_args)
        mmds.append(mmd2_unbiased(k_xx, k_yy, polynomial_kernel(xs, ys, *kernel_args)))
    return mmds


def _membership(draws: list[np.ndarray], n: int) -> torch.Tensor:
    """``[n, len(draws)]`` float64 matrix with 1 where sample i is in draw s."""
    member = torch.zeros(n, len(draws), dtype=torch.float64)
    for s, idx in enumerate(draws):
        member[torch.from_numpy(idx), s] = 1.0
    return member


def _subset_kernel_sums(
    a: torch.Tensor, b: torch.Tensor, member_a: torch.Tensor, member_b: torch.Tensor, kernel_args: tuple
) -> torch.Tensor:
    """For every draw s, the sum of k(a_i, b_j) over i in draw s of a and j in draw s of b: ``[n_draws]``."""
    step = max(1, _CHUNK_ENTRIES // len(b))
    sums = torch.zeros(member_a.shape[1], dtype=torch.float64)
    for start in range(0, len(a), step):
        rows = slice(start, start + step)
        sums += (member_a[rows] * (polynomial_kernel(a[rows], b, *kernel_args) @ member_b)).sum(dim=0)
    return sums


def _subset_mmds_all_pairs(
    x: torch.Tensor, y: torch.Tensor, draws: list[tuple[np.ndarray, np.ndarray]], kernel_args: tuple
) -> list[float]:
    """One MMD^2 per draw from kernels of all pairs, reduced per draw through membership matrices."""
    degree, gamma, coef0 = kernel_args
    member_x = _membership([ix for ix, _ in draws], len(x))
    member_y = _membership([iy for _, iy in draws], len(y))
    diag_x = member_x.T @ (gamma * (x * x).sum(dim=1) + coef0) ** degree
    diag_y = member_y.T @ (gamma * (y * y).sum(dim=1) + coef0) ** degree
    sum_xx = _subset_kernel_sums(x, x, member_x, member_x, kernel_args) - diag_x
    sum_yy = _subset_kernel_sums(y, y, member_y, member_y, kernel_args) - diag_y
    sum_xy = _subset_kernel_sums(x, y, member_x, member_y, kernel_args)
    m = len(draws[0][0])
    return ((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * sum_xy / (m * m)).tolist()
