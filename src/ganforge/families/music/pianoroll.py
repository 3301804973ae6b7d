"""Piano-roll pictures: one panel per segment, time to the right, pitch up, one colour per track,
grey lines at bars and at every C."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = np.array([[214, 39, 40], [31, 119, 180], [44, 160, 44], [148, 103, 189], [255, 127, 14],
                    [140, 86, 75], [227, 119, 194], [23, 190, 207]], dtype=np.float64)


def roll_image(roll: np.ndarray, lowest: int, steps_per_bar: int, cell: int = 3) -> np.ndarray:
    """One roll ``[tracks, steps, pitches]`` -> an RGB array, ``cell`` pixels per step and pitch."""
    tracks, steps, pitches = roll.shape
    canvas = np.full((pitches, steps, 3), 255.0)
    for c in range(pitches):
        if (lowest + c) % 12 == 0:
            canvas[c] = 235.0
    canvas[:, ::steps_per_bar] = 200.0
    filled = np.zeros((pitches, steps), dtype=bool)
    for track in range(tracks):
        on = roll[track].T  # [pitches, steps]
        colour = COLOURS[track % len(COLOURS)]
        canvas[on & ~filled] = colour
        canvas[on & filled] = (canvas[on & filled] + colour) / 2  # two tracks on one cell: mixed
        filled |= on
    image = canvas[::-1].repeat(cell, axis=0).repeat(cell, axis=1)
    return image.astype(np.uint8)


def rolls_picture(rolls: np.ndarray, lowest: int, steps_per_bar: int, columns: int | None = None,
                  cell: int = 3, padding: int = 4) -> Image.Image:
    """Rolls ``[n, tracks, steps, pitches]`` laid out about square on a white page."""
    n = len(rolls)
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / columns)
    panels = [roll_image(r, lowest, steps_per_bar, cell) for r in rolls]
    h, w = panels[0].shape[:2]
    page = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, 3), 120, dtype=np.uint8)
    for i, panel in enumerate(panels):
        top, left = padding + (i // columns) * (h + padding), padding + (i % columns) * (w + padding)
        page[top:top + h, left:left + w] = panel
    return Image.fromarray(page, mode="RGB")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_picture(rolls: np.ndarray, lowest: int, steps_per_bar: int, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rolls_picture(rolls, lowest, steps_per_bar).save(path)
    return path
