"""The music family's configuration: data grid and tracks, the MuseGAN-style model, loss, optimizers, eval.

Values left at ``None`` (tracks, pitch range, programs, monophonic) are decided by the data in
``MusicFamily.fit_config`` and written into the run's config.yaml, so a run folder fully describes its rolls.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, OptimConfig, RunConfig, TrainConfig
from ganforge.schema import StrictModel


class MusicDataConfig(DataConfig):
    """Which music to read and the piano-roll grid it is cut into."""

    name: str = Field("chorales", description="chorales (music21's Bach chorales) or midi:PATH (a MIDI folder)")
    batch_size: int = Field(64, gt=0)
    steps_per_beat: int = Field(4, gt=0, le=24, description="time steps per quarter note (4: 16th notes)")
    beats_per_bar: int = Field(4, gt=0, le=16, description="quarter notes per bar (4/4 pieces are used)")
    bars: int = Field(4, gt=0, le=16, description="bars per segment")
    hop_bars: int = Field(1, gt=0, description="bars between the starts of two training segments of a piece")
    transpose: Literal["none", "key", "augment"] = Field(
        "key", description="none; key: every piece to C major / A minor (its key estimated); augment: "
        "that, plus shifts of +-augment_semitones (as extra training segments)")
    augment_semitones: int = Field(5, ge=1, le=11, description="largest shift with transpose=augment")
    tracks: int | None = Field(None, ge=1, le=16, description="tracks per roll; None: from the data")
    midi_tracks: Literal["instrument", "voice"] = Field(
        "instrument", description="midi:PATH: one track per instrument (MIDI track and channel), or split all "
        "notes into `tracks` voices from the highest down")
    lowest_pitch: int | None = Field(None, ge=0, le=127, description="MIDI pitch of the roll's first row; None: data")
    pitches: int | None = Field(None, ge=1, le=128, description="rows of the roll; None: the data's range")
    programs: list[int] | None = Field(None, description="General MIDI program of each track (0-127); None: data")
    track_names: list[str] | None = Field(None, description="names of the tracks; None: from the data")
    tempo: float | None = Field(None, gt=0, le=400, description="beats per minute of written MIDI/WAV; None: data")


class MusicModelConfig(StrictModel):
    """A MuseGAN-style generator (shared and per-track latents, a temporal part over bars) and a critic
    that sees all tracks."""

    arch: Literal["musegan"] = "musegan"
    z_dim: int = Field(32, gt=0, description="size of each latent part (shared/track x static/temporal)")
    g_width: int = Field(64, gt=0, description="channels of each track's bar generator")
    d_width: int = Field(64, gt=0, description="channels of the discriminator")
    straight_through: bool = Field(True, description="D sees binarized fakes, with the probabilities' gradient "
                                   "(BinaryMuseGAN); false: D sees the probabilities (MuseGAN)")
    binarize: Literal["threshold", "bernoulli"] = Field(
        "threshold", description="how sampled probabilities become notes: > threshold (monophonic: the most "
        "likely of pitches and rest), or a random draw")
    threshold: float = Field(0.5, gt=0, lt=1)
    hold: bool = Field(False, description="note onsets: at each step a track makes a fresh choice (a pitch or a "
                       "rest; polyphonic: on/off per pitch) or holds the step before, so sustained notes cost one "
                       "decision")
    monophonic: bool | None = Field(None, description="one note or a rest per track and step (a softmax); "
                                    "None: from the data")


class MusicLossConfig(StrictModel):
    """The adversarial loss (WGAN-GP as in MuseGAN, or any other ganforge loss)."""

    name: Literal["bce", "lsgan", "wgan", "wgan-gp", "hinge"] = "wgan-gp"
    variant: Literal["non-saturating", "minimax", "mse"] = "non-saturating"
    real_label: float = Field(1.0, gt=0, le=1)
    gp_weight: float = Field(10.0, ge=0)
    clip: float = Field(0.01, gt=0)
    r1_gamma: float = Field(0.0, ge=0)


class MusicEvalConfig(StrictModel):
    """`ganforge eval` defaults for music runs."""

    n: int = Field(500, ge=2, description="generated segments (and segments of each baseline)")
    nn_train: int = Field(4000, ge=1, description="training segments the nearest-neighbour overlap compares with")


class MusicConfig(RunConfig):
    """A music run."""

    family: Literal["music"] = "music"
    data: MusicDataConfig = Field(default_factory=MusicDataConfig)
    model: MusicModelConfig = Field(default_factory=MusicModelConfig)
    loss: MusicLossConfig = Field(default_factory=MusicLossConfig)
    optim: OptimConfig = Field(default_factory=lambda: OptimConfig(g_lr=1e-3, d_lr=1e-3, g_betas=(0.5, 0.9),
                                                                   d_betas=(0.5, 0.9), n_critic=5))
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: MusicEvalConfig = Field(default_factory=MusicEvalConfig)
