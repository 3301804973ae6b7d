"""Quality and privacy of synthetic tables, written from their published definitions (SDMetrics' names).

Column shapes (per column, 1 = identical):
- ``KSComplement`` for numeric columns: 1 - the Kolmogorov-Smirnov statistic (largest gap between the
  two empirical CDFs) of the present values;
- ``TVComplement`` for categorical columns: 1 - total variation distance, 1 - 0.5 * sum |p - q|.
Column-pair trends (per pair of columns, 1 = identical):
- ``CorrelationSimilarity`` for two numeric columns: 1 - |r_real - r_synthetic| / 2 (Pearson r, rows
  where both are present);
- ``ContingencySimilarity`` otherwise: 1 - total variation distance of the two-way frequency tables,
  numeric columns cut at the deciles of the real values (missing is a level of its own).
Privacy: distance to the closest record (DCR) of the training table, Gower-like: numeric differences
scaled by the training range, 1 for a different level or a missing cell, averaged over columns.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import torch

from ganforge.families.tabular.schema import ColumnSpec, TableSchema
from ganforge.families.tabular.transform import numeric_values

BINS = 10


def ks_complement(real: np.ndarray, synth: np.ndarray) -> float:
    """1 - the two-sample KS statistic of two 1-D samples (1.0 when either is empty and the other too)."""
    if len(real) == 0 or len(synth) == 0:
        return float(len(real) == len(synth))
    real, synth = np.sort(real), np.sort(synth)
    grid = np.concatenate([real, synth])
    gap = np.abs(np.searchsorted(real, grid, "right") / len(real) - np.searchsorted(synth, grid, "right") / len(synth))
    return float(1.0 - gap.max())


def tv_complement(real: np.ndarray, synth: np.ndarray) -> float:
    """1 - total variation distance between the level frequencies of two samples of labels."""
    levels, inverse = np.unique(np.concatenate([real, synth]), return_inverse=True)
    p = np.bincount(inverse[: len(real)], minlength=len(levels)) / max(len(real), 1)
    q = np.bincount(inverse[len(real):], minlength=len(levels)) / max(len(synth), 1)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def correlation_similarity(real: tuple[np.ndarray, np.ndarray], synth: tuple[np.ndarray, np.ndarray]) -> float | None:
    """1 - |r_real - r_synth| / 2 for two pairs of aligned arrays (NaN = missing); None if undefined."""
    r = [_pearson(a, b) for a, b in (real, synth)]
    if r[0] is None:
        return None
    return float(1.0 - abs(r[0] - (r[1] if r[1] is not None else 0.0)) / 2)


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    both = ~(np.isnan(a) | np.isnan(b))
    if both.sum() < 3 or a[both].std() == 0 or b[both].std() == 0:
        return None
    return float(np.corrcoef(a[both], b[both])[0, 1])


def contingency_similarity(real: tuple[np.ndarray, np.ndarray], synth: tuple[np.ndarray, np.ndarray]) -> float:
    """1 - total variation distance between two-way frequency tables of label pairs."""
    pairs_r = np.char.add(np.char.add(real[0].astype(str), "\x1f"), real[1].astype(str))
    pairs_s = np.char.add(np.char.add(synth[0].astype(str), "\x1f"), synth[1].astype(str))
    return tv_complement(pairs_r, pairs_s)


def _labels(cells: Any, col: ColumnSpec, edges: np.ndarray | None) -> np.ndarray:
    """Categorical labels of a column: levels as they are, numbers cut into bins (missing: -1)."""
    if col.discrete or edges is None:
        return cells.str.strip().to_numpy().astype(str)
    values, missing = numeric_values(cells, col)
    return np.where(missing, -1, np.searchsorted(edges, values, "right")).astype(str)


def quality_report(real: Any, synth: Any, schema: TableSchema) -> dict[str, Any]:
    """Column shapes, column-pair trends and missing rates of ``synth`` against ``real`` (DataFrames of strings)."""
    cols = schema.modelled
    shapes: dict[str, float] = {}
    numbers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    edges: dict[str, np.ndarray | None] = {}
    missing_gap: dict[str, float] = {}
    for col in cols:
        r_cells, s_cells = real[col.name].astype(str), synth[col.name].astype(str)
        if col.numeric:
            (rv, rm), (sv, sm) = numeric_values(r_cells, col), numeric_values(s_cells, col)
            shapes[col.name] = ks_complement(rv[~rm], sv[~sm])
            numbers[col.name] = (np.where(rm, np.nan, rv), np.where(sm, np.nan, sv))
            present = rv[~rm]
            cuts = np.linspace(0, 1, BINS + 1)[1:-1]
            edges[col.name] = np.unique(np.quantile(present, cuts)) if len(present) else None
            missing_gap[col.name] = abs(float(rm.mean()) - float(sm.mean()))
        else:
            shapes[col.name] = tv_complement(r_cells.str.strip().to_numpy(), s_cells.str.strip().to_numpy())
            r_missing, s_missing = (r_cells.str.strip() == "").mean(), (s_cells.str.strip() == "").mean()
            missing_gap[col.name] = abs(float(r_missing) - float(s_missing))
    trends: dict[str, float] = {}
    for a, b in combinations(cols, 2):
        if a.numeric and b.numeric:
            value = correlation_similarity((numbers[a.name][0], numbers[b.name][0]),
                                           (numbers[a.name][1], numbers[b.name][1]))
        else:
            value = contingency_similarity(
                (_labels(real[a.name].astype(str), a, edges.get(a.name)),
                 _labels(real[b.name].astype(str), b, edges.get(b.name))),
                (_labels(synth[a.name].astype(str), a, edges.get(a.name)),
                 _labels(synth[b.name].astype(str), b, edges.get(b.name))))
        if value is not None:
            trends[f"{a.name}|{b.name}"] = value
    return {
        "column_shapes": float(np.mean(list(shapes.values()))),
        "column_pair_trends": float(np.mean(list(trends.values()))) if trends else None,
        "missing_rate_gap_max": max(missing_gap.values()),
        "column_shapes_by_column": shapes,
    }


def gower_matrix(frame: Any, schema: TableSchema, reference: Any) -> np.ndarray:
    """Rows as vectors whose L1 distance / columns is the Gower-like distance (scaled by ``reference``)."""
    parts = []
    for col in schema.modelled:
        cells = frame[col.name].astype(str)
        if col.numeric:
            ref_values, ref_missing = numeric_values(reference[col.name].astype(str), col)
            present = ref_values[~ref_missing]
            low, span = (present.min(), max(present.max() - present.min(), 1e-12)) if len(present) else (0.0, 1.0)
            values, missing = numeric_values(cells, col)
            scaled = np.clip((values - low) / span, 0, 1)
            parts.append(np.stack([np.where(missing, 0.0, scaled), missing.astype(float)], 1))
        else:
            lookup = {level: i for i, level in enumerate(col.categories)}
            codes = np.array([lookup.get(v, len(col.categories)) for v in cells.str.strip()], dtype=np.int64)
            onehot = np.zeros((len(frame), len(col.categories) + 1))
            onehot[np.arange(len(frame)), codes] = 0.5
            parts.append(onehot)
    return np.concatenate(parts, 1).astype(np.float32)


def closest_distances(rows: np.ndarray, records: np.ndarray, columns: int, chunk: int = 512) -> np.ndarray:
    """For each row, the Gower-like distance to its closest record."""
    table = torch.from_numpy(records)
    out = []
    for start in range(0, len(rows), chunk):
        block = torch.from_numpy(rows[start: start + chunk])
        out.append(torch.cdist(block, table, p=1).min(1).values)
    return (torch.cat(out) / columns).numpy() if out else np.zeros(0)


def privacy_report(synth: Any, holdout: Any, train: Any, schema: TableSchema) -> dict[str, Any]:
    """DCR of synthetic rows and of held-out real rows to the training rows, and exact copies."""
    columns = len(schema.modelled)
    records = gower_matrix(train, schema, train)
    dcr_synth = closest_distances(gower_matrix(synth, schema, train), records, columns)
    result: dict[str, Any] = {
        "dcr_synthetic_median": float(np.median(dcr_synth)),
        "synthetic_copies_of_training_rows": int(_copies(synth, train, schema)),
        "synthetic_rows": len(synth),
    }
    if len(holdout):
        dcr_real = closest_distances(gower_matrix(holdout, schema, train), records, columns)
        result["dcr_holdout_median"] = float(np.median(dcr_real))
        result["holdout_copies_of_training_rows"] = int(_copies(holdout, train, schema))
        result["holdout_rows"] = len(holdout)
    return result


def _copies(rows: Any, train: Any, schema: TableSchema) -> int:
    """Rows equal to some training row in every modelled column (numbers compared as values)."""
    seen = set(_row_keys(train, schema))
    return sum(key in seen for key in _row_keys(rows, schema))


def _row_keys(frame: Any, schema: TableSchema) -> list[tuple[Any, ...]]:
    columns = []
    for col in schema.modelled:
        cells = frame[col.name].astype(str)
        if col.numeric:
            values, missing = numeric_values(cells, col)
            columns.append(np.where(missing, np.nan, np.round(values, max(col.decimals, 0))).tolist())
        else:
            columns.append(cells.str.strip().tolist())
    return [tuple("" if isinstance(v, float) and v != v else v for v in row) for row in zip(*columns, strict=True)]
