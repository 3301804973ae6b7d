"""Toy 2D data: the ring of 8 and the 5x5 grid of Gaussians (fixed settings), and users' own points.

The settings follow VEEGAN and PacGAN and stay fixed, so that numbers are comparable across runs:
ring of 8 modes on a circle of radius 2, grid of 25 modes at {-4, -2, 0, 2, 4}^2, every mode a Gaussian with
standard deviation 0.02 and equal weight. The training set is ``TRAIN_POINTS`` points drawn once from a
fixed seed, so the stream of batches resumes exactly like the image families'.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ganforge.errors import GanforgeError

MODE_STD = 0.02
RING_RADIUS = 2.0
GRID_SPACING = 2.0
TRAIN_POINTS = 100_000
DATA_SEED = 2024
POINTS_PREFIX = "points:"


def ring_centres(modes: int = 8, radius: float = RING_RADIUS) -> torch.Tensor:
    angles = torch.arange(modes, dtype=torch.float64) * (2 * math.pi / modes)
    return torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], dim=1).float()


def grid_centres(side: int = 5, spacing: float = GRID_SPACING) -> torch.Tensor:
    axis = (torch.arange(side, dtype=torch.float32) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(axis, axis)


MIXTURES = {
    "ring8": ("8 Gaussians on a circle of radius 2, std 0.02 (VEEGAN/PacGAN ring)", ring_centres),
    "grid25": ("5x5 grid of Gaussians with spacing 2, std 0.02 (VEEGAN/PacGAN grid)", grid_centres),
}


def mixture_points(centres: torch.Tensor, n: int, seed: int, std: float = MODE_STD) -> torch.Tensor:
    """``n`` points from the equal-weight mixture of Gaussians at ``centres`` (fixed by ``seed``)."""
    generator = torch.Generator().manual_seed(seed)
    which = torch.randint(0, len(centres), (n,), generator=generator)
    return centres[which] + std * torch.randn(n, 2, generator=generator)


@dataclass
class PointSet(Dataset):
    """Training points [N, 2] (float32) with the mode centres they were drawn around (None for users' data)."""

    name: str
    points: torch.Tensor
    centres: torch.Tensor | None
    std: float = MODE_STD

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.points[index]

    def __getitems__(self, indices: list[int]) -> torch.Tensor:
        return self.points[torch.as_tensor(indices, dtype=torch.int64)]


def build_points(name: str) -> PointSet:
    """A mixture by name (ring8, grid25) or ``points:PATH``."""
    if name.startswith(POINTS_PREFIX):
        return read_points_csv(Path(name[len(POINTS_PREFIX):]).expanduser())
    if name not in MIXTURES:
        known = [*MIXTURES, POINTS_PREFIX + "PATH"]
        raise GanforgeError(f"unknown toy2d data set '{name}'. Known: {', '.join(known)}.")
    centres = MIXTURES[name][1]()
    return PointSet(name, mixture_points(centres, TRAIN_POINTS, DATA_SEED), centres)


def read_points_csv(path: Path) -> PointSet:
    """A CSV with a header holding columns ``x`` and ``y``; rows that are not two numbers are skipped and counted."""
    if not path.is_file():
        raise GanforgeError(f"points file not found: {path} (a CSV with columns x,y)")
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as exc:
        raise GanforgeError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["x", "y"]:
        raise GanforgeError(f"{path} must start with the header x,y")
    points, skipped = [], 0
    for row in rows[1:]:
        try:
            x, y = float(row[0]), float(row[1])
        except (ValueError, IndexError):
            skipped += 1
            continue
        if math.isfinite(x) and math.isfinite(y):
            points.append((x, y))
        else:
            skipped += 1
    if skipped:
        import sys

        print(f"warning: skipped {skipped} row(s) of {path} that are not two finite numbers", file=sys.stderr)
    if len(points) < 2:
        raise GanforgeError(f"{path} holds {len(points)} usable point(s); at least 2 are needed")
    return PointSet(f"{POINTS_PREFIX}{path}", torch.tensor(points, dtype=torch.float32), None)
