"""The text-to-image training step: a matching-aware GAN (GAN-INT-CLS, Reed et al. 2016) with DF-GAN's
hinge loss and matching-aware gradient penalty, and the text encoder trained jointly.

One step, top to bottom:
1. pick one caption per image (global RNG, saved in checkpoints) and encode it: sentence ``s``.
2. D step: real image with its caption -> real; real image with another image's caption -> fake;
   G(z, s) with s -> fake; plus a CLIP-style contrastive loss between D's image embedding and ``s`` on
   real pairs, and (every ``gp_every`` steps, lazily) MA-GP: the gradient norm of D at real pairs, with
   respect to the image and the sentence, to the power p. The text encoder is updated with D: it learns
   what tells captions apart.
3. G step: the same fakes must fool the updated D on (G(z, s), s), plus the same contrastive loss on the
   fakes (XMC-GAN style); the sentence is detached (the generator does not move the encoder).
4. EMA of the generator and of the text encoder (samples use both averages).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.ema import EMA
from ganforge.families.text2image.nets import Discriminator, Generator, TextEncoder


def contrastive_loss(images: Tensor, sentences: Tensor, temperature: float) -> Tensor:
    """Symmetric InfoNCE between normalized image and sentence embeddings of matching rows."""
    logits = F.normalize(images, dim=1) @ F.normalize(sentences, dim=1).T / temperature
    target = torch.arange(images.shape[0], device=images.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def pick_captions(ids: Tensor, lengths: Tensor, counts: Tensor) -> tuple[Tensor, Tensor]:
    """One caption per image, uniformly among its ``counts`` captions: (ids [B, L], lengths [B])."""
    choice = (torch.rand(counts.shape, device=counts.device) * counts).long().clamp(max=ids.shape[1] - 1)
    rows = torch.arange(ids.shape[0], device=ids.device)
    return ids[rows, choice], lengths[rows, choice]


class Text2ImageRecipe:
    """Generator, discriminator and text encoder with their optimizers and EMAs."""

    batches_per_step = 1

    def __init__(self, generator: Generator, discriminator: Discriminator, encoder: TextEncoder, *,
                 g_lr: float, d_lr: float, g_betas: tuple[float, float], d_betas: tuple[float, float],
                 mismatch_weight: float, gp_weight: float, gp_power: float, gp_every: int, contrastive_weight: float,
                 g_contrastive_weight: float, temperature: float, ema_decay: float, ema_warmup: bool,
                 device: torch.device) -> None:
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.device = device
        self.mismatch_weight, self.gp_weight, self.gp_power = mismatch_weight, gp_weight, gp_power
        self.gp_every, self.steps_done = gp_every, 0
        self.contrastive_weight, self.g_contrastive_weight = contrastive_weight, g_contrastive_weight
        self.temperature = temperature
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=g_lr, betas=g_betas)
        self.opt_d = torch.optim.Adam([*discriminator.parameters(), *encoder.parameters()], lr=d_lr, betas=d_betas)
        self.ema = EMA(generator, ema_decay, ema_warmup) if ema_decay > 0 else None
        self.encoder_ema = EMA(encoder, ema_decay, ema_warmup) if ema_decay > 0 else None

    @property
    def sampler(self) -> tuple[nn.Module, nn.Module]:
        """(generator, text encoder) used for samples: the EMA copies when kept."""
        if self.ema is None or self.encoder_ema is None:
            return self.generator, self.encoder
        return self.ema.shadow, self.encoder_ema.shadow

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.generator.z_dim, device=self.device)

    def train_step(self, batches: Sequence[tuple[Tensor, ...]]) -> dict[str, Tensor]:
        images, ids, lengths, counts = batches[0]
        real = images.float().div(127.5).sub(1)
        words, n_words = pick_captions(ids, lengths, counts)
        sentence = self.encoder(words, n_words)
        fake = self.generator(self.noise(real.shape[0]), sentence.detach())  # kept for the G step below
        self.steps_done += 1
        penalize = self.gp_weight > 0 and self.steps_done % self.gp_every == 0

        # --- discriminator (and text encoder) ---
        real = real.requires_grad_(penalize)
        real_features = self.discriminator.features(real)
        real_logits = self.discriminator.judge(real_features, sentence)
        mismatched = self.discriminator.judge(real_features, sentence.roll(1, dims=0))
        fake_logits = self.discriminator(fake.detach(), sentence)
        d_adv = (F.relu(1 - real_logits).mean() + (1 - self.mismatch_weight) * F.relu(1 + fake_logits).mean()
                 + self.mismatch_weight * F.relu(1 + mismatched).mean())
        clip = contrastive_loss(self.discriminator.embed(real_features), sentence, self.temperature)
        d_loss = d_adv + self.contrastive_weight * clip
        if penalize:  # lazy: every gp_every steps, weighted by gp_every (StyleGAN2's lazy R1)
            grad_image, grad_text = torch.autograd.grad(real_logits.sum(), (real, sentence), create_graph=True)
            norm = torch.cat([grad_image.flatten(1), grad_text], dim=1).norm(dim=1)
            d_loss = d_loss + self.gp_weight * self.gp_every * norm.pow(self.gp_power).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()

        # --- generator (the same fakes, judged by the updated D) ---
        sentence = sentence.detach()
        fake_features = self.discriminator.features(fake)
        g_adv = -self.discriminator.judge(fake_features, sentence).mean()
        g_clip = contrastive_loss(self.discriminator.embed(fake_features), sentence, self.temperature)
        g_loss = g_adv + self.g_contrastive_weight * g_clip
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema is not None and self.encoder_ema is not None:
            self.ema.update(self.generator)
            self.encoder_ema.update(self.encoder)
        return {"d_loss": d_adv.detach(), "g_loss": g_adv.detach(), "clip_real": clip.detach(),
                "clip_fake": g_clip.detach()}

    def state_dict(self) -> dict[str, Any]:
        state = {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                 "encoder": self.encoder.state_dict(), "opt_g": self.opt_g.state_dict(),
                 "opt_d": self.opt_d.state_dict(), "steps_done": self.steps_done}
        if self.ema is not None and self.encoder_ema is not None:
            state["ema"] = self.ema.state_dict()
            state["encoder_ema"] = self.encoder_ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.encoder.load_state_dict(state["encoder"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.steps_done = int(state["steps_done"])
        if self.ema is not None and self.encoder_ema is not None:
            self.ema.load_state_dict(state["ema"])
            self.encoder_ema.load_state_dict(state["encoder_ema"])
