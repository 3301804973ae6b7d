"""The text recipe: one ``train_step`` for maximum likelihood, SeqGAN and the Gumbel-softmax GAN.

- MLE (and the ``pretrain_steps`` of the GAN methods): teacher-forced cross-entropy.
- SeqGAN (Yu et al. 2017): D learns real vs drawn sequences (BCE); G is a policy whose reward for each
  token is D's mean probability of "real" over ``rollouts`` Monte-Carlo completions of the prefix by a
  rollout copy of G that trails it (``rollout_decay``); REINFORCE with a per-position batch-mean baseline.
- Gumbel (RelGAN-style, Nie et al. 2019): G's relaxed one-hot rows softmax(beta (o + g)) go to D, so the
  gradient reaches G; relativistic standard loss; beta is annealed from 1 to ``beta_max`` exponentially.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.text.config import TextConfig
from ganforge.families.text.nets import CNNDiscriminator, LSTMGenerator, alive_after
from ganforge.families.text.sampling import continue_from, draw, gumbel_draw
from ganforge.families.text.vocab import EOS, PAD


def build_generator(config: TextConfig, vocab_size: int, max_len: int, end_token: bool) -> LSTMGenerator:
    m = config.model
    return LSTMGenerator(vocab_size, m.embed_dim, m.hidden_dim, max_len, end_token)


class TextRecipe:
    """Networks, optimizers and the step of a text run (one batch of real rows [B, L] per step)."""

    batches_per_step = 1

    def __init__(self, config: TextConfig, vocab_size: int, max_len: int, end_token: bool,
                 device: torch.device) -> None:
        self.config, self.gan, self.device = config, config.gan, device
        m, o = config.model, config.optim
        self.generator = build_generator(config, vocab_size, max_len, end_token).to(device)
        self.mle_opt = torch.optim.Adam(self.generator.parameters(), lr=o.mle_lr, betas=o.betas)
        self.discriminator: CNNDiscriminator | None = None
        self.rollout: LSTMGenerator | None = None
        if self.gan.method != "mle":
            self.discriminator = CNNDiscriminator(vocab_size, m.d_embed_dim, m.d_filters, m.d_windows, max_len,
                                                  m.d_dropout).to(device)
            self.g_opt = torch.optim.Adam(self.generator.parameters(), lr=o.g_lr, betas=o.betas)
            self.d_opt = torch.optim.Adam(self.discriminator.parameters(), lr=o.d_lr, betas=o.betas)
        if self.gan.method == "seqgan":
            self.rollout = copy.deepcopy(self.generator).requires_grad_(False)
        self.adversarial_steps = max(1, config.train.steps - self.gan.pretrain_steps)
        self.step = 0

    @property
    def sampler(self) -> LSTMGenerator:
        return self.generator

    # --- the step -------------------------------------------------------------------------------------

    def train_step(self, batches: Sequence[Tensor]) -> dict[str, Tensor]:
        real = batches[0]
        self.step += 1
        if self.gan.method == "mle" or self.step <= self.gan.pretrain_steps:
            scalars = {"mle_loss": self._mle_step(real)}
            if self.gan.method != "mle" and self.step > self.gan.pretrain_steps - self.gan.d_pretrain_steps:
                scalars["d_loss"] = self._d_step(real, 1.0)
            return scalars
        if self.step == self.gan.pretrain_steps + 1 and self.rollout is not None:
            self.rollout.load_state_dict(self.generator.state_dict())  # rollouts start from the pre-trained G
        if self.gan.method == "seqgan":
            return self._seqgan_step(real)
        return self._gumbel_step(real)

    def _mle_loss(self, real: Tensor) -> Tensor:
        logits = self.generator.teacher_forced(real)
        return F.cross_entropy(logits.transpose(1, 2), real, ignore_index=PAD)

    def _mle_step(self, real: Tensor) -> Tensor:
        loss = self._mle_loss(real)
        self._update(self.mle_opt, loss)
        return loss.detach()

    def _update(self, optimizer: torch.optim.Optimizer, loss: Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if optimizer is not getattr(self, "d_opt", None) and self.config.optim.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.generator.parameters(), self.config.optim.grad_clip)
        optimizer.step()

    def _seqgan_step(self, real: Tensor) -> dict[str, Tensor]:
        assert self.discriminator is not None and self.rollout is not None
        n = real.shape[0]
        for _ in range(self.gan.d_steps):
            d_loss = self._d_step(real)
        fake = draw(self.generator, n)[0]
        rewards = self._rollout_rewards(fake)  # [B, L], no gradient
        mask = alive_after(fake).float() if self.generator.end_token else torch.ones_like(rewards)
        advantage = rewards
        if self.gan.baseline:
            baseline = (rewards * mask).sum(0) / mask.sum(0).clamp(min=1)
            advantage = rewards - baseline
        logp = F.log_softmax(self.generator.teacher_forced(fake), dim=-1).gather(2, fake[..., None]).squeeze(2)
        g_loss = -(logp * advantage * mask).sum() / mask.sum().clamp(min=1)
        if self.gan.mle_weight > 0:
            g_loss = g_loss + self.gan.mle_weight * self._mle_loss(real)
        self._update(self.g_opt, g_loss)
        with torch.no_grad():  # the rollout policy trails G
            decay = self.gan.rollout_decay
            for r, g in zip(self.rollout.parameters(), self.generator.parameters(), strict=True):
                r.mul_(decay).add_(g, alpha=1 - decay)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "reward": (rewards * mask).sum() / mask.sum()}

    def _d_step(self, real: Tensor, beta: float | None = None) -> Tensor:
        """One D update on real rows vs rows drawn from G now: BCE (SeqGAN) or relativistic with relaxed
        rows at inverse temperature ``beta`` (Gumbel)."""
        assert self.discriminator is not None
        n = real.shape[0]
        if self.gan.method == "seqgan":
            fake = draw(self.generator, n)[0]
            d_real, d_fake = self.discriminator(real), self.discriminator(fake)
            d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                      + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))
        else:
            with torch.no_grad():
                fake = gumbel_draw(self.generator, n, self.beta() if beta is None else beta)
            real_rows = F.one_hot(real, self.generator.vocab_size).float()
            d_loss = F.binary_cross_entropy_with_logits(self.discriminator(real_rows) - self.discriminator(fake),
                                                        torch.ones(n, device=real.device))
        self._update(self.d_opt, d_loss)
        return d_loss.detach()

    @torch.no_grad()
    def _rollout_rewards(self, fake: Tensor) -> Tensor:
        """Q(prefix of length p) for p = 1..L: D's mean probability over ``rollouts`` completions; the
        full sequence gets D's probability of itself."""
        assert self.discriminator is not None and self.rollout is not None
        d, rollout, k = self.discriminator, self.rollout, self.gan.rollouts
        was_training = d.training
        d.eval()
        n, length = fake.shape
        states = rollout.read_states(fake)
        ended = (fake == EOS).int().cumsum(1) > 0  # <eos> at or before each position
        rewards = []
        for p in range(1, length):
            h, c = states[p - 1]
            state = (h.repeat(1, k, 1), c.repeat(1, k, 1))
            head = fake[:, :p].repeat(k, 1)
            tail = continue_from(rollout, head[:, -1:], state, length - p, done=ended[:, p - 1].repeat(k))[0]
            score = torch.sigmoid(d(torch.cat([head, tail], dim=1))).view(k, n).mean(0)
            rewards.append(score)
        rewards.append(torch.sigmoid(d(fake)))
        d.train(was_training)
        return torch.stack(rewards, dim=1)

    def beta(self) -> float:
        """The Gumbel-softmax inverse temperature of the current adversarial step (1 -> beta_max)."""
        progress = min(1.0, max(0, self.step - self.gan.pretrain_steps) / self.adversarial_steps)
        return float(self.gan.beta_max**progress)

    def _gumbel_step(self, real: Tensor) -> dict[str, Tensor]:
        assert self.discriminator is not None
        n, vocab = real.shape[0], self.generator.vocab_size
        real_rows = F.one_hot(real, vocab).float()
        beta = self.beta()
        for _ in range(self.gan.d_steps):
            d_loss = self._d_step(real, beta)
        fake = gumbel_draw(self.generator, n, beta)
        with torch.no_grad():
            d_real = self.discriminator(real_rows)
        ones = torch.ones(n, device=real.device)
        g_loss = F.binary_cross_entropy_with_logits(self.discriminator(fake) - d_real, ones)
        if self.gan.mle_weight > 0:
            g_loss = g_loss + self.gan.mle_weight * self._mle_loss(real)
        self._update(self.g_opt, g_loss)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "beta": torch.tensor(beta)}

    # --- state ----------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"step": self.step, "generator": self.generator.state_dict(),
                                 "mle_opt": self.mle_opt.state_dict()}
        if self.discriminator is not None:
            state.update(discriminator=self.discriminator.state_dict(), g_opt=self.g_opt.state_dict(),
                         d_opt=self.d_opt.state_dict())
        if self.rollout is not None:
            state["rollout"] = self.rollout.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.generator.load_state_dict(state["generator"])
        self.mle_opt.load_state_dict(state["mle_opt"])
        if self.discriminator is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.g_opt.load_state_dict(state["g_opt"])
            self.d_opt.load_state_dict(state["d_opt"])
        if self.rollout is not None:
            self.rollout.load_state_dict(state["rollout"])
