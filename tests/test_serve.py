"""The HTTP API in-process (FastAPI TestClient): generate, interpolate, translate, models, bad input, load."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from ganforge import load_config, train

fastapi = pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install 'ganforge[serve]')")
from fastapi.testclient import TestClient  # noqa: E402

from ganforge.families.images.serving import MAX_IMAGES  # noqa: E402
from ganforge.serve.app import create_app, load_served_models  # noqa: E402

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def client(tmp_path_factory, tiny_config):
    root = tmp_path_factory.mktemp("serve")
    runs = [
        train(tiny_config(), out=root / "digits", progress=False),
        train(tiny_config("model.g_cond=concat", "model.d_cond=projection"), out=root / "cond", progress=False),
        train(load_config("cyclegan", overrides=["data.size=16", "data.batch_size=4", "model.g_width=4",
                                                 "model.d_width=4", "model.resnet_blocks=1", "train.steps=2",
                                                 "train.device=cpu"]), out=root / "cycle", progress=False),
    ]
    return TestClient(create_app(load_served_models(runs)), base_url="http://127.0.0.1")


def png(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(response.content))


def upload(size=(50, 37), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((size[1], size[0], 3)) * 255).astype("uint8")).save(buffer, fmt)
    return buffer.getvalue()


def test_health_models_and_schema(client):
    assert client.get("/health").json() == {"status": "ok", "models": 3}
    models = {m["name"]: m for m in client.get("/models").json()}
    assert models["cond"]["num_classes"] == 10 and models["digits"]["num_classes"] == 0
    assert [r["name"] for r in models["digits"]["routes"]] == ["generate", "interpolate"]
    assert models["cycle"]["family"] == "translation" and models["digits"]["family"] == "images"
    assert models["cycle"]["directions"] == ["AtoB", "BtoA"]
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/generate", "/interpolate", "/translate", "/models", "/health"} <= set(paths)


def test_generate_is_a_png_grid_and_same_seed_same_bytes(client):
    body = {"n": 16, "seed": 3, "model": "digits"}
    first = client.post("/generate", json=body)
    image = png(first)
    assert image.size == (4 * 8 + 5 * 2, 4 * 8 + 5 * 2)  # 4x4 grid of 8x8 with 2 px padding
    assert client.post("/generate", json=body).content == first.content
    assert client.post("/generate", json={**body, "seed": 4}).content != first.content
    png(client.post("/generate", json={"n": 4, "class": 7, "model": "cond"}))


def test_interpolate_strip_and_single_point(client):
    strip = png(client.post("/interpolate", json={"seed_a": 1, "seed_b": 2, "steps": 5, "model": "digits"}))
    assert strip.size[0] > strip.size[1]
    png(client.post("/interpolate", json={"seed_a": 1, "seed_b": 2, "t": 0.5, "model": "cond", "class": 3}))


def test_translate_keeps_the_uploaded_size(client):
    response = client.post("/translate", files={"file": ("x.png", upload(), "image/png")},
                           data={"model": "cycle", "direction": "BtoA"})
    assert png(response).size == (50, 37)


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "needle"),
    [
        ("/generate", {"json": {"n": MAX_IMAGES + 1, "model": "digits"}}, 422, "n:"),
        ("/generate", {"json": {"n": 2, "model": "nope"}}, 404, "unknown model 'nope'"),
        ("/generate", {"json": {"n": 2}}, 400, "name the model"),
        ("/generate", {"json": {"n": 2, "model": "digits", "class": 3}}, 400, "unconditional"),
        ("/generate", {"json": {"n": 2, "model": "cond", "class": 12}}, 400, "out of range"),
        ("/generate", {"json": {"n": 2, "model": "cycle"}}, 400, "has no /generate"),
        ("/generate", {"json": {"n": 2, "model": "digits", "path": "/etc/passwd"}}, 422, "path"),
        ("/generate", {"content": b"not json", "headers": {"content-type": "application/json"}}, 422, ""),
        ("/interpolate", {"json": {"steps": 100, "model": "digits"}}, 422, "steps"),
        ("/translate", {"files": {"file": ("x.txt", b"hello", "text/plain")}, "data": {"model": "cycle"}}, 415,
         "upload a file of type image/png"),
        ("/translate", {"files": {"file": ("x.png", b"\x89PNG broken", "image/png")}, "data": {"model": "cycle"}},
         400, "not a readable image"),
        ("/translate", {"files": {"file": ("x.png", upload(), "image/png")},
                        "data": {"model": "cycle", "direction": "up"}}, 400, "direction"),
        ("/translate", {"files": {"file": ("x.png", upload(), "image/png")}, "data": {"model": "digits"}}, 400,
         "has no /translate"),
        ("/generate", {"json": {"n": 2, "model": "x" * 5000}}, 404, "unknown model 'xxx"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_the_server_keeps_serving(client, path, kwargs, status, needle):
    response = client.post(path, **kwargs)
    assert response.status_code == status, response.text
    assert needle in response.json()["error"]
    assert client.get("/health").status_code == 200


def test_too_large_uploads_are_refused(client, monkeypatch):
    import ganforge.serve.app as app_module

    monkeypatch.setattr(app_module, "MAX_UPLOAD_BYTES", 100)
    response = client.post("/translate", files={"file": ("x.png", upload(), "image/png")}, data={"model": "cycle"})
    assert response.status_code == 413
    monkeypatch.setattr(app_module, "MAX_UPLOAD_BYTES", 2**20)
    import ganforge.families.translation.family as translation_family

    monkeypatch.setattr(translation_family, "MAX_UPLOAD_PIXELS", 100)
    response = client.post("/translate", files={"file": ("x.png", upload(), "image/png")}, data={"model": "cycle"})
    assert response.status_code == 413 and "pixels" in response.json()["error"]


def test_concurrent_requests(client):
    def call(seed: int) -> bytes:
        return client.post("/generate", json={"n": 16, "seed": seed % 3, "model": "digits"}).content

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(24)))
    assert len({r for r in results}) == 3  # same seed, same bytes, under load


def test_the_page_has_no_external_resources(client):
    html = client.get("/").text
    assert 'fetch("/models")' in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
