"""Class conditioning: the config fields and the layers that feed labels into G and D.

Generators: ``concat`` (a one-hot label joins the noise vector, Mirza & Osindero 2014) or ``cbn``
(conditional BatchNorm: per-class scale and shift, de Vries et al. 2017, as in SNGAN-projection).
Discriminators: ``concat`` (one-hot label planes join the input image), ``projection`` (the logit gains
``<embed(y), features>``, Miyato & Koyama 2018) or ``acgan`` (an auxiliary classifier head trained with
cross-entropy on real and fake labels, Odena et al. 2017).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.schema import StrictModel

GCond = Literal["none", "concat", "cbn"]
DCond = Literal["none", "concat", "projection", "acgan"]


class ConditioningFields(StrictModel):
    """Fields shared by every architecture that can be class-conditional."""

    g_cond: GCond = Field("none", description="labels into G: none, concat (one-hot with z), cbn")
    d_cond: DCond = Field("none", description="labels into D: none, concat, projection, acgan")
    num_classes: int = Field(0, ge=0, description="classes to condition on; 0: taken from the data")

    @model_validator(mode="after")
    def _both_or_neither(self) -> ConditioningFields:
        if (self.g_cond == "none") != (self.d_cond == "none"):
            raise ValueError(
                f"g_cond={self.g_cond} with d_cond={self.d_cond}: a conditional GAN conditions both networks; "
                "set both (e.g. g_cond=concat, d_cond=projection) or neither"
            )
        return self

    @property
    def conditional(self) -> bool:
        return self.g_cond != "none"


def class_count(cfg: ConditioningFields) -> int:
    """The number of classes the networks are built for (0 when unconditional)."""
    if not cfg.conditional:
        return 0
    if cfg.num_classes < 2:
        raise GanforgeError(
            f"a conditional model needs model.num_classes >= 2, got {cfg.num_classes}; train on labeled data "
            "(it is then set from the data) or set model.num_classes"
        )
    return cfg.num_classes


def one_hot(labels: Tensor, num_classes: int, dtype: torch.dtype) -> Tensor:
    return F.one_hot(labels.long(), num_classes).to(dtype)


def concat_label(z: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """``[z, one_hot(labels)]`` along the features (``z`` unchanged when ``num_classes`` is 0)."""
    if num_classes == 0:
        return z
    return torch.cat([z, one_hot(require_labels(labels), num_classes, z.dtype)], dim=1)


def concat_label_planes(x: Tensor, labels: Tensor | None, num_classes: int) -> Tensor:
    """Images with one constant plane per class appended (1 on the label's plane, 0 elsewhere)."""
    planes = one_hot(require_labels(labels), num_classes, x.dtype)[:, :, None, None]
    return torch.cat([x, planes.expand(-1, -1, *x.shape[2:])], dim=1)


def require_labels(labels: Tensor | None) -> Tensor:
    if labels is None:
        raise GanforgeError("this is a class-conditional model: pass labels (e.g. `ganforge sample --class K`)")
    return labels


class LabelConditioned(nn.Module):
    """Marker base: layers whose forward takes ``(x, labels)``."""


class ConditionalBatchNorm2d(LabelConditioned):
    """BatchNorm without its own affine; a per-class scale ``1 + gamma[y]`` and shift ``beta[y]``."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gamma = nn.Embedding(num_classes, channels)
        self.beta = nn.Embedding(num_classes, channels)
        nn.init.zeros_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: Tensor, labels: Tensor | None) -> Tensor:
        labels = require_labels(labels)
        scale = 1 + self.gamma(labels)[:, :, None, None]
        return self.norm(x) * scale + self.beta(labels)[:, :, None, None]


def batchnorm2d(channels: int, num_classes: int) -> nn.Module:
    """Conditional BatchNorm when ``num_classes`` > 0, else plain BatchNorm2d."""
    return ConditionalBatchNorm2d(channels, num_classes) if num_classes else nn.BatchNorm2d(channels)


def run_layers(layers: Iterable[nn.Module], x: Tensor, labels: Tensor | None) -> Tensor:
    """Apply ``layers`` in order, handing ``labels`` to the ones that take them."""
    for layer in layers:
        x = layer(x, labels) if isinstance(layer, LabelConditioned) else layer(x)
    return x


class LabelHead(nn.Module):
    """The label-dependent part of a discriminator's output, from its last features h [B, F].

    ``projection``: adds ``<embed(y), h>`` to the logit. ``acgan``: class logits [B, K] from h.
    """

    def __init__(self, features: int, mode: DCond, num_classes: int) -> None:
        super().__init__()
        if mode not in ("projection", "acgan"):
            raise ValueError(f"LabelHead is for projection or acgan, not {mode}")
        self.mode = mode
        if mode == "projection":
            self.embed = nn.Embedding(num_classes, features)
            nn.init.normal_(self.embed.weight, 0.0, 0.02)
        else:
            self.classes = nn.Linear(features, num_classes)


def label_head(features: int, mode: DCond, num_classes: int) -> LabelHead | None:
    """The LabelHead a discriminator with ``d_cond=mode`` needs, or None."""
    return LabelHead(features, mode, num_classes) if mode in ("projection", "acgan") else None


def discriminator_output(
    logits: Tensor, h: Tensor, labels: Tensor | None, head: LabelHead | None, with_classes: bool
) -> Tensor | tuple[Tensor, Tensor]:
    """Logits [B] (plus the projection term), or ``(logits, class_logits)`` when ``with_classes``."""
    if head is not None and head.mode == "projection":
        logits = logits + (head.embed(require_labels(labels)) * h).sum(dim=1)
    if not with_classes:
        return logits
    if head is None or head.mode != "acgan":
        raise GanforgeError("class logits need an AC-GAN discriminator (model.d_cond=acgan)")
    return logits, head.classes(h)
