"""The optimizer every recipe builds."""

from __future__ import annotations

from typing import Any

import torch


def adam(params: Any, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with one fused kernel per parameter on the CPU and CUDA, multi-tensor (foreach) elsewhere."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=not fused, fused=fused or None)
