"""A trained video run loaded for inference, and drawing clips from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.families.video.config import VideoConfig
from ganforge.families.video.nets import VideoGenerator
from ganforge.families.video.recipe import build_generator
from ganforge.families.video.warp import WarpGenerator


@dataclass
class VideoModel:
    """The generator of a video run and what sampling and evaluation need to know about its data."""

    generator: VideoGenerator | WarpGenerator
    config: VideoConfig
    class_names: list[str]

    @property
    def fps(self) -> int:
        return self.config.data.fps

    @property
    def conditional(self) -> bool:
        return self.generator.num_classes > 0


def load_video_model(config: VideoConfig, state: dict[str, Any], device: torch.device, ema: bool) -> VideoModel:
    """The (EMA, by default) generator of a checkpoint."""
    generator = build_generator(config)
    recipe = state["recipe"]
    use_ema = ema and recipe.get("ema") is not None
    generator.load_state_dict(recipe["ema"]["model"] if use_ema else recipe["generator"])
    names = [str(name) for name in state.get("class_names", [])]
    return VideoModel(generator.to(device).eval(), config, names)


def check_class(model: VideoModel, class_index: int | None, n: int) -> torch.Tensor | None:
    """Labels [n] for a conditional model (``class_index``, else classes in turn); refused when unconditional."""
    classes = model.generator.num_classes
    if not classes:
        if class_index is not None:
            raise GanforgeError("--class needs a class-conditional video run (train with --set model.conditional=true)")
        return None
    if class_index is None:
        return torch.arange(n) % classes
    if not 0 <= class_index < classes:
        raise GanforgeError(f"--class must be between 0 and {classes - 1} for this run; got {class_index}")
    return torch.full((n,), class_index, dtype=torch.long)


@torch.no_grad()
def generate_clips(model: VideoModel, n: int, seed: int, class_index: int | None = None,
                   batch: int = 128) -> torch.Tensor:
    """``n`` clips [n, T, C, H, W] in [-1, 1] on the CPU; the same seed gives the same clips."""
    labels = check_class(model, class_index, n)
    generator = model.generator
    device = next(generator.parameters()).device
    content, noise = generator.latents(n, torch.Generator().manual_seed(seed), torch.device("cpu"))
    parts = []
    for lo in range(0, n, batch):
        part_labels = None if labels is None else labels[lo:lo + batch].to(device)
        parts.append(generator(content[lo:lo + batch].to(device), noise[lo:lo + batch].to(device),
                               part_labels).float().cpu())
    return torch.cat(parts) if parts else torch.empty(0, *generator.clip_shape)
