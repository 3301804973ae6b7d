"""The config of a toy 2D run: the mixture, the MLPs (with PacGAN packing) and the GAN loss."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, GANOptimConfig, LossConfig, RunConfig
from ganforge.schema import StrictModel


class Toy2DDataConfig(DataConfig):
    name: str = Field("ring8", description="ring8, grid25, or points:PATH (a CSV with columns x,y)")
    batch_size: int = Field(256, gt=0)


class Toy2DModelConfig(StrictModel):
    """MLP generator and discriminator for 2D points."""

    arch: Literal["toy-mlp"] = "toy-mlp"
    z_dim: int = Field(2, gt=0, description="noise dimensions")
    g_width: int = Field(128, gt=0)
    g_layers: int = Field(3, ge=1, description="hidden layers of G")
    d_width: int = Field(128, gt=0)
    d_layers: int = Field(3, ge=1, description="hidden layers of D")
    pack: int = Field(1, ge=1, description="PacGAN: D judges this many samples at once, concatenated (1: off)")


class Toy2DConfig(RunConfig):
    """A toy 2D run: mixtures of Gaussians, the classic mode-collapse test."""

    family: Literal["toy2d"] = "toy2d"
    data: Toy2DDataConfig = Field(default_factory=Toy2DDataConfig)
    model: Toy2DModelConfig = Field(default_factory=Toy2DModelConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: GANOptimConfig = Field(default_factory=GANOptimConfig)
