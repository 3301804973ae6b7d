"""The HTTP API and web page of ``ganforge serve``: FastAPI, loopback by default, no external resources.

Endpoints (OpenAPI schema at ``/openapi.json``):

- ``GET /health``, ``GET /models``
- ``POST /generate`` ``{"n": 16, "seed": 1, "class": 7, "model": "NAME"}`` -> ``image/png`` (a grid)
- ``POST /interpolate`` ``{"seed_a": 1, "seed_b": 2, "steps": 8}`` (a strip) or ``{"t": 0.3}`` (one image)
- ``POST /translate`` multipart ``file`` (+ ``model``, ``direction``) -> ``image/png`` at the input's size
- ``GET /`` the web page

Requests never name files: models are the runs given on the command line, by name. Limits on ``n``,
steps, upload bytes and image pixels; bad input gets a 4xx JSON ``{"error": "..."}``.
"""


import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from ganforge.errors import GanforgeError

MAX_IMAGES = 64
MAX_STEPS = 16
MAX_UPLOAD_BYTES = 8 * 2**20
MAX_PIXELS = 2048 * 2048
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif", "image/tiff")


@dataclass
class ServedModel:
    """One run loaded for serving: a noise generator, or translators by direction."""

    name: str
    kind: str  # "generator" or "translator"
    run: Path
    generator: nn.Module | None = None
    translators: dict[str, nn.Module] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"name": self.name, "kind": self.kind}
        if self.generator is not None:
            info.update(image_shape=list(self.generator.image_shape), z_dim=self.generator.z_dim,
                        num_classes=getattr(self.generator, "num_classes", 0))
        else:
            info["directions"] = list(self.translators)
        return info


def load_served_models(runs: list[str | Path]) -> dict[str, ServedModel]:
    """Load every run (weights_only checkpoints); names are the folder names, made unique."""
    from ganforge.apps.translate import load_translator
    from ganforge.nets import is_translation
    from ganforge.runs import load_generator, load_run_config

    models: dict[str, ServedModel] = {}
    for run in runs:
        run = Path(run)
        name, k = run.name or "model", 2
        while name in models:
            name, k = f"{run.name}-{k}", k + 1
        config = load_run_config(run)
        if is_translation(config.model):
            directions = ["AtoB", "BtoA"] if config.model.arch == "cyclegan" else ["AtoB"]
            models[name] = ServedModel(name, "translator", run,
                                       translators={d: load_translator(run, d) for d in directions})
        else:
            models[name] = ServedModel(name, "generator", run, generator=load_generator(run))
    if not models:
        raise GanforgeError("give at least one run folder to serve")
    return models


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    n: int = Field(16, ge=1, le=MAX_IMAGES, description=f"images, at most {MAX_IMAGES}")
    seed: int = Field(0, ge=0, lt=2**31)
    class_index: int | None = Field(None, alias="class", ge=0, description="class for conditional models")
    model: str | None = Field(None, description="model name; optional when one model is served")


class InterpolateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    seed_a: int = Field(0, ge=0, lt=2**31)
    seed_b: int = Field(1, ge=0, lt=2**31)
    steps: int = Field(8, ge=2, le=MAX_STEPS, description="images in the strip")
    t: float | None = Field(None, ge=0, le=1, description="one image at this point instead of a strip")
    class_index: int | None = Field(None, alias="class", ge=0)
    model: str | None = None


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pick(models: dict[str, ServedModel], name: str | None, kind: str) -> ServedModel:
    if name is None:
        candidates = [m for m in models.values() if m.kind == kind]
        if len(candidates) != 1:
            raise ApiError(400, f"name the model: one of {', '.join(m.name for m in candidates) or '(none)'}")
        return candidates[0]
    if name not in models:
        raise ApiError(404, f"unknown model '{name}'; loaded: {', '.join(models)}")
    if models[name].kind != kind:
        raise ApiError(400, f"model '{name}' is a {models[name].kind}, not a {kind}")
    return models[name]


def noise_for(generator: nn.Module, seed: int) -> Tensor:
    return torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(seed))


def labels_for(generator: nn.Module, n: int, class_index: int | None) -> Tensor | None:
    from ganforge.runs import class_labels

    try:
        return class_labels(generator, n, class_index)
    except GanforgeError as exc:
        raise ApiError(400, str(exc)) from None


def interpolate(model: ServedModel, request: InterpolateRequest) -> Tensor:
    """Spherical interpolation between the noise of two seeds (a strip, or one point ``t``)."""
    generator = model.generator
    a, b = noise_for(generator, request.seed_a), noise_for(generator, request.seed_b)
    ts = torch.tensor([request.t]) if request.t is not None else torch.linspace(0, 1, request.steps)
    omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        z = a.repeat(len(ts), 1)
    else:
        z = (torch.sin((1 - ts) * omega)[:, None] * a + torch.sin(ts * omega)[:, None] * b) / torch.sin(omega)
    labels = labels_for(generator, len(ts), request.class_index)
    if labels is None and getattr(generator, "num_classes", 0):
        labels = torch.zeros(len(ts), dtype=torch.int64)
    device = next(generator.parameters()).device
    with model.lock, torch.no_grad():
        return generator(z.to(device), None if labels is None else labels.to(device)).float().cpu()


def read_upload(data: bytes, content_type: str | None) -> Image.Image:
    if content_type not in IMAGE_TYPES:
        raise ApiError(415, f"upload an image ({', '.join(IMAGE_TYPES)}), not {content_type or 'unknown type'}")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if not data:
        raise ApiError(400, "the upload is empty")
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ApiError(413, f"the image has more than {MAX_PIXELS} pixels; scale it down")
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ApiError(400, "the upload is not a readable image") from None
    return image


def create_app(models: dict[str, ServedModel]) -> Any:
    """The FastAPI application serving ``models``."""
    from fastapi import FastAPI, File, Form, Request, UploadFile
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    from ganforge import __version__
    from ganforge.apps.translate import image_to_input, translate_tensor
    from ganforge.runs import generate
    from ganforge.serve.page import PAGE
    from ganforge.viz import image_grid, to_pil, to_uint8

    app = FastAPI(title="ganforge", version=__version__, docs_url=None, redoc_url=None)  # no CDN assets

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", []) if p != "body")
        return JSONResponse({"error": f"{where or 'request'}: {first.get('msg', 'invalid')}"}, status_code=422)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> str:
        return PAGE

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "models": len(models)}

    @app.get("/models")
    def list_models() -> list[dict[str, Any]]:
        return [m.describe() for m in models.values()]

    @app.post("/generate", response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def generate_images(request: GenerateRequest) -> Response:
        model = pick(models, request.model, "generator")
        labels_for(model.generator, 1, request.class_index)  # validates the class before the work
        with model.lock:
            images = generate(model.generator, request.n, request.seed, class_index=request.class_index)
        return Response(png_bytes(image_grid(images)), media_type="image/png")

    @app.post("/interpolate", response_class=Response, responses={200: {"content": {"image/png": {}}}})
    def interpolate_images(request: InterpolateRequest) -> Response:
        images = interpolate(pick(models, request.model, "generator"), request)
        return Response(png_bytes(image_grid(images, nrow=len(images))), media_type="image/png")

    @app.post("/translate", response_class=Response, responses={200: {"content": {"image/png": {}}}})
    async def translate_image(file: UploadFile = File(...), model: str | None = Form(None),
                              direction: str = Form("AtoB")) -> Response:
        served = pick(models, model, "translator")
        if direction not in served.translators:
            raise ApiError(400, f"direction must be one of {', '.join(served.translators)}")
        image = read_upload(await file.read(MAX_UPLOAD_BYTES + 1), file.content_type)
        network = served.translators[direction]
        with served.lock:
            out = translate_tensor(network, image_to_input(image, network.in_channels))[0]
        return Response(png_bytes(to_pil(to_uint8(out))), media_type="image/png")

    return app
