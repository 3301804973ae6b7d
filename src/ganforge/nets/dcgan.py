"""DCGAN (Radford et al. 2016): strided (transposed) convolutions, BatchNorm, ReLU / LeakyReLU.

Works for every size ``s0 * 2**k`` with ``3 <= s0 <= 7`` and ``k >= 1`` (8, 28, 32, 64, ...): G starts from
an ``s0 x s0`` map and doubles it ``k`` times; D halves it ``k`` times and ends with a linear layer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from torch import Tensor, nn

from ganforge.nets.conditioning import (
    ConditioningFields,
    batchnorm2d,
    class_count,
    concat_label,
    concat_label_planes,
    discriminator_output,
    label_head,
    run_layers,
)
from ganforge.nets.layers import (
    ArchSpec,
    ImageShape,
    MinibatchStd,
    add_spectral_norm,
    conv_plan,
    conv_size_ok,
    dcgan_init,
    doubling_widths,
    leaky_relu,
    norm2d,
)


class DCGANConfig(ConditioningFields):
    """Convolutional DCGAN; any size s0 * 2**k with s0 in 3..7 (8, 28, 32, 64, 128, ...)."""

    arch: Literal["dcgan"] = "dcgan"
    z_dim: int = Field(100, gt=0, description="noise vector length")
    g_width: int = Field(64, gt=0, description="channels of the last G stage (doubled towards the start)")
    d_width: int = Field(64, gt=0, description="channels of the first D stage (doubled at each stage)")
    max_width: int = Field(512, gt=0, description="cap on the channels of any stage")
    g_batchnorm: bool = True
    d_batchnorm: bool = Field(True, description="BatchNorm in D (never on the first stage)")
    d_spectral_norm: bool = Field(False, description="spectral norm on every D conv and linear layer")
    d_minibatch_std: bool = Field(False, description="minibatch standard deviation feature before D's head")

    @model_validator(mode="after")
    def _cbn_needs_batchnorm(self) -> DCGANConfig:
        if self.g_cond == "cbn" and not self.g_batchnorm:
            raise ValueError("g_cond=cbn is conditional BatchNorm: it needs g_batchnorm=true (or use g_cond=concat)")
        return self


class DCGANGenerator(nn.Module):
    """z (with a one-hot label for g_cond=concat) -> Linear to s0 x s0 maps -> k x (ConvTranspose 4x4
    stride 2) -> tanh. With g_cond=cbn every BatchNorm is class-conditional."""

    def __init__(self, cfg: DCGANConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        s0, k = conv_plan(size)
        widths = doubling_widths(cfg.g_width, k, cfg.max_width)[::-1]  # widest first
        bn = cfg.g_batchnorm
        self.z_dim, self.image_shape = cfg.z_dim, tuple(image_shape)
        self.num_classes = class_count(cfg)
        self.concat_classes = self.num_classes if cfg.g_cond == "concat" else 0
        cbn_classes = self.num_classes if cfg.g_cond == "cbn" else 0

        def norm(c: int) -> nn.Module:
            return batchnorm2d(c, cbn_classes) if bn else nn.Identity()

        self.start_shape = (widths[0], s0, s0)
        self.project = nn.Linear(cfg.z_dim + self.concat_classes, widths[0] * s0 * s0, bias=not bn)
        layers: list[nn.Module] = [norm(widths[0]), nn.ReLU(inplace=True)]
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=not bn), norm(c_out)]
            layers.append(nn.ReLU(inplace=True))
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init(self)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(concat_label(z.flatten(1), labels, self.concat_classes))
        return run_layers(self.net, h.view(z.shape[0], *self.start_shape), labels)


class DCGANDiscriminator(nn.Module):
    """images -> k x (Conv 4x4 stride 2, LeakyReLU 0.2) -> flatten -> Linear -> raw logits [B].

    d_cond=concat adds one-hot label planes to the input; projection / acgan add a LabelHead."""

    def __init__(self, cfg: DCGANConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        s0, k = conv_plan(size)
        widths = doubling_widths(cfg.d_width, k, cfg.max_width)
        num_classes = class_count(cfg)
        self.plane_classes = num_classes if cfg.d_cond == "concat" else 0
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip([channels + self.plane_classes, *widths[:-1]], widths, strict=True)):
            bn = cfg.d_batchnorm and i > 0
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not bn), norm2d(c_out, bn), leaky_relu()]
        if cfg.d_minibatch_std:
            layers.append(MinibatchStd())
        self.net = nn.Sequential(*layers)
        features = (widths[-1] + cfg.d_minibatch_std) * s0 * s0
        self.head = nn.Linear(features, 1)
        self.label_head = label_head(features, cfg.d_cond, num_classes)
        dcgan_init(self)
        if cfg.d_spectral_norm:
            add_spectral_norm(self)

    def forward(
        self, x: Tensor, labels: Tensor | None = None, with_classes: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        if self.plane_classes:
            x = concat_label_planes(x, labels, self.plane_classes)
        h = self.net(x).flatten(1)
        return discriminator_output(self.head(h).view(-1), h, labels, self.label_head, with_classes)


def build(cfg: DCGANConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return DCGANGenerator(cfg, image_shape), DCGANDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=DCGANConfig,
    build=build,
    size_ok=conv_size_ok,
    description="DCGAN: strided convolutions + BatchNorm (Radford et al. 2016); sizes s0*2^k, s0 in 3..7",
)
