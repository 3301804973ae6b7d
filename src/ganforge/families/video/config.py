"""The video family's config: clip data, the MoCoGAN-style model, loss, optimizers and evaluation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, LossConfig, OptimConfig, RunConfig, TrainConfig
from ganforge.schema import StrictModel


class VideoDataConfig(DataConfig):
    """Clips: ``moving-digits`` (made offline from the embedded digits) or ``video:PATH`` (a folder of videos)."""

    name: str = Field("moving-digits", description="moving-digits or video:PATH")
    batch_size: int = Field(16, gt=0, description="clips per batch")
    size: int = Field(32, ge=8, le=256, description="square frame side in pixels (64 is Moving MNIST's own)")
    frames: int = Field(16, ge=4, le=64, description="frames per clip")
    channels: Literal[1, 3] | None = Field(None, description="1 or 3; None: 1 for moving-digits, 3 for video:PATH")
    fps: int = Field(8, ge=1, le=60, description="frames per second of written GIF/MP4 files")
    clips: int = Field(4000, ge=16, description="moving-digits: clips rendered for training")
    digits: Literal[1, 2] = Field(1, description="moving-digits: digits bouncing in each clip")
    data_seed: int = Field(0, ge=0, description="moving-digits: seed of the rendered clips (same seed, same clips)")
    frame_step: int = Field(1, ge=1, le=16, description="video:PATH: keep every k-th frame of the files")
    max_clips_per_video: int = Field(32, ge=1, description="video:PATH: consecutive clips cut from one file at most")


class VideoModelConfig(StrictModel):
    """MoCoGAN (or warp): a content latent per clip, a motion latent per frame from a GRU cell, an image D and a
    video D."""

    arch: Literal["mocogan", "warp"] = Field("mocogan", description="mocogan: a frame decoder per frame; warp: one "
                                             "glyph per clip moved by the motion network (see docs/video.md)")
    content_dim: int = Field(48, gt=0, description="content latent per clip")
    motion_dim: int = Field(16, gt=0, description="motion latent per frame (GRU state)")
    noise_dim: int = Field(8, gt=0, description="noise fed to the GRU at each frame")
    g_width: int = Field(32, gt=0, description="channels of the frame generator's last stage (doubled towards "
                         "4x4, at most 256)")
    d_width: int = Field(32, gt=0, description="channels of the discriminators' first layer")
    conditional: bool = Field(False, description="condition on the class (the digit): --class at sampling")
    num_classes: int = Field(0, ge=0, description="filled in from the data when conditional")
    image_frames: int = Field(4, ge=1, description="frames per clip the image discriminator judges")
    crop_d: bool = Field(False, description="add a discriminator of the object's shape: 16x16 crops of the "
                         "image discriminator's frames around their centre of mass (see docs/video.md)")
    glyph: int = Field(0, ge=0, description="warp: side of the drawn glyph in pixels (4 * 2^k); 0: half the frame")
    glyph_steps: int = Field(0, ge=0, description="warp: the first N of train.steps train the glyph alone as a "
                             "self-conditioned image GAN on glyphs cut from the real clips; the clip steps after "
                             "them keep the glyph frozen (see docs/video.md)")
    glyph_net: Literal["upconv", "dcgan"] = Field("upconv", description="warp: the glyph's networks: upconv "
                                                  "(upsample + conv decoder; spectral-norm D in the glyph phase) or "
                                                  "dcgan (the image default's DCGAN G and D, ganforge.nets.dcgan)")
    glyph_supersample: Literal[1, 2, 4] = Field(1, description="warp: the glyph is drawn at this many times its "
                                                "side and area-averaged down (smooths pixel-level artifacts)")
    glyph_clusters: int = Field(100, ge=0, description="glyph phase: k-means clusters of the real glyphs "
                                "(self-conditioning; fewer on small data, 0 = none)")
    glyph_lr: float = Field(6e-4, gt=0, description="glyph phase: Adam learning rate of the glyph G and D")
    glyph_batch_size: int = Field(64, ge=2, description="glyph phase: glyphs per batch")
    glyph_mode_seeking: float = Field(1.0, ge=0, description="glyph phase: mode-seeking weight (MSGAN)")
    glyph_d_width: int = Field(64, gt=0, description="glyph phase: channels of the glyph discriminator's first "
                               "layer")
    max_speed: float = Field(3.0, gt=0, description="warp: the glyph's largest step in pixels per frame")
    wobble: float = Field(0.0, ge=0, description="warp: 0 = a free velocity per frame; > 0 = one velocity per clip "
                          "plus at most this many pixels per frame of change")


class VideoLossConfig(LossConfig):
    """The adversarial loss (shared names) and the weight of the image discriminator's term."""

    image_weight: float = Field(1.0, ge=0, description="weight of the image discriminator in D and G losses")
    crop_weight: float = Field(1.0, ge=0, description="weight of the crop discriminator (model.crop_d) in D and G "
                               "losses")


class VideoEvalConfig(StrictModel):
    """``ganforge eval`` defaults for video runs."""

    n: int = Field(500, ge=16, description="generated clips (and real clips) per evaluation")
    metrics: list[str] = Field(default_factory=lambda: ["fvd", "frame_fid", "temporal", "motion"],
                               description="fvd, frame_fid, temporal (identity over time), motion (jerk)")
    references: bool = Field(True, description="also score real, time-shuffled and static reference clips")


class VideoConfig(RunConfig):
    """A video run (see docs/video.md)."""

    family: Literal["video"] = "video"
    data: VideoDataConfig = Field(default_factory=VideoDataConfig)
    model: VideoModelConfig = Field(default_factory=VideoModelConfig)
    loss: VideoLossConfig = Field(default_factory=VideoLossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: VideoEvalConfig = Field(default_factory=VideoEvalConfig)
