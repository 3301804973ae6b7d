"""The captioned image data sets: ``shapes-captions`` (rendered, cached) and ``captions:PATH`` (your folder).

Both become a ``CaptionedImages``: uint8 images, every image's captions as word indices (up to
``MAX_CAPTIONS`` each) and, for the rendered set, the true attributes of its shapes. Which caption of an
image a training step reads is drawn in the recipe from the global RNG (saved in checkpoints), so the
stream of batches stays exactly resumable.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from ganforge.data.builtin import data_root
from ganforge.errors import GanforgeError
from ganforge.families.text2image.captions import scene_captions
from ganforge.families.text2image.render import render_scene
from ganforge.families.text2image.scenes import SEEN, Scene, random_scene
from ganforge.families.text2image.words import Vocabulary, tokenize

SHAPES_VERSION = 1  # bump when rendering or captions change: cached sets are re-rendered
MAX_CAPTIONS = 10
DATA_DESCRIPTIONS = {
    "shapes-captions": "64x64 rendered shapes (4 shapes, 6 colours, 2 sizes, 9 positions), 4 captions each; "
                       "4 colour-shape combinations held out (made offline)",
    "captions:PATH": "your folder of images, each with a same-named .txt of captions (one per line)",
}


@dataclass
class CaptionedImages(Dataset):
    """Images [N, 3, H, W] uint8 with their captions (text and word indices) and, when known, attributes."""

    name: str
    images: torch.Tensor
    captions: list[list[str]]
    vocab: Vocabulary
    max_words: int
    attributes: torch.Tensor | None = None  # [N, 2, 4]: (colour, shape, size, position) per shape, -1 if none

    def __post_init__(self) -> None:
        counts = [min(len(c), MAX_CAPTIONS) for c in self.captions]
        width = max(counts)
        ids = torch.zeros(len(self.captions), width, self.max_words, dtype=torch.int64)
        lengths = torch.ones(len(self.captions), width, dtype=torch.int64)
        for i, caps in enumerate(self.captions):
            for j, caption in enumerate(caps[:MAX_CAPTIONS]):
                words = tokenize(caption)[: self.max_words]
                ids[i, j] = torch.tensor(self.vocab.encode(words, self.max_words))
                lengths[i, j] = max(1, len(words))
        self.caption_ids, self.caption_lengths = ids, lengths
        self.caption_counts = torch.tensor(counts, dtype=torch.int64)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return self.images[i], self.caption_ids[i], self.caption_lengths[i], self.caption_counts[i]

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        index = torch.tensor(indices, dtype=torch.int64)
        return (self.images[index], self.caption_ids[index], self.caption_lengths[index],
                self.caption_counts[index])


def collate_captioned(batch: Any) -> tuple[torch.Tensor, ...]:
    """A batch from ``__getitems__`` (already stacked) or a list of samples -> stacked tensors."""
    if isinstance(batch, tuple):
        return batch
    return tuple(torch.stack(parts) for parts in zip(*batch, strict=True))


# --- shapes-captions -----------------------------------------------------------------------------------


def render_scenes(scenes: list[Scene], size: int) -> torch.Tensor:
    """Scenes as uint8 [N, 3, size, size]."""
    return torch.from_numpy(np.stack([render_scene(s, size) for s in scenes])).permute(0, 3, 1, 2).contiguous()


def scene_attributes(scenes: list[Scene]) -> torch.Tensor:
    table = torch.full((len(scenes), 2, 4), -1, dtype=torch.int64)
    for i, scene in enumerate(scenes):
        for j, item in enumerate(scene.shapes):
            table[i, j] = torch.tensor(item.indices())
    return table


def make_shapes(count: int, seed: int, size: int = 64) -> dict[str, Any]:
    """Render ``count`` training scenes for ``seed`` (no held-out combination): plain tensors and lists."""
    rng = random.Random(f"shapes-captions/{seed}")
    scenes = [random_scene(rng, SEEN) for _ in range(count)]
    captions = [scene_captions(s, rng) for s in scenes]
    return {"version": SHAPES_VERSION, "images": render_scenes(scenes, size), "captions": captions,
            "attributes": scene_attributes(scenes)}


def cached_shapes(count: int, seed: int, size: int, root: str | None) -> dict[str, Any]:
    """``make_shapes`` through a cache file under the data root (rendering 8,000 scenes takes ~20 s)."""
    path = data_root(root) / "text2image" / f"shapes-captions-v{SHAPES_VERSION}-n{count}-s{seed}-{size}px.pt"
    if path.is_file():
        try:
            data = torch.load(path, weights_only=True)
            if data.get("version") == SHAPES_VERSION:
                return data
        except Exception:  # a truncated or foreign file: rendered again below
            pass
    data = make_shapes(count, seed, size)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(data, tmp)
        tmp.replace(path)
    except OSError:  # a read-only cache is no reason to fail
        pass
    return data


def build_shapes_captions(count: int, seed: int, size: int, max_words: int, root: str | None) -> CaptionedImages:
    data = cached_shapes(count, seed, size, root)
    vocab = Vocabulary.from_captions(c for caps in data["captions"] for c in caps)
    return CaptionedImages("shapes-captions", data["images"], data["captions"], vocab, max_words,
                           data["attributes"])


def build_captioned(name: str, count: int, seed: int, size: int, max_words: int,
                    root: str | None = None) -> CaptionedImages:
    """The data set ``name``: ``shapes-captions`` or ``captions:PATH``."""
    if name == "shapes-captions":
        return build_shapes_captions(count, seed, size, max_words, root)
    kind, sep, path = name.partition(":")
    if sep and kind == "captions":
        from ganforge.families.text2image.folder import load_captions_folder

        images, captions = load_captions_folder(Path(path), size)
        vocab = Vocabulary.from_captions(c for caps in captions for c in caps)
        return CaptionedImages(name, images, captions, vocab, max_words)
    raise GanforgeError(f"unknown data set '{name}' for text2image runs; use shapes-captions or captions:PATH "
                        "(a folder of images with same-named .txt captions)")
