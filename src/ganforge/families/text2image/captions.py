"""Captions of a scene from varied templates. Every word a caption uses is true of the scene: it names
colours, shapes, sizes and positions (absolute, or relative to the first shape) that the picture shows."""

from __future__ import annotations

import random

from ganforge.families.text2image.scenes import Scene, Shape, grid_cell

# The phrases that name each grid position; the first is the canonical one (evaluation prompts use it).
POSITION_PHRASES: dict[str, tuple[str, ...]] = {
    "top left": ("at the top left", "in the top left corner", "in the upper left"),
    "top": ("at the top", "at the top in the middle"),
    "top right": ("at the top right", "in the top right corner", "in the upper right"),
    "left": ("on the left", "at the left side"),
    "center": ("in the center", "in the middle"),
    "right": ("on the right", "at the right side"),
    "bottom left": ("at the bottom left", "in the bottom left corner", "in the lower left"),
    "bottom": ("at the bottom", "at the bottom in the middle"),
    "bottom right": ("at the bottom right", "in the bottom right corner", "in the lower right"),
}
SIZE_WORDS = {"small": ("small", "little"), "large": ("large", "big")}
CAPTIONS_PER_IMAGE = 4


def canonical_caption(item: Shape) -> str:
    """The evaluation prompt of one shape: "a small red circle at the top left"."""
    return f"a {item.size} {item.colour} {item.shape} {POSITION_PHRASES[item.position][0]}"


def _words(item: Shape, rng: random.Random, with_size: bool) -> str:
    size = rng.choice(SIZE_WORDS[item.size]) + " " if with_size else ""
    return f"{size}{item.colour} {item.shape}"


def _where(item: Shape, rng: random.Random) -> str:
    return rng.choice(POSITION_PHRASES[item.position])


def relation(first: Shape, second: Shape) -> str | None:
    """Where ``second`` is relative to ``first`` when they share a row or a column ("below it"), else None."""
    (ax, ay), (bx, by) = grid_cell(first.position), grid_cell(second.position)
    if ax == bx:
        return "below it" if by > ay else "above it"
    if ay == by:
        return "to the right of it" if bx > ax else "to the left of it"
    return None


def one_shape_caption(item: Shape, rng: random.Random) -> str:
    sized, plain = _words(item, rng, True), _words(item, rng, False)
    templates = (
        f"a {sized} {_where(item, rng)}",
        f"a {plain} {_where(item, rng)}",
        f"there is a {sized} {_where(item, rng)}",
        f"{_where(item, rng)} there is a {plain}",
        f"the picture shows a {sized} {_where(item, rng)}",
        f"a {rng.choice(SIZE_WORDS[item.size])} {item.shape} in {item.colour} {_where(item, rng)}",
        f"one {plain} {_where(item, rng)} on a dark background",
    )
    return rng.choice(templates)


def two_shape_caption(first: Shape, second: Shape, rng: random.Random) -> str:
    a, b = _words(first, rng, rng.random() < 0.5), _words(second, rng, rng.random() < 0.5)
    templates = [
        f"a {a} {_where(first, rng)} and a {b} {_where(second, rng)}",
        f"there is a {a} {_where(first, rng)} and a {b} {_where(second, rng)}",
        f"two shapes: a {a} {_where(first, rng)} and a {b} {_where(second, rng)}",
        f"a {b} {_where(second, rng)} and a {a} {_where(first, rng)}",
    ]
    relative = relation(first, second)
    if relative:
        templates.append(f"there is a {a} {_where(first, rng)} and a {b} {relative}")
        templates.append(f"a {a} {_where(first, rng)} with a {b} {relative}")
    return rng.choice(templates)


def scene_captions(scene: Scene, rng: random.Random, count: int = CAPTIONS_PER_IMAGE) -> list[str]:
    """``count`` captions of a scene (distinct where the templates allow)."""
    found: list[str] = []
    for _ in range(count * 6):
        if len(scene.shapes) == 1:
            caption = one_shape_caption(scene.shapes[0], rng)
        else:
            caption = two_shape_caption(scene.shapes[0], scene.shapes[1], rng)
        if caption not in found:
            found.append(caption)
        if len(found) == count:
            break
    return found
