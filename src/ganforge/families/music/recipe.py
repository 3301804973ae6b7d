"""The music recipe: ``n_critic`` discriminator steps on real rolls and detached fakes, then one generator step,
then the generator EMA. Reads top to bottom; every ganforge loss works (WGAN-GP is MuseGAN's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.ema import EMA
from ganforge.families.music.config import MusicConfig
from ganforge.families.music.nets import MuseDiscriminator, MuseGenerator, straight_through
from ganforge.losses import AdversarialLoss, build_loss, clip_weights, gradient_penalty, r1_penalty
from ganforge.recipes.gan import NETWORKS_AND_OPTIMIZERS
from ganforge.recipes.parts import load_parts, parts_state


def build_generator(config: MusicConfig) -> MuseGenerator:
    """The generator of a config whose data section is fitted (tracks, pitches known)."""
    d, m = config.data, config.model
    return MuseGenerator(d.tracks, d.bars, d.steps_per_beat * d.beats_per_bar, d.pitches, m.z_dim, m.g_width,
                         bool(m.monophonic), m.hold)


def build_discriminator(config: MusicConfig) -> MuseDiscriminator:
    d = config.data
    return MuseDiscriminator(d.tracks, d.steps_per_beat, d.beats_per_bar, d.bars, d.pitches, config.model.d_width)


class MusicRecipe:
    """Generator, discriminator, their Adam optimizers, the loss and the generator EMA."""

    def __init__(self, generator: MuseGenerator, discriminator: MuseDiscriminator, loss: AdversarialLoss,
                 g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer, n_critic: int,
                 ema_decay: float, ema_warmup: bool, device: torch.device, binary: bool = True) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.n_critic = n_critic
        self.device = device
        self.binary = binary  # D sees straight-through binarized fakes
        self.ema = EMA(generator, ema_decay, ema_warmup) if ema_decay > 0 else None

    @property
    def batches_per_step(self) -> int:
        return self.n_critic

    @property
    def sampler(self) -> nn.Module:
        """The network samples are drawn from: the EMA generator when there is one."""
        return self.ema.shadow if self.ema is not None else self.generator

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.generator.noise_dim, device=self.device)

    def fakes(self, n: int) -> Tensor:
        """``n`` generated rolls as D sees them: binarized (straight-through) or probabilities."""
        probs = self.generator(self.noise(n))
        return straight_through(probs, self.generator.monophonic) if self.binary else probs

    def train_step(self, batches: Sequence[Tensor]) -> dict[str, Tensor]:
        """One discriminator update per real batch of rolls, then one generator update."""
        self.generator.train()
        self.discriminator.train()
        for real in batches:
            with torch.no_grad():
                fake = self.fakes(real.shape[0])
            d_scalars = self.discriminator_step(real, fake)
        g_scalars = self.generator_step(real.shape[0])
        if self.ema is not None:
            self.ema.update(self.generator)
        return {**d_scalars, **g_scalars}

    def discriminator_step(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        use_r1 = self.loss.r1_gamma > 0
        if use_r1:
            real = real.detach().requires_grad_(True)
        logits = self.discriminator(torch.cat([real, fake]))  # no batch statistics in D: one pass is exact
        real_logits, fake_logits = logits[: real.shape[0]], logits[real.shape[0]:]
        d_loss = self.loss.d_loss(real_logits, fake_logits)
        total = d_loss
        scalars = {"d_loss": d_loss.detach(), "d_real": real_logits.detach().mean(),
                   "d_fake": fake_logits.detach().mean()}
        if self.loss.gp_weight > 0:
            penalty = gradient_penalty(self.discriminator, real, fake)
            total = total + self.loss.gp_weight * penalty
            scalars["gp"] = penalty.detach()
        if use_r1:
            penalty = r1_penalty(real_logits, real)
            total = total + 0.5 * self.loss.r1_gamma * penalty
            scalars["r1"] = penalty.detach()
        self.d_optimizer.zero_grad(set_to_none=True)
        total.backward()
        self.d_optimizer.step()
        if self.loss.weight_clip > 0:
            clip_weights(self.discriminator, self.loss.weight_clip)
        return scalars

    def generator_step(self, n: int) -> dict[str, Tensor]:
        self.discriminator.requires_grad_(False)  # no weight gradients for D in the G step
        fake = self.fakes(n)
        g_loss = self.loss.g_loss(self.discriminator(fake))
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.discriminator.requires_grad_(True)
        self.g_optimizer.step()
        return {"g_loss": g_loss.detach(), "density": fake.detach().mean()}

    def state_dict(self) -> dict[str, Any]:
        return parts_state(self, (*NETWORKS_AND_OPTIMIZERS, "ema"))

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_parts(self, state, NETWORKS_AND_OPTIMIZERS, ("ema",))


def build_music_recipe(config: MusicConfig, device: torch.device) -> MusicRecipe:
    """Networks, loss and Adam optimizers of a fitted config, on ``device``."""
    generator = build_generator(config).to(device)
    discriminator = build_discriminator(config).to(device)
    opt, lc = config.optim, config.loss
    loss = build_loss(lc.name, lc.variant, lc.real_label, lc.gp_weight, lc.clip, lc.r1_gamma)
    g_optimizer = torch.optim.Adam(generator.parameters(), opt.g_lr, opt.g_betas)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), opt.d_lr, opt.d_betas)
    return MusicRecipe(generator, discriminator, loss, g_optimizer, d_optimizer, opt.n_critic,
                       config.train.ema_decay, config.train.ema_warmup, device, config.model.straight_through)
