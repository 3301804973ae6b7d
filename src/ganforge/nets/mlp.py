"""Fully connected generator and discriminator (the kind of model in the original GAN paper)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PositiveInt
from torch import Tensor, nn

from ganforge.nets.layers import LEAKY_SLOPE, ArchSpec, ImageShape
from ganforge.schema import StrictModel

Activation = Literal["relu", "leaky_relu"]


class MLPConfig(StrictModel):
    """Fully connected G and D; works for any image size and channel count."""

    arch: Literal["mlp"] = "mlp"
    z_dim: int = Field(100, gt=0, description="noise vector length")
    g_hidden: list[PositiveInt] = Field(default_factory=lambda: [256, 512, 1024], description="G widths")
    d_hidden: list[PositiveInt] = Field(default_factory=lambda: [512, 256], description="D widths")
    g_activation: Activation = "relu"
    d_activation: Activation = "leaky_relu"
    g_batchnorm: bool = Field(False, description="BatchNorm1d after each hidden G layer")
    d_dropout: float = Field(0.0, ge=0, lt=1, description="dropout after each hidden D layer")


def _activation(name: str) -> nn.Module:
    return nn.ReLU(inplace=True) if name == "relu" else nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


def _hidden_stack(width: int, hidden: list[int], activation: str, batchnorm: bool, dropout: float) -> list:
    layers: list[nn.Module] = []
    for h in hidden:
        layers.append(nn.Linear(width, h, bias=not batchnorm))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(_activation(activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    return layers


class MLPGenerator(nn.Module):
    """z [B, z_dim] -> Linear stack -> tanh -> images [B, C, H, W]."""

    def __init__(self, cfg: MLPConfig, image_shape: ImageShape) -> None:
        super().__init__()
        self.z_dim, self.image_shape = cfg.z_dim, tuple(image_shape)
        layers = _hidden_stack(cfg.z_dim, cfg.g_hidden, cfg.g_activation, cfg.g_batchnorm, 0.0)
        last = cfg.g_hidden[-1] if cfg.g_hidden else cfg.z_dim
        self.net = nn.Sequential(*layers, nn.Linear(last, math.prod(image_shape)), nn.Tanh())

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z.flatten(1)).view(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images [B, C, H, W] -> flatten -> Linear stack -> raw logits [B]."""

    def __init__(self, cfg: MLPConfig, image_shape: ImageShape) -> None:
        super().__init__()
        width = math.prod(image_shape)
        layers = _hidden_stack(width, cfg.d_hidden, cfg.d_activation, False, cfg.d_dropout)
        last = cfg.d_hidden[-1] if cfg.d_hidden else width
        self.net = nn.Sequential(*layers, nn.Linear(last, 1))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x.flatten(1)).view(-1)


def build(cfg: MLPConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return MLPGenerator(cfg, image_shape), MLPDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=MLPConfig,
    build=build,
    size_ok=lambda size: size > 0,
    description="fully connected G and D (original GAN paper style); any image size",
)
