"""SpecGAN-style networks for [1, bins, frames] spectrogram images (bins and frames powers of 2, any aspect):
a class-conditional DCGAN generator (conditional BatchNorm, or a one-hot label joined to the noise) and a
spectrally normalized discriminator with a projection head (Miyato & Koyama 2018), an auxiliary classifier
(AC-GAN, Odena et al. 2017) or both, and optionally one-hot label planes joined to its input.
Plain modules: G(z, labels) -> images in [-1, 1], D(x, labels) -> logits."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm

from ganforge.nets.conditioning import (
    batchnorm2d,
    concat_label,
    concat_label_planes,
    discriminator_output,
    label_head,
    run_layers,
)

STEPS = 5  # doublings between the image and the generator's seed (and the discriminator's last features)


def seed_shape(bins: int, frames: int) -> tuple[int, int]:
    """The (height, width) the generator starts from: the image divided by 2 ** STEPS."""
    return max(bins >> STEPS, 1), max(frames >> STEPS, 1)


def upsampling(channels: int, out: int, scale: tuple[int, int], mode: str) -> list[nn.Module]:
    """One generator upsampling: a transposed convolution (kernel scale + 2, stride scale), or ``nearest``:
    nearest-neighbour upsampling then a 3x3 convolution (no checkerboard pattern, Odena et al. 2016)."""
    if mode == "transposed":
        return [nn.ConvTranspose2d(channels, out, (scale[0] + 2, scale[1] + 2), scale, 1, bias=False)]
    if mode == "nearest":
        return [nn.Upsample(scale_factor=scale, mode="nearest"), nn.Conv2d(channels, out, 3, padding=1, bias=False)]
    raise ValueError(f"unknown upsampling {mode!r}: transposed or nearest")


class SpecGenerator(nn.Module):
    """``cond``: ``cbn`` (per-class BatchNorm scale and shift in every layer) or ``concat`` (a one-hot label joins
    the noise before the first linear layer; plain BatchNorm). ``upsample``: ``transposed`` convolutions or
    ``nearest`` + 3x3 convolution. The channels halve at each doubling, down to ``min_channels`` (the last,
    finest layers draw the fine detail: harmonics)."""

    def __init__(self, z_dim: int, width: int, bins: int, frames: int, num_classes: int, cond: str = "cbn",
                 upsample: str = "transposed", min_channels: int = 8) -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.concat = cond == "concat" and num_classes > 0
        norm_classes = 0 if self.concat else num_classes
        self.image_shape = (1, bins, frames)
        h, w = seed_shape(bins, frames)
        self.seed = (width * 8, h, w)
        self.project = nn.Linear(z_dim + (num_classes if self.concat else 0), width * 8 * h * w)
        layers: list[nn.Module] = [batchnorm2d(width * 8, norm_classes), nn.ReLU()]
        channels = width * 8
        size = (h, w)
        while size != (bins, frames):
            out = max(channels // 2, min_channels)
            sh, sw = (2 if size[0] < bins else 1), (2 if size[1] < frames else 1)
            layers += [*upsampling(channels, out, (sh, sw), upsample), batchnorm2d(out, norm_classes), nn.ReLU()]
            channels, size = out, (size[0] * sh, size[1] * sw)
        layers += [nn.Conv2d(channels, 1, 3, padding=1), nn.Tanh()]
        self.layers = nn.ModuleList(layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        z = z.flatten(1)
        if self.concat:
            z = concat_label(z, labels, self.num_classes)
        x = self.project(z).view(-1, *self.seed)
        return run_layers(self.layers, x, labels if self.num_classes and not self.concat else None)


class SpecDiscriminator(nn.Module):
    """``cond``: ``projection`` (the label gains a say in the logit), ``acgan`` (class logits from the same
    features, trained with cross-entropy by the recipe) or ``both``. ``planes``: one-hot label planes join the
    input image, so that the first convolutions see the class too. The channels double at each halving,
    starting from width / 2 but at least ``min_channels`` (the first layers see the fine detail)."""

    def __init__(self, width: int, bins: int, frames: int, num_classes: int, cond: str = "projection",
                 planes: bool = False, min_channels: int = 4) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.planes = num_classes if planes else 0
        convs = []
        channels, size = 1 + self.planes, (bins, frames)
        for step in range(STEPS):
            sh, sw = (2 if size[0] > 4 else 1), (2 if size[1] > 2 else 1)
            out = max(max(width // 2, 4) << step, min_channels)
            convs.append(spectral_norm(nn.Conv2d(channels, out, (sh + 2, sw + 2), (sh, sw), 1)))
            channels, size = out, (size[0] // sh, size[1] // sw)
        self.convs = nn.ModuleList(convs)
        self.features = channels
        self.head = spectral_norm(nn.Linear(channels, 1))
        head_mode = "projection" if cond == "both" else cond
        self.label_head = label_head(channels, head_mode if num_classes else "none", num_classes)  # type: ignore[arg-type]
        self.aux = nn.Linear(channels, num_classes) if cond == "both" and num_classes else None

    def forward(self, x: Tensor, labels: Tensor | None = None, with_classes: bool = False
                ) -> Tensor | tuple[Tensor, Tensor]:
        if self.planes:
            x = concat_label_planes(x, labels, self.planes)
        for conv in self.convs:
            x = F.leaky_relu(conv(x), 0.2)
        h = x.sum(dim=(2, 3))
        logits = self.head(h).view(-1)
        if self.aux is None:
            return discriminator_output(logits, h, labels, self.label_head, with_classes)
        logits = discriminator_output(logits, h, labels, self.label_head, False)
        return (logits, self.aux(h)) if with_classes else logits
