"""Data for image-to-image translation: each item holds an A image and a B image stacked on the channels.

An item is uint8 ``[Ca + Cb, H, W]``; ``dataset.pair_channels == (Ca, Cb)`` says where to split. Stacking
keeps the whole data pipeline (batching, exact resume, flips) shared with the GAN data, and a flip or
crop applies to both halves of a pair alike.

- ``paired:PATH``: ``PATH/A`` and ``PATH/B`` with matching file names, or images holding A and B side by
  side (A left, as the pix2pix data sets ship).
- ``colorize:PATH``: any folder of color photos; A is the gray version (ITU-R 601 luminance), B the color.
  Random square crops of ``size`` from photos scaled to a shorter side of 256.
- ``colorize-photos``: the same from the photos that ship with scikit-image and scikit-learn, plus the
  photos of a few Debian packages when installed (``photos.py``; offline). Three photos
  are held out for evaluation (``COLORIZE_HELD_OUT``) and never used in training.
- ``unpaired:PATH_A,PATH_B``: two folders, no correspondence (CycleGAN). A is paired with a fixed random
  B per item; the losses never use the pairing.
- ``digit-styles``: unpaired, A = scikit-learn's 8x8 digits scaled up to 28x28, B = the embedded 28x28
  MNIST digits: two styles of the same ten classes (labels are A's).
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from ganforge.data.base import TensorImageDataset, check_size_channels, fit_images
from ganforge.data.folder import existing_folder, image_files, load_folder, warn_skipped
from ganforge.errors import GanforgeError
from ganforge.families.translation.photos import (
    COLORIZE_HELD_OUT,
    COLORIZE_TRAIN,
    INSTALLED_PHOTO_COUNT,
    held_out_photos,
    load_photo,
    scale_short_side,
    training_photos,
)
from ganforge.registry import unknown_name_message

PAIR_PREFIXES = ("paired:", "colorize:", "unpaired:")
COLORIZE_CROPS = 8000
DEFAULT_PAIR_SIZE = 64
__all__ = ["COLORIZE_HELD_OUT", "COLORIZE_TRAIN", "held_out_photos", "load_photo", "scale_short_side"]


class PairDataset(TensorImageDataset):
    """A and B images stacked on the channel axis; ``pair_channels`` = (channels of A, channels of B)."""

    def __init__(self, name: str, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor | None = None,
                 class_names: list[str] | None = None) -> None:
        if a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
            raise GanforgeError(f"{name}: A and B must have as many images of one size: {tuple(a.shape)} vs "
                                f"{tuple(b.shape)}")
        labels = labels if labels is not None else torch.zeros(a.shape[0], dtype=torch.int64)
        super().__init__(name, torch.cat([a, b], dim=1), labels, class_names or [])
        self.pair_channels = (int(a.shape[1]), int(b.shape[1]))


def split_pair(images: torch.Tensor, pair_channels: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``[B, Ca + Cb, H, W]`` -> (A ``[B, Ca, H, W]``, B ``[B, Cb, H, W]``)."""
    return images[:, : pair_channels[0]], images[:, pair_channels[0]:]


# --- photos ---------------------------------------------------------------------------------------


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 RGB [..., 3, H, W] -> uint8 luminance [..., 1, H, W] (ITU-R 601)."""
    return TF.rgb_to_grayscale(rgb)


def random_crops(photos: list[torch.Tensor], count: int, size: int, seed: int = 0) -> torch.Tensor:
    """``count`` square crops of ``size`` spread over ``photos`` (uint8 [3, H, W] each), reproducibly."""
    generator = torch.Generator().manual_seed(seed)
    crops = []
    for i in range(count):
        photo = photos[i % len(photos)]
        _, height, width = photo.shape
        if min(height, width) < size:
            raise GanforgeError(f"photo of {width}x{height} is smaller than the crop size {size}; lower data.size")
        top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
        crop = photo[:, top : top + size, left : left + size]
        if torch.rand((), generator=generator) < 0.5:
            crop = crop.flip(-1)
        crops.append(crop)
    return torch.stack(crops)


def colorize_pairs(name: str, photos: list[torch.Tensor], size: int) -> PairDataset:
    """(gray, color) pairs of ``COLORIZE_CROPS`` random crops of ``photos`` scaled to a shorter side of 256."""
    color = random_crops([scale_short_side(p) for p in photos], COLORIZE_CROPS, size)
    return PairDataset(name, to_gray(color), color)


def build_colorize_photos(size: int | None, channels: int | None, root: object = None) -> PairDataset:
    return colorize_pairs("colorize-photos", training_photos(), size or DEFAULT_PAIR_SIZE)


def build_colorize_folder(name: str, path: str, size: int | None) -> PairDataset:
    folder = existing_folder(path)
    photos, skipped = [], []
    for file in image_files(folder):
        try:
            with Image.open(file) as im:
                photos.append(TF.pil_to_tensor(im.convert("RGB")))
        except Exception:  # not an image: skipped and counted, as folder:PATH does
            skipped.append(file)
    if not photos:
        raise GanforgeError(f"no readable images in {folder}")
    if skipped:
        warn_skipped(folder, skipped)
    return colorize_pairs(name, photos, size or DEFAULT_PAIR_SIZE)


# --- paired and unpaired folders ------------------------------------------------------------------


def build_paired_folder(name: str, path: str, size: int | None, channels: int | None) -> PairDataset:
    folder = existing_folder(path)
    size = size or DEFAULT_PAIR_SIZE
    if (folder / "A").is_dir() and (folder / "B").is_dir():
        a_files = {p.relative_to(folder / "A").as_posix(): p for p in image_files(folder / "A")}
        b_files = {p.relative_to(folder / "B").as_posix(): p for p in image_files(folder / "B")}
        common = sorted(set(a_files) & set(b_files))
        if not common:
            raise GanforgeError(f"{folder}/A and {folder}/B share no file names; pairs must have the same name")
        a = torch.stack([_read(a_files[k], size) for k in common])
        b = torch.stack([_read(b_files[k], size) for k in common])
    else:
        files = image_files(folder)
        if not files:
            raise GanforgeError(f"{folder} holds neither A/ and B/ subfolders nor side-by-side images")
        halves = [_read_side_by_side(p, size) for p in files]
        a, b = torch.stack([h[0] for h in halves]), torch.stack([h[1] for h in halves])
    if channels is not None:
        a, b = fit_images(a, channels=channels), fit_images(b, channels=channels)
    return PairDataset(name, a, b)


def _read(path: Path, size: int) -> torch.Tensor:
    return TF.resize(_read_raw(path), [size, size], antialias=True)


def _read_side_by_side(path: Path, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    image = _read_raw(path)
    width = image.shape[-1] // 2
    a, b = image[..., :width], image[..., width : 2 * width]
    return TF.resize(a, [size, size], antialias=True), TF.resize(b, [size, size], antialias=True)


def _read_raw(path: Path) -> torch.Tensor:
    try:
        with Image.open(path) as im:
            return TF.pil_to_tensor(im.convert("RGB"))
    except Exception:
        raise GanforgeError(f"cannot read {path} as an image; remove it or fix it") from None


def build_unpaired_folders(name: str, paths: str, size: int | None, channels: int | None) -> PairDataset:
    parts = [p for p in paths.split(",") if p.strip()]
    if len(parts) != 2:
        raise GanforgeError(
            f"unpaired: needs two folders separated by a comma, e.g. unpaired:day/,night/ (got {paths})"
        )
    size = size or DEFAULT_PAIR_SIZE
    a = load_folder(name, parts[0], size, channels).images
    b = load_folder(name, parts[1], size, channels).images
    if a.shape[1] != b.shape[1]:
        a, b = fit_images(a, channels=3), fit_images(b, channels=3)
    return unpaired(name, a, b)


def unpaired(name: str, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor | None = None,
             seed: int = 0) -> PairDataset:
    """Pair each A with a fixed random B (as many items as the larger side; the smaller side repeats)."""
    generator = torch.Generator().manual_seed(seed)
    count = max(len(a), len(b))
    a_index = torch.arange(count) % len(a)
    b_index = torch.randperm(count, generator=generator) % len(b)
    return PairDataset(name, a[a_index], b[b_index], None if labels is None else labels[a_index],
                       [str(k) for k in range(10)] if labels is not None else None)


def build_digit_styles(size: int | None, channels: int | None, root: object = None) -> PairDataset:
    from ganforge.data.builtin import build_digits, build_digits8

    size = size or 28
    small = build_digits8(None, 1, None)
    a = TF.resize(small.images, [size, size], interpolation=TF.InterpolationMode.BILINEAR, antialias=False)
    b = build_digits(size, 1, None).images
    return unpaired("digit-styles", a, b, small.labels)


PAIR_DATA_DESCRIPTIONS = {
    "colorize-photos": f"pairs (gray, color) of {COLORIZE_CROPS:,} random crops of {len(COLORIZE_TRAIN)} photos "
                       f"bundled with scikit-image/-learn and up to {INSTALLED_PHOTO_COUNT} from Debian packages "
                       "(photos, when installed; offline; pix2pix)",
    "digit-styles": "unpaired: scikit-learn 8x8 digits scaled to 28x28 (A) and the embedded MNIST digits (B) "
                    "(offline; CycleGAN)",
    "paired:PATH": "pix2pix pairs: PATH/A and PATH/B with matching names, or side-by-side A|B images",
    "colorize:PATH": "pix2pix colorization pairs (gray, color) from random crops of any color photos",
    "unpaired:PATH_A,PATH_B": "CycleGAN: two folders of images with no correspondence",
}


def build_pair_dataset(name: str, size: int | None = None, channels: int | None = None) -> PairDataset:
    """A pair data set by name: colorize-photos, digit-styles, or ``paired:``, ``colorize:``, ``unpaired:``."""
    check_size_channels(size, channels)
    if name == "colorize-photos":
        return build_colorize_photos(size, channels)
    if name == "digit-styles":
        return build_digit_styles(size, channels)
    if not name.startswith(PAIR_PREFIXES):
        raise GanforgeError(
            unknown_name_message("translation data set", name, list(PAIR_DATA_DESCRIPTIONS))
            + " Translation needs paired or two-domain data."
        )
    prefix, path = name.split(":", 1)
    if prefix == "paired":
        return build_paired_folder(name, path, size, channels)
    if prefix == "colorize":
        return build_colorize_folder(name, path, size)
    return build_unpaired_folders(name, path, size, channels)
