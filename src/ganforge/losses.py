"""Adversarial losses on raw discriminator logits, and the regularizers that go with them.

Every loss is a pair of pure functions: ``d_loss(real_logits, fake_logits)`` for the discriminator and
``g_loss(fake_logits)`` for the generator. Working on logits (never on sigmoid outputs) keeps them
numerically stable. The minimax and non-saturating generator terms of the original GAN are kept
apart on purpose: minimax is the game of Goodfellow et al. (2014) as written, non-saturating is what
that paper recommends for training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message

LOSS_DESCRIPTIONS = {
    "bce": "original GAN, binary cross-entropy on logits; variants: non-saturating (default), minimax, mse",
    "lsgan": "least squares GAN (Mao et al. 2017): targets 1 for real, 0 for fake",
    "wgan": "Wasserstein GAN with weight clipping (Arjovsky et al. 2017)",
    "wgan-gp": "Wasserstein GAN with gradient penalty (Gulrajani et al. 2017)",
    "hinge": "hinge loss (Lim & Ye 2017; SNGAN, BigGAN)",
}


def bce_d_loss(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    real_target = torch.full_like(real, real_label)
    return F.binary_cross_entropy_with_logits(real, real_target) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )


def bce_minimax_g_loss(fake: Tensor) -> Tensor:
    """Minimize log(1 - D(G(z))) = -softplus(logit): saturates when D is confident."""
    return -F.softplus(fake).mean()


def bce_non_saturating_g_loss(fake: Tensor) -> Tensor:
    """Minimize -log D(G(z)) = softplus(-logit)."""
    return F.softplus(-fake).mean()


def bce_mse_g_loss(fake: Tensor) -> Tensor:
    """Squared error between D's probability for the fake and 1 (the TensorFlow article's generator)."""
    return (torch.sigmoid(fake) - 1).square().mean()


def lsgan_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * ((real - 1).square().mean() + fake.square().mean())


def lsgan_g_loss(fake: Tensor) -> Tensor:
    return 0.5 * (fake - 1).square().mean()


def wasserstein_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


@dataclass(frozen=True)
class AdversarialLoss:
    """A discriminator term, a generator term, and what the recipe must add around them."""

    name: str
    d_loss: Callable[[Tensor, Tensor], Tensor]
    g_loss: Callable[[Tensor], Tensor]
    gp_weight: float = 0.0  # WGAN-GP gradient penalty on interpolates
    weight_clip: float = 0.0  # WGAN weight clipping after each D step
    r1_gamma: float = 0.0  # R1 penalty on real data


_BCE_G_LOSSES = {
    "non-saturating": bce_non_saturating_g_loss,
    "minimax": bce_minimax_g_loss,
    "mse": bce_mse_g_loss,
}


def build_loss(
    name: str,
    variant: str = "non-saturating",
    real_label: float = 1.0,
    gp_weight: float = 10.0,
    clip: float = 0.01,
    r1_gamma: float = 0.0,
) -> AdversarialLoss:
    """Build a named loss (see ``LOSS_DESCRIPTIONS``)."""
    if name == "bce":
        if variant not in _BCE_G_LOSSES:
            raise GanforgeError(unknown_name_message("bce variant", variant, list(_BCE_G_LOSSES)))
        d_loss = partial(bce_d_loss, real_label=real_label)
        return AdversarialLoss("bce", d_loss, _BCE_G_LOSSES[variant], r1_gamma=r1_gamma)
    if name == "lsgan":
        return AdversarialLoss(name, lsgan_d_loss, lsgan_g_loss, r1_gamma=r1_gamma)
    if name == "wgan":
        return AdversarialLoss(name, wasserstein_d_loss, wasserstein_g_loss, weight_clip=clip, r1_gamma=r1_gamma)
    if name == "wgan-gp":
        return AdversarialLoss(name, wasserstein_d_loss, wasserstein_g_loss, gp_weight=gp_weight, r1_gamma=r1_gamma)
    if name == "hinge":
        return AdversarialLoss(name, hinge_d_loss, wasserstein_g_loss, r1_gamma=r1_gamma)
    raise GanforgeError(unknown_name_message("loss", name, list(LOSS_DESCRIPTIONS)))


def gradient_penalty(discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None = None) -> Tensor:
    """WGAN-GP: (||grad D(x_hat)|| - 1)^2 on random interpolates of real and fake."""
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    logits = discriminator(mixed, labels)
    (grad,) = torch.autograd.grad(logits.sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def r1_penalty(real_logits: Tensor, real: Tensor) -> Tensor:
    """R1 (Mescheder et al. 2018): squared gradient norm of D on real data; ``real`` must require grad."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
    return grad.square().flatten(1).sum(dim=1).mean()


@torch.no_grad()
def clip_weights(module: nn.Module, bound: float) -> None:
    for param in module.parameters():
        param.clamp_(-bound, bound)
