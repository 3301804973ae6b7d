"""The GAN recipe, unconditional or class-conditional: one training step, read top to bottom.

Discriminator step(s) on detached fakes, then one generator step through the updated discriminator,
then the EMA update. Works with every loss in ``ganforge.losses`` (gradient penalty, weight clipping
and R1 are applied here when the loss asks for them). A conditional recipe (``num_classes`` > 0) feeds
the real labels to D with the real images and draws uniform labels for the fakes; with an AC-GAN
discriminator (``aux_weight`` > 0) both networks also minimize the class cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.dropout import _DropoutNd
from torch.nn.utils import parametrize

from ganforge.data.ada import AdaptiveAugment
from ganforge.ema import EMA
from ganforge.losses import AdversarialLoss, clip_weights, gradient_penalty, r1_penalty
from ganforge.nets.layers import MinibatchStd
from ganforge.optimizers import LinearDecay
from ganforge.parallel import World, local_slice, wrap
from ganforge.recipes.parts import load_parts, parts_state

Batch = tuple[Tensor, Tensor]

NETWORKS_AND_OPTIMIZERS = ("generator", "discriminator", "g_optimizer", "d_optimizer")
OPTIONAL_PARTS = ("scaler", "ema", "ada", "lr_decay")  # absent or empty in older checkpoints and when off
AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def treats_samples_independently(module: nn.Module) -> bool:
    """True when a network's output for one image depends on that image alone and a call changes no state:
    no normalization statistics (BatchNorm, running stats), minibatch std, dropout, parametrizations or
    hooks (spectral norm's power iteration advances at every call). A wrapper whose layers torch cannot see
    (``opaque``, e.g. a Keras model) counts as batch-dependent."""
    for layer in module.modules():
        if getattr(layer, "opaque", False):
            return False
        if isinstance(layer, (_NormBase, _DropoutNd, MinibatchStd)) or parametrize.is_parametrized(layer):
            return False
        if layer._forward_pre_hooks or layer._forward_hooks:
            return False
    return True


class DiscriminatorPair(nn.Module):
    """D on real and on fake images in one forward call.

    A discriminator that treats samples independently sees real and fake as one batch (one pass, the same
    numbers as two); any other (BatchNorm, spectral norm, ...) gets two passes, so its statistics stay per
    pass as in the usual loop. One call matters under DistributedDataParallel, which expects one forward
    per backward."""

    def __init__(self, discriminator: nn.Module) -> None:
        super().__init__()
        self.discriminator = discriminator
        self.one_pass = treats_samples_independently(discriminator)

    def forward(self, real: Tensor, fake: Tensor, real_labels: Tensor | None, fake_labels: Tensor | None,
                with_classes: bool = False) -> tuple[Any, Any]:
        extra = {"with_classes": True} if with_classes else {}
        if not self.one_pass:
            return self.discriminator(real, real_labels, **extra), self.discriminator(fake, fake_labels, **extra)
        labels = None if real_labels is None else torch.cat([real_labels, fake_labels])
        out = self.discriminator(torch.cat([real, fake]), labels, **extra)
        logits = out[0] if with_classes else out
        # the real share of the outputs: one per sample, or one per group of samples (a packed D)
        n = logits.shape[0] * real.shape[0] // (real.shape[0] + fake.shape[0])
        if with_classes:
            logits, classes = out
            return (logits[:n], classes[:n]), (logits[n:], classes[n:])
        return out[:n], out[n:]


MODE_SEEKING_EPS = 1e-5


def mode_seeking_ratio(fake: Tensor, noise: Tensor) -> Tensor:
    """MSGAN's ratio (Mao et al. 2019): mean |fake_1 - fake_2| over mean |z_1 - z_2| for the batch's two
    halves. G minimizes its inverse, so two noises (with the same label) may not give the same image."""
    half = fake.shape[0] // 2
    images = (fake[:half] - fake[half:2 * half]).abs().mean()
    return images / (noise[:half] - noise[half:2 * half]).abs().mean()


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
        ada: AdaptiveAugment | None = None,
        num_classes: int = 0,
        aux_weight: float = 0.0,
        mode_seeking: float = 0.0,
        lr_decay: LinearDecay | None = None,
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
        self.ada = ada  # adaptive augmentation, also of every image D sees
        self.num_classes = num_classes
        self.aux_weight = aux_weight
        self.mode_seeking = mode_seeking  # MSGAN weight (fake_labels pairs the batch's halves)
        self.lr_decay = lr_decay  # both learning rates to 0 over the end of the run, or None
        self.world = World()
        self.g_train: nn.Module = generator  # what the D step calls: G, or G inside DDP
        self.d_pair: nn.Module = DiscriminatorPair(discriminator)  # the D step's D, or it inside DDP

    def distribute(self, world: World) -> None:
        """Train as one of ``world.size`` processes: G and D's pair pass inside DistributedDataParallel."""
        self.world = world
        self.g_train = wrap(self.generator, world, self.device)
        self.d_pair = wrap(DiscriminatorPair(self.discriminator), world, self.device)

    def augment(self, images: Tensor) -> Tensor:
        """ADA and DiffAugment, when on: applied to every image D sees."""
        if self.ada is not None:
            images = self.ada(images)
        if self.d_augment is not None:
            images = self.d_augment(images)
        return images

    def discriminate(self, images: Tensor, labels: Tensor | None, with_classes: bool = False) -> Any:
        """D's logits (and class logits when ``with_classes``) for augmented ``images``."""
        images = self.augment(images)
        if with_classes:
            return self.discriminator(images, labels, with_classes=True)
        return self.discriminator(images, labels)

    def fake_labels(self, n: int) -> Tensor | None:
        """Uniformly drawn class labels for ``n`` fakes (None when unconditional). Every process draws the
        global batch's labels and keeps its share, so K processes match one with the global batch."""
        if not self.num_classes:
            return None
        labels = torch.randint(0, self.num_classes, (n * self.world.size,), device=self.device)
        labels = local_slice(labels, self.world)
        if self.mode_seeking > 0:  # MSGAN pairs: the second half repeats the first half's labels
            labels[n // 2:2 * (n // 2)] = labels[:n // 2]
        return labels

    @property
    def batches_per_step(self) -> int:
        return self.n_critic

    def noise(self, n: int) -> Tensor:
        """Noise for ``n`` fakes: this process's share of the global batch's noise."""
        return local_slice(torch.randn(n * self.world.size, self.z_dim, device=self.device), self.world)

    def autocast(self) -> AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def train_step(self, batches: Sequence[Batch]) -> dict[str, Tensor]:
        """``n_critic`` discriminator updates (one per real batch), then one generator update."""
        self.generator.train()
        self.discriminator.train()
        for i, (real, labels) in enumerate(batches):
            last = i == len(batches) - 1
            real_labels = labels if self.num_classes else None
            fake_labels = self.fake_labels(real.shape[0])
            noise = self.noise(real.shape[0])
            # The last fake keeps its graph: the generator step below reuses it through the updated D.
            with self.autocast(), torch.set_grad_enabled(last):
                fake = self.g_train(noise, fake_labels)
            d_scalars = self.discriminator_step(real, fake.detach(), real_labels, fake_labels)
        g_scalars = self.generator_step(fake, fake_labels, noise)
        if self.ema is not None:
            self.ema.update(self.generator)
        if self.lr_decay is not None:
            self.lr_decay.step()
        return {**d_scalars, **g_scalars}

    def discriminator_step(
        self, real: Tensor, fake: Tensor, real_labels: Tensor | None = None, fake_labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        use_r1 = self.loss.r1_gamma > 0
        use_aux = self.aux_weight > 0
        if use_r1:
            real = real.detach().requires_grad_(True)
        with self.autocast():
            real_out, fake_out = self.d_pair(self.augment(real), self.augment(fake), real_labels, fake_labels,
                                             with_classes=use_aux)
            if use_aux:
                (real_logits, real_classes), (fake_logits, fake_classes) = real_out, fake_out
            else:
                real_logits, fake_logits = real_out, fake_out
            d_loss = self.loss.d_loss(real_logits.float(), fake_logits.float())
        total = d_loss
        scalars = {"d_loss": d_loss.detach(), "d_real": real_logits.detach().float().mean(),
                   "d_fake": fake_logits.detach().float().mean()}
        if use_aux:
            aux = F.cross_entropy(real_classes.float(), real_labels)
            aux = aux + F.cross_entropy(fake_classes.float(), fake_labels)
            total = total + self.aux_weight * aux
            scalars["d_aux"] = aux.detach()
        if self.ada is not None:
            self.ada.observe(real_logits)
            scalars["ada_p"], scalars["ada_signal"] = self.ada.p, self.ada.signal
        if self.loss.gp_weight > 0:
            penalty = gradient_penalty(self.discriminator, real, fake, real_labels)
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

    def generator_step(self, fake: Tensor, fake_labels: Tensor | None = None, noise: Tensor | None = None
                       ) -> dict[str, Tensor]:
        self.discriminator.requires_grad_(False)  # no weight gradients for D in the G step
        scalars = {}
        with self.autocast():
            if self.aux_weight > 0:
                logits, classes = self.discriminate(fake, fake_labels, with_classes=True)
                aux = F.cross_entropy(classes.float(), fake_labels)
                g_loss = self.loss.g_loss(logits.float())
                total = g_loss + self.aux_weight * aux
                scalars["g_aux"] = aux.detach()
            else:
                g_loss = total = self.loss.g_loss(self.discriminate(fake, fake_labels).float())
        if self.mode_seeking > 0 and noise is not None and fake.shape[0] >= 2:
            spread = mode_seeking_ratio(fake.float(), noise)
            total = total + self.mode_seeking / (spread + MODE_SEEKING_EPS)
            scalars["g_spread"] = spread.detach()
        self.g_optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.discriminator.requires_grad_(True)
        grads = [p.grad for p in self.generator.parameters() if p.grad is not None]
        if grads and not self.scaler.is_enabled():  # fp16 grads are scaled: no comparable norm there
            # G's gradient norm for the doctor (vanishing gradients): one fused device-side op, no sync
            scalars["g_grad_norm"] = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        self.scaler.step(self.g_optimizer)
        self.scaler.update()
        return {"g_loss": g_loss.detach(), **scalars}

    @property
    def sampler(self) -> nn.Module:
        """The network to draw samples from: the EMA generator when there is one."""
        return self.ema.shadow if self.ema is not None else self.generator

    def state_dict(self) -> dict[str, Any]:
        return parts_state(self, (*NETWORKS_AND_OPTIMIZERS, *OPTIONAL_PARTS))

    def load_state_dict(self, state: dict[str, Any]) -> None:
        load_parts(self, state, NETWORKS_AND_OPTIMIZERS, OPTIONAL_PARTS)
