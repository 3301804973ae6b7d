"""Video files: read .mp4/.webm/... (PyAV) and .gif (Pillow); write GIF, MP4 and frame strips.

Frames are uint8 numpy arrays ``[T, H, W, C]`` (C = 1 or 3). PyAV (the ``av`` package from PyPI) carries
its own FFmpeg libraries, so nothing needs to be installed on the system.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from ganforge.errors import GanforgeError

VIDEO_SUFFIXES = (".mp4", ".webm", ".gif", ".avi", ".mov", ".mkv", ".m4v")
MAX_GIF_REPEAT = 16  # a GIF frame shown for k base durations is read as k frames (at most this many)


class VideoReadError(GanforgeError):
    """A video file that cannot be decoded (not a video, truncated, no frames)."""


def _av():
    try:
        import av
    except ImportError:
        raise GanforgeError("reading and writing MP4 needs PyAV: pip install 'ganforge[video]' (or pip install av)")\
            from None
    return av


def read_video(path: str | Path) -> np.ndarray:
    """All frames of a video file as uint8 ``[T, H, W, 3]``; VideoReadError when it cannot be decoded."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise VideoReadError(f"{path}: empty or missing file")
    frames = _read_gif(path) if path.suffix.lower() == ".gif" else _read_av(path)
    if len(frames) == 0:
        raise VideoReadError(f"{path}: no video frames")
    return np.stack(frames)


def _read_gif(path: Path) -> list[np.ndarray]:
    """GIF frames, each repeated by its duration over the shortest one (Pillow merges repeated frames on
    writing, so this restores the frame count)."""
    try:
        with Image.open(path) as image:
            decoded = [(np.asarray(f.convert("RGB")), int(f.info.get("duration", 0) or 0))
                       for f in ImageSequence.Iterator(image)]
    except Exception as exc:  # Pillow raises many kinds for broken files
        raise VideoReadError(f"{path}: not a readable GIF ({type(exc).__name__})") from None
    positive = [ms for _, ms in decoded if ms > 0]
    base = min(positive) if positive else 0
    frames: list[np.ndarray] = []
    for array, ms in decoded:
        repeat = min(MAX_GIF_REPEAT, max(1, round(ms / base))) if base else 1
        frames.extend([array] * repeat)
    return frames


def _read_av(path: Path) -> list[np.ndarray]:
    av = _av()
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoReadError(f"{path}: no video stream")
            return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    except VideoReadError:
        raise
    except Exception as exc:  # av.error.* (invalid data, EOF, unsupported codec)
        raise VideoReadError(f"{path}: not a readable video ({type(exc).__name__})") from None


def _rgb(frames: np.ndarray) -> np.ndarray:
    return np.repeat(frames, 3, axis=-1) if frames.shape[-1] == 1 else frames


def write_gif(frames: np.ndarray, path: str | Path, fps: int = 8) -> Path:
    """An animated GIF that loops: uint8 ``[T, H, W, C]``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gif_bytes(frames, fps))
    return path


def write_mp4(frames: np.ndarray, path: str | Path, fps: int = 8, scale: int = 1) -> Path:
    """An H.264 MP4 (yuv420p): uint8 ``[T, H, W, C]``, enlarged ``scale`` times (nearest) and padded to
    even sides, which yuv420p needs."""
    av = _av()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = _rgb(frames)
    if scale > 1:
        frames = frames.repeat(scale, axis=1).repeat(scale, axis=2)
    t, h, w, _ = frames.shape
    padded = np.zeros((t, h + h % 2, w + w % 2, 3), dtype=np.uint8)
    padded[:, :h, :w] = frames
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = padded.shape[2], padded.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18"}
        for array in padded:
            for packet in stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def tile(clips: np.ndarray, padding: int = 1, nrow: int | None = None) -> np.ndarray:
    """Clips uint8 ``[N, T, H, W, C]`` -> one clip ``[T, H', W', C]`` with the clips in a near-square grid
    (white padding)."""
    n, t, h, w, c = clips.shape
    cols = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    out = np.full((t, rows * (h + padding) + padding, cols * (w + padding) + padding, c), 255, dtype=np.uint8)
    for i in range(n):
        r, k = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + k * (w + padding)
        out[:, y:y + h, x:x + w] = clips[i]
    return out


def frame_strip(clips: np.ndarray, padding: int = 1) -> Image.Image:
    """Clips uint8 ``[N, T, H, W, C]`` -> a PIL image: one row per clip, its frames left to right."""
    n, t, h, w, c = clips.shape
    out = np.full((n * (h + padding) + padding, t * (w + padding) + padding, c), 255, dtype=np.uint8)
    for i in range(n):
        for k in range(t):
            y, x = padding + i * (h + padding), padding + k * (w + padding)
            out[y:y + h, x:x + w] = clips[i, k]
    return Image.fromarray(out[..., 0], mode="L") if c == 1 else Image.fromarray(out, mode="RGB")


def gif_bytes(frames: np.ndarray, fps: int = 8) -> bytes:
    """An animated GIF that loops, in memory: uint8 ``[T, H, W, C]``. (Pillow merges identical consecutive
    frames into one longer frame; ``read_video`` expands them again.)"""
    mode = "L" if frames.shape[-1] == 1 else "RGB"
    images = [Image.fromarray(np.ascontiguousarray(f[..., 0] if mode == "L" else f), mode=mode) for f in frames]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=max(1, round(1000 / fps)), loop=0)
    return buffer.getvalue()
