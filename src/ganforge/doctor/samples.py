"""Sample checks for image runs: mode collapse (diversity in feature space against the real data and across
the training previews, near-duplicates, digit classes missing) and a lagging EMA generator.

``measure`` draws the samples and computes ``SampleStats``; ``mode_collapse`` and ``ema_lag`` turn the
numbers into diagnoses, so they can be tested on hand-made numbers."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from ganforge.data.base import uint8_to_unit
from ganforge.doctor.diagnosis import Diagnosis
from ganforge.doctor.features import Embedder, embedder_for, frechet, mean_pairwise_distance, nearest_other

SEED = 20251  # the doctor's noise: fixed, so two doctor runs on one checkpoint agree
DIVERSITY_LOW = 0.3  # fakes' mean feature distance below this share of the real data's
DIVERSITY_DROP = 0.6  # the last preview's diversity below this share of the best earlier one
DUPLICATE_SHARE = 0.1  # more than this share of samples with a near-copy
DUPLICATE_RMS = 0.05  # ... closer than this RMS pixel difference (images in [-1, 1]), or
DUPLICATE_OF_REAL = 0.25  # ... than this share of the real images' median nearest-neighbour distance
MISSING_SHARE = 0.2  # a digit class drawn less than this share of its expected 1/10 is missing
EMA_WORSE = 2.0  # EMA's Frechet distance to the real data over the raw generator's
EMA_MIN_GAP = 5.0  # ... and above it by at least this much (digits-v1 units; small FDs are noise)


@dataclass
class SampleStats:
    """What the sample checks measured; None where a measurement does not apply."""

    n: int
    space: str
    diversity: float
    real_diversity: float | None = None
    real_images: int = 0
    data_size: int | None = None
    duplicates: int = 0
    duplicate_rms: float = DUPLICATE_RMS
    class_shares: list[float] | None = None
    timeline: list[tuple[int, float]] = field(default_factory=list)
    fd_ema: float | None = None
    fd_raw: float | None = None
    judged: str = "the EMA generator"  # whose samples the diversity numbers are of


@torch.no_grad()
def draw(generator: nn.Module, n: int) -> Tensor:
    """``n`` images from ``generator`` with the doctor's fixed noise (balanced classes when conditional)."""
    from ganforge.families.images.generate import generate

    return generate(generator, n, SEED)


def real_sample(data: Any, n: int) -> Tensor | None:
    """Up to ``n`` real images in [-1, 1] spread over the data set (None when there is none)."""
    if data is None or len(data) == 0:
        return None
    index = torch.linspace(0, len(data) - 1, min(n, len(data))).round().long().unique()
    return uint8_to_unit(torch.stack([data[int(i)][0] for i in index]))


def preview_timeline(samples: Path, image_shape: tuple[int, int, int], count: int, nrow: int | None,
                     embedder: Embedder) -> list[tuple[int, float]]:
    """(step, feature diversity) of each training preview grid ``samples/step-*.png``."""
    c, h, w = image_shape
    nrow = nrow or max(1, math.ceil(math.sqrt(count)))
    timeline = []
    for path in sorted(samples.glob("step-*.png")):
        match = re.fullmatch(r"step-(\d+)\.png", path.name)
        grid = np.asarray(Image.open(path).convert("L" if c == 1 else "RGB"))
        if match is None or grid.ndim < 2:
            continue
        grid = grid[:, :, None] if grid.ndim == 2 else grid
        cells = [grid[2 + y * (h + 2): 2 + y * (h + 2) + h, 2 + x * (w + 2): 2 + x * (w + 2) + w]
                 for i in range(count) for y, x in [divmod(i, nrow)]]
        if any(cell.shape[:2] != (h, w) for cell in cells):
            continue  # not a grid of this run's layout
        images = uint8_to_unit(torch.from_numpy(np.stack(cells)).permute(0, 3, 1, 2).contiguous())
        timeline.append((int(match.group(1)), mean_pairwise_distance(embedder.features(images))))
    return timeline


def measure(generator: nn.Module, raw: nn.Module | None, data: Any, data_name: str, n: int,
            samples: Path | None = None, grid: tuple[int, int | None] | None = None) -> SampleStats:
    """Sample ``n`` images and measure diversity, near-duplicates, class shares, the previews' diversity
    over training and (with ``raw``, the non-EMA generator) the EMA's distance to the data against raw's.

    When the EMA lags, the diversity checks judge the raw generator: the EMA's samples then show where the
    average stands, not what training made."""
    embedder = embedder_for(data_name)
    fakes = draw(generator, n)
    fake_features = embedder.features(fakes)
    stats = SampleStats(n=len(fakes), space=embedder.name, diversity=0.0)
    real = real_sample(data, n)
    stats.data_size = None if data is None else len(data)
    if real is not None:
        real_features = embedder.features(real)
        stats.real_images = len(real)
        if len(real) >= 2:
            stats.real_diversity = mean_pairwise_distance(real_features)
            stats.duplicate_rms = max(DUPLICATE_RMS, DUPLICATE_OF_REAL * float(nearest_other(real).median()))
        if raw is not None and len(real) >= 16:
            raw_fakes = draw(raw, n)
            raw_features = embedder.features(raw_fakes)
            stats.fd_ema = frechet(real_features, fake_features)
            stats.fd_raw = frechet(real_features, raw_features)
            if ema_lag(stats, None) is not None:
                fakes, fake_features = raw_fakes, raw_features
                stats.judged = "the raw generator (the EMA lags)"
    stats.diversity = mean_pairwise_distance(fake_features)
    stats.duplicates = int((nearest_other(fakes) < stats.duplicate_rms).sum())
    if embedder.classes is not None:
        counts = torch.bincount(embedder.classes(fakes), minlength=10).double()
        stats.class_shares = (counts / counts.sum()).tolist()
    if samples is not None and grid is not None:
        shape = tuple(int(s) for s in fakes.shape[1:])
        stats.timeline = preview_timeline(samples, shape, grid[0], grid[1], embedder)  # type: ignore[arg-type]
    return stats


def mode_collapse(stats: SampleStats) -> Diagnosis | None:
    """Few distinct samples: low diversity against the real data, near-copies, missing classes, or a
    diversity that fell during training."""
    found = []
    if stats.real_diversity and stats.diversity < DIVERSITY_LOW * stats.real_diversity:
        found.append(f"the samples' diversity in {stats.space} is {stats.diversity / stats.real_diversity:.0%} "
                     "of the real data's")
    if stats.duplicates > DUPLICATE_SHARE * stats.n:
        found.append(f"{stats.duplicates} of {stats.n} samples have a near-copy (RMS pixel difference under "
                     f"{stats.duplicate_rms:.2g})")
    if stats.class_shares is not None:
        missing = [str(k) for k, s in enumerate(stats.class_shares) if s < MISSING_SHARE / 10]
        if len(missing) >= 2:
            found.append(f"the digits classifier finds no {', '.join(missing)} among {stats.n} samples")
    if len(stats.timeline) >= 3:
        best_step, best = max(stats.timeline[:-1], key=lambda t: t[1])
        last_step, last = stats.timeline[-1]
        if best > 0 and last < DIVERSITY_DROP * best:
            found.append(f"the previews' diversity fell from {best:.3g} at step {best_step} to {last:.3g} at "
                         f"step {last_step}")
    tiny = stats.data_size == 1
    if tiny:
        found.insert(0, "the data set holds a single image, so the generator can only learn to copy it")
    if not found:
        return None
    judged = "" if tiny or stats.judged == SampleStats.judged else f" (samples of {stats.judged})"
    seen = "; ".join(found) + judged + "."
    severity = "critical" if tiny or stats.duplicates > 0.5 * stats.n else "high"
    fix = ("give it more than one image: a GAN learns a distribution" if tiny else
           "add DiffAugment (data.diffaugment=[translation,cutout]) or minibatch std in D, and lower D's "
           "learning rate; resume from an earlier checkpoint if the previews were diverse then")
    key = "data.name" if tiny else "data.diffaugment, model.d_minibatch_std, optim.d_lr"
    return Diagnosis("mode_collapse", severity, seen, fix, key)


def ema_lag(stats: SampleStats, decay: float | None) -> Diagnosis | None:
    """The EMA generator much further from the real data (Frechet distance) than the raw generator."""
    if stats.fd_ema is None or stats.fd_raw is None:
        return None
    if stats.fd_ema < EMA_WORSE * stats.fd_raw or stats.fd_ema - stats.fd_raw < EMA_MIN_GAP:
        return None
    seen = (f"the EMA generator's Frechet distance to the data in {stats.space} is {stats.fd_ema:.3g}, "
            f"{stats.fd_ema / max(stats.fd_raw, 1e-9):.1f}x the raw generator's {stats.fd_raw:.3g}: the average "
            "still holds old weights.")
    shown = f" (now {decay:g})" if decay is not None else ""
    return Diagnosis("ema_lag", "high", seen, f"lower the EMA decay{shown}, e.g. to 0.99, or turn its warm-up on",
                     "train.ema_decay, train.ema_warmup")
