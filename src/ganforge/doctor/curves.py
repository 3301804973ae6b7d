"""Diagnoses from the logged curves (``metrics.jsonl``): one function per problem, each returning a
``Diagnosis`` or None. They work on any family's records that hold ``d_loss`` and ``g_loss``; a check whose
signal is missing (no ``d_real``, a loss without a probability reading, ...) returns None.

The thresholds are on record means (each record averages ``train.log_every`` steps), so step noise is
already smoothed; docs/doctor.md lists them with the runs they were set on.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ganforge.doctor.diagnosis import Diagnosis
from ganforge.doctor.signals import Curves, RunSignals, Settings, median

MIN_RECORDS = 6  # fewer records than this say nothing about a trend
# D's mean logits past which it is "sure" (bce: sigmoid 0.9 / 0.1), by loss; None: logits are not readable so
CONFIDENT_LOGITS: dict[str, tuple[float, float] | None] = {
    "bce": (2.2, -2.2), "hinge": (2.0, -2.0), "lsgan": (0.85, 0.15), "wgan": None, "wgan-gp": None,
}
# A conditional D (d_cond projection, acgan, ...) also rejects fakes that do not look like their label, so a
# healthy conditional run keeps it surer: the default (projection D on 100 clusters, FID 3) sits at D(real)
# 0.94 and D(fake) 0.05 for its whole run, where a D with 20x G's learning rate reaches logits +-14. Its bounds
# are therefore D(real) 0.99 / D(fake) 0.01 for bce (docs/doctor.md); the others are scaled alike.
CONDITIONAL_CONFIDENT_LOGITS: dict[str, tuple[float, float] | None] = {
    "bce": (4.6, -4.6), "hinge": (4.0, -4.0), "lsgan": (0.95, 0.05), "wgan": None, "wgan-gp": None,
}
UNCONDITIONAL = (None, "none")  # model.d_cond values of a D that sees no label
HIGH_G_LOSS = {"bce": 3.0, "lsgan": 0.4, "hinge": 2.0}  # G's loss when D rejects its fakes (bce: D(G(z)) < 0.05)
OVERPOWER_SHARE = 0.3  # the stretch of a sure D must cover this share of the logged steps
VANISH_RATIO = 0.02  # G's late gradient norm below this share of its peak
STALLED_RATIO = 0.01  # ... below this share, G has stopped learning: critical
OSCILLATION_SWING = 0.35  # median swing of G's loss between records, relative to its level
# With the hinge loss, G's loss is minus D's mean logit on the fakes: its level is an offset (0 for fakes on
# the decision boundary), so a share of it means nothing near 0, where healthy runs sit. The swing is read in
# logits there: half the hinge margin of 1 between record means. The healthy text2image preset moves by a
# median 0.08 (its loss sits at -0.2 to 0.3, which the relative rule read as 36-47% swings: a false alarm).
# A Wasserstein critic's scale is free, so neither reading applies (None: the check is skipped). By loss,
# like CONFIDENT_LOGITS; any other loss is read relative to its level.
OSCILLATION_LOGIT_SWING: dict[str, float | None] = {"hinge": 0.5, "wgan": None, "wgan-gp": None}
OSCILLATION_TURNS = 0.6  # share of consecutive swings that change direction
SPIKE_FACTOR = 5.0  # a loss this many times its running median (and above it by 2) is a spike


def confident(settings: Settings, d_real: float, d_fake: float) -> bool:
    """D's mean logits say it tells real from fake with confidence (for the run's loss and D's conditioning)."""
    table = CONFIDENT_LOGITS if settings.get("model.d_cond") in UNCONDITIONAL else CONDITIONAL_CONFIDENT_LOGITS
    limits = table.get(settings.loss or "bce", table["bce"])
    return limits is not None and d_real > limits[0] and d_fake < limits[1]


def longest_stretch(flags: list[bool]) -> tuple[int, int]:
    """The longest run of True in ``flags`` as (start, end) indices, end exclusive; (0, 0) when none."""
    best, start = (0, 0), None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def d_overpowers(curves: Curves, settings: Settings) -> Diagnosis | None:
    """D(real) near 1 and D(fake) near 0 for a long stretch, while G's loss is high or climbing."""
    d_real, d_fake, g_loss = curves.get("d_real"), curves.get("d_fake"), curves.get("g_loss")
    if d_real is None or d_fake is None or g_loss is None or len(curves) < MIN_RECORDS:
        return None
    start, end = longest_stretch([confident(settings, r, f) for r, f in zip(d_real, d_fake, strict=True)])
    if end - start < max(4, OVERPOWER_SHARE * len(curves)):
        return None
    stretch = g_loss[start:end]
    third = max(1, len(stretch) // 3)
    climbing = median(stretch[-third:]) > 1.2 * median(stretch[:third])
    high = median(stretch) > HIGH_G_LOSS.get(settings.loss or "bce", math.inf)
    if not (climbing or high):
        return None
    p_real, p_fake = _probability(median(d_real[start:end])), _probability(median(d_fake[start:end]))
    real_logit, fake_logit = median(d_real[start:end]), median(d_fake[start:end])
    reading = (f"D(real) {p_real:.2f} and D(fake) {p_fake:.2f}" if settings.loss in (None, "bce")
               else f"D's mean logits {real_logit:.2f} on real and {fake_logit:.2f} on fake")
    trend = "climbing" if climbing else "high"
    seen = (f"from step {curves.steps[start]} to {curves.steps[end - 1]} ({end - start} of {len(curves)} records) "
            f"{reading}, and G's loss is {trend} (median {median(stretch):.2f}).")
    g_lr, d_lr = settings.get("optim.g_lr"), settings.get("optim.d_lr")
    if isinstance(g_lr, float | int) and isinstance(d_lr, float | int) and d_lr > 1.5 * g_lr:
        fix, key = f"give D the learning rate of G (D's is {d_lr / g_lr:.0f}x G's now) or less", "optim.d_lr"
    else:
        fix, key = "weaken D: a lower D learning rate, an R1 penalty (1 to 10) or a narrower D", "optim.d_lr"
        if settings.get("loss.r1_gamma") == 0:
            key = "optim.d_lr, loss.r1_gamma"
    return Diagnosis("d_overpowers", "high", seen, fix, key, step=curves.steps[start])


def smoothed_peak(norms: list[float]) -> float:
    """The largest 3-record running median of a series (one outlier record is not a peak)."""
    return max(median(norms[max(0, i - 1): i + 2]) for i in range(len(norms)))


def vanishing_gradients(curves: Curves, settings: Settings, peak: float | None = None) -> Diagnosis | None:
    """G's gradient norm falls to a small share of its peak (the curves' own, or ``peak`` when the caller
    has seen earlier records)."""
    norms = curves.get("g_grad_norm")
    if norms is None or len(curves) < MIN_RECORDS:
        return None
    peak = max(smoothed_peak(norms), peak or 0.0)
    late = median(norms[-max(2, len(norms) // 4):])
    if not peak > 0 or late > VANISH_RATIO * peak:
        return None
    stalled = late < STALLED_RATIO * peak
    seen = (f"G's gradient norm fell to {late:.3g} over the last quarter of the run, {late / peak:.1%} of its "
            f"peak {peak:.3g}: the generator {'has stopped learning' if stalled else 'barely learns any more'}.")
    severity = "critical" if stalled else "high"
    if settings.loss == "bce" and settings.variant == "minimax":
        return Diagnosis("vanishing_gradients", severity, seen, "use the non-saturating generator loss, whose "
                         "gradient stays large when D rejects the fakes", "loss.variant",
                         step=curves.steps[-1], cause=True)  # the setting itself is the cause
    return Diagnosis("vanishing_gradients", severity, seen, "weaken D (lower learning rate or an R1 penalty) so "
                     "that its verdict keeps a slope G can follow", "optim.d_lr, loss.r1_gamma", step=curves.steps[-1])


def oscillation(curves: Curves, settings: Settings) -> Diagnosis | None:
    """G's loss swings up and down between records by a large share of its level, over the second half."""
    g_loss = curves.get("g_loss")
    logit_swing = OSCILLATION_LOGIT_SWING.get(settings.loss or "bce", 0.0)
    if g_loss is None or logit_swing is None:
        return None
    late = g_loss[len(g_loss) // 2:]
    if len(late) < 2 * MIN_RECORDS:
        return None
    steps = [b - a for a, b in zip(late, late[1:], strict=False)]
    turns = sum(1 for a, b in zip(steps, steps[1:], strict=False) if a * b < 0) / max(1, len(steps) - 1)
    swing = median([abs(s) for s in steps])
    if logit_swing:
        large, size = swing >= logit_swing, f"{swing:.2f} logits"
    else:
        swing /= median([abs(v) for v in late]) + 0.1
        large, size = swing >= OSCILLATION_SWING, f"{swing:.0%} of its level"
    if not large or turns < OSCILLATION_TURNS:
        return None
    seen = (f"over the second half G's loss swings by {size} between records and changes "
            f"direction at {turns:.0%} of them: D and G take turns winning instead of settling.")
    return Diagnosis("oscillation", "medium", seen, "lower both learning rates (e.g. halve them) and keep Adam's "
                     "beta1 at 0.5 or below", "optim.g_lr, optim.d_lr, optim.g_betas, optim.d_betas",
                     step=curves.steps[len(g_loss) // 2])


def spikes(curves: Curves) -> list[tuple[int, str, float]]:
    """(step, key, value) of each record whose loss jumps past ``SPIKE_FACTOR`` x the median of the records
    before it."""
    found = []
    for key in ("d_loss", "g_loss"):
        values = curves.get(key) or []
        for i in range(MIN_RECORDS // 2, len(values)):
            base = median([abs(v) for v in values[max(0, i - 10): i]])
            if abs(values[i]) > SPIKE_FACTOR * base and abs(values[i]) > base + 2:
                found.append((curves.steps[i], key, values[i]))
    return sorted(found)


def loss_spikes(curves: Curves, settings: Settings) -> Diagnosis | None:
    """Losses jumping far above their running median (a NaN often follows)."""
    found = spikes(curves.tail(0.5))  # the first half is the warm-up: big jumps there are normal
    if not found:
        return None
    shown = ", ".join(f"{k} {v:.3g} at step {s}" for s, k, v in found[:3])
    plural = "s" if len(found) > 1 else ""
    seen = f"{len(found)} loss spike{plural} ({shown}), each over {SPIKE_FACTOR:.0f}x the loss before it."
    return Diagnosis("loss_spikes", "medium", seen, "lower the learning rates (halve them) before the spikes turn "
                     "into a NaN", "optim.g_lr, optim.d_lr", step=found[0][0])


def diverged(signals: RunSignals) -> Diagnosis | None:
    """The run stopped on a NaN/inf loss or a loss past the divergence bound (from ``events.jsonl``)."""
    stop = signals.stop
    if stop is None or stop.get("error") not in ("NonFiniteLossError", "DivergedError"):
        return None
    found = spikes(signals.curves)
    what = "a loss became NaN or infinite" if stop["error"] == "NonFiniteLossError" else "a loss exploded"
    before = (f" after loss spikes ({', '.join(f'{k} {v:.3g} at step {s}' for s, k, v in found[-3:])})" if found
              else "")
    seen = f"training stopped at step {stop.get('step')}: {what}{before}."
    amp = signals.settings.get("train.amp")
    if amp == "fp16":
        return Diagnosis("diverged", "critical", seen, "train in bf16 or fp32, and lower the learning rates",
                         "train.amp", step=stop.get("step"))
    return Diagnosis("diverged", "critical", seen, "lower the learning rates (the usual 2e-4 or below) and resume "
                     "from the last good checkpoint, or train anew", "optim.g_lr, optim.d_lr", step=stop.get("step"))


def _probability(logit: float) -> float:
    return 1 / (1 + math.exp(-max(-60.0, min(60.0, logit))))


CURVE_CHECKS: dict[str, Callable[[Curves, Settings], Diagnosis | None]] = {
    "d_overpowers": d_overpowers,
    "vanishing_gradients": vanishing_gradients,
    "oscillation": oscillation,
    "loss_spikes": loss_spikes,
}
