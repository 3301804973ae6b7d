"""``captions:PATH``: a folder of images, each with a same-named ``.txt`` holding one caption per line (the
CUB/COCO-style layout, e.g. ``birds/001.jpg`` + ``birds/001.txt``). Images without a ``.txt``, with only
empty captions, or that cannot be read are skipped and counted in one warning line."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from ganforge.data.base import resize_square
from ganforge.data.folder import existing_folder, image_files
from ganforge.errors import GanforgeError


def read_captions(path: Path) -> list[str]:
    """The non-empty lines of a caption file (UTF-8, undecodable bytes replaced)."""
    return [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]


def _image(path: Path, size: int) -> torch.Tensor | None:
    try:
        with Image.open(path) as im:
            return resize_square(TF.pil_to_tensor(im.convert("RGB")), size)
    except Exception:  # unreadable, truncated, unsupported: counted below
        return None


def load_captions_folder(folder: Path, size: int) -> tuple[torch.Tensor, list[list[str]]]:
    """(uint8 images [N, 3, size, size], captions per image) from a captions folder."""
    folder = existing_folder(folder)
    files = image_files(folder)
    if not files:
        raise GanforgeError(f"no images in {folder}; captions:PATH wants images with same-named .txt captions")
    images, captions = [], []
    skipped = {"no .txt": 0, "empty captions": 0, "unreadable": 0}
    for path in files:
        text = path.with_suffix(".txt")
        if not text.is_file():
            skipped["no .txt"] += 1
            continue
        lines = read_captions(text)
        if not lines:
            skipped["empty captions"] += 1
            continue
        image = _image(path, size)
        if image is None:
            skipped["unreadable"] += 1
            continue
        images.append(image)
        captions.append(lines)
    total = sum(skipped.values())
    if total:
        parts = ", ".join(f"{n} {why}" for why, n in skipped.items() if n)
        print(f"warning: skipped {total} of {len(files)} image(s) in {folder} ({parts})", file=sys.stderr)
    if not images:
        raise GanforgeError(f"no usable captioned images in {folder}: every image needs a same-named .txt with at "
                            "least one caption line")
    return torch.stack(images), captions
