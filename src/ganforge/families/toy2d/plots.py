"""Scatter plots of 2D samples over the modes, and CSV files of points."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, BinaryIO

import torch

from ganforge.viz import save_figure


def scatter_png(points: torch.Tensor, path: Path | BinaryIO, centres: torch.Tensor | None = None, title: str = ""
                ) -> Any:
    """A PNG of ``points`` (small dots) over the mode centres (red crosses)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    data = points.detach().cpu().numpy()
    axes.scatter(data[:, 0], data[:, 1], s=2, alpha=0.4, color="#1f5fa8", linewidths=0)
    if centres is not None:
        c = centres.numpy()
        axes.scatter(c[:, 0], c[:, 1], s=30, marker="x", color="#c0392b")
        low, high = float(c.min()) - 1.5, float(c.max()) + 1.5
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
    axes.set_aspect("equal")
    axes.set_title(title, fontsize=9)
    return save_figure(figure, path)


def write_csv(points: torch.Tensor, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y"])
        writer.writerows((f"{x:.6g}", f"{y:.6g}") for x, y in points.tolist())
    return path
