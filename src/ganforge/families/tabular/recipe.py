"""The CTGAN training step: WGAN-GP with a packed critic and a conditional generator.

One step reads top to bottom: for each of ``n_critic`` batches, a critic step on real rows and
detached generated rows with the same conditions (plus the packed gradient penalty); then one
generator step whose loss is the critic's score plus the cross-entropy that makes the generated row
hold the conditioned level (training-by-sampling). With ``loss.target_weight`` > 0 (CTAB-GAN's auxiliary
classifier), a classifier learns the target column from the other columns of real rows, and the generator
step adds its cross-entropy on generated rows (labelled with their own generated target level), so the
target stays predictable from the other columns as in the real table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.ema import EMA
from ganforge.errors import GanforgeError
from ganforge.families.tabular.config import TabularConfig
from ganforge.families.tabular.nets import (
    PackedDiscriminator,
    TableGenerator,
    TargetClassifier,
    cond_cross_entropy,
    packed_gradient_penalty,
    soft_activation,
)
from ganforge.families.tabular.transform import Span, TableTransform
from ganforge.optimizers import build_lr_decay


def build_generator(config: TabularConfig, transform: TableTransform) -> TableGenerator:
    model = config.model
    return TableGenerator(model.z_dim, transform.cond_width, model.g_dims, transform.spans, model.chained_heads)


class CTGANRecipe:
    """Networks, optimizers and the step of a tabular run."""

    def __init__(self, config: TabularConfig, transform: TableTransform, device: torch.device,
                 target: str | None = None) -> None:
        model, optim = config.model, config.optim
        self.device = device
        self.cond_spans = transform.cond_spans()
        self.z_dim, self.activation = model.z_dim, soft_activation(model.tau)
        self.gp_weight, self.cond_weight = config.loss.gp_weight, config.loss.cond_weight
        self.batches_per_step = optim.n_critic
        self.generator = build_generator(config, transform).to(device)
        self.discriminator = PackedDiscriminator(transform.width + transform.cond_width, model.d_dims, model.pac,
                                                 model.dropout).to(device)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=optim.g_lr, betas=optim.g_betas,
                                      weight_decay=optim.weight_decay)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=optim.d_lr, betas=optim.d_betas,
                                      weight_decay=optim.weight_decay)
        self.target_weight = config.loss.target_weight
        self.classifier, self.opt_c, self.target_span = None, None, None
        if self.target_weight > 0:
            self.target_span, hidden = target_spans(transform, target)
            self.classifier = TargetClassifier(transform.width, model.d_dims, self.target_span.width, hidden).to(device)
            self.opt_c = torch.optim.Adam(self.classifier.parameters(), lr=optim.d_lr, betas=optim.d_betas,
                                          weight_decay=optim.weight_decay)
        self.lr_decay = build_lr_decay([self.opt_g, self.opt_d], optim.lr_decay, config.train.steps,
                                       config.train.minutes)
        decay = config.train.ema_decay
        self.ema = EMA(self.generator, decay, config.train.ema_warmup) if decay > 0 else None

    @property
    def sampler(self) -> TableGenerator:
        """The generator used for samples: its EMA copy when there is one."""
        return self.ema.shadow if self.ema is not None else self.generator

    def _fake(self, cond: Tensor) -> tuple[Tensor, Tensor]:
        return self.generator(torch.randn(cond.shape[0], self.z_dim, device=self.device), cond, self.activation)

    def train_step(self, batches: Sequence[tuple[Tensor, Tensor, Tensor, Tensor]]) -> dict[str, Tensor]:
        for real, cond, _, _ in batches:
            _, fake = self._fake(cond)
            real_in = torch.cat([real, cond], dim=1)
            fake_in = torch.cat([fake.detach(), cond], dim=1)
            wasserstein = self.discriminator(real_in).mean() - self.discriminator(fake_in).mean()
            penalty = packed_gradient_penalty(self.discriminator, real_in, fake_in)
            d_loss = -wasserstein + self.gp_weight * penalty
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()

        real, cond, column, level = batches[-1]
        logs: dict[str, Tensor] = {}
        if self.classifier is not None and self.opt_c is not None:
            c_loss = F.cross_entropy(self.classifier(real), self._target_level(real))
            self.opt_c.zero_grad(set_to_none=True)
            c_loss.backward()
            self.opt_c.step()
            logs["classifier_loss"] = c_loss.detach()

        raw, fake = self._fake(cond)
        adversarial = -self.discriminator(torch.cat([fake, cond], dim=1)).mean()
        condition = cond_cross_entropy(raw, self.cond_spans, column, level)
        g_loss = adversarial + self.cond_weight * condition
        if self.classifier is not None:
            agreement = F.cross_entropy(self.classifier(fake), self._target_level(fake.detach()))
            g_loss = g_loss + self.target_weight * agreement
            logs["target_loss"] = agreement.detach()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        if self.ema is not None:
            self.ema.update(self.generator)
        if self.lr_decay is not None:
            self.lr_decay.step()
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "wasserstein": wasserstein.detach(),
                "gp": penalty.detach(), "cond_loss": condition.detach(), **logs}

    def _target_level(self, rows: Tensor) -> Tensor:
        span = self.target_span
        assert span is not None
        return rows[:, span.start: span.start + span.width].argmax(1)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "ema": self.ema.state_dict() if self.ema is not None else None,
                "lr_decay": self.lr_decay.state_dict() if self.lr_decay is not None else None,
                **({"classifier": self.classifier.state_dict(), "opt_c": self.opt_c.state_dict()}
                   if self.classifier is not None and self.opt_c is not None else {})}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.ema is not None and state.get("ema") is not None:
            self.ema.load_state_dict(state["ema"])
        if self.lr_decay is not None and state.get("lr_decay") is not None:
            self.lr_decay.load_state_dict(state["lr_decay"])
        if self.classifier is not None and self.opt_c is not None and "classifier" in state:
            self.classifier.load_state_dict(state["classifier"])
            self.opt_c.load_state_dict(state["opt_c"])


def target_spans(transform: TableTransform, target: str | None) -> tuple[Span, list[tuple[int, int]]]:
    """The one-hot span a classifier predicts for ``target`` (its levels, or a numeric column's modes) and the
    (start, width) of every span of that column (hidden from the classifier)."""
    if target is None or target not in transform.column_spans:
        raise GanforgeError(f"loss.target_weight needs a modelled target column (got {target!r}): set "
                            "eval.target=COLUMN, or loss.target_weight=0")
    spans = [transform.spans[i] for i in transform.column_spans[target]]
    return spans[-1], [(s.start, s.width) for s in spans]
