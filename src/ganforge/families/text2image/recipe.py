"""The text-to-image training step: a matching-aware GAN (GAN-INT-CLS, Reed et al. 2016) with DF-GAN's
hinge loss and matching-aware gradient penalty, and the text encoder trained jointly.

One step, top to bottom:
1. pick one caption per image (global RNG, saved in checkpoints) and encode it: sentence ``s``.
2. D step: real image with its caption -> real; real image with another image's caption -> fake;
   the same real image with its caption with one word swapped ("red circle" -> "red square", a hard
   negative made from the caption words alone, see ``negatives.py``) -> fake;
   G(z, s) with s -> fake; plus a CLIP-style contrastive loss between D's image embedding and ``s`` on
   real pairs (the swapped captions as extra negatives; with ``swap_every_word``, each image's caption with
   every swappable word swapped in turn, negatives for that image only), and (every ``gp_every`` steps, lazily) MA-GP:
   the gradient norm of D at real pairs, with respect to the image and the sentence, to the power p.
   With a matching CNN (DAMSM-style), the same contrastive loss between its embedding of the real image
   and ``s`` trains it (on real pairs only). The text encoder is updated with D: it learns what tells
   captions apart.
3. G step: the same fakes must fool the updated D on (G(z, s), s), plus the same contrastive loss on the
   fakes (XMC-GAN style, with the swapped captions as extra negatives) through D and through the matching
   CNN; the sentence is detached (the generator moves neither the encoder nor the matching CNN).
4. EMA of the generator and of the text encoder (samples use both averages).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.ema import EMA
from ganforge.families.text2image.negatives import WordSwaps
from ganforge.families.text2image.nets import Discriminator, Generator, ImageMatcher, TextEncoder


def contrastive_loss(images: Tensor, sentences: Tensor, temperature: float, negatives: Tensor | None = None,
                     negative_rows: Tensor | None = None) -> Tensor:
    """Symmetric InfoNCE between normalized image and sentence embeddings of matching rows; ``negatives``
    (sentences [B', dim]) are extra wrong captions (image-to-text direction): for every image, or with
    ``negative_rows`` [B'] only for the image of that row (its own caption with one word swapped)."""
    images, sentences = F.normalize(images, dim=1), F.normalize(sentences, dim=1)
    logits = images @ sentences.T / temperature
    target = torch.arange(images.shape[0], device=images.device)
    to_text = logits
    if negatives is not None and negatives.shape[0] > 0:
        extra = images @ F.normalize(negatives, dim=1).T / temperature
        if negative_rows is not None:
            extra = extra.masked_fill(target[:, None] != negative_rows[None, :], float("-inf"))
        to_text = torch.cat([logits, extra], dim=1)
    return 0.5 * (F.cross_entropy(to_text, target) + F.cross_entropy(logits.T, target))


def encode_together(encoder: nn.Module, captions: Sequence[tuple[Tensor, Tensor]]) -> list[Tensor]:
    """Sentence embeddings of several caption batches (word indices [B_i, L], lengths [B_i]) from one encoder
    call: the GRU steps through time once for all of them (about half the cost of one call per batch on a
    CPU, where its per-step overhead dominates at these batch sizes); rows do not interact."""
    if len(captions) == 1:
        return [encoder(*captions[0])]
    ids = torch.cat([words for words, _ in captions])
    lengths = torch.cat([n_words for _, n_words in captions])
    return list(encoder(ids, lengths).split([len(words) for words, _ in captions]))


@contextmanager
def frozen(*nets: nn.Module | None) -> Iterator[None]:
    """Parameters of ``nets`` do not require gradients inside the block (restored afterwards)."""
    params = [p for net in nets if net is not None for p in net.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


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
                 device: torch.device, swaps: WordSwaps | None = None, swap_share: float = 0.0,
                 matcher: ImageMatcher | None = None, match_lr: float = 1e-3, match_weight: float = 1.0,
                 g_match_weight: float = 1.0, swap_every_word: bool = False) -> None:
        # channels_last: the same arithmetic, about 20% faster convolutions on CPU
        for net in (generator, discriminator, matcher):
            if net is not None:
                net.to(memory_format=torch.channels_last)
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.device = device
        self.mismatch_weight, self.gp_weight, self.gp_power = mismatch_weight, gp_weight, gp_power
        self.gp_every, self.steps_done = gp_every, 0
        self.contrastive_weight, self.g_contrastive_weight = contrastive_weight, g_contrastive_weight
        self.temperature = temperature
        self.swaps, self.swap_share = (swaps, swap_share) if swaps is not None and swap_share > 0 else (None, 0.0)
        self.swap_every_word = swap_every_word
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=g_lr, betas=g_betas)
        self.opt_d = torch.optim.Adam([*discriminator.parameters(), *encoder.parameters()], lr=d_lr, betas=d_betas)
        self.matcher, self.match_weight, self.g_match_weight = matcher, match_weight, g_match_weight
        self.opt_m = torch.optim.Adam(matcher.parameters(), lr=match_lr) if matcher is not None else None
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
        real = images.float().div(127.5).sub(1).contiguous(memory_format=torch.channels_last)
        words, n_words = pick_captions(ids, lengths, counts)
        captions = [(words, n_words)]
        changed, negative_rows = None, None
        if self.swaps is not None:  # hard negatives: the same captions with one word swapped
            swapped_words, changed = self.swaps(words, n_words)
            captions.append((swapped_words, n_words))
            if self.swap_every_word:  # contrastive negatives: each word swapped in turn, for its own image
                every, every_lengths, negative_rows = self.swaps.every_word(words, n_words)
                captions.append((every, every_lengths))
        sentence, *more = encode_together(self.encoder, captions)
        swapped, negatives = None, None
        if more:  # the contrastive negatives: every word swapped in turn when encoded, else the changed swaps
            swapped = more[0]
            negatives = more[1] if self.swap_every_word else swapped[changed]
        fake = self.generator(self.noise(real.shape[0]), sentence.detach())  # kept for the G step below
        self.steps_done += 1
        penalize = self.gp_weight > 0 and self.steps_done % self.gp_every == 0

        # --- discriminator (and text encoder) ---
        real = real.requires_grad_(penalize)
        real_features = self.discriminator.features(real)
        real_logits = self.discriminator.judge(real_features, sentence)
        mismatched = self.discriminator.judge(real_features, sentence.roll(1, dims=0))
        fake_logits = self.discriminator(fake.detach(), sentence)
        wrong = F.relu(1 + mismatched).mean()
        if swapped is not None and changed is not None and bool(changed.any()):
            hard = F.relu(1 + self.discriminator.judge(real_features, swapped))[changed].mean()
            wrong = (1 - self.swap_share) * wrong + self.swap_share * hard
        d_adv = (F.relu(1 - real_logits).mean() + (1 - self.mismatch_weight) * F.relu(1 + fake_logits).mean()
                 + self.mismatch_weight * wrong)
        clip = contrastive_loss(self.discriminator.embed(real_features), sentence, self.temperature, negatives,
                                negative_rows)
        d_loss = d_adv + self.contrastive_weight * clip
        matched = torch.zeros(())
        if self.matcher is not None:  # DAMSM-style: real pairs only
            matched = contrastive_loss(self.matcher(real.detach()), sentence, self.temperature, negatives,
                                       negative_rows)
            d_loss = d_loss + self.match_weight * matched
        if penalize:  # lazy: every gp_every steps, weighted by gp_every (StyleGAN2's lazy R1)
            grad_image, grad_text = torch.autograd.grad(real_logits.sum(), (real, sentence), create_graph=True)
            norm = torch.cat([grad_image.flatten(1), grad_text], dim=1).norm(dim=1)
            d_loss = d_loss + self.gp_weight * self.gp_every * norm.pow(self.gp_power).mean()
        self.opt_d.zero_grad(set_to_none=True)
        if self.opt_m is not None:
            self.opt_m.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        if self.opt_m is not None:
            self.opt_m.step()

        # --- generator (the same fakes, judged by the updated D; D and the matching CNN are frozen here, which
        # skips their weight gradients: the G step only needs gradients with respect to the images) ---
        sentence = sentence.detach()
        negatives = None if negatives is None else negatives.detach()
        with frozen(self.discriminator, self.matcher):
            fake_features = self.discriminator.features(fake)
            g_adv = -self.discriminator.judge(fake_features, sentence).mean()
            g_clip = contrastive_loss(self.discriminator.embed(fake_features), sentence, self.temperature,
                                      negatives, negative_rows)
            g_loss = g_adv + self.g_contrastive_weight * g_clip
            g_matched = torch.zeros(())
            if self.matcher is not None:
                g_matched = contrastive_loss(self.matcher(fake), sentence, self.temperature, negatives,
                                             negative_rows)
                g_loss = g_loss + self.g_match_weight * g_matched
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        self.opt_g.step()
        if self.ema is not None and self.encoder_ema is not None:
            self.ema.update(self.generator)
            self.encoder_ema.update(self.encoder)
        return {"d_loss": d_adv.detach(), "g_loss": g_adv.detach(), "clip_real": clip.detach(),
                "clip_fake": g_clip.detach(), **({"match_real": matched.detach(), "match_fake": g_matched.detach()}
                                                 if self.matcher is not None else {})}

    def state_dict(self) -> dict[str, Any]:
        state = {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                 "encoder": self.encoder.state_dict(), "opt_g": self.opt_g.state_dict(),
                 "opt_d": self.opt_d.state_dict(), "steps_done": self.steps_done}
        if self.matcher is not None and self.opt_m is not None:
            state["matcher"], state["opt_m"] = self.matcher.state_dict(), self.opt_m.state_dict()
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
        if self.matcher is not None and self.opt_m is not None:
            self.matcher.load_state_dict(state["matcher"])
            self.opt_m.load_state_dict(state["opt_m"])
        if self.ema is not None and self.encoder_ema is not None:
            self.ema.load_state_dict(state["ema"])
            self.encoder_ema.load_state_dict(state["encoder_ema"])
