"""Classic (non-differentiable-policy) augmentation of a float batch in [-1, 1], vectorized on any device."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message

AUGMENT_OPS: tuple[str, ...] = ("flip", "rotate", "scale", "translate")
MAX_ROTATION_DEGREES = 10.0
SCALE_RANGE = (0.9, 1.1)
MAX_SHIFT = 1.0 / 8.0  # fraction of the image size


def _random_flip(images: torch.Tensor) -> torch.Tensor:
    flip = torch.rand(images.shape[0], device=images.device) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)


def _uniform(n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, device=device)


def _random_affine(images: torch.Tensor, ops: set[str]) -> torch.Tensor:
    """One affine_grid + grid_sample for the whole batch; the uncovered border becomes -1 (background)."""
    n, dev = images.shape[0], images.device
    zeros = torch.zeros(n, device=dev)
    max_angle = math.radians(MAX_ROTATION_DEGREES)
    angle = _uniform(n, -max_angle, max_angle, dev) if "rotate" in ops else zeros
    scale = _uniform(n, *SCALE_RANGE, dev) if "scale" in ops else torch.ones(n, device=dev)
    shift = 2 * MAX_SHIFT  # normalized coordinates span 2 per image size
    tx, ty = (_uniform(n, -shift, shift, dev), _uniform(n, -shift, shift, dev)) if "translate" in ops \
        else (zeros, zeros)
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(theta.to(images.dtype), list(images.shape), align_corners=False)
    moved = F.grid_sample((images + 1) / 2, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return (moved * 2 - 1).clamp(-1, 1)


def augment_batch(images: torch.Tensor, ops: Sequence[str]) -> torch.Tensor:
    """Randomly augment a float batch [B, C, H, W] in [-1, 1], with per-sample parameters from torch's RNG.

    ops: any of AUGMENT_OPS: "flip" (horizontal, p=0.5), "rotate" (+-10 degrees), "scale" (0.9..1.1),
    "translate" (+-1/8 of the size). Empty ops return ``images`` itself."""
    ops = (ops,) if isinstance(ops, str) else tuple(ops)
    for op in ops:
        if op not in AUGMENT_OPS:
            raise GanforgeError(unknown_name_message("augmentation", op, list(AUGMENT_OPS)))
    if not ops:
        return images
    if not images.is_floating_point() or images.dim() != 4:
        raise ValueError(f"augment_batch needs a float batch [B, C, H, W], got {images.dtype} "
                         f"{tuple(images.shape)}")
    out = _random_flip(images) if "flip" in ops else images
    geometric = {op for op in ops if op != "flip"}
    return _random_affine(out, geometric) if geometric else out
