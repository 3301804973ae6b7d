"""Config sections shared by the speech families (spoken digits and the vocoder)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ganforge.config import DataConfig, GANOptimConfig, LossConfig, RunConfig
from ganforge.schema import StrictModel


class AudioDataConfig(DataConfig):
    """Audio data: an espeak-ng corpus or wav:PATH, its sample rate and the training clip length."""

    name: str = Field("spoken-digits", description="spoken-digits, speech-corpus or wav:PATH")
    batch_size: int = Field(32, gt=0)
    sample_rate: int = Field(16000, ge=4000, le=48000, description="Hz; other rates are resampled")
    segment: int = Field(8192, ge=256, description="samples per training example")
    voices: int = Field(0, ge=0, le=96, description="espeak-ng corpora: use the first N voices (0: all 96)")
    takes: int = Field(3, ge=1, le=32, description="espeak-ng corpora: takes per digit and voice, or sentences "
                       "per voice")


class SpeechEvalConfig(StrictModel):
    """What `ganforge eval` measures by default."""

    n: int = Field(200, ge=2, description="generated clips (digits) or held-out clips (vocoder)")


class SpecganConfig(StrictModel):
    """A SpecGAN-style conditional GAN (Donahue et al. 2019): a DCGAN on normalized log-magnitude spectrograms
    [1, n_fft / 2, frames], turned into audio by Griffin-Lim."""

    arch: Literal["specgan"] = "specgan"
    z_dim: int = Field(100, ge=1)
    g_width: int = Field(32, ge=4, description="generator width (channels x8, x4, x2, x1, x0.5 going up)")
    d_width: int = Field(32, ge=4, description="discriminator width (channels x0.5 ... x8 going down)")
    n_fft: int = Field(256, ge=64, description="STFT size; the spectrogram has n_fft / 2 bins (a power of 2)")
    n_mels: int = Field(0, ge=0, description="mel bands of the image (a power of 2, >= 8); 0: n_fft / 2 linear bins")
    hop: int = Field(128, ge=16, description="STFT hop; data.segment / hop frames (a power of 2, >= 8)")
    num_classes: int = Field(0, ge=0, description="classes (digits); 0: taken from the data")
    g_cond: Literal["cbn", "concat"] = Field("cbn", description="labels into G: conditional BatchNorm (a per-class "
                                             "scale and shift) or a one-hot label joined to the noise")
    d_cond: Literal["projection", "acgan", "both"] = Field(
        "projection", description="labels into D's head: a projection term, class logits trained with "
        "cross-entropy (acgan, weighted by loss.aux_weight), or both")
    d_planes: bool = Field(False, description="also join one-hot label planes to D's input image, so that its "
                           "first convolutions see the class")
    g_upsample: Literal["transposed", "nearest"] = Field(
        "transposed", description="generator upsampling: transposed convolutions, or nearest-neighbour + 3x3 "
        "convolution (no checkerboard)")
    g_min_channels: int = Field(8, ge=1, description="generator: fewest channels of a layer (channels halve at each "
                                "doubling; the last, finest layers draw harmonics)")
    d_min_channels: int = Field(4, ge=1, description="discriminator: fewest channels of a layer (its first layers "
                                "have d_width / 2: they see the fine detail)")
    decode_power: float = Field(1.0, ge=0.5, le=3.0, description="making audio only: the magnitude is raised to "
                                "this power before Griffin-Lim (above 1 sharpens it, as in Tacotron); 1: as is")
    griffin_lim_iters: int = Field(32, ge=1, le=1000, description="Griffin-Lim iterations when making audio")
    decoder: Literal["griffin-lim", "voiced"] = Field(
        "griffin-lim", description="making audio only: Griffin-Lim keeps the image's magnitude (a stripe-less "
        "image comes back whispered); voiced reads it as an envelope and voices it with a pulse train at "
        "voice_f0 (a channel vocoder; monotone)")
    voice_f0: float = Field(160.0, ge=50, le=500, description="with decoder voiced: the pitch in Hz")
    truncation: float = Field(1.0, gt=0, le=1, description="sampling only: the noise is scaled by this factor "
                              "(the truncation trick: below 1, clips nearer the typical one of their class, less "
                              "varied); 1: plain N(0, 1) noise")

    @property
    def decode_f0(self) -> float:
        """The voiced decoder's pitch, or 0 for Griffin-Lim (``SpecCodec.decode``'s ``voice_f0``)."""
        return self.voice_f0 if self.decoder == "voiced" else 0.0

    @model_validator(mode="after")
    def _check(self) -> SpecganConfig:
        if self.n_fft & (self.n_fft - 1):
            raise ValueError(f"model.n_fft={self.n_fft} must be a power of 2 (64, 128, 256, 512)")
        if self.n_mels and (self.n_mels < 8 or self.n_mels & (self.n_mels - 1)):
            raise ValueError(f"model.n_mels={self.n_mels} must be 0 or a power of 2 of at least 8 (16, 32, 64, ...)")
        if self.hop > self.n_fft:
            raise ValueError(f"model.hop={self.hop} exceeds model.n_fft={self.n_fft}")
        return self


class DigitsDataConfig(AudioDataConfig):
    sample_rate: int = Field(8000, ge=4000, le=48000, description="Hz; other rates are resampled")
    segment: int = Field(8192, ge=256, description="samples per clip (longer clips are cut, shorter padded)")
    diffaugment: list[str] = Field(default_factory=list, description="DiffAugment of every spectrogram D sees "
                                   "(real and generated alike): time_shift (time only), translation, cutout")


class SpeechLossConfig(LossConfig):
    name: Literal["bce", "lsgan", "wgan", "wgan-gp", "hinge"] = "hinge"
    aux_fakes: bool = Field(True, description="AC-GAN heads (model.d_cond=acgan or both): D's class head also "
                            "learns the fakes' requested classes (Odena et al.); false: real clips only")


class DigitsEvalConfig(SpeechEvalConfig):
    n: int = Field(500, ge=10, description="generated clips scored by `ganforge eval` (balanced over classes)")
    classifier: str | None = Field(None, description="digit classifier weights (.pt); None: the shipped "
                                   "spoken-digits-v1")
    every: int = Field(0, ge=0, description="evaluate during training every N steps (the EMA generator, fixed "
                       "noise; no held-out voice is used); 0: off")
    during_n: int = Field(500, ge=10, description="clips per evaluation during training (balanced over classes)")
    best: Literal["digit_accuracy", "digit_fd", "digit_is"] | None = Field(
        "digit_accuracy", description="with eval.every: keep checkpoints/best.pt by this score of the evaluations "
        "during training (digit_fd is against training voices there); None: no best")


class SpeechConfig(RunConfig):
    """A spoken-word run (class-conditional noise -> spectrogram -> audio)."""

    family: Literal["speech"] = "speech"
    data: DigitsDataConfig = Field(default_factory=DigitsDataConfig)
    model: SpecganConfig = Field(default_factory=SpecganConfig)
    loss: SpeechLossConfig = Field(default_factory=SpeechLossConfig)
    optim: GANOptimConfig = Field(default_factory=GANOptimConfig)
    eval: DigitsEvalConfig = Field(default_factory=DigitsEvalConfig)

    @model_validator(mode="after")
    def _frames(self) -> SpeechConfig:
        frames = self.data.segment // self.model.hop
        if self.data.segment % self.model.hop or frames < 8 or frames & (frames - 1):
            raise ValueError(f"data.segment={self.data.segment} / model.hop={self.model.hop} must be a power of "
                             "2 of at least 8 frames (e.g. segment 8192 with hop 128: 64 frames)")
        if not self.loss.aux_fakes and self.model.d_cond not in ("acgan", "both"):
            raise ValueError(f"loss.aux_fakes=false is about D's class head: set model.d_cond=acgan or both "
                             f"(it is {self.model.d_cond})")
        return self
