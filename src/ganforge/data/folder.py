"""``folder:PATH``: any folder of images (recursive), loaded into memory.

First-level subfolders are classes."""

from __future__ import annotations

import os
import sys
import warnings
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


MAX_NATIVE_SIDE = 1024  # without data.size, larger first images are refused: every image would be decoded that big
MAX_DATASET_BYTES = 4 * 2**30  # the decoded data set must fit in this much memory


def _no_images(folder: Path, reason: str = "") -> GanforgeError:
    why = f"; e.g. {reason}" if reason else ""
    return GanforgeError(f"no readable images in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}){why}")


def _probe(path: Path) -> tuple[int, int, str] | str:
    """(width, height, mode) from the file's header, without decoding the pixels; or why it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return im.width, im.height, im.mode
    except Image.DecompressionBombError:
        return f"{path.name} is over PIL's limit of {2 * Image.MAX_IMAGE_PIXELS} pixels"
    except Exception:
        return f"{path.name} is not a readable image"


def _first_image(folder: Path, files: list[Path]) -> tuple[int, int]:
    """(channels, shorter side) of the first readable image (from its header); GanforgeError when there is none."""
    reason = ""
    for path in files:
        probe = _probe(path)
        if isinstance(probe, str):
            reason = reason or probe
            continue
        width, height, mode = probe
        return (1 if mode in _GRAY_MODES else 3), min(width, height)
    raise _no_images(folder, reason)


def folder_native_shape(path: str | Path) -> tuple[int, int, int]:
    """(C, H, W) of a folder before resizing: the first readable image's mode and shorter side."""
    folder = existing_folder(path)
    channels, side = _first_image(folder, image_files(folder))
    return channels, side, side


def _decode(path: Path, mode: str, size: int) -> torch.Tensor | None:
    """One image decoded straight to about ``size`` (JPEG draft mode, integer reduction), then resized."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.draft(mode, (size, size))  # JPEG: decode at a reduced scale when it is much bigger
                factor = min(im.size) // size
                small = im.reduce(factor) if factor >= 2 else im
                image = TF.pil_to_tensor(small.convert(mode))
    except Exception:  # not an image, truncated, unsupported mode...: skipped and reported
        return None
    return resize_square(image, size)


def _check_memory(folder: Path, files: list[Path], size: int, channels: int, native: bool) -> None:
    """Refuse, before decoding anything, a data set that would not fit in memory at ``size``."""
    first = files[0].relative_to(folder).as_posix()
    if native and size > MAX_NATIVE_SIDE:
        raise GanforgeError(f"the images of {folder} are large (the first, {first}, has a {size}-pixel side) and "
                            f"no size was set: set data.size, e.g. --set data.size=64")
    total = len(files) * channels * size * size
    if total > MAX_DATASET_BYTES:
        raise GanforgeError(f"{len(files)} images at {size}x{size} would take {total / 2**30:.1f} GB of memory: "
                            "set a smaller data.size, e.g. --set data.size=64")


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
    mode = "L" if (channels or native_channels) == 1 else "RGB"
    _check_memory(folder, files, size or native_side, 1 if mode == "L" else 3, native=size is None)
    size = size or native_side
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
