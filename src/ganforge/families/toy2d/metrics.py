"""Mode coverage and sample quality on a mixture of Gaussians, as VEEGAN and PacGAN measure them.

A sample is *high quality* when it lies within ``QUALITY_STDS`` standard deviations of its nearest mode.
A mode is *covered* when at least ``MIN_PER_MODE`` of the ``EVAL_SAMPLES`` samples are high-quality samples
nearest to it (PacGAN: fewer than 20 of 2,500 means the mode is lost).
"""

from __future__ import annotations

from typing import Any

import torch

EVAL_SAMPLES = 2500
QUALITY_STDS = 3.0
MIN_PER_MODE = 20


def mode_statistics(points: torch.Tensor, centres: torch.Tensor, std: float) -> dict[str, Any]:
    """Modes covered, the share of high-quality samples, and the count per mode, for ``points`` [N, 2]."""
    distances = torch.cdist(points.double(), centres.double())
    nearest, mode = distances.min(dim=1)
    good = nearest <= QUALITY_STDS * std
    per_mode = torch.bincount(mode[good], minlength=len(centres))
    min_count = max(1, round(MIN_PER_MODE * len(points) / EVAL_SAMPLES))
    return {
        "modes_covered": int((per_mode >= min_count).sum()),
        "modes_total": len(centres),
        "high_quality": float(good.double().mean()),
        "per_mode": per_mode.tolist(),
    }


def protocol(n: int, std: float, seed: int) -> dict[str, Any]:
    return {
        "samples": n, "seed": seed, "mode_std": std,
        "high_quality": f"within {QUALITY_STDS:g} std ({QUALITY_STDS * std:g}) of the nearest mode",
        "covered": f"at least {MIN_PER_MODE} high-quality samples per {EVAL_SAMPLES} (scaled to n)",
    }
