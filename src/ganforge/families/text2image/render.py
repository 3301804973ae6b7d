"""Drawing a scene with PIL: shapes are drawn four times larger and shrunk (anti-aliased edges), over a
background made with numpy from the scene's texture seed. Same scene, same pixels."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ganforge.families.text2image.scenes import COLOURS, Scene, Shape, grid_cell

IMAGE_SIZE = 64
SUPERSAMPLE = 4
CELL_CENTRES = (13, 32, 51)  # pixel centre of each grid column/row at 64x64
RADII = {"small": 6.5, "large": 11.0}  # half the extent of a shape at 64x64


def background(scene: Scene, size: int = IMAGE_SIZE) -> np.ndarray:
    """The background as uint8 [size, size, 3]: a grey level, plain or with stripes, checks or noise."""
    base = np.full((size, size), float(scene.level))
    rng = np.random.default_rng(scene.texture_seed)
    yy, xx = np.mgrid[0:size, 0:size]
    if scene.background == "stripes":
        period = int(rng.integers(4, 9))
        base += 12.0 * (((xx + yy) // period) % 2)
    elif scene.background == "checks":
        period = int(rng.integers(4, 9))
        base += 12.0 * (((xx // period) + (yy // period)) % 2)
    elif scene.background == "noise":
        base += rng.normal(0.0, 7.0, size=(size, size))
    tint = np.array([1.0, 1.0, 1.0]) + rng.uniform(-0.15, 0.15, size=3)
    return np.clip(base[:, :, None] * tint, 0, 255).round().astype(np.uint8)


def shape_colour(item: Shape) -> tuple[int, int, int]:
    r, g, b = COLOURS[item.colour]
    return tuple(int(min(255, max(0, v + item.tint))) for v in (r, g, b))  # type: ignore[return-value]


def shape_polygon(item: Shape, scale: float) -> tuple[str, list[tuple[float, float]]]:
    """("ellipse" or "polygon", points) of a shape in supersampled pixel coordinates."""
    col, row = grid_cell(item.position)
    cx, cy = (CELL_CENTRES[col] + item.dx) * scale, (CELL_CENTRES[row] + item.dy) * scale
    r = RADII[item.size] * scale
    if item.shape == "circle":
        return "ellipse", [(cx - r, cy - r), (cx + r, cy + r)]
    if item.shape == "square":
        s = r * 0.9
        return "polygon", [(cx - s, cy - s), (cx + s, cy - s), (cx + s, cy + s), (cx - s, cy + s)]
    if item.shape == "triangle":
        return "polygon", [(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)]
    w = r * 0.38  # cross: a plus sign of two bars
    return "polygon", [(cx - w, cy - r), (cx + w, cy - r), (cx + w, cy - w), (cx + r, cy - w), (cx + r, cy + w),
                       (cx + w, cy + w), (cx + w, cy + r), (cx - w, cy + r), (cx - w, cy + w), (cx - r, cy + w),
                       (cx - r, cy - w), (cx - w, cy - w)]


def render_scene(scene: Scene, size: int = IMAGE_SIZE) -> np.ndarray:
    """A scene as uint8 [size, size, 3] (RGB)."""
    big = size * SUPERSAMPLE
    scale = big / IMAGE_SIZE
    layer = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for item in scene.shapes:
        kind, points = shape_polygon(item, scale)
        fill = (*shape_colour(item), 255)
        if kind == "ellipse":
            draw.ellipse(points, fill=fill)
        else:
            draw.polygon(points, fill=fill)
    small = np.asarray(layer.resize((size, size), Image.Resampling.BOX), dtype=np.float64)
    alpha = small[:, :, 3:4] / 255.0
    colour = np.where(alpha > 0, small[:, :, :3] / np.maximum(alpha, 1e-6), 0.0)
    out = background(scene, size) * (1 - alpha) + colour * alpha
    return np.clip(out, 0, 255).round().astype(np.uint8)
