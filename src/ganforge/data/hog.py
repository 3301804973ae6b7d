"""Histograms of oriented gradients (Dalal & Triggs 2005) for a whole batch at once, in torch.

scikit-image's ``hog`` computes the same descriptor one image at a time in Python: 60,000 Fashion-MNIST
images took about a minute, most of a 5-minute training budget. Here the same steps run batched (about a
second): central-difference gradients (zero on the border rows and columns, as scikit-image), unsigned
orientations in ``bins`` equal bins over [0, 180) degrees with hard assignment, each cell's histogram the
mean gradient magnitude per bin, blocks of 2x2 cells normalized by L2-Hys (L2, clip at 0.2, L2 again).
Colour images use, at each pixel, the channel with the largest gradient magnitude. The tests hold the
result to scikit-image's on real digits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

EPS = 1e-5  # scikit-image's block-normalization epsilon
CLIP = 0.2  # L2-Hys clipping


def _gradients(images: Tensor) -> tuple[Tensor, Tensor]:
    g_row, g_col = torch.zeros_like(images), torch.zeros_like(images)
    g_row[..., 1:-1, :] = images[..., 2:, :] - images[..., :-2, :]
    g_col[..., :, 1:-1] = images[..., :, 2:] - images[..., :, :-2]
    return g_row, g_col


def _strongest_channel(g_row: Tensor, g_col: Tensor) -> tuple[Tensor, Tensor]:
    magnitude = g_row.square() + g_col.square()
    index = magnitude.argmax(dim=1, keepdim=True)
    return g_row.gather(1, index)[:, 0], g_col.gather(1, index)[:, 0]


def _l2(blocks: Tensor) -> Tensor:
    return blocks / torch.sqrt(blocks.square().sum(dim=-1, keepdim=True) + EPS**2)


def hog_batch(images: Tensor, cell: int, bins: int = 9, block: int = 2) -> Tensor:
    """HOG descriptors ``[N, D]`` (float32) of images ``[N, C, H, W]`` (any real dtype, any range)."""
    g_row, g_col = _strongest_channel(*_gradients(images.float()))
    magnitude = torch.hypot(g_row, g_col)
    orientation = torch.rad2deg(torch.atan2(g_row, g_col)).remainder(180.0)
    bin_index = (orientation / (180.0 / bins)).long().clamp(max=bins - 1)
    per_bin = F.one_hot(bin_index, bins).permute(0, 3, 1, 2) * magnitude.unsqueeze(1)  # [N, bins, H, W]
    cells = F.avg_pool2d(per_bin, cell)  # mean over each full cell; partial border cells are dropped
    n, _, rows, cols = cells.shape
    windows = cells.unfold(2, block, 1).unfold(3, block, 1)  # [N, bins, R', C', block, block]
    blocks = windows.permute(0, 2, 3, 4, 5, 1).reshape(n, rows - block + 1, cols - block + 1, -1)
    normalized = _l2(_l2(blocks).clamp(max=CLIP))
    return normalized.reshape(n, -1)
