"""Sampling rows from a trained tabular generator, optionally conditioned with ``--where COLUMN=VALUE``.

Unconditional rows use conditions drawn with the training levels' own frequencies (CTGAN's sampling).
With ``--where``, every row is conditioned on that level, and the column is then set to it: the
condition is exact. Same seed, same rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.families.tabular.nets import TableGenerator, hard_activation
from ganforge.families.tabular.sampler import CondIndex, draw_conditions
from ganforge.families.tabular.transform import TableTransform

CHUNK = 10_000


@dataclass
class TabularModel:
    """A trained run loaded for inference."""

    generator: TableGenerator
    transform: TableTransform
    index: CondIndex | None  # level counts of the training rows (rows themselves are not needed)
    data_name: str
    source: Path
    config: Any = None
    ema: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def resolve_where(transform: TableTransform, where: tuple[tuple[str, str], ...]) -> tuple[int, int] | None:
    """The (conditional column, level) a ``--where`` asks for; a one-line error for anything else."""
    if not where:
        return None
    if len(where) > 1:
        raise GanforgeError("--where takes one COLUMN=VALUE for tabular runs (conditioning is on one column)")
    name, value = where[0]
    schema = transform.schema
    if name not in schema.names:
        raise GanforgeError(f"--where: no column '{name}'; columns: {', '.join(schema.names)}")
    if name not in transform.where_columns:
        usable = ", ".join(transform.where_columns) or "none in this table"
        raise GanforgeError(f"--where works on categorical columns ({usable}); '{name}' is "
                            f"{schema.column(name).kind}")
    levels = schema.column(name).categories
    level = _match_level(levels, value)
    if level is None:
        shown = ", ".join(repr(v) for v in levels[:12]) + (", ..." if len(levels) > 12 else "")
        raise GanforgeError(f"--where: column '{name}' has no value '{value}'; its values: {shown}")
    return transform.cond_columns.index(name), level


def _match_level(levels: list[str], value: str) -> int | None:
    value = value.strip()
    if value in levels:
        return levels.index(value)
    lowered = [v.lower() for v in levels]
    if value.lower() in lowered and lowered.count(value.lower()) == 1:
        return lowered.index(value.lower())
    try:
        number = float(value)
    except ValueError:
        return None
    for i, level in enumerate(levels):
        try:
            if float(level) == number:
                return i
        except ValueError:
            continue
    return None


@torch.no_grad()
def generate_matrix(model: TabularModel, n: int, seed: int, where: tuple[int, int] | None = None) -> np.ndarray:
    """``n`` encoded rows (one-hots and tanh offsets) for ``seed``."""
    generator = model.generator
    device = next(generator.parameters()).device
    rng = torch.Generator().manual_seed(seed)
    index, transform = model.index, model.transform
    forced = None
    if where is not None:  # the asked level is set in the row itself, before the spans after it are drawn
        forced = {transform.column_spans[transform.cond_columns[where[0]]][-1]: where[1]}
    was_training = generator.training
    generator.eval()
    parts = []
    for start in range(0, n, CHUNK):
        size = min(CHUNK, n - start)
        z = torch.randn(size, generator.z_dim, generator=rng)
        if index is None:
            cond = torch.zeros(size, 0)
        elif where is None:
            _, _, cond = draw_conditions(index, size, rng, index.frequency())
        else:
            cond = torch.zeros(size, index.cond_width)
            cond[:, int(index.offsets[where[0]]) + where[1]] = 1.0
        _, rows = generator(z.to(device), cond.to(device), hard_activation(rng, forced))
        parts.append(rows.float().cpu())
    generator.train(was_training)
    return torch.cat(parts).numpy()


def generate_rows(model: TabularModel, n: int, seed: int, where: tuple[tuple[str, str], ...] = ()) -> Any:
    """``n`` rows as a DataFrame of strings with the training table's columns."""
    level = resolve_where(model.transform, where)
    return model.transform.decode(generate_matrix(model, n, seed, level))
