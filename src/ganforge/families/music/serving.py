"""What `ganforge serve` offers for a music run: POST /generate (WAV or MIDI) and POST /pianoroll (PNG)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ganforge.families.base import Reply, Route
from ganforge.families.music.generate import MusicModel, MusicSamples, sample_rolls
from ganforge.families.music.pianoroll import png_bytes, rolls_picture

MAX_SERVED = 8


class GenerateMusic(BaseModel):
    """``n`` segments for ``seed`` as one audio file (played one after the other) or one MIDI file."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(1, ge=1, le=MAX_SERVED, description=f"segments, at most {MAX_SERVED}")
    seed: int = Field(0, ge=0, lt=2**31)
    format: Literal["wav", "midi"] = Field("wav", description="wav (audio/wav) or midi (audio/midi)")


class PianoRollRequest(BaseModel):
    """The piano rolls of ``n`` segments for ``seed`` (the same segments /generate plays for that seed)."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(1, ge=1, le=16, description="segments, at most 16")
    seed: int = Field(0, ge=0, lt=2**31)


def samples_of(model: MusicModel, n: int, seed: int) -> MusicSamples:
    return MusicSamples(sample_rolls(model, n, seed), model.grid, model.lowest, model.programs, model.track_names,
                        model.tempo)


def generate_reply(model: MusicModel, request: GenerateMusic) -> Reply:
    samples = samples_of(model, request.n, request.seed)
    if request.format == "midi":
        return Reply(samples.midi(), "audio/midi")
    audio, _ = samples.wav()
    return Reply(audio, "audio/wav")


def pianoroll_reply(model: MusicModel, request: PianoRollRequest) -> Reply:
    samples = samples_of(model, request.n, request.seed)
    return Reply(png_bytes(rolls_picture(samples.rolls, model.lowest, model.grid.steps_per_bar)), "image/png")


def music_routes() -> list[Route]:
    return [
        Route("generate", generate_reply, GenerateMusic, output="audio", label="Generate music"),
        Route("pianoroll", pianoroll_reply, PianoRollRequest, output="image", label="Piano roll"),
    ]
