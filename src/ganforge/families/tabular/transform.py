"""The data transform: table of strings <-> float matrix the networks see, and back.

Each modelled column becomes spans of the matrix:
- numeric (continuous, integer, datetime): a value ``alpha`` in [-1, 1] (tanh span) and a one-hot of its
  mode (softmax span), plus one more slot in that one-hot for a missing cell;
- categorical and boolean: a one-hot of the level (missing is a level of its own).
A numeric column with few distinct values, each repeated (coded answers, rates from a small table), gets
one exact mode per value (``value_modes``): its values come back exactly, so relations carried by exact
values survive. The one-hots of categorical columns, and the mode one-hots of those exact-value columns,
make the conditional vector (``cond_columns``), so training-by-sampling covers them.
Everything is vectorised per column (numpy/pandas), the mixture fit over all numeric columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganforge.families.tabular.mixture import Modes, assign_modes, fit_modes, values_from_modes
from ganforge.families.tabular.schema import ColumnSpec, TableSchema, missing_mask

MIN_VALUE_REPEATS = 10  # value modes need each distinct value seen this many times on average
SPIKE_WIDTH = 1e-12  # std of a value mode, relative to the column's largest absolute value


@dataclass
class Span:
    """A slice of the encoded matrix: ``kind`` is "tanh" (one value) or "softmax" (a one-hot group)."""

    kind: str
    start: int
    width: int


@dataclass
class TableTransform:
    """A fitted transform: the schema, the modes of numeric columns and the matrix layout."""

    schema: TableSchema
    modes: dict[str, Modes] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    column_spans: dict[str, list[int]] = field(default_factory=dict)  # column -> indices into spans
    cond_columns: list[str] = field(default_factory=list)  # categorical and exact-value columns, in order

    @property
    def width(self) -> int:
        return sum(s.width for s in self.spans)

    @property
    def cond_width(self) -> int:
        return sum(span.width for span in self.cond_spans())

    @property
    def where_columns(self) -> list[str]:
        """The conditional columns ``--where`` takes (categorical and boolean ones)."""
        return [name for name in self.cond_columns if self.schema.column(name).discrete]

    def cond_offsets(self) -> list[int]:
        """Where each conditional column's one-hot starts in the conditional vector."""
        offsets, at = [], 0
        for span in self.cond_spans():
            offsets.append(at)
            at += span.width
        return offsets

    def cond_spans(self) -> list[Span]:
        """The softmax span of each conditional column in the encoded matrix (a numeric column's modes)."""
        return [self.spans[self.column_spans[name][-1]] for name in self.cond_columns]

    def cond_codes(self, encoded: np.ndarray) -> list[np.ndarray]:
        """The level (one-hot position) of each encoded row in each conditional column."""
        return [encoded[:, s.start: s.start + s.width].argmax(1).astype(np.int64) for s in self.cond_spans()]

    # --- encoding ------------------------------------------------------------------------------

    def encode(self, frame: Any) -> np.ndarray:
        """A DataFrame of strings (the schema's columns) -> float32 [rows, width]."""
        out = np.zeros((len(frame), self.width), dtype=np.float32)
        rows = np.arange(len(frame))
        for col in self.schema.modelled:
            cells = frame[col.name].astype(str)
            spans = [self.spans[i] for i in self.column_spans[col.name]]
            if col.discrete:
                codes = category_codes(cells, col)
                out[rows, spans[0].start + codes] = 1.0
                continue
            values, missing = numeric_values(cells, col)
            modes = self.modes[col.name]
            mode, alpha = assign_modes(np.where(missing, modes.means[0], values), modes)
            mode = np.where(missing, len(modes.means), mode)
            out[:, spans[0].start] = np.where(missing, 0.0, alpha)
            out[rows, spans[1].start + mode] = 1.0
        return out

    def decode(self, matrix: np.ndarray) -> Any:
        """float [rows, width] (tanh values and one-hots, or logits: argmax is taken) -> DataFrame of strings."""
        import pandas as pd

        n = len(matrix)
        data: dict[str, Any] = {}
        for col in self.schema.columns:
            if col.kind == "constant":
                data[col.name] = np.full(n, col.constant, dtype=object)
                continue
            if col.kind == "id":
                data[col.name] = np.arange(1, n + 1).astype(str).astype(object)
                continue
            spans = [self.spans[i] for i in self.column_spans[col.name]]
            if col.discrete:
                codes = matrix[:, spans[0].start: spans[0].start + spans[0].width].argmax(1)
                data[col.name] = np.asarray(col.categories, dtype=object)[codes]
                continue
            modes = self.modes[col.name]
            mode = matrix[:, spans[1].start: spans[1].start + spans[1].width].argmax(1)
            missing = mode >= len(modes.means)
            alpha = np.clip(matrix[:, spans[0].start], -1.0, 1.0)
            values = values_from_modes(np.minimum(mode, len(modes.means) - 1), alpha, modes)
            data[col.name] = format_values(np.clip(values, col.minimum, col.maximum), missing, col)
        return pd.DataFrame(data, columns=self.schema.names)

    # --- plain containers for checkpoints ------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"schema": self.schema.to_dict(),
                "modes": {k: {"means": m.means, "stds": m.stds, "weights": m.weights, "exact": m.exact}
                          for k, m in self.modes.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableTransform:
        schema = TableSchema.from_dict(data["schema"])
        modes = {k: Modes(list(v["means"]), list(v["stds"]), list(v["weights"]), bool(v.get("exact", False)))
                 for k, v in data["modes"].items()}
        return build_layout(schema, modes)


def fit_transform(frame: Any, schema: TableSchema, max_modes: int = 10, seed: int = 0,
                  max_value_modes: int = 0) -> TableTransform:
    """Fit the modes of the numeric columns of ``frame`` (the mixtures all at once) and lay out the matrix.

    A numeric column with at most ``max_value_modes`` distinct values, each repeated ``MIN_VALUE_REPEATS``
    times on average, gets one exact mode per value (``value_modes``) instead of a mixture.
    """
    numeric = [c for c in schema.modelled if c.numeric]
    modes: dict[str, Modes] = {}
    mixed, arrays = [], []
    for col in numeric:
        values, missing = numeric_values(frame[col.name].astype(str), col)
        present = values[~missing]
        exact = value_modes(present, max_value_modes)
        if exact is not None:
            modes[col.name] = exact
        else:
            mixed.append(col.name)
            arrays.append(present)
    fitted = fit_modes(arrays, max_modes=max_modes, seed=seed)
    modes.update(zip(mixed, fitted, strict=True))
    return build_layout(schema, {c.name: modes[c.name] for c in numeric})


def value_modes(values: np.ndarray, max_value_modes: int) -> Modes | None:
    """One mode per distinct value (a spike of near-zero width, so decoding gives the value back exactly),
    or None when the column has more than ``max_value_modes`` distinct values or too few repeats of each."""
    if max_value_modes <= 0 or len(values) == 0:
        return None
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) > max_value_modes or len(values) < MIN_VALUE_REPEATS * len(distinct):
        return None
    width = SPIKE_WIDTH * max(1.0, float(np.abs(distinct).max()))
    return Modes([float(v) for v in distinct], [width] * len(distinct), (counts / counts.sum()).tolist(), exact=True)


def build_layout(schema: TableSchema, modes: dict[str, Modes]) -> TableTransform:
    """The spans of every modelled column, in file order."""
    transform = TableTransform(schema, modes)
    at = 0
    for col in schema.modelled:
        indices = []
        if col.discrete:
            widths = [("softmax", len(col.categories))]
            transform.cond_columns.append(col.name)
        else:
            extra = 1 if col.missing_rate > 0 else 0
            widths = [("tanh", 1), ("softmax", len(modes[col.name].means) + extra)]
            if modes[col.name].exact:
                transform.cond_columns.append(col.name)
        for kind, width in widths:
            indices.append(len(transform.spans))
            transform.spans.append(Span(kind, at, width))
            at += width
        transform.column_spans[col.name] = indices
    return transform


def category_codes(cells: Any, col: ColumnSpec) -> np.ndarray:
    """The index of each cell's level in ``col.categories`` (missing cells -> the "" level)."""
    import pandas as pd

    cleaned = cells.str.strip().where(~missing_mask(cells), "")
    codes = pd.Categorical(cleaned, categories=col.categories).codes
    if (codes < 0).any():
        unknown = cleaned[codes < 0].iloc[0]
        from ganforge.errors import GanforgeError

        raise GanforgeError(f"column '{col.name}' holds '{unknown}', which the training table did not have")
    return np.asarray(codes, dtype=np.int64)


def numeric_values(cells: Any, col: ColumnSpec) -> tuple[np.ndarray, np.ndarray]:
    """Float values of a numeric column (datetimes as seconds since 1970) and the missing mask."""
    import pandas as pd

    missing = missing_mask(cells).to_numpy()
    present = cells.str.strip().where(~missing, None)
    if col.kind == "datetime":
        stamps = pd.to_datetime(present, errors="coerce", format="mixed")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert(None)
        seconds = stamps.astype("datetime64[ns]").astype("int64").to_numpy() // 10**9
        values = seconds.astype(np.float64)
        missing = missing | stamps.isna().to_numpy()
    else:
        values = pd.to_numeric(present, errors="coerce").to_numpy(dtype=np.float64)
        missing = missing | np.isnan(values)
    return np.where(missing, 0.0, values), missing


def format_values(values: np.ndarray, missing: np.ndarray, col: ColumnSpec) -> np.ndarray:
    """Numbers spelled as the input column spelled them (missing -> "")."""
    import pandas as pd

    if col.kind == "integer":
        text = np.round(values).astype(np.int64).astype(str)
    elif col.kind == "datetime":
        stamps = pd.to_datetime(np.round(values).astype(np.int64), unit="s")
        text = np.asarray(stamps.strftime("%Y-%m-%d" if col.date_only else "%Y-%m-%d %H:%M:%S"))
    else:
        text = np.char.mod(f"%.{col.decimals}f", np.round(values, col.decimals))
    return np.where(missing, "", text.astype(object)).astype(object)
