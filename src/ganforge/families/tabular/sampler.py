"""Training-by-sampling: the conditional vector and real rows that match it, as an exactly resumable stream.

For each row of a batch: a categorical column is picked uniformly, then one of its levels with
probability proportional to log(1 + frequency) (rare levels are seen more often than their share), then
a training row holding that level. Batch ``k`` is drawn from a generator seeded by (seed, k), so the
stream's whole state is ``position``: a resumed run sees exactly the batches of an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


@dataclass
class CondIndex:
    """Per conditional column: level frequencies and the training rows of each level (flat, CPU)."""

    counts: Tensor  # [J, L] rows per (column, level); 0 past a column's levels
    starts: Tensor  # [J, L] where those rows start in ``rows``
    rows: Tensor  # [J * N] row numbers, grouped by column then level
    offsets: Tensor  # [J] where each column's one-hot starts in the conditional vector
    widths: Tensor  # [J] levels per column
    cond_width: int

    @property
    def columns(self) -> int:
        return int(self.counts.shape[0])

    def log_frequency(self) -> Tensor:
        """Probabilities of each level when training (log(1 + count), normalized per column)."""
        logf = torch.log1p(self.counts.double()) * (self.counts > 0)
        return logf / logf.sum(1, keepdim=True)

    def frequency(self) -> Tensor:
        """The levels' shares in the training rows (for unconditional sampling)."""
        counts = self.counts.double()
        return counts / counts.sum(1, keepdim=True)


def build_cond_index(codes: list[np.ndarray], widths: list[int]) -> CondIndex:
    """The index of the level ``codes`` [N] of each conditional column (``widths`` levels each)."""
    n, j = (len(codes[0]) if codes else 0), len(codes)
    most = max(widths, default=1)
    counts = torch.zeros(j, most, dtype=torch.long)
    starts = torch.zeros(j, most, dtype=torch.long)
    rows = torch.zeros(j * n, dtype=torch.long)
    for c, level in enumerate(codes):
        order = np.argsort(level, kind="stable")
        rows[c * n:(c + 1) * n] = torch.from_numpy(order)
        per = np.bincount(level, minlength=widths[c])
        counts[c, : widths[c]] = torch.from_numpy(per)
        starts[c, : widths[c]] = torch.from_numpy(c * n + np.concatenate([[0], np.cumsum(per)[:-1]]))
    offsets = torch.tensor(np.concatenate([[0], np.cumsum(widths)[:-1]]) if widths else [], dtype=torch.long)
    return CondIndex(counts, starts, rows, offsets, torch.tensor(widths, dtype=torch.long), int(sum(widths)))


def draw_conditions(index: CondIndex, n: int, generator: torch.Generator,
                    probabilities: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """``n`` (column, level) pairs and their one-hot conditional vectors [n, cond_width]."""
    column = torch.randint(index.columns, (n,), generator=generator)
    probs = (probabilities if probabilities is not None else index.log_frequency())[column]
    level = torch.multinomial(probs, 1, generator=generator).squeeze(1)
    cond = torch.zeros(n, index.cond_width)
    cond[torch.arange(n), index.offsets[column] + level] = 1.0
    return column, level, cond


class ConditionalStream:
    """Endless (real rows, condition, column, level) batches on ``device``; state: batches handed out."""

    def __init__(self, data: Tensor, index: CondIndex | None, batch_size: int, seed: int,
                 device: torch.device) -> None:
        self.data = data.to(device)
        self.index = index if index is not None and index.columns > 0 else None
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.position = 0

    def next(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + self.position) % 2**63)
        self.position += 1
        n = self.batch_size
        if self.index is None:
            rows = torch.randint(len(self.data), (n,), generator=generator)
            empty = torch.zeros(n, dtype=torch.long)
            return self.data[rows.to(self.device)], torch.zeros(n, 0, device=self.device), empty, empty
        column, level, cond = draw_conditions(self.index, n, generator)
        count = self.index.counts[column, level]
        pick = (torch.rand(n, generator=generator, dtype=torch.float64) * count).long().clamp(max=count - 1)
        rows = self.index.rows[self.index.starts[column, level] + pick]
        to = self.device
        return self.data[rows.to(to)], cond.to(to), column.to(to), level.to(to)

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])
