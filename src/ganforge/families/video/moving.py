"""Moving digits (Moving MNIST made offline): one or two embedded MNIST digits bouncing in a square frame.

Everything is drawn from one ``numpy`` generator seeded by ``seed``, so the same arguments give the same
clips, bit for bit. Digits are ``28 * size / 64`` pixels (28 in a 64x64 frame, 14 in 32x32) and move
with sub-pixel positions (bilinear placement), so a digit's centre of mass moves smoothly; they bounce
off the frame's edges. Overlapping digits combine by their maximum, as in Moving MNIST.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.families.video.clips import ClipSet

DIRECTION_BINS = 8
RENDER_CHUNK = 256  # clips rendered at once (bounds memory)


def digit_size(size: int) -> int:
    """Side of a digit in a ``size`` frame: 28 at 64 (Moving MNIST), 14 at 32."""
    return max(4, round(28 * size / 64))


def bounce(start: np.ndarray, velocity: np.ndarray, frames: int, limit: float) -> np.ndarray:
    """Positions [N, frames, K, 2] from start [N, K, 2] moving by velocity, reflected into [0, limit]."""
    positions = np.empty((start.shape[0], frames, *start.shape[1:]), dtype=np.float64)
    p, v = start.astype(np.float64).copy(), velocity.astype(np.float64).copy()
    for t in range(frames):
        positions[:, t] = p
        p = p + v
        low, high = p < 0, p > limit
        p = np.where(low, -p, np.where(high, 2 * limit - p, p))
        v = np.where(low | high, -v, v)
    return positions


def direction_bin(angle: np.ndarray) -> np.ndarray:
    """Angles (radians) -> 8 direction bins of 45 degrees (0 = right, 2 = down in image coordinates)."""
    return np.round(angle / (2 * math.pi / DIRECTION_BINS)).astype(np.int64) % DIRECTION_BINS


def digit_images(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The embedded digits as float [5000, d, d] in [0, 1] (d = ``digit_size(size)``), and their labels."""
    from ganforge.data import build_dataset

    data = build_dataset("digits")
    images = data.images.float() / 255.0
    d = digit_size(size)
    if d != images.shape[-1]:
        images = F.interpolate(images, size=(d, d), mode="bilinear", antialias=True, align_corners=False)
    return images[:, 0].clamp(0, 1), data.labels.long()


def render(glyphs: torch.Tensor, positions: torch.Tensor, size: int) -> torch.Tensor:
    """Draw glyphs [M, d, d] (values in [0, 1]) with top-left corners positions [M, 2] (x, y) in a
    ``size`` frame -> [M, size, size], bilinear for sub-pixel positions."""
    m, d = glyphs.shape[0], glyphs.shape[-1]
    canvas = glyphs.new_zeros(m, 1, size, size)
    canvas[:, 0, :d, :d] = glyphs
    theta = glyphs.new_zeros(m, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = -2.0 * positions / size  # output(u) = canvas(u - position)
    grid = F.affine_grid(theta, [m, 1, size, size], align_corners=False)
    return F.grid_sample(canvas, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


def moving_digits(n: int, frames: int = 16, size: int = 32, digits: int = 1, seed: int = 0,
                  speed: tuple[float, float] = (1.0, 2.0)) -> ClipSet:
    """``n`` clips uint8 [n, frames, 1, size, size]; label = the first digit's class.

    ``speed`` is in pixels per frame at size 32 (scaled with the frame size)."""
    rng = np.random.default_rng(seed)
    glyphs, glyph_labels = digit_images(size)
    d = glyphs.shape[-1]
    limit = float(size - d)
    picks = rng.integers(0, glyphs.shape[0], size=(n, digits))
    start = rng.uniform(0, limit, size=(n, digits, 2))
    angle = rng.uniform(0, 2 * math.pi, size=(n, digits))
    magnitude = rng.uniform(*speed, size=(n, digits)) * size / 32
    velocity = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * magnitude[..., None]
    positions = bounce(start, velocity, frames, limit)
    trajectories = torch.from_numpy(positions).float()
    clips = torch.empty(n, frames, 1, size, size, dtype=torch.uint8)
    for lo in range(0, n, RENDER_CHUNK):
        hi = min(n, lo + RENDER_CHUNK)
        chunk_glyphs = glyphs[torch.from_numpy(picks[lo:hi])]  # [c, K, d, d]
        expanded = chunk_glyphs[:, None].expand(-1, frames, -1, -1, -1).reshape(-1, d, d)
        drawn = render(expanded, trajectories[lo:hi].reshape(-1, 2), size)
        frame = drawn.view(hi - lo, frames, digits, size, size).amax(dim=2)
        clips[lo:hi, :, 0] = frame.mul(255).round().clamp(0, 255).to(torch.uint8)
    digit_labels = glyph_labels[torch.from_numpy(picks)]
    return ClipSet(
        name="moving-digits",
        clips=clips,
        labels=digit_labels[:, 0].clone(),
        class_names=[str(k) for k in range(10)],
        digits=digit_labels,
        trajectories=trajectories,
        directions=torch.from_numpy(direction_bin(angle[:, 0])),
    )
