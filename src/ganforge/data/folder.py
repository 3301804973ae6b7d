"""``folder:PATH``: any folder of images (recursive), loaded into memory.

First-level subfolders are classes."""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from ganforge.data.base import TensorImageDataset, resize_square
from ganforge.errors import GanforgeError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def existing_folder(path: str | Path) -> Path:
    """``path`` as a folder that exists; GanforgeError naming it otherwise."""
    folder = Path(path).expanduser()
    if not str(path).strip():
        raise GanforgeError("folder: needs a path, e.g. --data folder:./my_images")
    if not folder.is_dir():
        raise GanforgeError(f"data folder not found: {folder}")
    return folder


def image_files(folder: Path) -> list[Path]:
    """All files under ``folder`` with an image extension (case-insensitive), sorted for determinism."""
    found = [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _no_images(folder: Path) -> GanforgeError:
    return GanforgeError(f"no readable images in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)})")


def _first_image(folder: Path, files: list[Path]) -> tuple[int, int]:
    """(channels, shorter side) of the first readable image; GanforgeError when there is none."""
    for path in files:
        try:
            with Image.open(path) as im:
                im.load()
                return (1 if im.mode in _GRAY_MODES else 3), min(im.size)
        except Exception:
            continue
    raise _no_images(folder)


def folder_native_shape(path: str | Path) -> tuple[int, int, int]:
    """(C, H, W) of a folder before resizing: the first readable image's mode and shorter side."""
    folder = existing_folder(path)
    channels, side = _first_image(folder, image_files(folder))
    return channels, side, side


def _decode(path: Path, mode: str, size: int) -> torch.Tensor | None:
    try:
        with Image.open(path) as im:
            image = TF.pil_to_tensor(im.convert(mode))
    except Exception:  # not an image, truncated, unsupported mode...: skipped and reported
        return None
    return resize_square(image, size)


def _labels(folder: Path, files: list[Path]) -> tuple[torch.Tensor, list[str]]:
    parts = [p.relative_to(folder).parts for p in files]
    if not all(len(pp) >= 2 for pp in parts):  # some images at the top level: unlabeled
        return torch.zeros(len(files), dtype=torch.int64), []
    names = sorted({pp[0] for pp in parts})
    index = {name: i for i, name in enumerate(names)}
    return torch.tensor([index[pp[0]] for pp in parts], dtype=torch.int64), names


def warn_skipped(folder: Path, skipped: list[Path]) -> None:
    example = skipped[0].relative_to(folder).as_posix()
    print(f"warning: skipped {len(skipped)} unreadable image file(s) in {folder} (e.g. {example})",
          file=sys.stderr)


def load_folder(name: str, path: str | Path, size: int | None, channels: int | None) -> TensorImageDataset:
    """Decode every image under ``path`` (threads), resize to a square ``size``, stack in memory."""
    folder = existing_folder(path)
    files = image_files(folder)
    native_channels, native_side = _first_image(folder, files)
    size = size or native_side
    mode = "L" if (channels or native_channels) == 1 else "RGB"
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        decoded = list(pool.map(lambda p: _decode(p, mode, size), files))
    good = [(p, im) for p, im in zip(files, decoded, strict=True) if im is not None]
    skipped = [p for p, im in zip(files, decoded, strict=True) if im is None]
    if not good:
        raise _no_images(folder)
    if skipped:
        warn_skipped(folder, skipped)
    labels, class_names = _labels(folder, [p for p, _ in good])
    return TensorImageDataset(name, torch.stack([im for _, im in good]), labels, class_names)
