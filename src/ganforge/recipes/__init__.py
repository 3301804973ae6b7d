"""Training recipes: each owns its ``train_step``; the Trainer stays generic."""

from __future__ import annotations

from functools import partial

import torch

from ganforge.config import Config
from ganforge.data.ada import AdaptiveAugment
from ganforge.data.diffaugment import check_policy, diff_augment
from ganforge.losses import build_loss
from ganforge.nets import build_networks
from ganforge.recipes.gan import GANRecipe

__all__ = ["GANRecipe", "build_recipe"]


def build_recipe(config: Config, image_shape: tuple[int, int, int], device: torch.device) -> GANRecipe:
    """Networks, loss and Adam optimizers as the config describes them, on ``device``."""
    generator, discriminator = build_networks(config.model, image_shape)
    generator.to(device)
    discriminator.to(device)
    opt = config.optim
    fused = device.type == "cuda"
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=opt.g_lr, betas=opt.g_betas,
                                   foreach=not fused, fused=fused or None)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=opt.d_lr, betas=opt.d_betas,
                                   foreach=not fused, fused=fused or None)
    check_policy(config.data.diffaugment)
    d_augment = partial(diff_augment, policy=config.data.diffaugment) if config.data.diffaugment else None
    ada_cfg = config.data.ada
    ada = (AdaptiveAugment(ada_cfg.policy, ada_cfg.target, ada_cfg.speed_kimg, ada_cfg.interval, device)
           if ada_cfg.enabled else None)
    lc = config.loss
    loss = build_loss(lc.name, lc.variant, lc.real_label, lc.gp_weight, lc.clip, lc.r1_gamma)
    acgan = getattr(config.model, "d_cond", "none") == "acgan"
    return GANRecipe(
        generator,
        discriminator,
        loss,
        z_dim=config.model.z_dim,
        g_optimizer=g_optimizer,
        d_optimizer=d_optimizer,
        n_critic=opt.n_critic,
        ema_decay=config.train.ema_decay,
        ema_warmup=config.train.ema_warmup,
        amp=config.train.amp,
        device=device,
        d_augment=d_augment,
        ada=ada,
        num_classes=generator.num_classes,
        aux_weight=lc.aux_weight if acgan else 0.0,
    )
