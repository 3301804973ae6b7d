"""Apply trained translators to images of any size.

The networks are fully convolutional but need sides that are multiples of a power of two, so each image
is padded (reflection) up to the next multiple, translated, and cropped back: a 50x37 photo comes back
as 50x37. Images are converted to the channels the run was trained on (gray by luminance, or RGB).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torchvision.transforms.v2 import functional as TF

from ganforge.data.base import uint8_to_unit
from ganforge.data.folder import image_files
from ganforge.errors import GanforgeError

DIRECTIONS = ("AtoB", "BtoA")


@dataclass
class Translators:
    """A trained translation run for inference: one generator per direction it can translate."""

    networks: dict[str, nn.Module]

    def network(self, direction: str | None) -> nn.Module:
        direction = direction or "AtoB"
        if direction not in DIRECTIONS:
            raise GanforgeError(f"unknown direction '{direction}': use AtoB or BtoA")
        if direction not in self.networks:
            raise GanforgeError(f"this run translates {' and '.join(self.networks)} only; {direction} needs a "
                                "two-way (cyclegan) run")
        return self.networks[direction]


@dataclass
class Translated:
    """Translated images (each [C, H, W] in [-1, 1], at its input's size) and their relative names."""

    images: list[Tensor]
    names: list[Path]


@torch.no_grad()
def translate_tensor(network: nn.Module, images: Tensor) -> Tensor:
    """Float images [B, C, H, W] in [-1, 1] of any H, W -> translated images of the same H, W."""
    height, width = images.shape[-2:]
    multiple = network.required_multiple
    pad_h, pad_w = math.ceil(height / multiple) * multiple - height, math.ceil(width / multiple) * multiple - width
    mode = "reflect" if pad_h < height and pad_w < width else "replicate"
    padded = F.pad(images, [0, pad_w, 0, pad_h], mode=mode) if pad_h or pad_w else images
    device = next(network.parameters()).device
    return network(padded.to(device)).float().cpu()[..., :height, :width]


def image_to_input(image: Image.Image, channels: int) -> Tensor:
    """A PIL image as float [1, C, H, W] in [-1, 1] with ``channels`` (1: luminance, 3: RGB)."""
    return uint8_to_unit(TF.pil_to_tensor(image.convert("L" if channels == 1 else "RGB")).unsqueeze(0))


def read_image(path: Path, channels: int) -> Tensor:
    """One image file as ``image_to_input`` gives it."""
    try:
        with Image.open(path) as im:
            return image_to_input(im, channels)
    except Exception:
        raise GanforgeError(f"cannot read {path} as an image") from None


def translate_files(network: nn.Module, source: str | Path) -> Translated:
    """Translate one image file or every image under a folder (unreadable files skipped and counted)."""
    source = Path(source).expanduser()
    if source.is_file():
        files, base = [source], source.parent
    elif source.is_dir():
        files, base = image_files(source), source
        if not files:
            raise GanforgeError(f"no images in {source}")
    else:
        raise GanforgeError(f"input not found: {source}")
    result, skipped = Translated([], []), 0
    for path in files:
        try:
            image = read_image(path, network.in_channels)
        except GanforgeError:
            if len(files) == 1:
                raise
            skipped += 1
            continue
        result.images.append(translate_tensor(network, image)[0])
        result.names.append(path.relative_to(base).with_suffix(".png"))
    if skipped:
        print(f"warning: skipped {skipped} unreadable image file(s) in {source}", file=sys.stderr)
    return result
