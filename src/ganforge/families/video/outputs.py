"""Writing generated clips by the suffix the user asks for: a folder of GIFs, one GIF, an MP4, a frame strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import Tensor

from ganforge.families.video.files import frame_strip, gif_bytes, tile, write_gif, write_mp4
from ganforge.viz import to_uint8

MP4_MIN_SIDE = 256  # small clips are enlarged (nearest) in MP4s so players and yuv420p keep them sharp


def as_frames(clips: Tensor) -> np.ndarray:
    """Clips [N, T, C, H, W] in [-1, 1] -> uint8 numpy [N, T, H, W, C]."""
    return to_uint8(clips).permute(0, 1, 3, 4, 2).numpy()


def write_clips(clips: Tensor, out: Path, kind: str, fps: int) -> str:
    """Write ``clips`` as ``kind`` ("/", ".gif", ".mp4" or ".png"); a one-line summary."""
    frames = as_frames(clips)
    n, t = frames.shape[:2]
    if kind == "/":
        out.mkdir(parents=True, exist_ok=True)
        for i, clip in enumerate(frames):
            write_gif(clip, out / f"clip-{i:05d}.gif", fps)
        return f"wrote {n} GIF(s) of {t} frames to {out}/ (clip-00000.gif, ...)"
    if kind == ".png":
        out.parent.mkdir(parents=True, exist_ok=True)
        frame_strip(frames).save(out)
        return f"wrote a frame strip of {n} clip(s) x {t} frames to {out} (one row per clip)"
    grid = tile(frames)
    if kind == ".gif":
        write_gif(grid, out, fps)
        return f"wrote {n} clip(s) tiled in one GIF of {t} frames to {out}"
    scale = max(1, MP4_MIN_SIDE // max(grid.shape[1], grid.shape[2]))
    write_mp4(grid, out, fps, scale)
    return f"wrote {n} clip(s) tiled in one MP4 of {t} frames at {fps} fps to {out}"


def clips_gif(clips: Tensor, fps: int) -> bytes:
    """Clips tiled in one animated GIF, in memory."""
    return gif_bytes(tile(as_frames(clips)), fps)
