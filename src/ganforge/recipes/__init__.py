"""Training recipes shared by families: each owns its ``train_step``; the Trainer stays generic."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from ganforge.config import GANOptimConfig, LossConfig, TrainConfig
from ganforge.data.ada import AdaptiveAugment
from ganforge.data.diffaugment import check_policy, diff_augment
from ganforge.devices import resolve_amp
from ganforge.losses import build_loss
from ganforge.optimizers import adam, build_lr_decay
from ganforge.recipes.gan import GANRecipe

__all__ = ["GANRecipe", "build_gan_recipe"]


def build_gan_recipe(
    generator: nn.Module,
    discriminator: nn.Module,
    z_dim: int,
    loss: LossConfig,
    optim: GANOptimConfig,
    train: TrainConfig,
    device: torch.device,
    diffaugment: list[str] | None = None,
    ada: object | None = None,
    aux_classes: bool = False,
) -> GANRecipe:
    """A GAN recipe around ``generator`` and ``discriminator`` (moved to ``device``) with Adam for each,
    the configured loss, EMA and precision; DiffAugment (policy list) and ADA (an AdaConfig) when given."""
    generator.to(device)
    discriminator.to(device)
    g_optimizer = adam(generator.parameters(), optim.g_lr, optim.g_betas, device)
    d_optimizer = adam(discriminator.parameters(), optim.d_lr, optim.d_betas, device)
    d_augment = None
    if diffaugment:
        check_policy(diffaugment)
        d_augment = partial(diff_augment, policy=diffaugment)
    adaptive = None
    if ada is not None and ada.enabled:
        adaptive = AdaptiveAugment(ada.policy, ada.target, ada.speed_kimg, ada.interval, device)
    lr_decay = build_lr_decay([g_optimizer, d_optimizer], optim.lr_decay, train.steps, train.minutes)
    recipe = GANRecipe(
        generator,
        discriminator,
        build_loss(loss.name, loss.variant, loss.real_label, loss.gp_weight, loss.clip, loss.r1_gamma),
        z_dim=z_dim,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        n_critic=optim.n_critic,
        ema_decay=train.ema_decay,
        ema_warmup=train.ema_warmup,
        amp=resolve_amp(train.amp, device),  # a run resolved auto already (runs.train)
        device=device,
        d_augment=d_augment,
        ada=adaptive,
        num_classes=getattr(generator, "num_classes", 0),
        aux_weight=loss.aux_weight if aux_classes else 0.0,
        mode_seeking=getattr(loss, "mode_seeking", 0.0),
        lr_decay=lr_decay,
    )
    if train.compile:  # in place, after the EMA copy was made: the sampler stays eager
        generator.compile()
        discriminator.compile()
    return recipe
