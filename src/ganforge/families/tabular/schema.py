"""The schema of a table: each column's kind, inferred from its cells and overridable in the config.

Kinds: ``continuous`` (real numbers), ``integer``, ``categorical``, ``boolean``, ``datetime``; and two that
are not modelled: ``constant`` (one value in every row: written back as that value) and ``id`` (unique per
row: left out of the model and written back as the row number 1..n). Missing cells (empty, NA, NaN, null,
None, N/A) are a value of their own: their rate is modelled, not dropped.

Inference, in order: one distinct value -> constant; true/false/yes/no words -> boolean; all numbers ->
categorical when at most ``max_numeric_levels`` distinct values, else integer (no decimal point) or
continuous; dates/times -> datetime; other text -> categorical, or id when unique per row.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ganforge.errors import GanforgeError

MODELLED_KINDS = ("continuous", "integer", "categorical", "boolean", "datetime")
KINDS = (*MODELLED_KINDS, "constant", "id")
OVERRIDE_KINDS = (*KINDS, "drop")
MISSING_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", "nat", "<na>"})
BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "t", "f", "y", "n"})
ID_NAME = re.compile(r"(^|[_\W])(id|uuid|key|index)$|^id[_\W]|^(id|uuid|index|key)$", re.IGNORECASE)
MIN_ROWS_FOR_ID = 20


@dataclass
class ColumnSpec:
    """One column: its kind and what the writer needs to spell values as the input did."""

    name: str
    kind: str
    missing_rate: float = 0.0
    categories: list[str] = field(default_factory=list)  # categorical/boolean levels ("" = missing)
    decimals: int = 0  # continuous: digits written after the point
    minimum: float = 0.0
    maximum: float = 0.0
    date_only: bool = False  # datetime: every value at midnight -> written as YYYY-MM-DD
    constant: str = ""

    @property
    def numeric(self) -> bool:
        return self.kind in ("continuous", "integer", "datetime")

    @property
    def discrete(self) -> bool:
        return self.kind in ("categorical", "boolean")


@dataclass
class TableSchema:
    """All columns in file order, with the reasons for those left out of the model."""

    columns: list[ColumnSpec]
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def modelled(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.kind in MODELLED_KINDS]

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise GanforgeError(f"no column '{name}' in this table; columns: {', '.join(self.names)}")

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableSchema:
        return cls([ColumnSpec(**c) for c in data["columns"]], list(data.get("notes", [])))


def missing_mask(values: Any) -> Any:
    """A boolean Series: which cells of a string Series are missing."""
    return values.str.strip().str.lower().isin(MISSING_TOKENS)


def infer_schema(frame: Any, overrides: dict[str, str] | None = None, max_numeric_levels: int = 10,
                 max_categories: int = 1000) -> TableSchema:
    """The schema of a DataFrame of strings; ``overrides`` maps column names to kinds (or ``drop``)."""
    overrides = dict(overrides or {})
    unknown = [name for name in overrides if name not in frame.columns]
    if unknown:
        raise GanforgeError(f"data.columns names '{unknown[0]}', which is not a column of the table; "
                            f"columns: {', '.join(map(str, frame.columns))}")
    for name, kind in overrides.items():
        if kind not in OVERRIDE_KINDS:
            raise GanforgeError(f"data.columns.{name}={kind}: the kind must be one of {', '.join(OVERRIDE_KINDS)}")
    columns, notes = [], []
    for name in frame.columns:
        kind = overrides.get(name)
        if kind == "drop":
            notes.append(f"column '{name}' dropped (data.columns)")
            continue
        spec = _infer_column(str(name), frame[name], kind, max_numeric_levels)
        if spec.kind == "id" and kind is None:
            notes.append(f"column '{name}' looks like an ID (unique per row): left out of the model, written as "
                         f"the row number (set data.columns.{name}=categorical to model it)")
        if spec.kind == "constant" and kind is None:
            notes.append(f"column '{name}' has one value only ('{spec.constant}'): written as is, not modelled")
        if spec.discrete and len(spec.categories) > max_categories:
            raise GanforgeError(
                f"column '{name}' has {len(spec.categories)} distinct values, more than data.max_categories="
                f"{max_categories}; set data.columns.{name}=drop (or =id) to leave it out, or raise data.max_categories"
            )
        columns.append(spec)
    if not any(c.kind in MODELLED_KINDS for c in columns):
        raise GanforgeError("no column of the table can be modelled (all are constant, IDs or dropped)")
    return TableSchema(columns, notes)


def _infer_column(name: str, values: Any, kind: str | None, max_numeric_levels: int) -> ColumnSpec:
    import pandas as pd

    missing = missing_mask(values)
    present = values[~missing].str.strip()
    spec = ColumnSpec(name, "categorical", missing_rate=float(missing.mean()))
    distinct = present.unique()
    if kind is None and len(distinct) == 0:
        return ColumnSpec(name, "constant", 1.0, constant="")
    if kind is None and len(distinct) == 1 and not missing.any():
        return ColumnSpec(name, "constant", 0.0, constant=str(distinct[0]))
    numbers = pd.to_numeric(present, errors="coerce")
    all_numeric = len(present) > 0 and bool(numbers.notna().all())
    if kind is None:
        kind = _guess_kind(name, present, distinct, numbers, all_numeric, max_numeric_levels)
    spec.kind = kind
    if kind in ("categorical", "boolean"):
        levels = sorted(map(str, distinct))
        spec.categories = levels + ([""] if missing.any() else [])
    elif kind in ("continuous", "integer"):
        if not all_numeric:
            bad = present[numbers.isna()].iloc[0]
            raise GanforgeError(f"column '{name}' is set to {kind} but holds '{bad}', which is not a number; "
                                f"set data.columns.{name}=categorical")
        spec.minimum, spec.maximum = float(numbers.min()), float(numbers.max())
        spec.decimals = _decimals(present) if kind == "continuous" else 0
    elif kind == "datetime":
        stamps = _parse_dates(present)
        if stamps is None:
            raise GanforgeError(f"column '{name}' is set to datetime but some values are not dates; "
                                f"set data.columns.{name}=categorical")
        seconds = stamps.astype("int64") // 10**9
        spec.minimum, spec.maximum = float(seconds.min()), float(seconds.max())
        spec.date_only = bool((seconds % 86400 == 0).all())
    elif kind == "constant":
        spec.constant = str(distinct[0]) if len(distinct) else ""
    return spec


def _guess_kind(name: str, present: Any, distinct: Any, numbers: Any, all_numeric: bool,
                max_numeric_levels: int) -> str:
    unique_per_row = len(distinct) == len(present) and len(present) >= MIN_ROWS_FOR_ID
    if set(map(str.lower, distinct)) <= BOOLEAN_WORDS and len(distinct) <= 2 and not all_numeric:
        return "boolean"
    if all_numeric:
        if len(distinct) <= max_numeric_levels:
            return "categorical"
        integral = not present.str.contains(r"[.eE]", regex=True).any()
        if integral and unique_per_row and (ID_NAME.search(name) or _consecutive(numbers)):
            return "id"
        return "integer" if integral else "continuous"
    if _looks_like_dates(present) and _parse_dates(present) is not None:
        return "datetime"
    return "id" if unique_per_row else "categorical"


def _consecutive(numbers: Any) -> bool:
    values = numbers.sort_values().to_numpy()
    return bool(len(values) > 1 and (values[1:] - values[:-1] == 1).all())


def _decimals(present: Any) -> int:
    """The most digits after the decimal point in the column (at most 8; scientific notation: 6)."""
    if present.str.contains(r"[eE]", regex=True).any():
        return 6
    import numpy as np

    cells = present.to_numpy(dtype=str)
    point = np.char.find(cells, ".")
    after = np.where(point >= 0, np.char.str_len(cells) - point - 1, 0)
    return int(min(after.max(initial=0), 8))


def _looks_like_dates(present: Any) -> bool:
    sample = present.head(200)
    return bool(sample.str.match(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2})?.*)?$").all())


def _parse_dates(present: Any) -> Any:
    import pandas as pd

    try:
        stamps = pd.to_datetime(present, errors="coerce", format="mixed")
    except (ValueError, TypeError):
        return None
    if stamps.isna().any():
        return None
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert(None)
    return stamps.astype("datetime64[ns]")


def describe_schema(schema: TableSchema) -> str:
    """One line: the count of columns of each kind."""
    counts: dict[str, int] = {}
    for col in schema.columns:
        counts[col.kind] = counts.get(col.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
