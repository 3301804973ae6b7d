"""Reading and writing tables: CSV (and Parquet when pandas has an engine for it).

Every cell is read as the text it is in the file (``dtype=str``) so that types are inferred by
``ganforge.families.tabular.schema`` and written back in the same spelling. A file that cannot be read
gets one GanforgeError naming the problem, the line where it is, and the fix.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError

PARQUET_SUFFIXES = (".parquet", ".pq")


def read_table(path: str | Path) -> Any:
    """A CSV or Parquet file as a pandas DataFrame of strings ("" for an empty cell)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise GanforgeError(f"table file not found: {path} (use --data table:PATH with a CSV file)")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return _read_parquet(path)
    raw = path.read_bytes()
    return read_csv_bytes(raw, str(path))


def read_csv_bytes(raw: bytes, name: str) -> Any:
    """CSV bytes as a DataFrame of strings; empty, header-only, non-UTF-8 and ragged files are refused."""
    import pandas as pd

    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark (spreadsheet exports)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise GanforgeError(
            f"{name} is not UTF-8: byte 0x{raw[exc.start]:02x} on line {line} cannot be decoded; "
            "re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None
    if not text.strip():
        raise GanforgeError(f"{name} is empty: a table needs a header line and at least one row")
    _check_shape(text, name)
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=True)
    if len(frame) == 0:
        raise GanforgeError(f"{name} has a header but no rows: a table needs at least one data row")
    return frame


def _check_shape(text: str, name: str) -> None:
    """Refuse ragged rows (naming the first one) and duplicate or empty column names."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank lines are skipped, as pandas does
        if header is None:
            header = row
            continue
        if len(row) != len(header):
            raise GanforgeError(
                f"{name} line {reader.line_num}: {len(row)} fields where the header has {len(header)}; "
                "fix that row (quote fields that contain commas)"
            )
    if header is None:
        raise GanforgeError(f"{name} is empty: a table needs a header line and at least one row")
    blank = [i + 1 for i, col in enumerate(header) if not col.strip()]
    if blank:
        raise GanforgeError(f"{name}: column {blank[0]} of the header has no name; name every column")
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise GanforgeError(f"{name}: the column name '{col}' appears twice in the header; rename one")
        seen.add(col)


def _read_parquet(path: Path) -> Any:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except ImportError:
        raise GanforgeError(f"reading {path} needs a Parquet engine: pip install pyarrow (or save it as CSV)") from None
    except Exception as exc:  # a damaged file: pandas/pyarrow raise many kinds
        raise GanforgeError(f"{path} is not a readable Parquet file ({type(exc).__name__}); save it as CSV") from None
    if len(frame) == 0:
        raise GanforgeError(f"{path} has no rows: a table needs at least one data row")
    return frame.astype(object).where(frame.notna(), "").astype(str)


def write_csv(frame: Any, out: Path) -> None:
    """Write a DataFrame of strings as CSV (missing cells empty), creating the folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)


def csv_text(frame: Any) -> str:
    """A DataFrame of strings as CSV text."""
    return frame.to_csv(index=False)
