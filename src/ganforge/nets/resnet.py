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

from ganforge.nets.conditioning import (
    ConditioningFields,
    LabelConditioned,
    batchnorm2d,
    class_count,
    concat_label,
    concat_label_planes,
    discriminator_output,
    label_head,
    run_layers,
)
from ganforge.nets.layers import ArchSpec, ImageShape, add_spectral_norm, conv_plan, conv_size_ok, xavier_init

RESIDUAL_GAIN = math.sqrt(2.0)  # SNGAN's init: Xavier-uniform, gain sqrt(2) inside the residual branch


class ResNetConfig(ConditioningFields):
    """SNGAN ResNet (CIFAR architecture); same sizes as dcgan. Class-conditional as SNGAN-projection with
    g_cond=cbn, d_cond=projection."""

    arch: Literal["resnet"] = "resnet"
    z_dim: int = Field(128, gt=0, description="noise vector length")
    g_width: int = Field(128, gt=0, description="channels of every G block")
    d_width: int = Field(128, gt=0, description="channels of every D block")


def _conv(c_in: int, c_out: int, kernel: int, gain: float) -> nn.Conv2d:
    return xavier_init(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2), gain)


def _upsample() -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode="nearest")


class UpBlock(LabelConditioned):
    """BN, ReLU, upsample x2, conv3x3, BN, ReLU, conv3x3; shortcut: upsample x2, conv1x1.

    With ``cbn_classes`` > 0 both BatchNorms are class-conditional."""

    def __init__(self, channels: int, cbn_classes: int = 0) -> None:
        super().__init__()
        c = channels
        self.residual = nn.Sequential(
            batchnorm2d(c, cbn_classes), nn.ReLU(), _upsample(), _conv(c, c, 3, RESIDUAL_GAIN),
            batchnorm2d(c, cbn_classes), nn.ReLU(inplace=True), _conv(c, c, 3, RESIDUAL_GAIN),
        )  # fmt: skip
        self.shortcut = nn.Sequential(_upsample(), _conv(c, c, 1, 1.0))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return run_layers(self.residual, x, labels) + self.shortcut(x)


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
    """z (with a one-hot label for g_cond=concat) -> Linear to s0 x s0 x g_width -> k up-blocks -> BN, ReLU,
    conv3x3, tanh. With g_cond=cbn every BatchNorm is class-conditional."""

    def __init__(self, cfg: ResNetConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        s0, k = conv_plan(size)
        w = cfg.g_width
        self.z_dim, self.image_shape = cfg.z_dim, tuple(image_shape)
        self.num_classes = class_count(cfg)
        self.concat_classes = self.num_classes if cfg.g_cond == "concat" else 0
        cbn_classes = self.num_classes if cfg.g_cond == "cbn" else 0
        self.start_shape = (w, s0, s0)
        self.project = xavier_init(nn.Linear(cfg.z_dim + self.concat_classes, s0 * s0 * w))
        self.blocks = nn.Sequential(*(UpBlock(w, cbn_classes) for _ in range(k)))
        self.out = nn.Sequential(
            batchnorm2d(w, cbn_classes), nn.ReLU(inplace=True), _conv(w, channels, 3, 1.0), nn.Tanh()
        )

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.project(concat_label(z.flatten(1), labels, self.concat_classes))
        h = run_layers(self.blocks, h.view(z.shape[0], *self.start_shape), labels)
        return run_layers(self.out, h, labels)


class ResNetDiscriminator(nn.Module):
    """images -> optimized block, k-1 down-blocks, plain block -> ReLU -> sum over H, W -> linear -> [B].

    d_cond=concat adds one-hot label planes to the input; projection / acgan add a LabelHead."""

    def __init__(self, cfg: ResNetConfig, image_shape: ImageShape) -> None:
        super().__init__()
        channels, size, _ = image_shape
        _, k = conv_plan(size)
        w = cfg.d_width
        num_classes = class_count(cfg)
        self.plane_classes = num_classes if cfg.d_cond == "concat" else 0
        blocks = [DownBlock(channels + self.plane_classes, w, downsample=True, optimized=True)]
        blocks += [DownBlock(w, w, downsample=True) for _ in range(k - 1)]
        blocks += [DownBlock(w, w, downsample=False)]
        self.blocks = nn.Sequential(*blocks, nn.ReLU(inplace=True))
        self.head = xavier_init(nn.Linear(w, 1))
        self.label_head = label_head(w, cfg.d_cond, num_classes)
        if self.label_head is not None:
            xavier_init(self.label_head)
        add_spectral_norm(self)

    def forward(
        self, x: Tensor, labels: Tensor | None = None, with_classes: bool = False
    ) -> Tensor | tuple[Tensor, Tensor]:
        if self.plane_classes:
            x = concat_label_planes(x, labels, self.plane_classes)
        h = self.blocks(x).sum(dim=(2, 3))
        return discriminator_output(self.head(h).view(-1), h, labels, self.label_head, with_classes)


def build(cfg: ResNetConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) for ``image_shape = (C, H, W)``."""
    return ResNetGenerator(cfg, image_shape), ResNetDiscriminator(cfg, image_shape)


SPEC = ArchSpec(
    config=ResNetConfig,
    build=build,
    size_ok=conv_size_ok,
    description="SNGAN ResNet G and spectral-norm D (Miyato et al. 2018, CIFAR); same sizes as dcgan",
)
