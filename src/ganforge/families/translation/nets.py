"""Image-to-image networks: the pix2pix U-Net, the CycleGAN ResNet generator, and the PatchGAN discriminator.

All are fully convolutional, so a trained model applies to any image size: the U-Net needs sides that are
multiples of ``2**depth`` and the ResNet generator multiples of 4; ``ganforge translate`` pads to those
and crops back (``required_multiple``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.translation.color import compose_lab, gray_to_lightness, guided_filter
from ganforge.families.translation.config import TranslationFields
from ganforge.nets.layers import dcgan_init, leaky_relu


class UNetBlock(nn.Module):
    """Down (conv 4x4 /2), the inner block, up (transposed conv 4x4 x2), then the skip concatenation."""

    def __init__(self, outer: int, inner: int, sub: nn.Module | None, in_channels: int | None = None,
                 out_channels: int | None = None, dropout: bool = False) -> None:
        super().__init__()
        outermost, innermost = out_channels is not None, sub is None
        in_channels = in_channels or outer
        down: list[nn.Module] = [] if outermost else [leaky_relu()]
        down.append(nn.Conv2d(in_channels, inner, 4, 2, 1, bias=False))
        if not (outermost or innermost):
            down.append(nn.BatchNorm2d(inner))
        up_in = inner if innermost else inner * 2
        up: list[nn.Module] = [nn.ReLU(inplace=True)]
        if outermost:
            up += [nn.ConvTranspose2d(up_in, out_channels, 4, 2, 1), nn.Tanh()]
        else:
            up += [nn.ConvTranspose2d(up_in, outer, 4, 2, 1, bias=False), nn.BatchNorm2d(outer)]
            if dropout:
                up.append(nn.Dropout(0.5))
        self.outermost = outermost
        self.model = nn.Sequential(*down, *([sub] if sub is not None else []), *up)

    def forward(self, x: Tensor) -> Tensor:
        y = self.model(x)
        return y if self.outermost else torch.cat([x, y], dim=1)


class UNetGenerator(nn.Module):
    """pix2pix U-Net: ``depth`` halvings (widths doubling up to 8x g_width), skips between mirror layers,
    dropout 0.5 in the three innermost decoder layers (the pix2pix noise), tanh output."""

    def __init__(self, in_channels: int, out_channels: int, width: int, depth: int) -> None:
        super().__init__()
        widths = [min(width * 2**i, width * 8) for i in range(depth)]
        block: nn.Module | None = None
        for i in range(depth - 1, 0, -1):
            block = UNetBlock(widths[i - 1], widths[i], block, dropout=depth - 1 - i in (1, 2, 3) and i > 1)
        self.net = UNetBlock(width, widths[0], block, in_channels=in_channels, out_channels=out_channels)
        self.required_multiple = 2**depth
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), nn.InstanceNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=False), nn.InstanceNorm2d(channels),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResNetTranslator(nn.Module):
    """CycleGAN generator: c7s1-w, d2w, d4w, ``blocks`` residual blocks, u2w, uw, c7s1-out, tanh
    (instance normalization, reflection padding)."""

    def __init__(self, in_channels: int, out_channels: int, width: int, blocks: int) -> None:
        super().__init__()
        w = width
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3), nn.Conv2d(in_channels, w, 7, bias=False), nn.InstanceNorm2d(w), nn.ReLU(True),
            nn.Conv2d(w, 2 * w, 3, 2, 1, bias=False), nn.InstanceNorm2d(2 * w), nn.ReLU(True),
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1, bias=False), nn.InstanceNorm2d(4 * w), nn.ReLU(True),
        ]  # fmt: skip
        layers += [ResidualBlock(4 * w) for _ in range(blocks)]
        layers += [
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1, output_padding=1, bias=False), nn.InstanceNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, w, 3, 2, 1, output_padding=1, bias=False), nn.InstanceNorm2d(w), nn.ReLU(True),
            nn.ReflectionPad2d(3), nn.Conv2d(w, out_channels, 7), nn.Tanh(),
        ]  # fmt: skip
        self.net = nn.Sequential(*layers)
        self.required_multiple = 4
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """PatchGAN: ``layers`` stride-2 convs 4x4, one stride-1 conv, then a 1-channel logit map [B, 1, h, w]
    (each logit judges one patch). BatchNorm (pix2pix) or InstanceNorm (CycleGAN) after the first layer."""

    def __init__(self, in_channels: int, width: int, layers: int, instance_norm: bool) -> None:
        super().__init__()

        def norm(c: int) -> nn.Module:
            return nn.InstanceNorm2d(c) if instance_norm else nn.BatchNorm2d(c)

        widths = [min(width * 2**i, width * 8) for i in range(layers + 1)]
        stack: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), leaky_relu()]
        for i in range(1, layers + 1):
            stride = 2 if i < layers else 1
            stack += [nn.Conv2d(widths[i - 1], widths[i], 4, stride, 1, bias=False), norm(widths[i]), leaky_relu()]
        stack.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*stack)
        dcgan_init(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class LabColorizer(nn.Module):
    """Colorization in Lab: ``net`` maps the gray input ([-1, 1], 1 channel) to a, b (2 channels, tanh, divided
    by ``AB_SCALE``); ``forward`` returns the RGB image made of the input's L and those a, b, in [-1, 1].
    With ``color_scale`` k > 1, ``net`` sees the input shrunk k times (area average) and its a, b are
    scaled back up (bilinear), while L keeps the full resolution. The output's a, b are ``predict_ab``'s
    passed through a guided filter when ``guide_radius`` r > 0 (``color.guided_filter``, squares of 2r + 1
    pixels, ridge ``guide_eps`` in squared L units, the input's L as the guide: colors change only where
    lightness does), then multiplied by ``color_gain``. The recipe trains ``predict_ab``, without either;
    everything else (translate, serve, previews) sees RGB."""

    def __init__(self, net: nn.Module, color_scale: int = 1, color_gain: float = 1.0, guide_radius: int = 0,
                 guide_eps: float = 10.0) -> None:
        super().__init__()
        self.net = net
        self.color_scale = color_scale
        self.color_gain = color_gain
        self.guide_radius, self.guide_eps = guide_radius, guide_eps
        self.required_multiple = net.required_multiple * color_scale

    def predict_ab(self, gray: Tensor) -> Tensor:
        if self.color_scale == 1:
            return self.net(gray)
        ab = self.net(F.avg_pool2d(gray, self.color_scale))
        return F.interpolate(ab, size=gray.shape[-2:], mode="bilinear", align_corners=False)

    def forward(self, gray: Tensor) -> Tensor:
        ab = self.predict_ab(gray)
        if self.guide_radius:
            ab = guided_filter(ab, gray_to_lightness((gray + 1) / 2), self.guide_radius, self.guide_eps)
        return compose_lab(gray, self.color_gain * ab)


def build_translator(cfg: TranslationFields, in_channels: int, out_channels: int) -> nn.Module:
    """The generator of ``cfg`` from ``in_channels`` to ``out_channels`` (gray -> RGB through Lab when
    ``cfg.color_space`` is ``lab``)."""
    if getattr(cfg, "color_space", "rgb") == "lab":
        return LabColorizer(UNetGenerator(1, 2, cfg.g_width, cfg.unet_depth) if cfg.generator == "unet"
                            else ResNetTranslator(1, 2, cfg.g_width, cfg.resnet_blocks), color_scale(cfg),
                            getattr(cfg, "color_gain", 1.0), getattr(cfg, "color_guide", 0),
                            getattr(cfg, "color_guide_eps", 10.0))
    if cfg.generator == "unet":
        return UNetGenerator(in_channels, out_channels, cfg.g_width, cfg.unet_depth)
    return ResNetTranslator(in_channels, out_channels, cfg.g_width, cfg.resnet_blocks)


def color_scale(cfg: TranslationFields) -> int:
    """The resolution factor of the Lab colorizer's a, b (1 for anything else)."""
    return getattr(cfg, "color_scale", 1) if getattr(cfg, "color_space", "rgb") == "lab" else 1


def min_patch_size(cfg: TranslationFields) -> int:
    """The smallest training image side the networks accept (the side must also be a multiple of it when
    the generator is a U-Net)."""
    g_side = (2**cfg.unet_depth if cfg.generator == "unet" else 4) * color_scale(cfg)
    return max(g_side, 2 ** (cfg.d_layers + 2))
