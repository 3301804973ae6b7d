"""How recognisable moving digits are when the glyphs come from somewhere else: glyphs (real digits, or the
PNG samples of an image run) moved along real moving-digits trajectories and scored with the video metrics
against real clips, like `ganforge eval` scores a video run. A diagnostic for issue 17: it separates what
the glyph costs from what the motion costs.

Usage: python scripts/video_glyph_reference.py [PNG_DIR ...] [--n 500]
(the real digits' row always; one row per folder of gray PNG samples, e.g. `ganforge sample RUN --n 500
--out DIR/` of an image run; each image is scaled to the moving digits' 14 pixels, antialiased)
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganforge.families.video import moving
from ganforge.families.video.config import VideoDataConfig
from ganforge.families.video.evaluation import REFERENCE_SEED, real_clips
from ganforge.families.video.featnet import load_video_net
from ganforge.families.video.metrics import compare, measure
from ganforge.metrics.digits_net import load_digits_net

METRICS = ["fvd", "frame_fid", "temporal", "motion"]
SHOWN = ("fvd", "frame_fid", "temporal_consistency", "motion_smoothness", "confidence")
SIZE, FRAMES, TRAJECTORY_SEED = 32, 16, 5


def moved(glyphs: torch.Tensor, seed: int = TRAJECTORY_SEED) -> torch.Tensor:
    """Glyphs [N, d, d] in [0, 1] moved like moving digits (random start, direction, 1-2 px/frame, bouncing)
    -> clips [N, T, 1, H, W] in [-1, 1]."""
    rng = np.random.default_rng(seed)
    n, d = glyphs.shape[0], glyphs.shape[-1]
    limit = float(SIZE - d)
    start = rng.uniform(0, limit, size=(n, 1, 2))
    angle = rng.uniform(0, 2 * math.pi, size=(n, 1))
    speed = rng.uniform(1.0, 2.0, size=(n, 1))
    velocity = np.stack([np.cos(angle), np.sin(angle)], axis=-1) * speed[..., None]
    positions = torch.from_numpy(moving.bounce(start, velocity, FRAMES, limit)).float()
    expanded = glyphs[:, None].expand(-1, FRAMES, -1, -1).reshape(-1, d, d)
    return moving.render(expanded, positions.reshape(-1, 2), SIZE).view(n, FRAMES, 1, SIZE, SIZE) * 2 - 1


def png_glyphs(folder: Path, n: int) -> torch.Tensor:
    files = sorted(folder.glob("*.png"))[:n]
    if len(files) < n:
        raise SystemExit(f"{folder}: {len(files)} PNG files, {n} needed")
    images = torch.stack([torch.from_numpy(np.asarray(Image.open(f).convert("L"), dtype=np.float32) / 255)
                          for f in files])[:, None]
    side = moving.digit_size(SIZE)
    return F.interpolate(images, size=(side, side), mode="bilinear", antialias=True, align_corners=False)[:, 0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    digits_net, video_net = load_digits_net(), load_video_net()
    real, _, _ = real_clips(VideoDataConfig(size=SIZE, frames=FRAMES), None, args.n, REFERENCE_SEED)
    real_measures = measure(real, METRICS, digits_net, video_net)
    digits, _ = moving.digit_images(SIZE)
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(1))[:args.n]
    rows = [("real digits", digits[order])] + [(str(f), png_glyphs(f, args.n)) for f in args.folders]
    print("| glyphs | " + " | ".join(SHOWN) + " |")
    for name, glyphs in rows:
        scores = compare(measure(moved(glyphs.clamp(0, 1)), METRICS, digits_net, video_net), real_measures)
        print(f"| {name} | " + " | ".join(f"{scores[k]:.3f}" for k in SHOWN) + " |")


if __name__ == "__main__":
    main()
