"""The config of an image-to-image run: pix2pix or CycleGAN networks, their losses and optimizers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ganforge.config import AdamConfig, ImageDataConfig, RunConfig
from ganforge.schema import StrictModel

GeneratorKind = Literal["unet", "resnet"]


class TranslationFields(StrictModel):
    """Fields shared by pix2pix and CycleGAN."""

    generator: GeneratorKind = Field("unet", description="unet (pix2pix) or resnet (CycleGAN)")
    g_width: int = Field(32, gt=0, description="channels of the first G layer (64 in the papers)")
    d_width: int = Field(32, gt=0, description="channels of the first D layer (64 in the papers)")
    unet_depth: int = Field(5, ge=2, le=8, description="down-sampling steps of the U-Net (8 for 256x256)")
    resnet_blocks: int = Field(6, ge=1, description="residual blocks of the ResNet generator (9 for 256x256)")
    d_layers: int = Field(2, ge=1, le=5, description="stride-2 layers of the PatchGAN (3: 70x70 patches)")
    a_channels: int = Field(0, ge=0, description="input channels; 0: taken from the data")
    b_channels: int = Field(0, ge=0, description="output channels; 0: taken from the data")


class Pix2PixConfig(TranslationFields):
    """pix2pix (Isola et al. 2017): U-Net G, PatchGAN D conditioned on the input, adversarial + L1."""

    arch: Literal["pix2pix"] = "pix2pix"
    color_space: Literal["rgb", "lab"] = Field("rgb", description="rgb: G predicts the output image; lab "
                                               "(colorization, gray -> color): G predicts the a, b channels of "
                                               "Lab from the gray input, and the output is the input's L with them")
    color_scale: int = Field(1, ge=1, le=8, description="lab only: G sees the gray input shrunk by this factor "
                             "(area average) and its a, b are scaled back up (bilinear), as colorization nets "
                             "predict color at a lower resolution than L; a crop of data.size then gives G "
                             "data.size / color_scale pixels covering the whole crop (more context per pixel)")
    color_gain: float = Field(1.0, ge=0, le=1, description="lab only: the output's a, b are G's times this (training "
                              "is unchanged); below 1 mutes all colors towards gray, 0 gives the gray input back")
    color_guide: int = Field(0, ge=0, le=64, description="lab only: radius (pixels of the output) of a guided filter "
                             "on G's a, b with the input's L as the guide, so colors change only where lightness "
                             "does (Levin et al. 2004's prior); 0: off. Training is unchanged (it is read when a "
                             "run is loaded)")
    color_guide_eps: float = Field(10.0, gt=0, description="lab only: the guided filter's ridge in squared L units "
                                   "(L in 0-100): lightness variations well below its square root count as flat")


class CycleGANConfig(TranslationFields):
    """CycleGAN (Zhu et al. 2017): two generators, two PatchGAN Ds, LSGAN + cycle + identity losses."""

    arch: Literal["cyclegan"] = "cyclegan"
    generator: GeneratorKind = Field("resnet", description="resnet (CycleGAN) or unet")
    pool_size: int = Field(50, ge=0, description="history of generated images shown to D; 0: none")


TranslationModel = Annotated[Pix2PixConfig | CycleGANConfig, Field(discriminator="arch")]


class TranslationLossConfig(StrictModel):
    """Adversarial loss (without gradient penalties or clipping, which the translation papers do not use)
    and the reconstruction terms."""

    name: Literal["bce", "lsgan", "hinge"] = Field("bce", description="adversarial loss; the Wasserstein "
                                                   "losses are for the noise-to-image GANs")
    variant: Literal["non-saturating", "minimax", "mse"] = Field("non-saturating", description="bce G term")
    real_label: float = Field(1.0, gt=0, le=1, description="bce target for real images (<1: smoothing)")
    l1_weight: float = Field(100.0, ge=0, description="pix2pix: weight of the reconstruction term (the "
                             "distance to the target that `recon` names)")
    recon: Literal["l1", "l2"] = Field("l1", description="pix2pix reconstruction term: l1 (the paper's, its "
                                       "minimiser a conditional median) or l2 (mean squared error, its minimiser "
                                       "the conditional mean: uncertain colors stay near gray)")
    adv_weight: float = Field(1.0, ge=0, description="pix2pix: weight of the adversarial loss (0: an L1-only baseline)")
    cycle_weight: float = Field(10.0, ge=0, description="cyclegan: weight of the cycle-consistency loss")
    identity_weight: float = Field(0.5, ge=0, description="cyclegan: identity loss weight, relative to cycle_weight")


class TranslationOptimConfig(AdamConfig):
    """Adam for the generators and discriminators, with CycleGAN's linear decay."""

    decay_start: float = Field(0.5, ge=0, le=1, description="cyclegan: fraction of the run after which the lr "
                               "decays linearly to 0")


class TranslationDataConfig(ImageDataConfig):
    name: str = Field("colorize-photos", description="colorize-photos, digit-styles, paired:PATH, colorize:PATH "
                      "or unpaired:PATH_A,PATH_B")


class TranslationConfig(RunConfig):
    """An image-to-image run."""

    family: Literal["translation"] = "translation"
    data: TranslationDataConfig = Field(default_factory=TranslationDataConfig)
    model: TranslationModel = Field(default_factory=Pix2PixConfig)
    loss: TranslationLossConfig = Field(default_factory=TranslationLossConfig)
    optim: TranslationOptimConfig = Field(default_factory=TranslationOptimConfig)
