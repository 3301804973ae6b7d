"""Export: safetensors + JSON loadable without the run folder, TorchScript, ONNX checked with onnxruntime."""

from __future__ import annotations

import importlib.util
import json
import shutil

import pytest
import torch
from cli_helpers import assert_one_line_error, run_main

import ganforge
from ganforge import GanforgeError, generate, load_generator, train
from ganforge.families.images.api import load_image_model
from ganforge.families.images.export import export_generator as export_model

pytestmark = pytest.mark.usefixtures("single_thread")


def export_generator(run, fmt, out):
    return export_model(load_image_model(run), fmt, out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_config):
    root = tmp_path_factory.mktemp("export")
    return {
        "plain": train(tiny_config(), out=root / "plain", progress=False),
        "conditional": train(tiny_config("model.g_cond=cbn", "model.d_cond=projection"), out=root / "cond",
                             progress=False),
    }


@pytest.mark.parametrize("kind", ["plain", "conditional"])
def test_safetensors_export_loads_without_the_run_folder(kind, runs, tmp_path):
    path = tmp_path / "model.safetensors"
    export_generator(runs[kind], "safetensors", path)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["kind"] == "generator" and meta["image_shape"] == [1, 8, 8]
    expected = generate(load_generator(runs[kind]), 12, seed=4)
    alone = tmp_path / "alone"  # only the two exported files, far from the run folder
    alone.mkdir()
    for file in (path, path.with_suffix(".json")):
        shutil.copy(file, alone / file.name)
    generator = ganforge.load(alone / "model.safetensors")
    assert torch.equal(generate(generator, 12, seed=4), expected)


def test_load_names_the_missing_file(tmp_path):
    with pytest.raises(GanforgeError, match="model.json"):
        ganforge.load(tmp_path / "model.safetensors")


def test_torchscript_export_matches_pytorch(runs, tmp_path):
    path = tmp_path / "g.pt"
    export_generator(runs["plain"], "torchscript", path)
    scripted = torch.jit.load(str(path))
    z = torch.randn(5, 16)
    with torch.no_grad():
        assert torch.allclose(scripted(z), load_generator(runs["plain"])(z), atol=1e-6)


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnxruntime is not installed "
                    "(pip install 'ganforge[export]')")
@pytest.mark.parametrize("kind", ["plain", "conditional"])
def test_onnx_export_agrees_with_pytorch(kind, runs, tmp_path):
    summary = export_generator(runs[kind], "onnx", tmp_path / "g.onnx")
    assert summary["max_abs_diff"] < 1e-4


def test_export_cli_and_bad_format(runs, tmp_path, monkeypatch, capsys):
    out = tmp_path / "m.safetensors"
    result = run_main(monkeypatch, capsys, ["export", str(runs["plain"]), "--format", "safetensors", "--out", str(out)])
    assert result.returncode == 0 and "m.json" in result.stdout
    result = run_main(monkeypatch, capsys, ["export", str(runs["plain"]), "--format", "pickle", "--out", str(out)])
    assert_one_line_error(result, "unknown export format 'pickle'")
