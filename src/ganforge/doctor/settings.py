"""Diagnoses from the run's settings alone: learning rates far from the usual range for the loss, an
unstable learning-rate / batch-size pairing, and an EMA too slow for the run's length. These are causes:
they explain the symptoms the curve and sample checks see, and are named before them at equal severity."""

from __future__ import annotations

import math
from collections.abc import Callable

from ganforge.doctor.diagnosis import Diagnosis
from ganforge.doctor.signals import Settings

# Adam learning rates that train each loss in the literature and in this project's presets (low, high)
# (hinge up to 2e-3: the text2image-shapes preset trains best with D at 1.2e-3 and G at 6e-4, docs/text2image.md)
USUAL_LR: dict[str, tuple[float, float]] = {
    "bce": (1e-5, 1e-3), "lsgan": (1e-5, 1e-3), "hinge": (1e-5, 2e-3), "wgan-gp": (1e-5, 1e-3), "wgan": (1e-6, 5e-4),
}
LR_RATIO = 8.0  # D/G learning-rate ratios past this (either way) unbalance the game; TTUR uses up to ~4x
SMALL_BATCH = 8  # below this, BatchNorm statistics and the gradient are too noisy for the usual learning rates
SMALL_BATCH_LR = 5e-5  # ... at this learning rate or above
EMA_INIT_SHARE = 0.05  # the EMA generator still holds more than this share of its initial weights: it lags


def learning_rates(settings: Settings) -> dict[str, float]:
    """The adversarial learning rates by config key (``optim.g_lr``, ``optim.d_lr``; pre-training rates such as
    ``optim.mle_lr`` are not the game's)."""
    optim = settings.get("optim") or {}
    return {f"optim.{k}": float(v) for k, v in optim.items()
            if k in ("g_lr", "d_lr") and isinstance(v, int | float) and not isinstance(v, bool) and v > 0}


def times(factor: float) -> str:
    """A factor as read: 1.2, 3.5, 12, 100 (not 1e+02)."""
    return f"{factor:.2g}" if factor < 10 else f"{factor:.0f}"


def lr_range(settings: Settings) -> Diagnosis | None:
    """A learning rate outside the usual range for the loss (by how many times), or D's far from G's."""
    low, high = USUAL_LR.get(settings.loss or "bce", USUAL_LR["bce"])
    rates = learning_rates(settings)
    off = {k: (v / high if v > high else low / v) for k, v in rates.items() if not low <= v <= high}
    words = [f"{k}={v:g} ({times(off[k])}x {'above' if v > high else 'below'} the usual {low:g}..{high:g})"
             for k, v in rates.items() if k in off]
    g, d = rates.get("optim.g_lr"), rates.get("optim.d_lr")
    ratio = d / g if g and d else 1.0
    if ratio > LR_RATIO or ratio < 1 / LR_RATIO:
        words.append(f"D's learning rate is {ratio:.3g}x G's (balanced runs stay within 1/4x..4x)")
    if not words:
        return None
    worst = max(off.values(), default=1.0)
    severity = "critical" if worst >= 30 else "high" if worst >= 5 else "medium"
    loss = settings.loss or "bce"
    seen = f"for the {loss} loss with Adam: " + "; ".join(words) + "."
    keys = ", ".join(sorted(off)) or "optim.d_lr"
    fix = f"use learning rates within {low:g}..{high:g} (2e-4 is the usual start), D's at most ~4x G's"
    return Diagnosis("lr_range", severity, seen, fix, keys, cause=True)


def lr_batch(settings: Settings) -> Diagnosis | None:
    """A batch too small for the usual learning rates: below ``SMALL_BATCH`` images, Adam's steps follow the
    noise of a few samples and BatchNorm normalizes by statistics of a few samples. Only when the learning
    rates alone are in range (otherwise ``lr_range`` names them)."""
    batch = settings.get("data.batch_size")
    rates = learning_rates(settings)
    if not isinstance(batch, int) or not rates or lr_range(settings) is not None:
        return None
    top = max(rates.values())
    if batch >= SMALL_BATCH or top < SMALL_BATCH_LR:
        return None
    safe = top * batch / SMALL_BATCH / 4
    seen = (f"batch size {batch} with learning rate {top:g}: each step follows the noise of {batch} images, and "
            f"BatchNorm layers (when the networks have them) normalize by their statistics alone.")
    fix = f"raise the batch size to {SMALL_BATCH * 4} or more, or lower the learning rates to {safe:.1g} or below"
    return Diagnosis("lr_batch", "high", seen, fix, "data.batch_size, optim.g_lr, optim.d_lr", cause=True)


def ema_init_share(decay: float, warmup: bool, steps: int) -> float:
    """The share of the initial weights still in the EMA generator after ``steps`` updates
    (the product of the per-step decays, with the warm-up ramp ``(1+t)/(10+t)`` when on)."""
    if decay <= 0 or steps <= 0:
        return 0.0 if decay <= 0 else 1.0
    if not warmup:
        return decay**steps
    log_share = 0.0
    for t in range(steps):
        log_share += math.log(min(decay, (1 + t) / (10 + t)))
        if log_share < -50:
            return 0.0
    return math.exp(log_share)


def ema_settings(settings: Settings, steps: int | None = None) -> Diagnosis | None:
    """An EMA decay so slow for the run's length that the EMA generator still holds its initial weights."""
    decay = settings.get("train.ema_decay")
    if not isinstance(decay, int | float) or decay <= 0:
        return None
    steps = steps if steps is not None else settings.steps
    share = ema_init_share(float(decay), bool(settings.get("train.ema_warmup", True)), steps)
    if share <= EMA_INIT_SHARE:
        return None
    window = 1 / (1 - decay)
    seen = (f"train.ema_decay={decay:g} averages over ~{window:.0f} steps, but the run has {steps}: the EMA "
            f"generator, which samples and exports use, still holds {share:.0%} of its random initial weights.")
    fix = f"lower the decay to {max(0.9, 1 - 10 / max(steps, 10)):.3g} or below, or turn train.ema_warmup on"
    return Diagnosis("ema_lag", "high", seen, fix, "train.ema_decay", step=steps, cause=True)


SETTING_CHECKS: dict[str, Callable[[Settings], Diagnosis | None]] = {
    "lr_range": lr_range,
    "lr_batch": lr_batch,
}
