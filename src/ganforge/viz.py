"""Pictures of a run: sample grids and the loss plot."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torchvision.utils import make_grid


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 in [0, 255], same shape, on the CPU."""
    return images.detach().float().add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).cpu()


def image_grid(images: Tensor, nrow: int | None = None, padding: int = 2) -> Image.Image:
    """A PIL image of a batch [B, C, H, W] in [-1, 1], laid out about square."""
    nrow = nrow or max(1, math.ceil(math.sqrt(images.shape[0])))
    grid = make_grid(to_uint8(images), nrow=nrow, padding=padding, pad_value=255)
    return to_pil(grid)


def to_pil(image: Tensor) -> Image.Image:
    """One uint8 image [C, H, W] -> PIL (L for one channel, RGB for three)."""
    array = image.permute(1, 2, 0).numpy()
    if array.shape[2] == 1:
        return Image.fromarray(array[:, :, 0], mode="L")
    return Image.fromarray(np.ascontiguousarray(array[:, :, :3]), mode="RGB")


def save_grid(images: Tensor, path: str | Path, nrow: int | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(images, nrow).save(path)
    return path


def save_images(images: Tensor, folder: str | Path, prefix: str = "sample") -> list[Path]:
    """Each image of a batch as its own PNG: ``prefix-00000.png``, ..."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(to_uint8(images)):
        path = folder / f"{prefix}-{i:05d}.png"
        to_pil(image).save(path)
        paths.append(path)
    return paths


def plot_losses(records: Sequence[dict[str, Any]], path: str | Path, keys: Sequence[str] | None = None) -> Path:
    """Loss curves against the step, from metrics.jsonl records (default: every ``*_loss`` key they hold)."""
    if keys is None:
        keys = sorted({k for r in records for k in r if k.endswith("_loss")})
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key in keys:
        points = [(r["step"], r[key]) for r in records if key in r and "step" in r]
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, label=key, linewidth=1.2)
    ax.set_xlabel("generator step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if keys:
        ax.legend()
    return save_figure(fig, path)


def save_figure(figure: Any, path: str | Path | BinaryIO) -> Any:
    """Write a matplotlib figure (tight layout) as PNG to ``path`` (folders made) or a binary file object, and
    close it."""
    import matplotlib.pyplot as plt

    if isinstance(path, (str, Path)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


def png_bytes(image: Image.Image) -> bytes:
    """A PIL image encoded as PNG bytes."""
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
