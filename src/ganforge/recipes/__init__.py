"""Training recipes: each owns its ``train_step``; the Trainer stays generic."""

from __future__ import annotations

from functools import partial

import torch

from ganforge.config import Config
from ganforge.data.ada import AdaptiveAugment
from ganforge.data.diffaugment import check_policy, diff_augment
from ganforge.errors import GanforgeError
from ganforge.losses import build_loss
from ganforge.nets import build_networks, is_translation
from ganforge.nets.translation import PatchDiscriminator, build_translator
from ganforge.recipes.gan import GANRecipe
from ganforge.recipes.translation import CycleGANRecipe, Pix2PixRecipe, TranslationRecipe, adam

__all__ = ["CycleGANRecipe", "GANRecipe", "Pix2PixRecipe", "TranslationRecipe", "build_recipe"]


def build_recipe(
    config: Config, image_shape: tuple[int, int, int], device: torch.device
) -> GANRecipe | TranslationRecipe:
    """Networks, loss and Adam optimizers as the config describes them, on ``device``."""
    if is_translation(config.model):
        return build_translation_recipe(config, device)
    generator, discriminator = build_networks(config.model, image_shape)
    generator.to(device)
    discriminator.to(device)
    opt = config.optim
    g_optimizer = adam(generator.parameters(), opt.g_lr, opt.g_betas, device)
    d_optimizer = adam(discriminator.parameters(), opt.d_lr, opt.d_betas, device)
    check_policy(config.data.diffaugment)
    d_augment = partial(diff_augment, policy=config.data.diffaugment) if config.data.diffaugment else None
    ada_cfg = config.data.ada
    ada = (AdaptiveAugment(ada_cfg.policy, ada_cfg.target, ada_cfg.speed_kimg, ada_cfg.interval, device)
           if ada_cfg.enabled else None)
    lc = config.loss
    loss = build_loss(lc.name, lc.variant, lc.real_label, lc.gp_weight, lc.clip, lc.r1_gamma)
    acgan = getattr(config.model, "d_cond", "none") == "acgan"
    recipe = GANRecipe(
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
    if config.train.compile:  # in place, after the EMA copy was made: the sampler stays eager
        generator.compile()
        discriminator.compile()
    return recipe


def build_translation_generators(config: Config) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """(G_AB, G_BA or None) of a pix2pix or cyclegan config whose channels are resolved."""
    m = config.model
    g_ab = build_translator(m, m.a_channels, m.b_channels)
    g_ba = build_translator(m, m.b_channels, m.a_channels) if m.arch == "cyclegan" else None
    return g_ab, g_ba


def build_translation_recipe(config: Config, device: torch.device) -> TranslationRecipe:
    m, lc, opt = config.model, config.loss, config.optim
    if config.train.amp != "none":
        raise GanforgeError(f"train.amp={config.train.amp} is not supported by {m.arch} yet; use train.amp=none")
    loss = build_loss(lc.name, lc.variant, lc.real_label, 0.0, lc.clip, 0.0)
    g_ab, g_ba = build_translation_generators(config)
    lr, betas = (opt.g_lr, opt.d_lr), (opt.g_betas, opt.d_betas)
    pair = (m.a_channels, m.b_channels)
    if m.arch == "pix2pix":
        d = PatchDiscriminator(m.a_channels + m.b_channels, m.d_width, m.d_layers, instance_norm=False)
        return Pix2PixRecipe(g_ab.to(device), d.to(device), loss, pair, lr, betas, lc.l1_weight, lc.adv_weight,
                             device)
    d_a = PatchDiscriminator(m.a_channels, m.d_width, m.d_layers, instance_norm=True).to(device)
    d_b = PatchDiscriminator(m.b_channels, m.d_width, m.d_layers, instance_norm=True).to(device)
    return CycleGANRecipe(g_ab.to(device), g_ba.to(device), d_a, d_b, loss, pair, lr, betas, lc.cycle_weight,
                          lc.identity_weight, m.pool_size, config.train.steps, opt.decay_start, device)
