"""What `ganforge serve` offers for vocoder runs: vocode an uploaded WAV, and speak a text (espeak-ng makes
the mel spectrogram's source, the vocoder the waveform)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ganforge.errors import GanforgeError
from ganforge.families.base import Reply, Route, Upload
from ganforge.families.speech.audio import read_wav, wav_bytes
from ganforge.families.speech.corpus import ACCENTS, synthesize
from ganforge.families.vocoder.model import Vocoder

MAX_TEXT = 300
MAX_SECONDS = 30.0
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field("Glue the sheet to the dark blue background.", min_length=1, max_length=MAX_TEXT,
                      description="English text, spoken by espeak-ng and re-synthesized by the vocoder")
    voice: str = Field("en-us", description=f"espeak-ng accent: {', '.join(ACCENTS)}")
    pitch: int = Field(50, ge=0, le=99)
    speed: int = Field(160, ge=80, le=400, description="words per minute")


def speak(model: Vocoder, request: GenerateRequest) -> Reply:
    if request.voice not in ACCENTS:
        raise GanforgeError(f"unknown voice '{request.voice}'; use one of {', '.join(ACCENTS)}")
    audio = synthesize(request.text, request.voice, request.pitch, request.speed, model.rate)
    with model.lock:
        out = model.vocode(audio)
    return Reply(wav_bytes(out, model.rate), "audio/wav")


def vocode_upload(model: Vocoder, upload: Upload) -> Reply:
    if upload.content_type and upload.content_type.split(";")[0].strip() not in WAV_TYPES:
        raise GanforgeError(f"upload a WAV file (audio/wav), not {upload.content_type}")
    audio = read_wav(upload.data, model.rate, "the uploaded file")
    if len(audio) > MAX_SECONDS * model.rate:
        raise GanforgeError(f"the upload is {len(audio) / model.rate:.1f} s long; at most {MAX_SECONDS:.0f} s")
    with model.lock:
        out = model.vocode(audio)
    return Reply(wav_bytes(out, model.rate), "audio/wav")


ROUTES = [
    Route("generate", speak, GenerateRequest, output="audio", label="Speak a text (espeak-ng -> mel -> vocoder)"),
    Route("vocode", vocode_upload, upload=True, accepts=WAV_TYPES, output="audio",
          label="Vocode a WAV (copy synthesis)"),
]
