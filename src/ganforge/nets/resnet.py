"""ResNet G and D of SNGAN (Miyato et al. 2018, the CIFAR-10 architecture), for any dcgan-style size.

G: Linear to s0 x s0 maps, k up-blocks, BN-ReLU-conv3x3-tanh. D (spectral norm on every layer): an
"optimized" down-block, k-1 down-blocks, one plain block, ReLU, global sum pooling, linear. Channel
widths stay constant (``g_width`` / ``d_width``) as in SNGAN-CIFAR.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from ganforge.nets.layers import ArchSpec, ImageShape, add_spectral_norm, conv_plan, conv_size_ok, xavier_init
from ganforge.schema import StrictModel

RESIDUAL_GAIN = math.sqrt(2.0)  # SNGAN's init: Xavier-uniform, gain sqrt(2) inside the residual branch


class ResNetConfig(StrictModel):
    """SNGAN ResNet (CIFAR architecture); same sizes as dcgan."""

    arch: Literal["resnet"] = "resnet"
    z_dim: int = Field(128, gt=0, description="noise vector length")
    g_width: int = Field(128, gt=0, description="channels of every G block")
    d_width: int = Field(128, gt=0, description="channels of every D block")


def _conv(c_in: int, c_out: int, kernel: int, gain: float) -> nn.Conv2d:
    return xavier_init(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2), gain)


def _upsample() -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode="nearest")


class UpBlock(nn.Module):
    """BN, ReLU, upsample x2, conv3x3, BN, ReLU, conv3x3; shortcut: upsample x2, conv1x1."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
        self.residual = nn.Sequential(
            nn.BatchNorm2d(c), nn.ReLU(), _upsample(), _conv(c, c, 3, RESIDUAL_GAIN),
            nn.BatchNorm2d(c), nn.ReLU(inplace=True), _conv(c, c, 3, RESIDUAL_GAIN),
        )  # fmt: skip
        self.shortcut = nn.Sequential(_upsample(), _conv(c, c, 1, 1.0))

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(x) + self.shortcut(x)


class DownBlock(nn.Module):
    """D block. Optimized (first): conv3x3, ReLU, conv3x3, avgpool; shortcut avgpool, conv1x1.

    Otherwise: ReLU, conv3x3, ReLU, conv3x3 (, avgpool); shortcut conv1x1 (, avgpool), or identity when
    neither channels nor size change.
    """

    def __init__(self, c_in: int, c_out: int, downsample: bool, optimized: bool = False) -> None:
        super().__init__()
        pool = [nn.AvgPool2d(2)] if downsample or optimized else []
        first = [] if optimized else [nn.ReLU()]  # not in place: x also feeds the shortcut
        conv1, conv2 = _conv(c_in, c_out, 3, RESIDUAL_GAIN), _conv(c_out, c_out, 3, RESIDUAL_GAIN)
        self.residual = nn.Sequential(*first, conv1, nn.ReLU(inplace=True), conv2, *pool)
        if optimized:
            self.shortcut = nn.Sequential(*pool, _conv(c_in, c_out, 1, 1.0))
        elif downsample or c_in != c_out:
            self.shortcut = nn.Sequential(_conv(c_in, c_out, 1, 1.0), *pool)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.residual(x) + self.shortcut(x)


class ResNetGenerator(nn.Module):
    """z -> Linear to s0 x s0 x g_width -> k up-blocks -> BN, ReLU, conv3x3, tanh."""

    def __init__(self, cfg: ResNetConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        s0, k = conv_plan(size)
        w = cfg.g_width
        self.z_dim, self.image_shape = cfg.z_dim, tuple(image_shape)
        self.start_shape = (w, s0, s0)
        self.project = xavier_init(nn.Linear(cfg.z_dim, s0 * s0 * w))
        self.blocks = nn.Sequential(*(UpBlock(w) for _ in range(k)))
        self.out = nn.Sequential(
            nn.BatchNorm2d(w), nn.ReLU(inplace=True), _conv(w, channels, 3, 1.0), nn.Tanh()
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(z.flatten(1)).view(z.shape[0], *self.start_shape)
        return self.out(self.blocks(h))


class ResNetDiscriminator(nn.Module):
    """images -> optimized block, k-1 down-blocks, plain block -> ReLU -> sum over H, W -> linear -> [B]."""

    def __init__(self, cfg: ResNetConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        _, k = conv_plan(size)
        w = cfg.d_width
        blocks = [DownBlock(channels, w, downsample=True, optimized=True)]
        blocks += [DownBlock(w, w, downsample=True) for _ in range(k - 1)]
        blocks += [DownBlock(w, w, downsample=False)]
        self.blocks = nn.Sequential(*blocks, nn.ReLU(inplace=True))
        self.head = xavier_init(nn.Linear(w, 1))
        add_spectral_norm(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.blocks(x).sum(dim=(2, 3))).view(-1)


def build(cfg: ResNetConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return ResNetGenerator(cfg, image_shape), ResNetDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=ResNetConfig,
    build=build,
    size_ok=conv_size_ok,
    description="SNGAN ResNet G and spectral-norm D (Miyato et al. 2018, CIFAR); same sizes as dcgan",
)
