"""A WHAT/WHERE clip generator (``model.arch: warp``): a content network draws one glyph per clip and a
motion network moves it across the frame with a differentiable warp.

- **What:** a DCGAN decoder draws a ``glyph`` x ``glyph`` image (half the frame side by default) from the
  content latent (plus the class embedding when conditional), once per clip.
- **Where:** the GRU of MoCoGAN turns per-frame noise into motion states; a linear head reads a start
  position from the first state and a velocity from each state (at most ``max_speed`` px/frame, tanh).
  Positions are the start plus the running sum of velocities, folded back into the frame by reflection
  (a triangle wave), so the glyph bounces off the edges as moving digits do.
- **Glyph clusters** (``clusters`` > 0, set by the glyph phase: ``ganforge.families.video.glyphs``): the
  glyph is conditioned on a k-means cluster of the real glyphs (self-conditioning). The cluster is read from
  the content latent's first coordinate through the normal CDF against the clusters' cumulative shares, so
  clusters are drawn in proportion to their sizes and the generator stays unconditional to its user.
- **Drawing:** the glyph is pasted on a dark canvas and shifted to each frame's position with
  ``affine_grid``/``grid_sample`` (bilinear, sub-pixel), so gradients reach the positions.

This bakes motion in: every frame shows the same glyph, translated. It is a design choice that fits
moving digits (and other "one object moving" clips); it cannot change the object's shape over time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.families.video.nets import MAX_WIDTH, ClipGenerator, MotionRNN, check_size
from ganforge.nets.dcgan import DCGANConfig, DCGANGenerator


def glyph_dcgan(z_dim: int, g_width: int, d_width: int, conditions: int) -> DCGANConfig:
    """The image default's DCGAN (``ganforge.nets.dcgan``) for glyphs: the condition (class or cluster) one-hot
    into G, projection in D."""
    conditioning = {"g_cond": "concat", "d_cond": "projection", "num_classes": conditions} if conditions else {}
    return DCGANConfig(z_dim=z_dim, g_width=g_width, d_width=d_width, **conditioning)


class GlyphDecoder(nn.Module):
    """Latent -> one glyph [B, C, g, g] in [-1, 1]: 4x4, then (nearest upsampling, 3x3 conv, BN, ReLU) per
    doubling; upsample-then-convolve avoids the checkerboard dots of strided transposed convolutions."""

    def __init__(self, latent_dim: int, side: int, channels: int, width: int) -> None:
        super().__init__()
        steps = check_size(side)
        chans = [min(MAX_WIDTH, width * 2 ** (steps - 1 - i)) for i in range(steps)] + [width]
        self.stem = nn.Sequential(nn.Linear(latent_dim, chans[0] * 16), nn.Unflatten(1, (chans[0], 4, 4)),
                                  nn.BatchNorm2d(chans[0]), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        for i in range(steps):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv2d(chans[i], chans[i + 1], 3, 1, 1, bias=False),
                       nn.BatchNorm2d(chans[i + 1]), nn.ReLU(inplace=True)]
        layers += [nn.Conv2d(chans[-1], channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, latent: Tensor) -> Tensor:
        return self.body(self.stem(latent))


def reflect(x: Tensor, limit: float) -> Tensor:
    """Fold ``x`` into [-limit, limit] by reflection at the edges (a triangle wave; identity inside)."""
    period = 4 * limit
    return limit - (torch.remainder(x + limit, period) - 2 * limit).abs()


class WarpGenerator(ClipGenerator):
    """(content [B, Dc], motion noise [B, T, Dn], labels) -> clips [B, T, C, H, W]: one glyph per clip,
    translated frame by frame (see the module docstring)."""

    def __init__(self, frames: int, channels: int, size: int, content_dim: int, motion_dim: int, noise_dim: int,
                 width: int, num_classes: int = 0, glyph: int = 0, max_speed: float = 3.0,
                 wobble: float = 0.0, clusters: int = 0, glyph_net: str = "upconv", supersample: int = 1) -> None:
        super().__init__()
        check_size(size)
        glyph = glyph or size // 2
        if glyph > size or glyph < 8 or glyph & (glyph - 1):
            raise GanforgeError(f"model.glyph must be 8, 16, 32, ... and at most data.size ({size}); got {glyph} "
                                "(0 picks half the frame)")
        self.frames, self.channels, self.size, self.glyph = frames, channels, size, glyph
        self.content_dim, self.noise_dim, self.num_classes = content_dim, noise_dim, num_classes
        self.clusters = clusters
        embeds = glyph_net != "dcgan"  # the DCGAN glyph takes its condition (class or cluster) as a one-hot
        self.embed = nn.Embedding(num_classes, content_dim) if num_classes and embeds else None
        self.cluster_embed = nn.Embedding(clusters, content_dim) if clusters and embeds else None
        # cumulative cluster shares (saved with the weights); even until the glyph phase sets the real ones
        self.register_buffer("cluster_cdf", torch.arange(1, clusters + 1, dtype=torch.float32) / max(clusters, 1))
        self.glyph_net, self.supersample = glyph_net, supersample
        drawn = glyph * supersample  # the decoder draws this side; area-averaged down to the glyph
        if glyph_net == "dcgan":  # the image default's generator; the condition enters as a one-hot beside the latent
            self.decoder = DCGANGenerator(glyph_dcgan(content_dim, width, width, self.conditions),
                                          (channels, drawn, drawn))
        else:
            self.decoder = GlyphDecoder(content_dim, drawn, channels, width)
        self.motion = MotionRNN(noise_dim, motion_dim)
        self.start = nn.Linear(motion_dim, 2)
        self.velocity = nn.Linear(motion_dim, 2)
        self.wobble = nn.Linear(motion_dim, 2) if wobble > 0 else None
        # affine_grid coordinates: the frame spans [-1, 1], so one pixel is 2 / size
        self.limit = (size - glyph) / size  # the glyph's centre stays within +-limit
        self.max_step = 2.0 * max_speed / size
        self.max_wobble = 2.0 * wobble / size

    def positions(self, noise: Tensor) -> Tensor:
        """Glyph centres [B, T, 2] (x, y) in affine_grid coordinates, inside the frame."""
        states = self.motion(noise)
        start = self.limit * torch.tanh(self.start(states[:, 0]))
        if self.wobble is None:  # a free velocity per frame
            steps = self.max_step * torch.tanh(self.velocity(states[:, :-1]))
        else:  # one velocity per clip, changed by at most max_wobble per frame
            steps = self.max_step * torch.tanh(self.velocity(states[:, :1])) \
                + self.max_wobble * torch.tanh(self.wobble(states[:, 1:]))
        travelled = torch.cat([torch.zeros_like(steps[:, :1]), steps.cumsum(dim=1)], dim=1)
        if self.limit <= 0:
            return torch.zeros_like(travelled)
        return reflect(start[:, None] + travelled, self.limit)

    @property
    def conditions(self) -> int:
        """What the glyph is conditioned on: the classes of a conditional run, else the glyph clusters (0: none)."""
        return self.num_classes or self.clusters

    def set_cluster_shares(self, shares: Tensor) -> None:
        """The glyph clusters' shares of the real glyphs [clusters] (sums to 1)."""
        self.cluster_cdf.copy_(shares.double().cumsum(0).float())

    def clusters_of(self, content: Tensor) -> Tensor | None:
        """The glyph cluster each content latent draws [B] (None without clusters): the normal CDF of its first
        coordinate, placed among the clusters' cumulative shares."""
        if not self.clusters:
            return None
        uniform = 0.5 * (1 + torch.erf(content[:, 0] / math.sqrt(2)))
        return torch.searchsorted(self.cluster_cdf, uniform.contiguous(), right=True).clamp_max(self.clusters - 1)

    def glyph_parameters(self) -> list[nn.Parameter]:
        """What draws the glyph: the decoder and the class and cluster embeddings."""
        parts = [m for m in (self.decoder, self.embed, self.cluster_embed) if m is not None]
        return [p for m in parts for p in m.parameters()]

    def glyphs(self, content: Tensor, labels: Tensor | None = None) -> Tensor:
        """One glyph per clip [B, C, g, g] in [-1, 1]."""
        if self.num_classes and labels is None:
            raise GanforgeError("this video model is class-conditional: give a class (--class K)")
        condition = labels if self.num_classes else self.clusters_of(content)
        if self.glyph_net == "dcgan":
            drawn = self.decoder(content, condition)
        else:
            if self.embed is not None:
                content = content + self.embed(labels)
            if self.cluster_embed is not None:
                content = content + self.cluster_embed(condition)
            drawn = self.decoder(content)
        return F.avg_pool2d(drawn, self.supersample) if self.supersample > 1 else drawn

    def forward(self, content: Tensor, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        b, t = noise.shape[:2]
        ink = (self.glyphs(content, labels) + 1) / 2  # [0, 1], 0 = background
        pad = self.size - self.glyph
        canvas = F.pad(ink, (pad // 2, pad - pad // 2, pad // 2, pad - pad // 2))
        canvas = canvas[:, None].expand(-1, t, -1, -1, -1).reshape(b * t, self.channels, self.size, self.size)
        shift = self.positions(noise).reshape(b * t, 2)
        theta = torch.zeros(b * t, 2, 3, device=noise.device, dtype=canvas.dtype)
        theta[:, 0, 0] = theta[:, 1, 1] = 1.0
        theta[:, :, 2] = -shift  # output(u) = canvas(u - shift)
        grid = F.affine_grid(theta, [b * t, self.channels, self.size, self.size], align_corners=False)
        frames = F.grid_sample(canvas, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return (frames * 2 - 1).view(b, t, self.channels, self.size, self.size)
