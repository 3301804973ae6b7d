"""A trained toy 2D run loaded for inference, and drawing points from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ganforge.families.toy2d.config import Toy2DConfig
from ganforge.families.toy2d.nets import PointGenerator


@dataclass
class PointModel:
    generator: nn.Module
    centres: torch.Tensor | None  # the true modes, when the data was a known mixture
    mode_std: float


def load_point_model(config: Toy2DConfig, state: dict[str, Any], device: torch.device, ema: bool) -> PointModel:
    m = config.model
    generator = PointGenerator(m.z_dim, m.g_width, m.g_layers)
    recipe = state["recipe"]
    use_ema = ema and recipe.get("ema") is not None
    generator.load_state_dict(recipe["ema"]["model"] if use_ema else recipe["generator"])
    centres = state.get("centres")
    return PointModel(generator.to(device).eval(), None if centres is None else torch.tensor(centres),
                      float(state.get("mode_std", 0.0)))


@torch.no_grad()
def generate_points(model: PointModel, n: int, seed: int) -> torch.Tensor:
    """``n`` points [n, 2] from noise drawn with ``seed`` (same seed, same points), on the CPU."""
    noise = torch.randn(n, model.generator.z_dim, generator=torch.Generator().manual_seed(seed))
    device = next(model.generator.parameters()).device
    return model.generator(noise.to(device)).float().cpu()
