"""Apply a trained pix2pix or CycleGAN run to images of any size.

The networks are fully convolutional but need sides that are multiples of a power of two, so each image
is padded (reflection) up to the next multiple, translated, and cropped back: a 50x37 photo comes back
as 50x37. Images are converted to the channels the run was trained on (gray by luminance, or RGB).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torchvision.transforms.v2 import functional as TF

from ganforge.data.folder import image_files
from ganforge.errors import GanforgeError
from ganforge.nets import is_translation
from ganforge.training.checkpoint import load_checkpoint
from ganforge.viz import to_pil, to_uint8

Direction = Literal["AtoB", "BtoA"]
DIRECTIONS = ("AtoB", "BtoA")


def load_translator(run_dir: str | Path, direction: str = "AtoB", device: str | torch.device = "cpu") -> nn.Module:
    """The generator of a translation run for ``direction`` (AtoB, or BtoA for CycleGAN), in eval mode."""
    from ganforge.recipes import build_translation_generators
    from ganforge.runs import RunFolder, load_run_config

    if direction not in DIRECTIONS:
        raise GanforgeError(f"unknown direction '{direction}': use AtoB or BtoA")
    run = RunFolder(Path(run_dir))
    config = load_run_config(run.root)
    if not is_translation(config.model):
        raise GanforgeError(f"{run.root} is not a translation run (model.arch={config.model.arch}); "
                            "train one with `ganforge train pix2pix-colorize` or `ganforge train cyclegan`")
    if direction == "BtoA" and config.model.arch != "cyclegan":
        raise GanforgeError("a pix2pix run translates A to B only; BtoA needs a cyclegan run")
    state = load_checkpoint(run.checkpoint, map_location=device)["recipe"]
    g_ab, g_ba = build_translation_generators(config)
    network = g_ab if direction == "AtoB" else g_ba
    network.load_state_dict(state["generator" if direction == "AtoB" else "generator_ba"])
    m = config.model
    network.in_channels, network.out_channels = (
        (m.a_channels, m.b_channels) if direction == "AtoB" else (m.b_channels, m.a_channels)
    )
    return network.to(device).eval()


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
    return TF.pil_to_tensor(image.convert("L" if channels == 1 else "RGB")).unsqueeze(0).float() / 127.5 - 1


def read_image(path: Path, channels: int) -> Tensor:
    """One image file as ``image_to_input`` gives it."""
    try:
        with Image.open(path) as im:
            return image_to_input(im, channels)
    except Exception:
        raise GanforgeError(f"cannot read {path} as an image") from None


def translate_files(run_dir: str | Path, source: str | Path, out: str | Path, direction: str = "AtoB",
                    device: str | torch.device = "cpu") -> list[Path]:
    """Translate one image file or every image under a folder into ``out`` (PNG, same relative names)."""
    network = load_translator(run_dir, direction, device)
    source, out = Path(source).expanduser(), Path(out)
    if source.is_file():
        files, base = [source], source.parent
    elif source.is_dir():
        files, base = image_files(source), source
        if not files:
            raise GanforgeError(f"no images in {source}")
    else:
        raise GanforgeError(f"input not found: {source}")
    written, skipped = [], 0
    for path in files:
        try:
            image = read_image(path, network.in_channels)
        except GanforgeError:
            if len(files) == 1:
                raise
            skipped += 1
            continue
        result = translate_tensor(network, image)[0]
        target = (out / path.relative_to(base)).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        to_pil(to_uint8(result)).save(target)
        written.append(target)
    if skipped:
        print(f"warning: skipped {skipped} unreadable image file(s) in {source}", file=sys.stderr)
    return written
