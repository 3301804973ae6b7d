"""Inception Score (Salimans et al. 2016): exp(E_x KL(p(y|x) || p(y))), averaged over splits.

As in the original code and torch-fidelity, the N samples are cut into ``splits`` consecutive chunks
``[i N // splits, (i + 1) N // splits)``; p(y) is the mean prediction within the chunk, and the result is the
mean and the (population) standard deviation of the chunk scores. torch-fidelity shuffles the samples first
with ``np.random.RandomState(2020).permutation``: pass ``shuffle_seed=2020`` to do the same.
"""

from __future__ import annotations

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics._arrays import ArrayLike, as_features


def _probabilities(values: torch.Tensor, from_logits: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Class probabilities and their logarithms (float64)."""
    if from_logits:
        return values.softmax(dim=1), values.log_softmax(dim=1)
    sums = values.sum(dim=1)
    if (values < 0).any() or not torch.allclose(sums, torch.ones_like(sums), atol=1e-3):
        raise GanforgeError(
            "inception_score got from_logits=False but rows are not probabilities (negative or not summing to 1): "
            "pass logits with from_logits=True"
        )
    probs = values / sums[:, None]
    return probs, probs.log()


def inception_score(
    logits_or_probs: ArrayLike, splits: int = 10, from_logits: bool = True, shuffle_seed: int | None = None
) -> tuple[float, float]:
    """Inception Score mean and std over ``splits`` chunks of classifier outputs ``[N, C]``."""
    values = as_features(logits_or_probs, "classifier outputs", min_rows=max(splits, 1))
    if splits < 1:
        raise GanforgeError(f"inception_score needs splits >= 1, got {splits}")
    if shuffle_seed is not None:
        values = values[torch.from_numpy(np.random.RandomState(shuffle_seed).permutation(values.shape[0]))]
    probs, log_probs = _probabilities(values, from_logits)
    n = values.shape[0]
    scores = []
    for i in range(splits):
        p, log_p = probs[i * n // splits : (i + 1) * n // splits], log_probs[i * n // splits : (i + 1) * n // splits]
        marginal = p.mean(dim=0, keepdim=True)
        kl = (p * log_p).nansum(dim=1) - torch.xlogy(p, marginal).sum(dim=1)
        scores.append(float(kl.mean().exp()))
    return float(np.mean(scores)), float(np.std(scores))
