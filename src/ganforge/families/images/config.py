"""The config of a noise-to-image run (unconditional or class-conditional)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import GANOptimConfig, ImageDataConfig, LossConfig, RunConfig
from ganforge.data.ada import DEFAULT_ADA_POLICY
from ganforge.nets import DCGANConfig, ModelConfig
from ganforge.schema import StrictModel


class AdaConfig(StrictModel):
    """Adaptive discriminator augmentation (Karras et al. 2020); see ganforge.data.ada."""

    enabled: bool = Field(False, description="turn ADA on (for small data sets: a few thousand images or fewer)")
    target: float = Field(0.6, gt=0, lt=1, description="target of the overfitting signal E[sign(D(real))]")
    speed_kimg: float = Field(100.0, gt=0, description="thousands of images for p to move from 0 to 1")
    interval: int = Field(4, gt=0, description="D steps between adjustments of p")
    policy: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ADA_POLICY),
        description="ops: xflip, rotate90, translation, geometric, color, cutout",
    )


class EvalConfig(StrictModel):
    """Evaluation during training (off by default: it costs time)."""

    every: int = Field(0, ge=0, description="evaluate every N steps; 0 turns it off (except with a time budget of "
                       "10 minutes or more: then every 1000 steps)")
    metrics: list[str] = Field(default_factory=lambda: ["fid"], description="fid, kid, is, pr, dc")
    n: int = Field(2000, ge=2, description="generated images per evaluation (and at most this many real)")
    extractor: str = Field("auto", description="digits, fashion, inception, or auto (fashion for 1x28x28 "
                           "fashion-mnist, digits for other 1x28x28)")
    weights: str | None = Field(None, description="weights file for the extractor")
    against: str | None = Field(None, description="reference data set; None: data.name")
    best: str | None = Field("fid", description="keep checkpoints/best.pt by this metric; None: no best")


class GANImageDataConfig(ImageDataConfig):
    """Images, plus the augmentations of what D sees."""

    diffaugment: list[str] = Field(
        default_factory=list, description="DiffAugment of all images D sees: translation, cutout, color"
    )
    ada: AdaConfig = Field(default_factory=AdaConfig)
    clusters: int = Field(0, ge=0, description="self-conditioning: label the images by k-means clusters (no labels "
                          "used) and train a conditional model on them; samples draw clusters by their sizes. 0: off "
                          "(ganforge.data.clusters)")
    cluster_features: Literal["hog", "pixels"] = Field(
        "hog", description="what the self-conditioning clusters compare: histograms of oriented gradients (strokes' "
        "directions; purer digit clusters) or raw pixels")


class ImagesConfig(RunConfig):
    """A noise-to-image run."""

    family: Literal["images"] = "images"
    data: GANImageDataConfig = Field(default_factory=GANImageDataConfig)
    model: ModelConfig = Field(default_factory=DCGANConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: GANOptimConfig = Field(default_factory=GANOptimConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
