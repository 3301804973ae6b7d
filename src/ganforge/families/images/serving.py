"""What ``ganforge serve`` offers for image runs: a grid of samples and an interpolation strip."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field

from ganforge.families.base import Reply, Route
from ganforge.families.images.generate import class_labels, generate, slerp_noise
from ganforge.families.images.model import ImageModel
from ganforge.viz import image_grid, png_bytes

MAX_IMAGES = 64
MAX_STEPS = 16


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    n: int = Field(16, ge=1, le=MAX_IMAGES, description=f"images, at most {MAX_IMAGES}")
    seed: int = Field(0, ge=0, lt=2**31)
    class_index: int | None = Field(None, alias="class", ge=0, description="class for conditional models")


class InterpolateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    seed_a: int = Field(0, ge=0, lt=2**31)
    seed_b: int = Field(1, ge=0, lt=2**31)
    steps: int = Field(8, ge=2, le=MAX_STEPS, description="images in the strip")
    t: float | None = Field(None, ge=0, le=1, description="one image at this point instead of a strip")
    class_index: int | None = Field(None, alias="class", ge=0)


def generate_grid(model: ImageModel, request: GenerateRequest) -> Reply:
    class_labels(model.generator, 1, request.class_index)  # validates the class before the work
    images = generate(model.generator, request.n, request.seed, class_index=request.class_index)
    return Reply(png_bytes(image_grid(images)), "image/png")


def interpolate(model: ImageModel, request: InterpolateRequest) -> Reply:
    """Spherical interpolation between the noise of two seeds (a strip, or one point ``t``)."""
    generator = model.generator
    ts = torch.tensor([request.t]) if request.t is not None else torch.linspace(0, 1, request.steps)
    z = slerp_noise(generator, request.seed_a, request.seed_b, ts)
    labels = class_labels(generator, len(ts), request.class_index)
    if labels is None and getattr(generator, "num_classes", 0):
        labels = torch.zeros(len(ts), dtype=torch.int64)
    device = next(generator.parameters()).device
    with torch.no_grad():
        images = generator(z.to(device), None if labels is None else labels.to(device)).float().cpu()
    return Reply(png_bytes(image_grid(images, nrow=len(images))), "image/png")


ROUTES = [
    Route("generate", generate_grid, GenerateRequest, output="image", label="Generate"),
    Route("interpolate", interpolate, InterpolateRequest, output="image", label="Interpolate between two seeds"),
]
