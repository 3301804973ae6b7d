"""Python entry points for image runs: the generator of a run folder."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.families.images.model import ImageModel
from ganforge.runs import load_run


def load_image_model(run_dir: str | Path, ema: bool = True, device: str | torch.device = "cpu",
                     checkpoint: str = "last") -> ImageModel:
    """An image run's generator and facts; a one-line error for a run of another family."""
    loaded = load_run(run_dir, device, ema, checkpoint)
    if not isinstance(loaded.model, ImageModel):
        raise GanforgeError(f"{run_dir} is a {loaded.family.name} run ({loaded.family.description}), "
                            "not a noise-to-image GAN")
    return loaded.model


def load_generator(run_dir: str | Path, ema: bool = True, device: str | torch.device = "cpu") -> nn.Module:
    """The trained generator of an image run (the EMA copy by default), in eval mode, on ``device``."""
    return load_image_model(run_dir, ema, device).generator
