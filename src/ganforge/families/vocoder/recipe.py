"""The vocoder's training step: least-squares adversarial losses over all sub-discriminators, feature matching,
mel-spectrogram L1 and (optionally) a multi-resolution STFT loss, as in HiFi-GAN. Before ``loss.adv_start``
steps the generator learns from the spectral losses alone (no discriminator: cheaper and a good start)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.ema import EMA
from ganforge.families.speech.audio import MelSpec, magnitude

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))  # (n_fft, hop) of the multi-resolution STFT loss


def d_loss_ls(real: list[Tensor], fake: list[Tensor]) -> Tensor:
    """Least-squares discriminator loss summed over sub-discriminators: real -> 1, fake -> 0."""
    return sum(torch.mean((1 - r) ** 2) + torch.mean(f**2) for r, f in zip(real, fake, strict=True))


def g_loss_ls(fake: list[Tensor]) -> Tensor:
    """Least-squares generator loss summed over sub-discriminators: fake -> 1."""
    return sum(torch.mean((1 - f) ** 2) for f in fake)


def feature_matching(real: list[list[Tensor]], fake: list[list[Tensor]]) -> Tensor:
    """L1 between the discriminators' feature maps of real and generated audio."""
    return sum(F.l1_loss(f, r.detach()) for rs, fs in zip(real, fake, strict=True)
               for r, f in zip(rs, fs, strict=True))


def multi_resolution_stft(fake: Tensor, real: Tensor) -> Tensor:
    """Spectral convergence plus log-magnitude L1, averaged over three STFT resolutions ([B, T] audio)."""
    total = fake.new_zeros(())
    for n_fft, hop in STFT_RESOLUTIONS:
        f, r = magnitude(fake, n_fft, hop), magnitude(real, n_fft, hop)
        convergence = torch.linalg.norm(r - f) / torch.linalg.norm(r).clamp(min=1e-7)
        log_l1 = F.l1_loss(torch.log(f.clamp(min=1e-5)), torch.log(r.clamp(min=1e-5)))
        total = total + convergence + log_l1
    return total / len(STFT_RESOLUTIONS)


class VocoderRecipe:
    """Generator, discriminators, their optimizers and the step. ``sampler`` is the EMA generator if any."""

    batches_per_step = 1

    def __init__(self, generator: nn.Module, discriminator: nn.Module, mel: MelSpec, loss: Any, optim: Any,
                 train: Any, device: torch.device) -> None:
        self.generator = generator.to(device)
        self.discriminator = discriminator.to(device)
        self.mel = mel
        self.loss = loss
        self.opt_g = torch.optim.AdamW(self.generator.parameters(), optim.g_lr, betas=optim.g_betas)
        self.opt_d = torch.optim.AdamW(self.discriminator.parameters(), optim.d_lr, betas=optim.d_betas)
        self.ema = EMA(self.generator, train.ema_decay, train.ema_warmup) if train.ema_decay > 0 else None
        self.steps = 0

    @property
    def sampler(self) -> nn.Module:
        return self.ema.shadow if self.ema is not None else self.generator

    def train_step(self, batches: Sequence[tuple[Tensor, Tensor]]) -> dict[str, Tensor]:
        audio, _ = batches[0]
        mel = self.mel(audio)
        real = audio[:, None, : mel.shape[-1] * self.mel.hop]
        fake = self.generator(mel)
        adversarial = self.steps >= self.loss.adv_start
        scalars: dict[str, Tensor] = {"d_loss": audio.new_zeros(())}  # 0 until the discriminators start

        if adversarial:  # discriminator step on detached fakes
            real_logits, _ = self.discriminator(real)
            fake_logits, _ = self.discriminator(fake.detach())
            d_loss = d_loss_ls(real_logits, fake_logits)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            scalars["d_loss"] = d_loss.detach()

        mel_l1 = F.l1_loss(self.mel(fake[:, 0]), mel)
        g_loss = self.loss.mel_weight * mel_l1
        if self.loss.stft_weight > 0:
            g_loss = g_loss + self.loss.stft_weight * multi_resolution_stft(fake[:, 0], real[:, 0])
        if adversarial:
            with torch.no_grad():
                _, real_features = self.discriminator(real)
            fake_logits, fake_features = self.discriminator(fake)
            g_loss = g_loss + g_loss_ls(fake_logits) + self.loss.fm_weight * feature_matching(real_features,
                                                                                              fake_features)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(self.generator)
        self.steps += 1
        scalars.update(g_loss=g_loss.detach(), mel_l1=mel_l1.detach())
        return scalars

    def state_dict(self) -> dict[str, Any]:
        state = {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                 "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "steps": self.steps}
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.steps = int(state["steps"])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
