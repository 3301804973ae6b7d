"""What ``ganforge serve`` offers for text-to-image runs: a grid of pictures for a prompt."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ganforge.families.base import Reply, Route
from ganforge.families.text2image.model import TextImageModel, generate
from ganforge.families.text2image.words import MAX_PROMPT_CHARS
from ganforge.viz import image_grid, png_bytes

MAX_IMAGES = 64


class PromptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field("a red circle on the left", max_length=MAX_PROMPT_CHARS,
                        description="what the picture shows, e.g. 'a small blue square at the top right'")
    n: int = Field(16, ge=1, le=MAX_IMAGES, description=f"images, at most {MAX_IMAGES}")
    seed: int = Field(0, ge=0, lt=2**31)
    model: str | None = Field(None, description="model name; optional when one model is served")


def generate_reply(model: TextImageModel, request: PromptRequest) -> Reply:
    """A PNG grid of ``n`` pictures of the prompt (an empty or too long prompt is a 400)."""
    samples = generate(model, [request.prompt or ""] * request.n, request.seed, warn=False)
    return Reply(png_bytes(image_grid(samples.images)), "image/png")


ROUTES = [Route("generate", generate_reply, PromptRequest, output="image", label="Generate from a prompt")]
