"""The world of the ``shapes-captions`` data set: attributes, scenes and how they are drawn at random.

A scene holds one or two shapes, each with a colour, a shape, a size and one of nine positions on a
3x3 grid, over a plain or textured background. A fixed set of colour-shape combinations is held out:
no training scene contains them, so the held-out prompts test whether the words compose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (50, 90, 235),
    "yellow": (240, 215, 40),
    "purple": (155, 60, 205),
    "white": (240, 240, 240),
}
SHAPES = ("circle", "square", "triangle", "cross")
SIZES = ("small", "large")
POSITIONS = ("top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right")
ATTRIBUTES = ("colour", "shape", "size", "position")
ATTRIBUTE_VALUES: dict[str, tuple[str, ...]] = {
    "colour": tuple(COLOURS), "shape": SHAPES, "size": SIZES, "position": POSITIONS,
}
# Never in training scenes; every colour and every shape still appears in other combinations.
HELD_OUT: frozenset[tuple[str, str]] = frozenset({
    ("yellow", "circle"), ("purple", "square"), ("white", "triangle"), ("blue", "cross"),
})
SEEN: tuple[tuple[str, str], ...] = tuple((c, s) for c in COLOURS for s in SHAPES if (c, s) not in HELD_OUT)
BACKGROUNDS = ("plain", "stripes", "checks", "noise")


@dataclass(frozen=True)
class Shape:
    """One shape of a scene (attribute names, plus a small jitter of place and colour in pixels/levels)."""

    colour: str
    shape: str
    size: str
    position: str
    dx: int = 0
    dy: int = 0
    tint: int = 0

    def indices(self) -> tuple[int, int, int, int]:
        """(colour, shape, size, position) as indices into ``ATTRIBUTE_VALUES``."""
        return (list(COLOURS).index(self.colour), SHAPES.index(self.shape), SIZES.index(self.size),
                POSITIONS.index(self.position))


@dataclass(frozen=True)
class Scene:
    """What one picture shows: its shapes and its background (kind, grey level and a texture seed)."""

    shapes: tuple[Shape, ...]
    background: str = "plain"
    level: int = 40
    texture_seed: int = 0


def grid_cell(position: str) -> tuple[int, int]:
    """(column, row) of a position on the 3x3 grid."""
    index = POSITIONS.index(position)
    return index % 3, index // 3


def random_shape(rng: random.Random, combos: tuple[tuple[str, str], ...], position: str | None = None,
                 size: str | None = None) -> Shape:
    """A shape with a colour-shape combination from ``combos`` and random size, place and jitter."""
    colour, shape = rng.choice(combos)
    return Shape(colour, shape, size or rng.choice(SIZES), position or rng.choice(POSITIONS),
                 rng.randint(-3, 3), rng.randint(-3, 3), rng.randint(-12, 12))


def random_background(rng: random.Random) -> tuple[str, int, int]:
    return rng.choice(BACKGROUNDS), rng.randint(25, 80), rng.randrange(2**31)


def far_enough(a: str, b: str, either_large: bool) -> bool:
    """Two positions may share a picture when they differ (and are not neighbours when a shape is large)."""
    (ax, ay), (bx, by) = grid_cell(a), grid_cell(b)
    distance = max(abs(ax - bx), abs(ay - by))
    return distance >= (2 if either_large else 1)


def random_scene(rng: random.Random, combos: tuple[tuple[str, str], ...] = SEEN, two_shapes: float = 0.3) -> Scene:
    """A random scene: one shape, or two shapes at distinct (non-touching) places with probability ``two_shapes``."""
    first = random_shape(rng, combos)
    shapes = [first]
    if rng.random() < two_shapes:
        second = random_shape(rng, combos)
        large = "large" in (first.size, second.size)
        places = [p for p in POSITIONS if far_enough(first.position, p, large)]
        if places:  # a large shape in the centre leaves no room for a second one
            shapes.append(Shape(second.colour, second.shape, second.size, rng.choice(places), second.dx,
                                second.dy, second.tint))
    kind, level, texture = random_background(rng)
    return Scene(tuple(shapes), kind, level, texture)


def single_scene(rng: random.Random, colour: str, shape: str, size: str, position: str) -> Scene:
    """A scene of exactly one given shape, with random jitter and background."""
    kind, level, texture = random_background(rng)
    item = Shape(colour, shape, size, position, rng.randint(-3, 3), rng.randint(-3, 3), rng.randint(-12, 12))
    return Scene((item,), kind, level, texture)
