"""Failures a user can cause: each gives one line (exit 2) and loses nothing; the server holds its limits.

Each test reproduces a failure that was a traceback, a silent success or a resource blow-up before."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat

import pytest
import torch
from cli_helpers import assert_one_line_error, run_main
from PIL import Image

import ganforge
from ganforge import GanforgeError, resume, train
from ganforge.data import build_dataset
from ganforge.families.images.api import load_image_model
from ganforge.families.images.export import export_generator
from ganforge.training.checkpoint import load_checkpoint
from ganforge.training.trainer import Callback, DivergedError, TrainingInterrupted

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_config):
    return train(tiny_config(), out=tmp_path_factory.mktemp("hard") / "run", progress=False)


# --- data: huge images are refused from their headers, before decoding ------------------------------


def test_a_huge_first_image_is_refused_before_decoding(tmp_path):
    Image.new("L", (3000, 2000)).save(tmp_path / "a_big.png")
    Image.new("L", (28, 28), 90).save(tmp_path / "b.png")
    with pytest.raises(GanforgeError, match=r"a_big.png.*2000-pixel side.*data.size"):
        build_dataset(f"folder:{tmp_path}")
    data = build_dataset(f"folder:{tmp_path}", size=16)  # with a size, both decode straight to it
    assert data.images.shape == (2, 1, 16, 16)


def test_an_image_over_the_pixel_limit_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    Image.new("L", (40, 40)).save(tmp_path / "big.png")
    with pytest.raises(GanforgeError, match=r"big.png is over PIL's limit"):
        build_dataset(f"folder:{tmp_path}", size=8)


# --- export ------------------------------------------------------------------------------------------


def test_export_refuses_an_out_name_of_another_format_and_keeps_the_umask(run, tmp_path):
    model = load_image_model(run)
    with pytest.raises(GanforgeError, match=r"does not end in .safetensors"):
        export_generator(model, "safetensors", tmp_path / "m.json")
    old = os.umask(0o022)
    try:
        export_generator(model, "safetensors", tmp_path / "m.safetensors")
    finally:
        os.umask(old)
    for name in ("m.safetensors", "m.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    ganforge.load(tmp_path / "m.safetensors")


def test_load_of_malformed_export_files_is_one_error(run, tmp_path):
    export_generator(load_image_model(run), "safetensors", tmp_path / "m.safetensors")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(GanforgeError, match="not a ganforge export's metadata"):
        ganforge.load(tmp_path / "m.safetensors")
    export_generator(load_image_model(run), "safetensors", tmp_path / "m.safetensors")
    (tmp_path / "m.safetensors").write_bytes(b"garbage")
    with pytest.raises(GanforgeError, match="does not hold this generator's weights"):
        ganforge.load(tmp_path / "m.safetensors")


# --- signals and filesystem errors -------------------------------------------------------------------


class SignalAt(Callback):
    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    def on_step_end(self, trainer) -> None:
        if trainer.step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_a_checkpoint_like_ctrl_c(tiny_config, tmp_path, signum):
    before = signal.getsignal(signum)
    with pytest.raises(TrainingInterrupted, match=rf"by {signal.Signals(signum).name} at step 4"):
        train(tiny_config(), out=tmp_path / "run", progress=False, callbacks=[SignalAt(4, signum)])
    assert signal.getsignal(signum) is before
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["step"] == 4


def test_a_failed_checkpoint_write_keeps_the_last_one_and_leaves_no_temp_file(tiny_config, tmp_path, monkeypatch):
    out = train(tiny_config(), out=tmp_path / "run", steps=3, progress=False)
    good = (out / "checkpoints" / "last.pt").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(GanforgeError, match=r"No space left on device; the previous checkpoint is kept"):
        resume(out, steps=6, progress=False)
    assert (out / "checkpoints" / "last.pt").read_bytes() == good
    assert not list((out / "checkpoints").glob("*.tmp"))


def test_out_under_a_regular_file_is_one_line(monkeypatch, capsys, tmp_path, tiny_overrides):
    (tmp_path / "afile").write_text("x")
    args = ["train", "dcgan", "--out", str(tmp_path / "afile" / "run"), "-q"]
    for override in tiny_overrides:
        args += ["--set", override]
    assert_one_line_error(run_main(monkeypatch, capsys, args), "afile", "choose another --out")


# --- malformed input ---------------------------------------------------------------------------------


def test_a_checkpoint_with_the_wrong_structure_is_one_line(run, tmp_path, monkeypatch, capsys):
    bad = tmp_path / "bad"
    (bad / "checkpoints").mkdir(parents=True)
    (bad / "config.yaml").write_text((run / "config.yaml").read_text())
    for content in ({"foo": 1}, {"step": 3, "recipe": {}}, [1, 2]):
        torch.save(content, bad / "checkpoints" / "last.pt")
        result = run_main(monkeypatch, capsys, ["sample", str(bad), "--n", "1", "--out", str(tmp_path / "x.png")])
        assert_one_line_error(result, "last.pt")
        result = run_main(monkeypatch, capsys, ["resume", str(bad), "--steps", "9", "-q"])
        assert_one_line_error(result, "last.pt")


def test_seeds_devices_and_configs_that_cannot_work(run, tmp_path, monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, ["sample", str(run), "--seed", str(2**63), "--out", str(tmp_path / "x.png")])
    assert result.returncode == 2 and "Traceback" not in result.stderr and "--seed" in result.stderr
    (tmp_path / "bin.yaml").write_bytes(bytes(range(256)))
    assert_one_line_error(run_main(monkeypatch, capsys, ["train", "--config", str(tmp_path / "bin.yaml")]),
                          "not UTF-8")
    for device in ("meta", "mps"):
        result = run_main(monkeypatch, capsys, ["sample", str(run), "--device", device, "--out",
                                                str(tmp_path / "y.png")])
        assert_one_line_error(result, f"device '{device}'")


# --- divergence and the setup of a resume ------------------------------------------------------------


def test_a_finite_divergence_stops_the_run_with_the_fix(tiny_config, tmp_path):
    with pytest.raises(DivergedError, match=r"diverged by step \d+.*optim.g_lr=2e-4"):
        train(tiny_config("optim.g_lr=1e3", "optim.d_lr=1e3", "train.steps=60", "train.log_every=5"),
              out=tmp_path / "run", progress=False)


def test_a_resume_with_another_thread_count_says_it_is_not_bit_identical(tiny_config, tmp_path, capsys):
    out = train(tiny_config(), out=tmp_path / "run", steps=3, progress=False)
    assert load_checkpoint(out / "checkpoints" / "last.pt")["threads"] == 1
    torch.set_num_threads(2)
    try:
        resume(out, steps=6, progress=False)
    finally:
        torch.set_num_threads(1)
    assert "threads 1 -> 2" in capsys.readouterr().err


# --- the server --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(run):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from ganforge.serve.app import create_app, load_served_models

    return TestClient(create_app(load_served_models([run])), base_url="http://127.0.0.1")


def test_the_server_refuses_other_hosts_and_answers_every_error_as_json(client):
    response = client.get("/health", headers={"host": "evil.example"})
    assert response.status_code == 400 and "evil.example" in response.json()["error"]
    assert client.get("/health", headers={"host": "localhost:8000"}).status_code == 200
    assert client.get("/no/such/path").json()["error"]
    assert client.get("/generate").status_code == 405 and client.get("/generate").json()["error"]
    assert client.head("/").status_code == 200 and client.head("/health").status_code == 200
    long = client.post("/generate", json={"n": 1, "model": "m" * 10**6})
    assert long.status_code in (404, 413) and len(long.text) < 500


def test_the_server_refuses_a_body_over_the_limit_while_reading(run, monkeypatch):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    import ganforge.serve.app as app_module

    monkeypatch.setattr(app_module, "MAX_UPLOAD_BYTES", 1000)
    monkeypatch.setattr(app_module, "UPLOAD_OVERHEAD", 0)
    small = TestClient(app_module.create_app(app_module.load_served_models([run])), base_url="http://127.0.0.1")
    sent = []

    def chunks():  # no Content-Length: the limit must be checked while the body streams in
        for _ in range(50):
            sent.append(1)
            yield b"x" * 100_000

    response = small.post("/generate", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger than" in response.json()["error"]
    by_length = small.post("/generate", content=b"x" * 5000, headers={"content-type": "application/json"})
    assert by_length.status_code == 413
    assert json.loads(small.get("/health").text)["status"] == "ok"


def test_serve_on_a_port_in_use_is_one_line_and_says_nothing_else(run, monkeypatch, capsys):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_main(monkeypatch, capsys, ["serve", str(run), "--port", str(port)])
    assert_one_line_error(result, f"127.0.0.1:{port}", "another --port")
    assert "serving" not in result.stdout


def test_large_images_under_the_hard_limit_print_no_pil_warning(tmp_path, monkeypatch, recwarn):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 40x40 = 1,600 pixels: over the limit, under twice it
    Image.new("L", (40, 40)).save(tmp_path / "a.png")
    assert build_dataset(f"folder:{tmp_path}", size=8).images.shape == (1, 1, 8, 8)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


class Payload:
    """Unpickling this runs code: it must never be unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_malicious_pickles_and_yaml_tags_are_refused_without_running_code(run, tmp_path):
    import pickle

    bad = tmp_path / "bad"
    (bad / "checkpoints").mkdir(parents=True)
    (bad / "config.yaml").write_text((run / "config.yaml").read_text())
    marker = tmp_path / "pwned"
    with open(bad / "checkpoints" / "last.pt", "wb") as handle:
        pickle.dump({"step": 1, "recipe": Payload(str(marker))}, handle)
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        load_checkpoint(bad / "checkpoints" / "last.pt")
    (tmp_path / "evil.yaml").write_text(f"train: !!python/object/apply:builtins.open ['{marker}', 'w']\n")
    with pytest.raises(GanforgeError, match="not valid YAML"):
        ganforge.load_config("dcgan", tmp_path / "evil.yaml")
    assert not marker.exists()


class FailingPreview(Callback):
    def on_train_end(self, trainer) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "samples/latest.png")


def test_a_failing_preview_at_the_end_does_not_hide_why_the_run_stopped(tiny_config, tmp_path):
    with pytest.raises(DivergedError):
        train(tiny_config("optim.g_lr=1e3", "optim.d_lr=1e3", "train.steps=60", "train.log_every=5"),
              out=tmp_path / "run", progress=False, callbacks=[FailingPreview()])
