"""An AC-GAN discriminator whose class head learns from real clips only.

In the usual AC-GAN (Odena et al. 2017) the discriminator's classifier is trained on the real clips' labels and
on the fakes' requested labels. On spoken digits that lets the classifier learn whatever marks the generator
puts on a fake of class k instead of what a spoken k sounds like: the discriminator was sure of the fakes'
class while an independent classifier heard the requested digit in about 1 fake of 4 (docs/speech.md). Here the
fakes' class logits are detached in the discriminator step, so the class head learns from real clips only and
the generator's class term pulls toward the real digits' features."""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn


class RealClassesOnly(nn.Module):
    """Wraps a recipe's ``DiscriminatorPair``: the fakes' class logits come back detached (no gradient into the
    discriminator from the fake cross-entropy term); everything else passes through unchanged."""

    def __init__(self, pair: nn.Module) -> None:
        super().__init__()
        self.pair = pair

    def forward(self, real: Tensor, fake: Tensor, real_labels: Tensor | None, fake_labels: Tensor | None,
                with_classes: bool = False) -> tuple[Any, Any]:
        real_out, fake_out = self.pair(real, fake, real_labels, fake_labels, with_classes=with_classes)
        if with_classes:
            fake_logits, fake_classes = fake_out
            fake_out = (fake_logits, fake_classes.detach())
        return real_out, fake_out
