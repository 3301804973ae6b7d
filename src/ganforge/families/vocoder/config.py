"""The config of a vocoder run (mel spectrogram -> waveform: HiFi-GAN style, or Griffin-Lim refined by a network)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ganforge.config import OptimConfig, RunConfig, TrainConfig
from ganforge.families.speech.config import AudioDataConfig, SpeechEvalConfig
from ganforge.schema import StrictModel


class VocoderDataConfig(AudioDataConfig):
    name: str = Field("speech-corpus", description="speech-corpus, spoken-digits or wav:PATH")
    batch_size: int = Field(8, gt=0)
    segment: int = Field(4096, ge=256, description="samples per training segment (a multiple of model.hop)")
    takes: int = Field(6, ge=1, le=32, description="sentences per voice (speech-corpus)")


class VocoderModelFields(StrictModel):
    """What every vocoder arch shares: the mel analysis it takes and the discriminators it trains against."""

    n_mels: int = Field(80, ge=8, le=256)
    n_fft: int = Field(1024, ge=64, description="STFT size of the mel spectrogram")
    periods: list[int] = Field(default_factory=lambda: [2, 3, 5, 7, 11], description="multi-period D periods")
    period_channels: int = Field(16, ge=1, description="width of each period discriminator")
    scales: int = Field(3, ge=0, le=4, description="multi-scale discriminators")
    scale_channels: int = Field(16, ge=4, description="width of each scale discriminator (a multiple of 4)")

    @model_validator(mode="after")
    def _check_discriminators(self) -> VocoderModelFields:
        if self.scale_channels % 8:
            raise ValueError("model.scale_channels must be a multiple of 8 (grouped convolutions)")
        return self


class HifiganConfig(VocoderModelFields):
    """A small HiFi-GAN: generator widths, multi-receptive-field blocks and discriminator widths."""

    arch: Literal["hifigan"] = "hifigan"
    upsample_rates: list[int] = Field(default_factory=lambda: [8, 8, 4],
                                      description="their product is the hop (samples per mel frame)")
    channels: int = Field(128, ge=8, description="generator width after the input conv (halved per upsampling)")
    kernels: list[int] = Field(default_factory=lambda: [3, 5, 7], description="MRF kernel sizes")
    dilations: list[list[int]] = Field(default_factory=lambda: [[1, 2], [2, 6], [3, 12]],
                                       description="MRF dilations, one list per kernel")

    @property
    def hop(self) -> int:
        hop = 1
        for rate in self.upsample_rates:
            hop *= rate
        return hop

    @model_validator(mode="after")
    def _check(self) -> HifiganConfig:
        if len(self.kernels) != len(self.dilations):
            raise ValueError(f"model.kernels has {len(self.kernels)} entries but model.dilations "
                             f"{len(self.dilations)}; give one dilation list per kernel")
        if self.hop > self.n_fft:
            raise ValueError(f"the hop (product of upsample_rates = {self.hop}) exceeds n_fft={self.n_fft}")
        return self


class GLRefineConfig(VocoderModelFields):
    """Griffin-Lim refined by a frame-rate network (after Deep Griffin-Lim Iteration, Masuyama et al. 2019, and
    iSTFT vocoders): mel -> linear magnitude (corrected by a network) -> Griffin-Lim phase (corrected by a
    second network) -> inverse STFT. Untrained, it is exactly the Griffin-Lim baseline."""

    arch: Literal["gl-refine"] = "gl-refine"
    hop: int = Field(256, ge=16, description="samples per mel frame (also the STFT hop of the output)")
    griffin_lim_iters: int = Field(32, ge=1, le=1000, description="Griffin-Lim iterations inside the model "
                                   "(no gradient through them)")
    channels: int = Field(256, ge=8, description="width of the frame-rate networks")
    blocks: int = Field(4, ge=1, description="ConvNeXt blocks of the magnitude network")
    phase_blocks: int = Field(2, ge=0, description="ConvNeXt blocks of the phase network (0: no phase correction)")
    kernel: int = Field(7, ge=1, description="depthwise kernel over frames (odd)")

    @model_validator(mode="after")
    def _check(self) -> GLRefineConfig:
        if self.hop > self.n_fft or self.n_fft % self.hop:
            raise ValueError(f"model.hop={self.hop} must divide model.n_fft={self.n_fft} (e.g. 1024 and 256)")
        if self.hop % 2:
            raise ValueError(f"model.hop={self.hop} must be even (the output is shifted by half a hop)")
        if self.kernel % 2 == 0:
            raise ValueError(f"model.kernel={self.kernel} must be odd (3, 5, 7)")
        return self


VocoderModel = Annotated[HifiganConfig | GLRefineConfig, Field(discriminator="arch")]


class VocoderLossConfig(StrictModel):
    """HiFi-GAN's loss weights, and when the discriminators start."""

    mel_weight: float = Field(45.0, ge=0, description="mel-spectrogram L1")
    fm_weight: float = Field(2.0, ge=0, description="feature matching")
    stft_weight: float = Field(0.0, ge=0, description="multi-resolution STFT loss (0: off)")
    adv_start: int = Field(0, ge=0, description="generator steps on the spectral losses alone before D starts")


class VocoderOptimConfig(OptimConfig):
    g_betas: tuple[float, float] = (0.8, 0.99)
    d_betas: tuple[float, float] = (0.8, 0.99)


class VocoderEvalConfig(SpeechEvalConfig):
    n: int = Field(16, ge=1, description="held-out clips scored by `ganforge eval`")
    griffin_lim_iters: int = Field(32, ge=1, description="iterations of the Griffin-Lim baseline")


class VocoderTrainConfig(TrainConfig):
    ema_decay: float = Field(0.0, ge=0, lt=1, description="0 turns the generator EMA off (HiFi-GAN uses none)")


class VocoderConfig(RunConfig):
    """A vocoder run."""

    family: Literal["vocoder"] = "vocoder"
    data: VocoderDataConfig = Field(default_factory=VocoderDataConfig)
    train: VocoderTrainConfig = Field(default_factory=VocoderTrainConfig)
    model: VocoderModel = Field(default_factory=HifiganConfig)
    loss: VocoderLossConfig = Field(default_factory=VocoderLossConfig)
    optim: VocoderOptimConfig = Field(default_factory=VocoderOptimConfig)
    eval: VocoderEvalConfig = Field(default_factory=VocoderEvalConfig)

    @model_validator(mode="after")
    def _segment(self) -> VocoderConfig:
        if self.data.segment % self.model.hop:
            raise ValueError(f"data.segment={self.data.segment} must be a multiple of the hop {self.model.hop}")
        return self
