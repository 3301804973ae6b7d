"""MoCoGAN-style networks (Tulyakov et al. 2018): a clip generator with a content latent per clip and a
motion latent per frame (a GRU cell), an image discriminator on single frames and a video discriminator
with 3D convolutions. Clips are ``[B, T, C, H, W]`` in [-1, 1]; discriminators return raw logits ``[B]``.

Frame sides must be 4 * 2^k (8, 16, 32, 64, 128, 256): the frame generator doubles from 4x4.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError

MAX_WIDTH = 256  # channels of any generator stage at most


def check_size(size: int) -> int:
    """The number of doublings from 4x4 to ``size``; a size that is not 4 * 2^k is refused."""
    steps = round(math.log2(size / 4)) if size >= 8 else 0
    if size < 8 or 4 * 2**steps != size:
        raise GanforgeError(f"video frames must be 8, 16, 32, 64, 128 or 256 pixels square; got data.size={size}")
    return steps


class MotionRNN(nn.Module):
    """A GRU cell turning per-frame noise into a trajectory of motion latents ``[B, T, motion_dim]``."""

    def __init__(self, noise_dim: int, motion_dim: int) -> None:
        super().__init__()
        self.start = nn.Linear(noise_dim, motion_dim)
        self.cell = nn.GRUCell(noise_dim, motion_dim)

    def forward(self, noise: Tensor) -> Tensor:
        state = torch.tanh(self.start(noise[:, 0]))
        states = []
        for t in range(noise.shape[1]):
            state = self.cell(noise[:, t], state)
            states.append(state)
        return torch.stack(states, dim=1)


class FrameGenerator(nn.Module):
    """DCGAN frame decoder: latent -> 4x4 -> ... -> size x size, tanh. ``width`` channels at the last stage,
    doubled at each stage towards 4x4 (at most ``MAX_WIDTH``)."""

    def __init__(self, latent_dim: int, size: int, channels: int, width: int) -> None:
        super().__init__()
        steps = check_size(size)
        chans = [min(MAX_WIDTH, width * 2 ** (steps - 1 - i)) for i in range(steps)]
        self.stem = nn.Sequential(nn.Linear(latent_dim, chans[0] * 16), nn.Unflatten(1, (chans[0], 4, 4)),
                                  nn.BatchNorm2d(chans[0]), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        for i in range(steps - 1):
            layers += [nn.ConvTranspose2d(chans[i], chans[i + 1], 4, 2, 1, bias=False),
                       nn.BatchNorm2d(chans[i + 1]), nn.ReLU(inplace=True)]
        layers += [nn.ConvTranspose2d(chans[steps - 1], channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, latent: Tensor) -> Tensor:
        return self.body(self.stem(latent))



class ClipGenerator(nn.Module):
    """What every clip generator shares: ``frames``, ``channels``, ``size``, ``content_dim`` and ``noise_dim``
    attributes, the clip shape and how its latents are drawn."""

    frames: int
    channels: int
    size: int
    content_dim: int
    noise_dim: int

    @property
    def clip_shape(self) -> tuple[int, int, int, int]:
        return self.frames, self.channels, self.size, self.size

    def latents(self, n: int, generator: torch.Generator | None = None,
                device: torch.device | None = None) -> tuple[Tensor, Tensor]:
        """Standard normal content [n, Dc] and motion noise [n, T, Dn] (from ``generator`` when given)."""
        device = device or next(self.parameters()).device
        content = torch.randn(n, self.content_dim, generator=generator, device=device)
        noise = torch.randn(n, self.frames, self.noise_dim, generator=generator, device=device)
        return content, noise


class VideoGenerator(ClipGenerator):
    """(content [B, Dc], motion noise [B, T, Dn], labels) -> clips [B, T, C, H, W]."""

    def __init__(self, frames: int, channels: int, size: int, content_dim: int, motion_dim: int, noise_dim: int,
                 width: int, num_classes: int = 0) -> None:
        super().__init__()
        self.frames, self.channels, self.size = frames, channels, size
        self.content_dim, self.noise_dim, self.num_classes = content_dim, noise_dim, num_classes
        self.motion = MotionRNN(noise_dim, motion_dim)
        self.embed = nn.Embedding(num_classes, content_dim) if num_classes else None
        self.decoder = FrameGenerator(content_dim + motion_dim, size, channels, width)

    def forward(self, content: Tensor, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            if labels is None:
                raise GanforgeError("this video model is class-conditional: give a class (--class K)")
            content = content + self.embed(labels)
        b, t = noise.shape[:2]
        motion = self.motion(noise)
        latent = torch.cat([content[:, None].expand(-1, t, -1), motion], dim=2).reshape(b * t, -1)
        return self.decoder(latent).view(b, t, self.channels, self.size, self.size)


class Projection(nn.Module):
    """Projection conditioning (Miyato & Koyama 2018): logit += <embed(label), features>."""

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, features)

    def forward(self, features: Tensor, labels: Tensor) -> Tensor:
        return (self.embed(labels) * features).sum(dim=1)


class ImageDiscriminator(nn.Module):
    """DCGAN discriminator on single frames [B, C, H, W] -> logits [B]."""

    def __init__(self, channels: int, size: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        steps = check_size(size)
        chans = [channels] + [min(width * 2**i, 8 * width) for i in range(steps)]
        layers: list[nn.Module] = []
        for i in range(steps):
            layers += [nn.utils.spectral_norm(nn.Conv2d(chans[i], chans[i + 1], 4, 2, 1)),
                       nn.LeakyReLU(0.2, inplace=True)]
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(chans[-1] * 16, 1)
        self.projection = Projection(num_classes, chans[-1] * 16) if num_classes else None

    def forward(self, frames: Tensor, labels: Tensor | None = None) -> Tensor:
        features = self.body(frames)
        logits = self.head(features)[:, 0]
        if self.projection is not None and labels is not None:
            logits = logits + self.projection(features, labels)
        return logits


class VideoDiscriminator(nn.Module):
    """3D-conv discriminator on clips [B, T, C, H, W] -> logits [B]: the first layer halves space only,
    the others halve time and space, down to 4x4 frames."""

    def __init__(self, frames: int, channels: int, size: int, width: int, num_classes: int = 0) -> None:
        super().__init__()
        steps = check_size(size)
        chans = [channels] + [min(width * 2**i, 8 * width) for i in range(steps)]
        layers: list[nn.Module] = []
        t = frames
        for i in range(steps):
            stride_t = 1 if i == 0 or t < 4 else 2
            layers += [nn.utils.spectral_norm(nn.Conv3d(chans[i], chans[i + 1], (3, 4, 4), (stride_t, 2, 2),
                                                        (1, 1, 1))),
                       nn.LeakyReLU(0.2, inplace=True)]
            t = (t - 1) // stride_t + 1
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(chans[-1] * t * 16, 1)
        self.projection = Projection(num_classes, chans[-1] * t * 16) if num_classes else None

    def forward(self, clips: Tensor, labels: Tensor | None = None) -> Tensor:
        features = self.body(clips.transpose(1, 2))  # [B, C, T, H, W]
        logits = self.head(features)[:, 0]
        if self.projection is not None and labels is not None:
            logits = logits + self.projection(features, labels)
        return logits
