"""A Gaussian-copula baseline for synthetic tables (no training loop; the benchmark's floor).

Each column is mapped to normal scores: numbers through their empirical CDF (mid-ranks), levels through
the interval of the cumulative level frequencies they own (a uniform draw inside it). The scores'
correlation matrix is estimated; sampling draws correlated normals and maps each column back (empirical
quantiles for numbers, the owning interval for levels). A numeric column's missing cells are drawn
independently at their rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganforge.families.tabular.schema import TableSchema
from ganforge.families.tabular.transform import category_codes, format_values, numeric_values


@dataclass
class GaussianCopula:
    schema: TableSchema
    correlation: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    sorted_values: dict[str, np.ndarray] = field(default_factory=dict)
    missing_rates: dict[str, float] = field(default_factory=dict)
    level_edges: dict[str, np.ndarray] = field(default_factory=dict)

    def fit(self, frame: Any, seed: int = 0) -> GaussianCopula:
        from scipy.stats import norm

        rng = np.random.default_rng(seed)
        scores = []
        for col in self.schema.modelled:
            cells = frame[col.name].astype(str)
            if col.numeric:
                values, missing = numeric_values(cells, col)
                present = values[~missing]
                self.sorted_values[col.name] = np.sort(present)
                self.missing_rates[col.name] = float(missing.mean())
                ranks = (np.searchsorted(np.sort(present), values, "left")
                         + np.searchsorted(np.sort(present), values, "right")) / 2
                u = np.where(missing, 0.5, (ranks + 0.5) / (len(present) + 1))
            else:
                codes = category_codes(cells, col)
                freq = np.bincount(codes, minlength=len(col.categories)) / len(codes)
                edges = np.concatenate([[0.0], np.cumsum(freq)])
                self.level_edges[col.name] = edges
                u = edges[codes] + rng.random(len(codes)) * freq[codes]
            scores.append(norm.ppf(np.clip(u, 1e-6, 1 - 1e-6)))
        matrix = np.stack(scores, 1)
        self.correlation = np.nan_to_num(np.corrcoef(matrix, rowvar=False)) if matrix.shape[1] > 1 else np.eye(1)
        np.fill_diagonal(self.correlation, 1.0)
        return self

    def sample(self, n: int, seed: int = 0) -> Any:
        import pandas as pd
        from scipy.stats import norm

        rng = np.random.default_rng(seed)
        dims = len(self.schema.modelled)
        jitter = 1e-6 * np.eye(dims)
        z = rng.multivariate_normal(np.zeros(dims), self.correlation + jitter, size=n, method="eigh")
        u = norm.cdf(z)
        data: dict[str, Any] = {}
        for j, col in enumerate(self.schema.modelled):
            if col.numeric:
                present = self.sorted_values[col.name]
                values = np.quantile(present, u[:, j]) if len(present) else np.zeros(n)
                missing = rng.random(n) < self.missing_rates[col.name]
                data[col.name] = format_values(values, missing, col)
            else:
                edges = self.level_edges[col.name]
                codes = np.clip(np.searchsorted(edges, u[:, j], "right") - 1, 0, len(col.categories) - 1)
                data[col.name] = np.asarray(col.categories, dtype=object)[codes]
        for col in self.schema.columns:
            if col.kind == "constant":
                data[col.name] = np.full(n, col.constant, dtype=object)
            elif col.kind == "id":
                data[col.name] = np.arange(1, n + 1).astype(str).astype(object)
        return pd.DataFrame(data, columns=self.schema.names)
