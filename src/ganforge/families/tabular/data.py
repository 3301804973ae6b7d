"""The training data of a tabular run: the table, its schema and transform, and the held-out split."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.families.tabular.config import TabularConfig
from ganforge.families.tabular.datasets import load_table
from ganforge.families.tabular.sampler import CondIndex, build_cond_index
from ganforge.families.tabular.schema import TableSchema, describe_schema, infer_schema
from ganforge.families.tabular.transform import TableTransform, fit_transform

SPLIT_SALT = 7_919  # the held-out split depends on train.seed, not equal to the stream's numbers


@dataclass
class TabularData:
    """A table split into training and held-out rows, with the fitted transform."""

    name: str
    train: Any  # DataFrame of strings
    holdout: Any
    schema: TableSchema
    transform: TableTransform
    encoded: torch.Tensor  # float32 [train rows, width]
    index: CondIndex | None
    target: str | None


def split_rows(n: int, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row numbers (each sorted); at least one training row."""
    order = np.random.default_rng(seed + SPLIT_SALT).permutation(n)
    cut = min(int(round(n * holdout)), n - 1)
    return np.sort(order[cut:]), np.sort(order[:cut])


def build_tabular_data(config: TabularConfig, quiet: bool = False) -> TabularData:
    """Read, type, split and encode the table the config names."""
    cfg = config.data
    table = load_table(cfg.name)
    schema = infer_schema(table.frame, cfg.columns, cfg.max_numeric_levels, cfg.max_categories)
    if not quiet:
        for note in schema.notes:
            print(f"note: {note}", file=sys.stderr)
    train_rows, holdout_rows = split_rows(len(table.frame), cfg.holdout, config.train.seed)
    train = table.frame.iloc[train_rows].reset_index(drop=True)
    holdout = table.frame.iloc[holdout_rows].reset_index(drop=True)
    transform = fit_transform(train, schema, config.model.max_modes, config.train.seed,
                              config.model.max_value_modes)
    encoded = torch.from_numpy(transform.encode(train))
    codes = transform.cond_codes(encoded.numpy())
    index = build_cond_index(codes, [s.width for s in transform.cond_spans()]) if codes else None
    target = config.eval.target or table.target or _default_target(schema)
    if target is not None and target not in schema.names:
        raise GanforgeError(f"eval.target '{target}' is not a column; columns: {', '.join(schema.names)}")
    return TabularData(cfg.name, train, holdout, schema, transform, encoded, index, target)


def _default_target(schema: TableSchema) -> str | None:
    discrete = [c.name for c in schema.modelled if c.discrete]
    return discrete[-1] if discrete else None


def summary(data: TabularData) -> str:
    return (f"{data.name}: {len(data.train)} training rows, {len(data.holdout)} held out; "
            f"{describe_schema(data.schema)}")
