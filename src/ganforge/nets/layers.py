"""Pieces shared by the networks: the image-size rules, weight inits and small layer helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ganforge.errors import GanforgeError

ImageShape = tuple[int, int, int]
MIN_START, MAX_START = 3, 7  # start resolutions s0 the convolutional nets may begin (G) or end (D) at
LEAKY_SLOPE = 0.2
WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


@dataclass(frozen=True)
class ArchSpec:
    """What the package needs to know about one architecture."""

    config: type
    build: Callable[[Any, ImageShape], tuple[nn.Module, nn.Module]]
    size_ok: Callable[[int], bool]
    description: str


# --- image sizes ---------------------------------------------------------------------------------


def conv_plan(size: int) -> tuple[int, int] | None:
    """Split ``size`` into ``s0 * 2**k`` with ``k >= 1`` and ``3 <= s0 <= 7``, taking the largest ``k``.

    Returns ``(s0, k)``, or None when no such split exists (odd sizes, 9, 30, 36, ...).
    """
    plan = None
    k = 1
    while size > 0 and size % 2**k == 0 and size >> k >= MIN_START:
        if size >> k <= MAX_START:
            plan = (size >> k, k)
        k += 1
    return plan


def conv_size_ok(size: int) -> bool:
    """True when the strided convolutional nets (dcgan, resnet) can make ``size x size`` images."""
    return conv_plan(size) is not None


def sizes_between(size_ok: Callable[[int], bool], lo: int, hi: int) -> list[int]:
    """All sizes in ``[lo, hi]`` accepted by ``size_ok``."""
    return [s for s in range(max(lo, 1), hi + 1) if size_ok(s)]


def check_image_shape(arch: str, image_shape: ImageShape, size_ok: Callable[[int], bool]) -> int:
    """Check ``(C, H, W)`` is square with a size ``arch`` can make; returns the size."""
    if len(image_shape) != 3:
        raise GanforgeError(f"image_shape must be (channels, height, width), got {tuple(image_shape)}")
    channels, height, width = (int(v) for v in image_shape)
    if channels < 1:
        raise GanforgeError(f"images need at least 1 channel, got {channels}; set data.channels to 1 or 3.")
    if height != width:
        raise GanforgeError(
            f"{arch} makes square images only, got {height}x{width}; set data.size to resize them square."
        )
    if not size_ok(height):
        sizes = ", ".join(str(s) for s in sizes_between(size_ok, 8, 256))
        raise GanforgeError(
            f"{arch} cannot make {height}x{height} images; sizes it can make between 8 and 256: {sizes}. "
            "Set data.size to one of them."
        )
    return height


# --- layers --------------------------------------------------------------------------------------


def norm2d(channels: int, enabled: bool) -> nn.Module:
    """BatchNorm2d, or a no-op when ``enabled`` is False."""
    return nn.BatchNorm2d(channels) if enabled else nn.Identity()


def leaky_relu() -> nn.LeakyReLU:
    """LeakyReLU with the usual GAN slope of 0.2."""
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


class MinibatchStd(nn.Module):
    """Appends one feature map: the average std of the features across groups of samples (Karras et al. 2018).

    A generator that makes the same image again and again gives itself away through a low std, so D
    can push it towards variety. Samples i, i + B/G, i + 2B/G, ... form a group.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: Tensor) -> Tensor:
        batch, _, height, width = x.shape
        group = min(self.group_size, batch)
        while batch % group:
            group -= 1
        grouped = x.reshape(group, -1, *x.shape[1:]).float()
        std = (grouped.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))
        feature = std.to(x.dtype).view(-1, 1, 1, 1).repeat(group, 1, height, width)
        return torch.cat([x, feature], dim=1)


def doubling_widths(base: int, count: int, cap: int) -> list[int]:
    """``[base, 2*base, 4*base, ...]`` (``count`` values), each capped at ``cap``."""
    return [min(base * 2**i, cap) for i in range(count)]


# --- initialization ------------------------------------------------------------------------------


def dcgan_init(module: nn.Module) -> None:
    """DCGAN init: weights N(0, 0.02), BatchNorm scales N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def xavier_init(module: nn.Module, gain: float = 1.0) -> nn.Module:
    """Xavier-uniform weights with ``gain`` and zero biases for every conv/linear inside ``module``."""
    for m in module.modules():
        if isinstance(m, WEIGHTED):
            nn.init.xavier_uniform_(m.weight, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


def add_spectral_norm(module: nn.Module) -> nn.Module:
    """Put spectral normalization on every conv/linear/embedding weight inside ``module`` (after init)."""
    for m in list(module.modules()):
        if isinstance(m, (*WEIGHTED, nn.Embedding)) and not parametrize.is_parametrized(m, "weight"):
            spectral_norm(m)
    return module
