"""Text samples out: ``.txt`` (one per line), ``.jsonl`` (text, tokens, log-probabilities), the
training preview, and ``POST /generate`` (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ganforge.families.base import Reply, Route
from ganforge.families.text.model import MAX_TEMPERATURE, TextModel, TextSamples, sample_texts

MAX_TEXTS = 100
MAX_PROMPT_CHARS = 1000


def write_txt(samples: TextSamples, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(text.replace("\n", " ") + "\n" for text in samples.texts), encoding="utf-8")
    return path


def write_jsonl(samples: TextSamples, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in samples.records()), encoding="utf-8")
    return path


class GenerateTextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(8, ge=1, le=MAX_TEXTS, description=f"texts, at most {MAX_TEXTS}")
    seed: int = Field(0, ge=0, lt=2**31)
    prompt: str | None = Field(None, max_length=MAX_PROMPT_CHARS, description="text to continue")
    temperature: float = Field(1.0, gt=0, le=MAX_TEMPERATURE, description="below 1: safer; above 1: more varied")


def generate_reply(model: TextModel, request: GenerateTextRequest) -> Reply:
    """``{"texts": [...], "samples": [{text, tokens, logprobs, ...}], "notes": [...]}`` as JSON."""
    samples = sample_texts(model, request.n, request.seed, request.temperature, request.prompt)
    body = {"texts": samples.texts, "samples": samples.records(), "notes": samples.notes}
    return Reply(json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json")


ROUTES = [Route("generate", generate_reply, GenerateTextRequest, output="json", label="Generate text")]
