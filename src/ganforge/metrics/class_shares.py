"""Mode coverage by class: how the extractor's classifier spreads the samples over its classes.

A generator that drops or favours modes shows it here before FID does: each sample is given the class its
logits rank first, and the shares of the classes are compared with the same classifier's shares of the real
images (not with the data's labels, so the classifier's own errors cancel to first order). Reported: the
smallest and the largest share, and the KL divergence KL(real || fake) of the two share vectors. A class the
generator never draws gets a share of 0; the KL then uses ``FLOOR`` for it so the number stays finite and
still grows with every missing class.
"""

from __future__ import annotations

import torch
from torch import Tensor

FLOOR = 1e-6  # share given to a class with no sample, inside the KL only


def class_shares(logits: Tensor) -> Tensor:
    """Each class's share of the samples by argmax of ``logits`` [N, C] (float64 [C], sums to 1)."""
    counts = torch.bincount(logits.argmax(dim=1), minlength=logits.shape[1]).double()
    return counts / counts.sum()


def class_coverage(real_logits: Tensor, fake_logits: Tensor) -> dict[str, float]:
    """``class_share_min``, ``class_share_max`` of the fake samples and ``class_kl`` = KL(real || fake)."""
    real, fake = class_shares(real_logits), class_shares(fake_logits)
    kl = (real * (real.clamp_min(FLOOR).log() - fake.clamp_min(FLOOR).log())).sum()
    return {"class_share_min": float(fake.min()), "class_share_max": float(fake.max()), "class_kl": float(kl)}
