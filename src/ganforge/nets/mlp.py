"""Fully connected generator and discriminator (the kind of model in the original GAN paper)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, PositiveInt, model_validator
from torch import Tensor, nn

from ganforge.nets.conditioning import (
    ConditioningFields,
    class_count,
    concat_label,
    discriminator_output,
    label_head,
)
from ganforge.nets.layers import LEAKY_SLOPE, ArchSpec, ImageShape

Activation = Literal["relu", "leaky_relu"]


class MLPConfig(ConditioningFields):
    """Fully connected G and D; works for any image size and channel count."""

    arch: Literal["mlp"] = "mlp"
    z_dim: int = Field(100, gt=0, description="noise vector length")
    g_hidden: list[PositiveInt] = Field(default_factory=lambda: [256, 512, 1024], description="G widths")
    d_hidden: list[PositiveInt] = Field(default_factory=lambda: [512, 256], description="D widths")
    g_activation: Activation = "relu"
    d_activation: Activation = "leaky_relu"
    g_batchnorm: bool = Field(False, description="BatchNorm1d after each hidden G layer")
    d_dropout: float = Field(0.0, ge=0, lt=1, description="dropout after each hidden D layer")

    @model_validator(mode="after")
    def _no_cbn(self) -> MLPConfig:
        if self.g_cond == "cbn":
            raise ValueError("mlp has no conditional BatchNorm: use g_cond=concat")
        return self


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
    """z [B, z_dim] (with a one-hot label when conditional) -> Linear stack -> tanh -> images [B, C, H, W]."""

    def __init__(self, cfg: MLPConfig, image_shape: ImageShape) -> None:
        super().__init__()
        self.z_dim, self.image_shape = cfg.z_dim, tuple(image_shape)
        self.num_classes = class_count(cfg)
        width = cfg.z_dim + self.num_classes
        layers = _hidden_stack(width, cfg.g_hidden, cfg.g_activation, cfg.g_batchnorm, 0.0)
        last = cfg.g_hidden[-1] if cfg.g_hidden else width
        self.net = nn.Sequential(*layers, nn.Linear(last, math.prod(image_shape)), nn.Tanh())

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(concat_label(z.flatten(1), labels, self.num_classes)).view(z.shape[0], *self.image_shape)


class MLPDiscriminator(nn.Module):
    """images [B, C, H, W] -> flatten (with a one-hot label for d_cond=concat) -> Linear stack -> logits [B]."""

    def __init__(self, cfg: MLPConfig, image_shape: ImageShape) -> None:
        super().__init__()
        num_classes = class_count(cfg)
        self.concat_classes = num_classes if cfg.d_cond == "concat" else 0
        width = math.prod(image_shape) + self.concat_classes
        self.net = nn.Sequential(*_hidden_stack(width, cfg.d_hidden, cfg.d_activation, False, cfg.d_dropout))
        last = cfg.d_hidden[-1] if cfg.d_hidden else width
        self.head = nn.Linear(last, 1)
        self.label_head = label_head(last, cfg.d_cond, num_classes)

    def forward(
        self, x: Tensor, labels: Tensor | None = None, with_classes: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        h = self.net(concat_label(x.flatten(1), labels, self.concat_classes))
        return discriminator_output(self.head(h).view(-1), h, labels, self.label_head, with_classes)


def build(cfg: MLPConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return MLPGenerator(cfg, image_shape), MLPDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=MLPConfig,
    build=build,
    size_ok=lambda size: size > 0,
    description="fully connected G and D (original GAN paper style); any image size",
)
