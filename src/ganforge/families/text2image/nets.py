"""The three networks of a text-to-image GAN, as plain modules.

- ``TextEncoder``: word embeddings and a bidirectional GRU; the sentence is its two final states, projected.
- ``Generator``: DF-GAN-style. The noise and the sentence make a 4x4 map (so the words can place things);
  every up-sampling block then fuses the sentence by affine modulation (a per-channel scale and shift
  predicted from the sentence, Tao et al. 2022) before each convolution. Output in [-1, 1].
- ``Discriminator``: a convolutional trunk to 4x4 features; the sentence is tiled over the 4x4 map and
  a joint head returns one raw logit per (image, sentence) pair, so a real image with a wrong caption can
  be called fake (matching-aware). ``embed`` gives pooled image features for the contrastive term.
- ``ImageMatcher``: a small CNN (max-pooling, like a classifier) that embeds an image next to its sentence,
  trained only on real image-caption pairs by a contrastive loss (a jointly trained DAMSM, AttnGAN's
  matching encoder); the generator is asked to make pictures it matches to their captions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

from ganforge.errors import GanforgeError


class TextEncoder(nn.Module):
    """Word indices [B, L] and lengths [B] -> sentence embeddings [B, dim]."""

    def __init__(self, vocab_size: int, dim: int = 128, word_dim: int = 64) -> None:
        super().__init__()
        self.vocab_size, self.dim = vocab_size, dim
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, dim // 2, batch_first=True, bidirectional=True)
        self.out = nn.Linear(dim, dim)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        packed = pack_padded_sequence(self.embed(ids), lengths.clamp(min=1).cpu(), batch_first=True,
                                      enforce_sorted=False)
        _, last = self.rnn(packed)  # [2, B, dim/2]: forward and backward final states
        return self.out(torch.cat([last[0], last[1]], dim=1))


class Affine(nn.Module):
    """h * (1 + gamma(s)) + beta(s), per channel, from the sentence s (starts as the identity)."""

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(cond_dim, channels), nn.ReLU(), nn.Linear(channels, 2 * channels))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        gamma, beta = self.net(cond)[:, :, None, None].chunk(2, dim=1)
        return h * (1 + gamma) + beta


class FusionBlock(nn.Module):
    """Up-sample x2, then (fuse the sentence, LeakyReLU, 3x3 conv) twice, with a 1x1 shortcut."""

    def __init__(self, cond_dim: int, c_in: int, c_out: int) -> None:
        super().__init__()
        self.fuse1, self.fuse2 = Affine(cond_dim, c_in), Affine(cond_dim, c_out)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        h = F.interpolate(h, scale_factor=2, mode="nearest")
        y = self.conv1(F.leaky_relu(self.fuse1(h, cond), 0.2))
        y = self.conv2(F.leaky_relu(self.fuse2(y, cond), 0.2))
        return self.skip(h) + y


def stage_channels(width: int, size: int) -> list[int]:
    """Channels from 4x4 up to ``size``: 8w at 4x4 and 8x8, then halving each stage, at least w."""
    stages = size.bit_length() - 3  # 4 -> size in doublings, plus the 4x4 start
    return [max(width, width * 8 // max(1, 2 ** max(0, i - 1))) for i in range(stages + 1)]


def check_image_size(size: int) -> None:
    if size < 8 or size & (size - 1):
        raise GanforgeError(f"text2image networks make square images whose side is a power of two from 8 "
                            f"(8, 16, 32, 64, 128); got data.size={size}")


def check_stage_channels(channels: Sequence[int], size: int) -> list[int]:
    """Explicit generator channels, one per stage from 4x4 to ``size``: checked and returned as a list."""
    stages = size.bit_length() - 2
    if len(channels) != stages or any(c < 1 for c in channels):
        raise GanforgeError(f"model.g_channels needs {stages} positive channel counts for {size}x{size} pictures "
                            f"(4x4 up to {size}x{size}, e.g. {stage_channels(8, size)}); got {list(channels)}")
    return list(channels)


class Generator(nn.Module):
    """(noise [B, z_dim], sentence [B, cond_dim]) -> images [B, 3, size, size] in [-1, 1]; ``channels`` (one
    per stage from 4x4 to ``size``) overrides the widths made from ``width``."""

    def __init__(self, z_dim: int = 64, cond_dim: int = 128, width: int = 16, size: int = 64,
                 channels: Sequence[int] | None = None) -> None:
        super().__init__()
        check_image_size(size)
        self.z_dim, self.cond_dim, self.size = z_dim, cond_dim, size
        channels = check_stage_channels(channels, size) if channels else stage_channels(width, size)
        self.start = nn.Linear(z_dim + cond_dim, channels[0] * 16)
        self.blocks = nn.ModuleList(FusionBlock(cond_dim, a, b) for a, b in zip(channels, channels[1:], strict=False))
        self.to_rgb = nn.Conv2d(channels[-1], 3, 3, padding=1)

    def forward(self, z: Tensor, cond: Tensor) -> Tensor:
        h = self.start(torch.cat([z, cond], dim=1)).view(z.shape[0], -1, 4, 4)
        for block in self.blocks:
            h = block(h, cond)
        return torch.tanh(self.to_rgb(F.leaky_relu(h, 0.2)))


class DownBlock(nn.Module):
    """LeakyReLU, 3x3 conv, average-pool x2 (with a pooled 1x1 shortcut)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.avg_pool2d(self.conv(F.leaky_relu(x, 0.2)) + self.skip(x), 2)


class Discriminator(nn.Module):
    """(images [B, 3, S, S], sentences [B, cond_dim]) -> logits [B]; ``features`` and ``judge`` split it so
    that one trunk pass serves both the matching and the mismatched caption."""

    def __init__(self, cond_dim: int = 128, width: int = 16, size: int = 64) -> None:
        super().__init__()
        check_image_size(size)
        channels = list(reversed(stage_channels(width, size)))
        self.from_rgb = nn.Conv2d(3, channels[0], 3, padding=1)
        self.blocks = nn.Sequential(*(DownBlock(a, b) for a, b in zip(channels, channels[1:], strict=False)))
        top = channels[-1]
        self.joint = nn.Sequential(nn.Conv2d(top + cond_dim, top, 3, padding=1), nn.LeakyReLU(0.2),
                                   nn.Conv2d(top, 1, 4))
        self.embed_head = nn.Linear(top, cond_dim)

    def features(self, images: Tensor) -> Tensor:
        """Trunk features [B, C, 4, 4]."""
        return self.blocks(self.from_rgb(images))

    def judge(self, features: Tensor, cond: Tensor) -> Tensor:
        """One logit per (image features, sentence) pair."""
        tiled = cond[:, :, None, None].expand(-1, -1, features.shape[2], features.shape[3])
        return self.joint(torch.cat([F.leaky_relu(features, 0.2), tiled], dim=1)).flatten()

    def embed(self, features: Tensor) -> Tensor:
        """Pooled image embedding [B, cond_dim] for the image-sentence contrastive term."""
        return self.embed_head(F.leaky_relu(features, 0.2).mean(dim=(2, 3)))

    def forward(self, images: Tensor, cond: Tensor) -> Tensor:
        return self.judge(self.features(images), cond)


class ImageMatcher(nn.Module):
    """Images [B, 3, S, S] in [-1, 1] -> embeddings [B, dim]: 3x3 convolutions with ReLU, each followed by a
    2x max-pool down to 4x4, then a linear layer over the 4x4 map (so place and shape both count)."""

    def __init__(self, dim: int = 128, width: int = 16, size: int = 32) -> None:
        super().__init__()
        check_image_size(size)
        stages = size.bit_length() - 3  # poolings down to 4x4
        widths = [3, *(width * min(2 ** i, 4) for i in range(stages))]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:], strict=False))
        self.head = nn.Linear(widths[-1] * 16, dim)

    def forward(self, images: Tensor) -> Tensor:
        h = images
        for conv in self.convs:
            h = F.max_pool2d(F.relu(conv(h)), 2)
        return self.head(h.flatten(1))
