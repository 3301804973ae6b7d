"""DiffAugment (Zhao et al. 2020): differentiable augmentations of everything the discriminator sees.

The same random transformations are applied to real and fake images, in the discriminator step and in
the generator step, and gradients flow through them to the generator. D then cannot memorize a small
training set, and the augmentations do not leak into the generated images (G is never asked to make
translated or cut-out images, since D sees reals augmented the same way).

All ops work on float batches [B, C, H, W] in [-1, 1] on any device and draw from torch's global RNG
(saved in checkpoints, so resume stays exact). They follow the reference implementation's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message


def _uniform(x: Tensor, low: float, high: float) -> Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, device=x.device, dtype=x.dtype) * (high - low) + low


def brightness(x: Tensor) -> Tensor:
    return x + _uniform(x, -0.5, 0.5)


def saturation(x: Tensor) -> Tensor:
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * _uniform(x, 0.0, 2.0) + mean


def contrast(x: Tensor) -> Tensor:
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * _uniform(x, 0.5, 1.5) + mean


def translation(x: Tensor, ratio: float = 0.125, vertical: bool = True) -> Tensor:
    """Shift each image by up to ``ratio`` of its size, filling with zeros (``vertical`` False: sideways only)."""
    batch, _, height, width = x.shape
    max_dy, max_dx = int(height * ratio + 0.5) if vertical else 0, int(width * ratio + 0.5)
    dy = torch.randint(-max_dy, max_dy + 1, (batch, 1, 1), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (batch, 1, 1), device=x.device)
    rows = torch.arange(height, device=x.device).view(1, -1, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, -1)
    rows = (rows + dy + 1).clamp(0, height + 1)  # +1: index into the zero-padded image
    cols = (cols + dx + 1).clamp(0, width + 1)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    index = torch.arange(batch, device=x.device).view(-1, 1, 1)
    return padded[index, rows, cols].permute(0, 3, 1, 2).contiguous()


def time_shift(x: Tensor) -> Tensor:
    """Translation along the width only: for spectrograms [B, 1, bands, frames], a shift in time; a shift in
    frequency would move the formants, which say which word it is."""
    return translation(x, vertical=False)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Zero a random square of ``ratio`` times the image size in each image."""
    batch, _, height, width = x.shape
    cut_h, cut_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    top = torch.randint(0, height + (1 - cut_h % 2), (batch, 1, 1), device=x.device) - cut_h // 2
    left = torch.randint(0, width + (1 - cut_w % 2), (batch, 1, 1), device=x.device) - cut_w // 2
    rows = torch.arange(height, device=x.device).view(1, -1, 1)
    cols = torch.arange(width, device=x.device).view(1, 1, -1)
    inside = (rows >= top) & (rows < top + cut_h) & (cols >= left) & (cols < left + cut_w)
    return x * (~inside).unsqueeze(1).to(x.dtype)


DIFFAUGMENT_OPS: dict[str, tuple[Callable[[Tensor], Tensor], ...]] = {
    "color": (brightness, saturation, contrast),
    "translation": (translation,),
    "time_shift": (time_shift,),
    "cutout": (cutout,),
}


def check_policy(policy: Sequence[str]) -> None:
    for name in policy:
        if name not in DIFFAUGMENT_OPS:
            raise GanforgeError(unknown_name_message("DiffAugment op", name, list(DIFFAUGMENT_OPS)))


def diff_augment(x: Tensor, policy: Sequence[str]) -> Tensor:
    """Apply the ops of ``policy`` (e.g. ``["translation", "cutout"]``) in order; empty policy: unchanged."""
    check_policy(policy)
    for name in policy:
        for op in DIFFAUGMENT_OPS[name]:
            x = op(x)
    return x
