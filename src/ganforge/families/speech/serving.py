"""What `ganforge serve` offers for spoken-word runs: POST /generate -> audio/wav (the clips joined)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ganforge.families.base import Reply, Route
from ganforge.families.speech.audio import wav_bytes
from ganforge.families.speech.model import SpeechModel
from ganforge.viz import image_grid, png_bytes

MAX_CLIPS = 16


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    n: int = Field(1, ge=1, le=MAX_CLIPS, description=f"clips, at most {MAX_CLIPS} (joined with short pauses)")
    seed: int = Field(0, ge=0, lt=2**31)
    class_index: int | None = Field(None, alias="class", ge=0, description="class (digit) to say; default: "
                                    "all classes in turn")


def generate_wav(model: SpeechModel, request: GenerateRequest) -> Reply:
    model.labels(1, request.class_index)  # a bad class is refused before the work
    with model.lock:
        clips = model.clips(request.n, request.seed, request.class_index)
    return Reply(wav_bytes(clips.joined(), clips.rate), "audio/wav")


def spectrograms_png(model: SpeechModel, request: GenerateRequest) -> Reply:
    """The spectrograms of the clips /generate makes for the same request (low frequencies at the bottom)."""
    model.labels(1, request.class_index)
    with model.lock:
        images, _ = model.spectrograms(request.n, request.seed, request.class_index)
    return Reply(png_bytes(image_grid(images.flip(2), nrow=min(request.n, 8))), "image/png")


ROUTES = [
    Route("generate", generate_wav, GenerateRequest, output="audio", label="Say a word"),
    Route("spectrogram", spectrograms_png, GenerateRequest, output="image", label="Their spectrograms"),
]
