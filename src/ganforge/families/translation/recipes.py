"""Image-to-image translation recipes: pix2pix (paired) and CycleGAN (unpaired).

Each batch is a stack of A and B images (see ``ganforge.data.pairs``). Both recipes follow the house
order: discriminator step(s) on detached fakes, then the generator step through the updated, frozen
discriminators.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.translation.color import target_ab
from ganforge.families.translation.data import split_pair
from ganforge.losses import AdversarialLoss
from ganforge.optimizers import adam, linear_decay
from ganforge.recipes.gan import NETWORKS_AND_OPTIMIZERS
from ganforge.recipes.parts import load_parts, parts_state

Batch = tuple[Tensor, Tensor]


def backward_step(optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


class ImagePool:
    """The CycleGAN history buffer (Shrivastava et al. 2017): D sees a mix of new fakes and up to ``size``
    older ones. Draws come from torch's global RNG, and the stored images are saved in checkpoints."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.images: list[Tensor] = []

    def query(self, fakes: Tensor) -> Tensor:
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image.clone())
                out.append(image)
            elif torch.rand(()) < 0.5:
                index = int(torch.randint(0, self.size, ()))
                out.append(self.images[index].clone())
                self.images[index] = image.clone()
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": torch.stack(self.images) if self.images else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        stored = state.get("images")
        self.images = list(stored.unbind(0)) if stored is not None else []


class TranslationRecipe:
    """What the Trainer and the run helpers need from any translation recipe."""

    generator: nn.Module
    num_classes = 0
    pair_channels: tuple[int, int]

    @property
    def batches_per_step(self) -> int:
        return 1

    @property
    def sampler(self) -> nn.Module:
        return self.generator

    def schedulers(self) -> list[torch.optim.lr_scheduler.LRScheduler]:
        return []

    @torch.no_grad()
    def preview(self, batch: Tensor) -> Tensor:
        """Rows of (A, G(A), B) for a fixed batch, as 3-channel images for a grid."""
        raise NotImplementedError


def as_rgb(images: Tensor) -> Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def interleave(*columns: Tensor) -> Tensor:
    """[A0, B0, C0, A1, B1, C1, ...] so that a grid with ``len(columns)`` per row shows one item per row."""
    return torch.stack([as_rgb(c) for c in columns], dim=1).flatten(0, 1)


RECON_LOSSES = {"l1": F.l1_loss, "l2": F.mse_loss}


class Pix2PixRecipe(TranslationRecipe):
    """pix2pix: G(A) should fool D(A, .) and be close to B (weight ``l1_weight``, 100 in the paper) in L1, or
    in mean squared error with ``recon="l2"``. With ``lab`` (colorization), G predicts the a, b channels of B
    from gray A, and D and the reconstruction term see a, b (the pix2pix colorization mode)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, loss: AdversarialLoss,
                 pair_channels: tuple[int, int], lr: tuple[float, float], betas: tuple[tuple[float, float], ...],
                 l1_weight: float, adv_weight: float, device: torch.device, lab: bool = False,
                 recon: str = "l1") -> None:
        if recon not in RECON_LOSSES:
            raise ValueError(f"recon must be one of {', '.join(RECON_LOSSES)}, got {recon!r}")
        self.generator, self.discriminator = generator, discriminator
        self.lab = lab
        self.recon = recon
        self.loss = loss
        self.pair_channels = pair_channels
        self.l1_weight, self.adv_weight = l1_weight, adv_weight
        self.device = device
        self.g_optimizer = adam(generator.parameters(), lr[0], betas[0], device)
        self.d_optimizer = adam(discriminator.parameters(), lr[1], betas[1], device)

    def train_step(self, batches: list[Batch]) -> dict[str, Tensor]:
        self.generator.train()
        self.discriminator.train()
        a, b = split_pair(batches[0][0], self.pair_channels)
        if self.lab:  # the target and the prediction are a, b; the output's L is the input's
            b, fake = target_ab(b), self.generator.predict_ab(a)
        else:
            fake = self.generator(a)
        scalars: dict[str, Tensor] = {}
        if self.adv_weight > 0:
            real_logits = self.discriminator(torch.cat([a, b], 1))
            fake_logits = self.discriminator(torch.cat([a, fake.detach()], 1))
            d_loss = 0.5 * self.loss.d_loss(real_logits, fake_logits)  # halved, as in pix2pix
            backward_step(self.d_optimizer, d_loss)
            scalars["d_loss"] = d_loss.detach()
        self.discriminator.requires_grad_(False)
        distance = RECON_LOSSES[self.recon](fake, b)
        total = self.l1_weight * distance
        if self.adv_weight > 0:
            g_adv = self.loss.g_loss(self.discriminator(torch.cat([a, fake], 1)))
            total = total + self.adv_weight * g_adv
            scalars["g_loss"] = g_adv.detach()
        backward_step(self.g_optimizer, total)
        self.discriminator.requires_grad_(True)
        return {**scalars, self.recon: distance.detach()}

    @torch.no_grad()
    def preview(self, batch: Tensor) -> Tensor:
        a, b = split_pair(batch, self.pair_channels)
        was_training = self.generator.training
        self.generator.eval()
        fake = self.generator(a)
        self.generator.train(was_training)
        return interleave(a, fake, b)

    def state_dict(self) -> dict[str, Any]:
        return parts_state(self, NETWORKS_AND_OPTIMIZERS)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_parts(self, state, NETWORKS_AND_OPTIMIZERS)


class CycleGANRecipe(TranslationRecipe):
    """CycleGAN: G_AB and G_BA, D_A and D_B; least-squares adversarial losses, cycle consistency
    ``|G_BA(G_AB(a)) - a|`` (weight ``cycle_weight``, 10), identity ``|G_AB(b) - b|`` (weight
    ``identity_weight * cycle_weight``, when A and B have the same channels), history pools, and a
    linear learning-rate decay over the second half of the run."""

    def __init__(self, g_ab: nn.Module, g_ba: nn.Module, d_a: nn.Module, d_b: nn.Module, loss: AdversarialLoss,
                 pair_channels: tuple[int, int], lr: tuple[float, float], betas: tuple[tuple[float, float], ...],
                 cycle_weight: float, identity_weight: float, pool_size: int, total_steps: int,
                 decay_start: float, device: torch.device) -> None:
        self.generator, self.generator_ba = g_ab, g_ba
        self.d_a, self.d_b = d_a, d_b
        self.loss = loss
        self.pair_channels = pair_channels
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight if pair_channels[0] == pair_channels[1] else 0.0
        self.device = device
        self.pool_a, self.pool_b = ImagePool(pool_size), ImagePool(pool_size)
        self.g_optimizer = adam(itertools.chain(g_ab.parameters(), g_ba.parameters()), lr[0], betas[0], device)
        self.d_optimizer = adam(itertools.chain(d_a.parameters(), d_b.parameters()), lr[1], betas[1], device)
        decay = linear_decay(total_steps, decay_start)
        self.g_scheduler = torch.optim.lr_scheduler.LambdaLR(self.g_optimizer, decay)
        self.d_scheduler = torch.optim.lr_scheduler.LambdaLR(self.d_optimizer, decay)

    def networks(self) -> list[nn.Module]:
        return [self.generator, self.generator_ba, self.d_a, self.d_b]

    def train_step(self, batches: list[Batch]) -> dict[str, Tensor]:
        for net in self.networks():
            net.train()
        a, b = split_pair(batches[0][0], self.pair_channels)
        fake_b, fake_a = self.generator(a), self.generator_ba(b)

        d_a_loss = 0.5 * self.loss.d_loss(self.d_a(a), self.d_a(self.pool_a.query(fake_a)))
        d_b_loss = 0.5 * self.loss.d_loss(self.d_b(b), self.d_b(self.pool_b.query(fake_b)))
        backward_step(self.d_optimizer, d_a_loss + d_b_loss)

        for d in (self.d_a, self.d_b):
            d.requires_grad_(False)
        g_adv = self.loss.g_loss(self.d_b(fake_b)) + self.loss.g_loss(self.d_a(fake_a))
        cycle = F.l1_loss(self.generator_ba(fake_b), a) + F.l1_loss(self.generator(fake_a), b)
        total = g_adv + self.cycle_weight * cycle
        scalars = {"d_loss": (d_a_loss + d_b_loss).detach(), "g_loss": g_adv.detach(), "cycle": cycle.detach()}
        if self.identity_weight > 0:
            identity = F.l1_loss(self.generator(b), b) + F.l1_loss(self.generator_ba(a), a)
            total = total + self.identity_weight * self.cycle_weight * identity
            scalars["identity"] = identity.detach()
        backward_step(self.g_optimizer, total)
        for d in (self.d_a, self.d_b):
            d.requires_grad_(True)
        self.g_scheduler.step()
        self.d_scheduler.step()
        return scalars

    @torch.no_grad()
    def preview(self, batch: Tensor) -> Tensor:
        a, b = split_pair(batch, self.pair_channels)
        modes = [g.training for g in (self.generator, self.generator_ba)]
        self.generator.eval()
        self.generator_ba.eval()
        out = interleave(a, self.generator(a), b, self.generator_ba(b))
        self.generator.train(modes[0])
        self.generator_ba.train(modes[1])
        return out

    PARTS = ("generator", "generator_ba", "d_a", "d_b", "g_optimizer", "d_optimizer", "g_scheduler", "d_scheduler",
             "pool_a", "pool_b")

    def state_dict(self) -> dict[str, Any]:
        return parts_state(self, self.PARTS)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_parts(self, state, self.PARTS)
