"""The unconditional GAN recipe: one training step, read top to bottom.

Discriminator step(s) on detached fakes, then one generator step through the updated discriminator,
then the EMA update. Works with every loss in ``ganforge.losses`` (gradient penalty, weight clipping
and R1 are applied here when the loss asks for them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.losses import AdversarialLoss, clip_weights, gradient_penalty, r1_penalty
from ganforge.training.ema import EMA

Batch = tuple[Tensor, Tensor]

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class GANRecipe:
    """Generator, discriminator, their optimizers, the loss and the generator EMA."""

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: AdversarialLoss,
        z_dim: int,
        g_optimizer: torch.optim.Optimizer,
        d_optimizer: torch.optim.Optimizer,
        n_critic: int = 1,
        ema_decay: float = 0.999,
        ema_warmup: bool = True,
        amp: str = "none",
        device: torch.device | None = None,
        d_augment: Callable[[Tensor], Tensor] | None = None,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.z_dim = z_dim
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.n_critic = n_critic
        self.device = device or next(generator.parameters()).device
        self.ema = EMA(generator, ema_decay, ema_warmup) if ema_decay > 0 else None
        self.amp_dtype = AMP_DTYPES.get(amp)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=amp == "fp16")
        self.d_augment = d_augment  # DiffAugment: applied to every image D sees, real or fake

    def discriminate(self, images: Tensor) -> Tensor:
        return self.discriminator(self.d_augment(images) if self.d_augment else images)

    @property
    def batches_per_step(self) -> int:
        return self.n_critic

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.z_dim, device=self.device)

    def autocast(self) -> AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def train_step(self, batches: Sequence[Batch]) -> dict[str, Tensor]:
        """``n_critic`` discriminator updates (one per real batch), then one generator update."""
        self.generator.train()
        self.discriminator.train()
        for i, (real, _labels) in enumerate(batches):
            last = i == len(batches) - 1
            # The last fake keeps its graph: the generator step below reuses it through the updated D.
            with self.autocast(), torch.set_grad_enabled(last):
                fake = self.generator(self.noise(real.shape[0]))
            d_scalars = self.discriminator_step(real, fake.detach())
        g_scalars = self.generator_step(fake)
        if self.ema is not None:
            self.ema.update(self.generator)
        return {**d_scalars, **g_scalars}

    def discriminator_step(self, real: Tensor, fake: Tensor) -> dict[str, Tensor]:
        use_r1 = self.loss.r1_gamma > 0
        if use_r1:
            real = real.detach().requires_grad_(True)
        with self.autocast():
            real_logits = self.discriminate(real)
            fake_logits = self.discriminate(fake)
            d_loss = self.loss.d_loss(real_logits.float(), fake_logits.float())
        total = d_loss
        scalars = {"d_loss": d_loss.detach(), "d_real": real_logits.detach().float().mean(),
                   "d_fake": fake_logits.detach().float().mean()}
        if self.loss.gp_weight > 0:
            penalty = gradient_penalty(self.discriminator, real, fake)
            total = total + self.loss.gp_weight * penalty
            scalars["gp"] = penalty.detach()
        if use_r1:
            penalty = r1_penalty(real_logits.float(), real)
            total = total + 0.5 * self.loss.r1_gamma * penalty
            scalars["r1"] = penalty.detach()
        self.d_optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.d_optimizer)
        self.scaler.update()
        if self.loss.weight_clip > 0:
            clip_weights(self.discriminator, self.loss.weight_clip)
        return scalars

    def generator_step(self, fake: Tensor) -> dict[str, Tensor]:
        self.discriminator.requires_grad_(False)  # no weight gradients for D in the G step
        with self.autocast():
            g_loss = self.loss.g_loss(self.discriminate(fake).float())
        self.g_optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(g_loss).backward()
        self.discriminator.requires_grad_(True)
        self.scaler.step(self.g_optimizer)
        self.scaler.update()
        return {"g_loss": g_loss.detach()}

    @property
    def sampler(self) -> nn.Module:
        """The network to draw samples from: the EMA generator when there is one."""
        return self.ema.shadow if self.ema is not None else self.generator

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "g_optimizer": self.g_optimizer.state_dict(),
            "d_optimizer": self.d_optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.g_optimizer.load_state_dict(state["g_optimizer"])
        self.d_optimizer.load_state_dict(state["d_optimizer"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
