"""Feature arrays in, float64 CPU tensors out, with the user-facing checks every metric shares."""

from __future__ import annotations

import numpy as np
import torch

from ganforge.errors import GanforgeError

ArrayLike = torch.Tensor | np.ndarray


def as_float64(values: ArrayLike, name: str, ndim: int) -> torch.Tensor:
    """``values`` as a contiguous float64 CPU tensor with ``ndim`` dimensions and only finite entries."""
    tensor = torch.as_tensor(np.asarray(values) if not isinstance(values, torch.Tensor) else values.detach())
    tensor = tensor.to(device="cpu", dtype=torch.float64).contiguous()
    if tensor.dim() != ndim:
        raise GanforgeError(f"{name} must have {ndim} dimensions, got shape {tuple(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise GanforgeError(f"{name} contain NaN or infinite values: check the generator's output (did it diverge?)")
    return tensor


def as_features(values: ArrayLike, name: str, min_rows: int = 1) -> torch.Tensor:
    """A feature matrix ``[N, D]`` in float64 with at least ``min_rows`` rows."""
    feats = as_float64(values, name, ndim=2)
    if feats.shape[0] < min_rows:
        raise GanforgeError(f"{name} has {feats.shape[0]} samples, this metric needs at least {min_rows}")
    return feats


def feature_pair(real: ArrayLike, fake: ArrayLike, min_rows: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Real and fake features with the same dimension D."""
    real_t = as_features(real, "real features", min_rows)
    fake_t = as_features(fake, "fake features", min_rows)
    if real_t.shape[1] != fake_t.shape[1]:
        raise GanforgeError(
            f"real and fake features differ in dimension ({real_t.shape[1]} vs {fake_t.shape[1]}): "
            "extract both with the same network and layer"
        )
    return real_t, fake_t
