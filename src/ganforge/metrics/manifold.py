"""k-nearest-neighbour manifold metrics: improved precision/recall and density/coverage.

Each sample's radius is the distance to its k-th nearest neighbour within its own set, not counting itself (the
(k+1)-th smallest distance, self included, as the reference implementations compute it).

- Precision/recall (Kynkäänniemi et al. 2019): precision is the fraction of fake samples inside the real manifold
  (within the radius of at least one real sample, distance <= radius); recall is the fraction of real samples inside
  the fake manifold.
- Density/coverage (Naeem et al. 2020), with real radii only: density = (1 / (k M)) sum_j #{i : d(fake_j, real_i)
  < r_i}; coverage = fraction of real samples whose nearest fake sample is closer than their radius (strict <, as in
  the authors' code).

Distances are computed in float64 as ||a||^2 + ||b||^2 - 2 a.b on features centred on the real mean, in row chunks
of at most ``_CHUNK_ENTRIES`` distances, so 5,000 x 5,000 samples never hold a full distance matrix.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, feature_pair

_CHUNK_ENTRIES = 1 << 23  # 64 MB of float64 distances per chunk


def _chunks(n_rows: int, n_cols: int) -> Iterator[slice]:
    step = max(1, _CHUNK_ENTRIES // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _sq_dists(a: torch.Tensor, b: torch.Tensor, b_sq: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ``[len(a), len(b)]``; ``b_sq`` holds the squared norms of b's rows."""
    return ((a * a).sum(dim=1, keepdim=True) + b_sq[None, :] - 2.0 * (a @ b.T)).clamp_(min=0.0)


def knn_sq_radii(x: torch.Tensor, k: int) -> torch.Tensor:
    """Squared distance from each row of x to its k-th nearest other row."""
    x_sq = (x * x).sum(dim=1)
    return torch.cat([_sq_dists(x[rows], x, x_sq).kthvalue(k + 1, dim=1).values for rows in _chunks(len(x), len(x))])


def _prepare(real: ArrayLike, fake: ArrayLike, k: int, metric: str) -> tuple[torch.Tensor, torch.Tensor]:
    if k < 1:
        raise GanforgeError(f"{metric} needs k >= 1, got k={k}")
    x, y = feature_pair(real, fake, min_rows=k + 1)
    center = x.mean(dim=0)
    return x - center, y - center


def precision_recall(real: ArrayLike, fake: ArrayLike, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of fake features against real ones."""
    x, y = _prepare(real, fake, k, "precision_recall")
    real_radii, fake_radii = knn_sq_radii(x, k), knn_sq_radii(y, k)
    x_sq = (x * x).sum(dim=1)
    fake_in_real = torch.zeros(len(y), dtype=torch.bool)
    real_in_fake = torch.zeros(len(x), dtype=torch.bool)
    for rows in _chunks(len(y), len(x)):
        dists = _sq_dists(y[rows], x, x_sq)
        fake_in_real[rows] = (dists <= real_radii[None, :]).any(dim=1)
        real_in_fake |= (dists <= fake_radii[rows, None]).any(dim=0)
    return float(fake_in_real.double().mean()), float(real_in_fake.double().mean())


def density_coverage(real: ArrayLike, fake: ArrayLike, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) of fake features against real ones."""
    x, y = _prepare(real, fake, k, "density_coverage")
    real_radii = knn_sq_radii(x, k)
    x_sq = (x * x).sum(dim=1)
    inside = 0
    nearest_fake = torch.full((len(x),), float("inf"), dtype=torch.float64)
    for rows in _chunks(len(y), len(x)):
        dists = _sq_dists(y[rows], x, x_sq)
        inside += int((dists < real_radii[None, :]).sum())
        nearest_fake = torch.minimum(nearest_fake, dists.min(dim=0).values)
    density = inside / (k * len(y))
    coverage = float((nearest_fake < real_radii).double().mean())
    return density, coverage
