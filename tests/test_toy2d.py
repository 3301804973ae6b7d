"""The toy 2D family: mixtures, mode metrics, PacGAN packing, a short run end to end, exact resume."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from ganforge import GanforgeError, load_config, resume, train
from ganforge.families import get_family
from ganforge.families.base import EvalRequest, SampleRequest
from ganforge.families.toy2d.data import MODE_STD, build_points, grid_centres, mixture_points, ring_centres
from ganforge.families.toy2d.metrics import mode_statistics
from ganforge.families.toy2d.nets import PackedDiscriminator
from ganforge.run_folder import RunFolder
from ganforge.runs import load_run, sample
from ganforge.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("single_thread")

TINY = ["train.steps=40", "train.log_every=10", "train.sample_every=20", "train.checkpoint_every=20",
        "data.batch_size=32", "model.g_width=16", "model.d_width=16", "train.device=cpu"]


def test_mixtures_are_fixed_and_where_the_papers_put_them():
    ring = ring_centres()
    assert ring.shape == (8, 2) and torch.allclose(ring.norm(dim=1), torch.full((8,), 2.0))
    grid = grid_centres()
    assert grid.shape == (25, 2) and sorted(set(grid[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert torch.equal(build_points("ring8").points, build_points("ring8").points)


def test_mode_statistics_on_hand_made_points():
    centres = ring_centres()
    real = mixture_points(centres, 2500, seed=1)
    stats = mode_statistics(real, centres, MODE_STD)
    assert stats["modes_covered"] == 8 and stats["high_quality"] > 0.98
    collapsed = centres[3].repeat(2500, 1)
    stats = mode_statistics(collapsed, centres, MODE_STD)
    assert stats["modes_covered"] == 1 and stats["high_quality"] == 1.0 and stats["per_mode"][3] == 2500
    far = torch.zeros(2500, 2)  # the ring's centre: 2 away from every mode
    assert mode_statistics(far, centres, MODE_STD) | {"per_mode": None} == {
        "modes_covered": 0, "modes_total": 8, "high_quality": 0.0, "per_mode": None}
    few = torch.cat([centres[0].repeat(19, 1), centres[1].repeat(2481, 1)])  # 19 < 20 of 2,500: not covered
    assert mode_statistics(few, centres, MODE_STD)["modes_covered"] == 1


def test_packing_judges_k_samples_per_logit():
    d = PackedDiscriminator(8, 2, pack=4)
    assert d(torch.randn(12, 2)).shape == (3,)
    with pytest.raises(GanforgeError, match="multiple"):
        d(torch.randn(10, 2))
    with pytest.raises(GanforgeError, match="multiple of it"):
        train(load_config("toy-grid", overrides=[*TINY, "model.pack=3"]), progress=False)


def test_a_packed_run_trains_with_finite_losses(tmp_path):
    run = train(load_config("toy-grid", overrides=[*TINY, "model.pack=4"]), out=tmp_path / "packed", progress=False)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert records and all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in records)


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    return train(load_config("toy-ring", overrides=TINY), out=tmp_path_factory.mktemp("toy") / "ring", progress=False)


def test_a_short_run_writes_a_scatter_preview_and_samples_points(ring_run, tmp_path):
    assert (ring_run / "samples" / "latest.png").stat().st_size > 0
    assert (ring_run / "samples" / "step-0000020.png").is_file()
    loaded = load_run(ring_run)
    points = loaded.family.sample(loaded.model, SampleRequest(n=100, seed=2))
    assert points.shape == (100, 2) and torch.equal(points, sample(ring_run, n=100, seed=2))
    message = loaded.family.write(points, tmp_path / "p.csv")
    with open(tmp_path / "p.csv") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["x", "y"] and len(rows) == 101 and "100 points" in message
    loaded.family.write(points, tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(GanforgeError, match=r"\.png, \.csv"):
        loaded.family.check_suffix(tmp_path / "p.mid")


def test_eval_reports_modes_with_reference_rows_and_protocol(ring_run):
    loaded = load_run(ring_run)
    results = loaded.family.evaluate(RunFolder(ring_run), loaded.model, EvalRequest(n=500))
    assert results["reference_real"]["modes_covered"] == 8
    assert results["reference_one_gaussian"]["high_quality"] < 0.05
    assert results["protocol"]["samples"] == 500 and "3 std" in results["protocol"]["high_quality"]
    assert "modes covered" in loaded.family.report(results)


def test_a_stopped_run_resumes_exactly(ring_run, tmp_path):
    half = train(load_config("toy-ring", overrides=TINY), out=tmp_path / "half", steps=20, progress=False)
    resume(half, steps=40, progress=False)
    a = load_checkpoint(ring_run / "checkpoints" / "last.pt")["recipe"]
    b = load_checkpoint(half / "checkpoints" / "last.pt")["recipe"]
    for net in ("generator", "discriminator"):
        for name, value in a[net].items():
            assert torch.equal(value, b[net][name]), (net, name)


def test_keys_a_family_does_not_use_are_refused_with_the_family_named():
    with pytest.raises(GanforgeError, match=r"unknown key 'loss.no_such_key'.*toy2d family"):
        load_config("toy-ring", overrides=["loss.no_such_key=1"])
    with pytest.raises(GanforgeError, match=r"unknown key 'data.diffaugment'.*toy2d family"):
        load_config("toy-ring", overrides=["data.diffaugment=[color]"])
    with pytest.raises(GanforgeError, match=r"unknown key 'loss.gp_weight'.*translation family"):
        load_config("pix2pix-colorize", overrides=["loss.gp_weight=10"])
    with pytest.raises(GanforgeError, match=r"loss.name.*'bce', 'lsgan' or 'hinge'.*wgan-gp"):
        load_config("cyclegan", overrides=["loss.name=wgan-gp"])


def test_points_files_skip_bad_rows_and_refuse_empty_ones(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("x,y\n1,2\nfoo,3\n4,5\n6\n")
    points = build_points(f"points:{path}")
    assert points.points.tolist() == [[1.0, 2.0], [4.0, 5.0]] and points.centres is None
    assert "skipped 2 row(s)" in capsys.readouterr().err
    path.write_text("x,y\n")
    with pytest.raises(GanforgeError, match="0 usable point"):
        build_points(f"points:{path}")
    with pytest.raises(GanforgeError, match="unknown toy2d data set"):
        build_points("ring9")


def test_every_registered_family_describes_itself():
    for name in ("images", "translation", "toy2d"):
        family = get_family(name)
        assert family.name == name and family.description and family.output_suffixes
        assert family.config_class.model_fields["family"].default == name


def test_serve_answers_a_scatter_png_and_the_page_lists_the_route(ring_run):
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from fastapi.testclient import TestClient

    from ganforge.serve.app import create_app, load_served_models

    client = TestClient(create_app(load_served_models([ring_run])), base_url="http://127.0.0.1")
    response = client.post("/generate", json={"n": 300, "seed": 1})
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:4] == b"\x89PNG"
    model = client.get("/models").json()[0]
    assert model["family"] == "toy2d" and model["modes"] == 8 and model["routes"][0]["name"] == "generate"
    bad = client.post("/generate", json={"n": 10**6})
    assert bad.status_code == 422 and "n" in bad.json()["error"]
