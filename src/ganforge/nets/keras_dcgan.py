"""The small DCGAN of the Keras / TensorFlow DCGAN tutorial (MNIST), for any size divisible by 4.

G: Dense to (s/4 x s/4 x 128), BN, LeakyReLU, ConvTranspose 128 5x5 /1, 64 5x5 /2, C 5x5 /2, tanh.
D: Conv 64 5x5 /2, LeakyReLU, Dropout, Conv 128 5x5 /2, BN, LeakyReLU, Dropout, flatten, Linear.
Kernels use Keras's default Glorot-uniform init. Differences from the tutorial: LeakyReLU slope 0.2
(Keras's default is 0.3), PyTorch BatchNorm defaults, and BatchNorm in D (``d_batchnorm``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from torch import Tensor, nn

from ganforge.nets.layers import ArchSpec, ImageShape, leaky_relu, norm2d, xavier_init
from ganforge.schema import StrictModel


class KerasDCGANConfig(StrictModel):
    """The Keras/TensorFlow tutorial DCGAN; sizes divisible by 4 (28 for MNIST)."""

    arch: Literal["keras-dcgan"] = "keras-dcgan"
    z_dim: int = Field(100, gt=0, description="noise vector length")
    g_proj_channels: int = Field(128, gt=0, description="channels of G's first s/4 x s/4 map (tutorial: 256)")
    d_dropout: float = Field(0.3, ge=0, lt=1, description="dropout after each LeakyReLU in D")
    d_batchnorm: bool = Field(True, description="BatchNorm after D's second conv (the tutorial has none)")


def _up(c_in: int, c_out: int, stride: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(c_in, c_out, 5, stride, padding=2, output_padding=stride - 1, bias=False)


def _dropout(p: float) -> nn.Module:
    return nn.Dropout(p) if p > 0 else nn.Identity()


class KerasDCGANGenerator(nn.Module):
    """z -> Dense, BN, LeakyReLU -> reshape -> 3 ConvTranspose 5x5 (strides 1, 2, 2) -> tanh."""

    def __init__(self, cfg: KerasDCGANConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        c0, s0 = cfg.g_proj_channels, size // 4
        self.z_dim, self.image_shape, self.num_classes = cfg.z_dim, tuple(image_shape), 0
        self.start_shape = (c0, s0, s0)
        self.project = nn.Sequential(
            nn.Linear(cfg.z_dim, c0 * s0 * s0, bias=False), nn.BatchNorm1d(c0 * s0 * s0), leaky_relu()
        )
        self.net = nn.Sequential(
            _up(c0, 128, 1), nn.BatchNorm2d(128), leaky_relu(),
            _up(128, 64, 2), nn.BatchNorm2d(64), leaky_relu(),
            _up(64, channels, 2), nn.Tanh(),
        )  # fmt: skip
        xavier_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(self.project(z.flatten(1)).view(z.shape[0], *self.start_shape))


class KerasDCGANDiscriminator(nn.Module):
    """images -> Conv 64 5x5 /2 -> Conv 128 5x5 /2 -> flatten -> Linear -> raw logits [B]."""

    def __init__(self, cfg: KerasDCGANConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        bn = cfg.d_batchnorm
        self.net = nn.Sequential(
            nn.Conv2d(channels, 64, 5, 2, 2), leaky_relu(), _dropout(cfg.d_dropout),
            nn.Conv2d(64, 128, 5, 2, 2, bias=not bn), norm2d(128, bn), leaky_relu(), _dropout(cfg.d_dropout),
        )  # fmt: skip
        self.head = nn.Linear(128 * (size // 4) ** 2, 1)
        xavier_init(self)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.head(self.net(x).flatten(1)).view(-1)


def build(cfg: KerasDCGANConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return KerasDCGANGenerator(cfg, image_shape), KerasDCGANDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=KerasDCGANConfig,
    build=build,
    size_ok=lambda size: size >= 4 and size % 4 == 0,
    description="small DCGAN from the Keras/TensorFlow tutorial (MNIST); sizes divisible by 4",
)
