"""The glyph phase of a warp run (``model.glyph_steps``): before the clip steps, train the warp generator's
glyph decoder alone, as a self-conditioned image GAN on the objects cut out of the real clips.

Why: in the joint MoCoGAN step the glyph learns only through the warp and two frame-level discriminators,
and after 5,000 steps its digits read like real ones 2/3 as often (classifier confidence 0.42 against 0.64).
Glyphs drawn by the image default's recipe (self-conditioning, equal learning rates of 6e-4, mode seeking,
docs/default.md) and moved along real trajectories score 0.63 (docs/video.md). So the glyph gets that recipe
first, on its own, and the clip steps then learn the motion with the glyph decoder frozen.

- **Real glyphs:** each training clip's first frame, cut ``glyph`` x ``glyph`` pixels around the object's
  centre of mass (whole pixels, no resampling: the crop keeps the frame's own sharpness; the background
  beyond the frame is 0, the warp generator's own background).
- **Class-conditional runs** (``model.conditional``) condition the glyph on the clip's class instead of a
  cluster.
- **Self-conditioning:** the glyphs are clustered once (HOG, PCA, k-means: ``ganforge.data.clusters``), the
  discriminator is class-conditional on the cluster (projection) and the generator's cluster is read from its
  content latent (``WarpGenerator.clusters_of``), so the generator stays unconditional to its user.
- **Batches** are drawn with a generator seeded by (run seed, step), so a resumed run draws the same ones.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.data.clusters import cluster_labels
from ganforge.families.video.metrics import centre_of_mass
from ganforge.families.video.nets import ImageDiscriminator
from ganforge.families.video.warp import WarpGenerator, glyph_dcgan
from ganforge.nets.dcgan import DCGANDiscriminator
from ganforge.recipes.gan import MODE_SEEKING_EPS, mode_seeking_ratio

GLYPH_SEED_OFFSET = 104_729  # keeps the glyph batches' stream apart from the run's other seeded streams


def cut_glyphs(frames: Tensor, side: int) -> Tensor:
    """Frames uint8 [N, C, H, W] -> [N, C, side, side] uint8: each frame cut around its (gray) centre of mass,
    at whole pixels (background beyond the frame's edges)."""
    n, c = frames.shape[:2]
    centres = centre_of_mass(frames[:, None].float().div(127.5).sub(1))[:, 0]  # [N, 2] (x, y) in pixels
    padded = torch.nn.functional.pad(frames, (side, side, side, side))
    top_left = centres.round().long() - side // 2 + side  # in the padded frame
    offsets = torch.arange(side)
    rows = (top_left[:, 1, None] + offsets)[:, None, :, None]  # [N, 1, side, 1]
    cols = (top_left[:, 0, None] + offsets)[:, None, None, :]  # [N, 1, 1, side]
    return padded[torch.arange(n)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]


def glyph_discriminator(generator: WarpGenerator, d_width: int) -> nn.Module:
    """The glyph phase's D, the partner of the generator's ``glyph_net``: the image default's DCGAN D
    (BatchNorm, projection on the clusters) or the video family's spectral-norm frame D."""
    k, side = generator.conditions, generator.glyph
    if generator.glyph_net == "dcgan":
        return DCGANDiscriminator(glyph_dcgan(generator.content_dim, d_width, d_width, k),
                                  (generator.channels, side, side))
    return ImageDiscriminator(generator.channels, side, d_width, k)


class GlyphPhase:
    """The glyph GAN: real glyphs and their clusters, a glyph discriminator, two optimizers, and ``step``."""

    def __init__(self, generator: WarpGenerator, first_frames: Tensor, classes: Tensor, d_width: int, lr: float,
                 betas: tuple[float, float], batch_size: int, mode_seeking: float, seed: int, loss: Any,
                 device: torch.device) -> None:
        glyphs = cut_glyphs(first_frames, generator.glyph)
        k = generator.clusters  # fitted to the data by the family (``clusters_for``); 0 when conditional
        if generator.num_classes:  # a class-conditional run: the glyph's condition is the clip's class
            labels = classes.long()
        elif k:
            labels = cluster_labels(glyphs, k, seed)
        else:
            labels = torch.zeros(len(glyphs), dtype=torch.long)
        if k:
            counts = torch.bincount(labels, minlength=k).double()
            generator.set_cluster_shares((counts / counts.sum()).to(generator.cluster_cdf.device))
        self.glyphs = glyphs.to(device)
        self.labels = labels.to(device)
        self.generator = generator
        self.discriminator = glyph_discriminator(generator, d_width).to(device)
        self.g_opt = torch.optim.Adam(generator.glyph_parameters(), lr, betas, foreach=True)
        self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr, betas, foreach=True)
        self.batch_size, self.mode_seeking, self.seed, self.loss = batch_size, mode_seeking, seed, loss
        self.device = device

    def _real(self, step: int) -> tuple[Tensor, Tensor]:
        picker = torch.Generator().manual_seed(self.seed * GLYPH_SEED_OFFSET + step)
        index = torch.randint(0, len(self.glyphs), (self.batch_size,), generator=picker).to(self.device)
        return self.glyphs[index].float().div(127.5).sub(1), self.labels[index]

    def _fake(self) -> tuple[Tensor, Tensor | None, Tensor]:
        content = torch.randn(self.batch_size, self.generator.content_dim, device=self.device)
        half = self.batch_size // 2
        if self.mode_seeking > 0:  # MSGAN pairs share a cluster: the cluster is read from content[:, 0]
            content[half:2 * half, 0] = content[:half, 0]
        if not self.generator.num_classes:
            return self.generator.glyphs(content), self.generator.clusters_of(content), content
        classes = torch.randint(0, self.generator.num_classes, (self.batch_size,), device=self.device)
        classes[half:2 * half] = classes[:half]  # (pairs share a class for mode seeking)
        return self.generator.glyphs(content, classes), classes, content

    def step(self, step: int) -> dict[str, Tensor]:
        """One D step and one G step of the glyph GAN."""
        real, real_labels = self._real(step)
        with torch.no_grad():
            fake, fake_labels, _ = self._fake()
        d_loss = self.loss.d_loss(self.discriminator(real, real_labels), self.discriminator(fake, fake_labels))
        self.d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_opt.step()

        self.discriminator.requires_grad_(False)
        fake, fake_labels, content = self._fake()
        g_loss = total = self.loss.g_loss(self.discriminator(fake, fake_labels))
        scalars = {}
        if self.mode_seeking > 0:
            spread = mode_seeking_ratio(fake, content)
            total = total + self.mode_seeking / (spread + MODE_SEEKING_EPS)
            scalars["g_spread"] = spread.detach()
        self.g_opt.zero_grad(set_to_none=True)
        total.backward()
        self.g_opt.step()
        self.discriminator.requires_grad_(True)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), **scalars}

    def state_dict(self) -> dict[str, Any]:
        return {"discriminator": self.discriminator.state_dict(), "g_opt": self.g_opt.state_dict(),
                "d_opt": self.d_opt.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
