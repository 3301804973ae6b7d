"""The HTTP API and web page of ``ganforge serve``: FastAPI, loopback by default, no external resources.

Every family offers routes (``Family.routes``): ``POST /NAME`` with a JSON body (``{"model": NAME, ...}``,
the rest validated by the route's request model) or a multipart upload (``file`` plus form fields). The
server knows no family: it serves the routes of the runs it was given, and ``GET /models`` describes each
model with its routes and their request schemas, from which the web page at ``/`` builds its forms.

Also ``GET /health`` and ``GET /openapi.json``. Requests never name files: models are the runs given on
the command line, by name. Bad input gets a 4xx JSON ``{"error": "..."}``.
"""


import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ganforge.errors import GanforgeError, TooLargeError
from ganforge.families.base import Family, Route, Upload

MAX_UPLOAD_BYTES = 8 * 2**20
UPLOAD_OVERHEAD = 64 * 2**10  # multipart boundaries and form fields around the file
MAX_JSON_BYTES = 2**20
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
NAME_LIMIT = 80  # characters of a user's value echoed in an error


@dataclass
class ServedModel:
    """One run loaded for serving: its family, the family's inference model, and a lock (one call at a time)."""

    name: str
    family: Family
    model: Any
    run: Path
    lock: threading.Lock = field(default_factory=threading.Lock)

    def routes(self) -> dict[str, Route]:
        return {route.name: route for route in self.family.routes()}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family.name, "description": self.family.description,
                "routes": [route.describe() for route in self.family.routes()], **self.family.describe(self.model)}


def load_served_models(runs: list[str | Path], checkpoint: str = "auto") -> dict[str, ServedModel]:
    """Load every run (weights_only checkpoints); names are the folder names, made unique."""
    from ganforge.runs import load_run

    models: dict[str, ServedModel] = {}
    for run in runs:
        run = Path(run)
        name, k = run.name or "model", 2
        while name in models:
            name, k = f"{run.name}-{k}", k + 1
        loaded = load_run(run, "cpu", True, checkpoint)
        models[name] = ServedModel(name, loaded.family, loaded.model, run)
    if not models:
        raise GanforgeError("give at least one run folder to serve")
    return models


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def short(value: object) -> str:
    text = str(value)
    return text if len(text) <= NAME_LIMIT else text[:NAME_LIMIT] + "..."


def pick(models: dict[str, ServedModel], name: object, route: str) -> ServedModel:
    """The model a request names (or the only one offering ``route``)."""
    offering = [m for m in models.values() if route in m.routes()]
    if name is None:
        if len(offering) != 1:
            raise ApiError(400, f"name the model: one of {', '.join(m.name for m in offering) or '(none)'}")
        return offering[0]
    if not isinstance(name, str) or name not in models:
        raise ApiError(404, f"unknown model '{short(name)}'; loaded: {', '.join(models)}")
    model = models[name]
    if route not in model.routes():
        raise ApiError(400, f"model '{name}' ({model.family.name}) has no /{route}; its routes: "
                            f"{', '.join('/' + r for r in model.routes())}")
    return model


def call(served: ServedModel, route: Route, argument: Any) -> Any:
    from fastapi.responses import Response

    try:
        with served.lock:
            reply = route.handler(served.model, argument)
    except TooLargeError as exc:
        raise ApiError(413, str(exc)) from None
    except GanforgeError as exc:
        raise ApiError(400, str(exc)) from None
    return Response(reply.body, media_type=reply.media_type)


def validation_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", []))
    return f"{where or 'request'}: {first.get('msg', 'invalid')}"


def create_app(models: dict[str, ServedModel], allowed_hosts: Sequence[str] = ()) -> Any:
    """The FastAPI application serving ``models``, answering only requests whose Host header is a loopback
    name or one of ``allowed_hosts`` (a web page elsewhere cannot read answers through DNS rebinding)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException

    from ganforge.serve.limits import GuardMiddleware
    from ganforge.serve.page import PAGE
    from ganforge.version import __version__

    app = FastAPI(title="ganforge", version=__version__, docs_url=None, redoc_url=None)  # no CDN assets
    app.add_middleware(GuardMiddleware, allowed_hosts=[*LOOPBACK_HOSTS, *allowed_hosts],
                       max_body=MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:  # 404, 405, ...: the same format
        return JSONResponse({"error": short(exc.detail)}, status_code=exc.status_code)

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

    for path, handler in (("/", page), ("/health", health), ("/models", list_models)):  # HEAD works where GET does
        app.head(path, include_in_schema=False)(handler)

    routes: dict[str, Route] = {}
    for served in models.values():
        for route in served.family.routes():
            routes.setdefault(route.name, route)
    for name, route in routes.items():
        if route.upload:
            app.post(f"/{name}", summary=route.label or name)(upload_endpoint(models, name))
        else:
            app.post(f"/{name}", summary=route.label or name)(json_endpoint(models, name))
    return app


def json_endpoint(models: dict[str, ServedModel], name: str) -> Any:
    from fastapi import Request

    async def endpoint(request: Request) -> Any:
        raw = await request.body()
        if len(raw) > MAX_JSON_BYTES:
            raise ApiError(413, f"the request body is larger than {MAX_JSON_BYTES // 1024} KB")
        try:
            body = json.loads(raw or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(422, "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(422, "the request body must be a JSON object")
        served = pick(models, body.pop("model", None), name)
        route = served.routes()[name]
        try:
            argument = route.request.model_validate(body) if route.request is not None else body
        except ValidationError as exc:
            raise ApiError(422, validation_message(exc)) from None
        return call(served, route, argument)

    endpoint.__name__ = f"post_{name}"
    return endpoint


def upload_endpoint(models: dict[str, ServedModel], name: str) -> Any:
    from fastapi import Request

    from ganforge.serve.limits import BodyTimeout, BodyTooLarge

    async def endpoint(request: Request) -> Any:
        try:
            form = await request.form(max_part_size=MAX_UPLOAD_BYTES + 1)
        except (BodyTooLarge, BodyTimeout):  # the guard answers 413 / 408
            raise
        except Exception as exc:  # malformed multipart, or a part over the limit
            raise ApiError(400, f"cannot read the upload: {short(exc)}") from None
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        served = pick(models, fields.pop("model", None), name)
        route = served.routes()[name]
        file = form.get("file")
        if file is None or isinstance(file, str):
            raise ApiError(400, "upload a file in the form field 'file'")
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ApiError(413, f"the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        if route.accepts and file.content_type not in route.accepts:
            got = short(file.content_type or "unknown type")
            raise ApiError(415, f"upload a file of type {', '.join(route.accepts)}, not {got}")
        return call(served, route, Upload(data, file.content_type, fields))

    endpoint.__name__ = f"post_{name}"
    return endpoint
