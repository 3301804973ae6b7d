"""The config of a text-to-image run: captioned data, the three networks, the matching-aware loss."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, OptimConfig, RunConfig
from ganforge.schema import StrictModel


class Text2ImageDataConfig(DataConfig):
    name: str = Field("shapes-captions", description="shapes-captions, or captions:PATH (images + same-named .txt)")
    batch_size: int = Field(32, gt=0)
    size: int = Field(64, gt=0, description="square image side (a power of two from 8)")
    count: int = Field(8000, ge=16, description="shapes-captions: rendered training images")
    seed: int = Field(0, ge=0, description="shapes-captions: rendering seed (same seed, same pictures)")


class Text2ImageModelConfig(StrictModel):
    """DF-GAN-style generator, matching-aware discriminator and a GRU text encoder trained with D."""

    arch: Literal["df-gan"] = "df-gan"
    z_dim: int = Field(64, gt=0, description="noise dimensions")
    text_dim: int = Field(128, gt=0, description="sentence embedding dimensions (even)")
    word_dim: int = Field(64, gt=0, description="word embedding dimensions")
    max_words: int = Field(24, ge=4, le=128, description="longest prompt, in words")
    max_vocab: int = Field(5000, ge=16, description="vocabulary size cap for captions:PATH data")
    g_width: int = Field(8, gt=0, description="generator channels at the largest size (x8 at 4x4)")
    g_channels: list[int] = Field(default_factory=list, description="generator channels per stage, 4x4 up to "
                                  "data.size (e.g. [64, 64, 48, 32] at 32x32: wider where the shapes are drawn); "
                                  "empty = from g_width ([64, 64, 32, 16] at width 8)")
    d_width: int = Field(8, gt=0, description="discriminator channels at the largest size")
    matcher_width: int = Field(0, ge=0, description="channels of the image-text matching CNN at the largest size "
                               "(a jointly trained DAMSM-style encoder, trained on real pairs only); 0 = none")


class Text2ImageLossConfig(StrictModel):
    """Hinge loss with the mismatched-caption term, MA-GP and contrastive terms."""

    name: Literal["hinge"] = Field("hinge", description="adversarial loss: DF-GAN's hinge (the only one; named "
                                   "so that run folders and the training doctor read which loss made the curves)")
    mismatch_weight: float = Field(0.5, ge=0, le=1, description="share of D's fake term given to real images "
                                   "with a wrong caption (GAN-INT-CLS); the rest goes to generated images")
    swap_share: float = Field(0.0, ge=0, le=1, description="share of the mismatched term given to hard negatives: "
                              "the image's caption with one word swapped for a word of the same kind (learned "
                              "from the captions); they are also extra negatives of the contrastive terms; 0 = off "
                              "(as in runs made before it existed), 0.5 in the preset")
    swap_every_word: bool = Field(False, description="with swap_share > 0: the contrastive terms get, for every "
                                  "image, its caption with each swappable word swapped in turn (colour, shape, "
                                  "place...) instead of one random swap; false = one swap (as in runs made "
                                  "before it existed)")
    gp_weight: float = Field(2.0, ge=0, description="matching-aware gradient penalty weight (DF-GAN k)")
    gp_power: float = Field(6.0, gt=0, description="matching-aware gradient penalty power (DF-GAN p)")
    gp_every: int = Field(4, ge=1, description="apply the penalty every N steps, weighted by N (lazy, as "
                          "StyleGAN2's R1)")
    contrastive_weight: float = Field(1.0, ge=0, description="image-sentence InfoNCE on real pairs (trains D and "
                                      "the text encoder)")
    g_contrastive_weight: float = Field(1.0, ge=0, description="the same InfoNCE on generated pairs, for G")
    temperature: float = Field(0.1, gt=0, description="InfoNCE temperature")
    match_weight: float = Field(1.0, ge=0, description="with model.matcher_width > 0: InfoNCE of the matching CNN "
                                "on real pairs (trains it and the text encoder)")
    g_match_weight: float = Field(1.0, ge=0, description="with model.matcher_width > 0: the same InfoNCE on "
                                  "generated pairs, for G")


class Text2ImageOptimConfig(OptimConfig):
    g_lr: float = Field(2e-4, gt=0)
    d_lr: float = Field(4e-4, gt=0)
    g_betas: tuple[float, float] = (0.0, 0.9)
    d_betas: tuple[float, float] = (0.0, 0.9)
    match_lr: float = Field(1e-3, gt=0, description="learning rate of the image-text matching CNN (Adam)")
    n_critic: Literal[1] = Field(1, description="one D step per G step")


class Text2ImageEvalConfig(StrictModel):
    repeats: int = Field(2, ge=1, description="images per evaluation prompt (432 prompts: every colour, shape, "
                         "size and position)")
    every: int = Field(0, ge=0, description="shapes-captions: evaluate during training every N steps (one "
                       "picture per seen-combination prompt, EMA networks, fixed noise; held-out combinations are "
                       "not used); 0: off")
    best: Literal["all_four", "shape", "colour", "size", "position"] | None = Field(
        "all_four", description="with eval.every: keep checkpoints/best.pt by this accuracy on the seen "
        "combinations; None: no best")


class Text2ImageConfig(RunConfig):
    """A text-to-image run."""

    family: Literal["text2image"] = "text2image"
    data: Text2ImageDataConfig = Field(default_factory=Text2ImageDataConfig)
    model: Text2ImageModelConfig = Field(default_factory=Text2ImageModelConfig)
    loss: Text2ImageLossConfig = Field(default_factory=Text2ImageLossConfig)
    optim: Text2ImageOptimConfig = Field(default_factory=Text2ImageOptimConfig)
    eval: Text2ImageEvalConfig = Field(default_factory=Text2ImageEvalConfig)
