"""The tables a tabular run can train on: ``table:PATH`` and offline tables shipped by statsmodels.

Each table is a DataFrame of strings (cells as written in a CSV) plus a default target column for
the machine-learning-efficacy metric. Built-in tables go through the same CSV text as a user's file,
so they are typed and written back exactly like one.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError
from ganforge.families.tabular.io import read_csv_bytes, read_table
from ganforge.registry import unknown_name_message

# name -> (statsmodels dataset module, default ML-efficacy target, description)
BUILTIN_TABLES: dict[str, tuple[str, str, str]] = {
    "fair": ("fair", "yrs_married",
             "statsmodels: Fair's 1974 affairs survey, 6,366 rows x 9 columns (ordinal and continuous); "
             "ML-efficacy target yrs_married"),
    "anes96": ("anes96", "vote",
               "statsmodels: 1996 American National Election Study, 944 rows x 11 columns; "
               "classification target vote (Clinton 0 / Dole 1)"),
}
TABLE_PREFIX = "table:"


@dataclass
class Table:
    """A table of strings, its name, and a default ML-efficacy target column (None: the last categorical)."""

    name: str
    frame: Any
    target: str | None = None


def table_descriptions() -> dict[str, str]:
    return {**{name: text for name, (_, _, text) in BUILTIN_TABLES.items()},
            "table:PATH": "your CSV file (header line; Parquet too when pyarrow is installed)"}


def load_table(name: str) -> Table:
    """The table a ``data.name`` (or ``--against``) names."""
    if name.startswith(TABLE_PREFIX):
        path = name[len(TABLE_PREFIX):]
        if not path:
            raise GanforgeError("table: needs a path, e.g. --data table:people.csv")
        return Table(name, read_table(Path(path)))
    if name in BUILTIN_TABLES:
        module, target, _ = BUILTIN_TABLES[name]
        return Table(name, _statsmodels_table(module), target)
    known = [*BUILTIN_TABLES, "table:PATH"]
    raise GanforgeError(unknown_name_message("tabular data set", name, known))


def _statsmodels_table(module: str) -> Any:
    try:
        import importlib

        loaded = importlib.import_module(f"statsmodels.datasets.{module}").load_pandas().data
    except ImportError:
        raise GanforgeError(f"the '{module}' table ships with statsmodels: pip install statsmodels "
                            "(or train on your own CSV with --data table:PATH)") from None
    buffer = io.StringIO()
    loaded.to_csv(buffer, index=False)
    return read_csv_bytes(buffer.getvalue().encode(), f"statsmodels {module}")
