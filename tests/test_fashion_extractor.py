"""The committed fashion-v1 network: released weights, reads held-out Fashion-MNIST, FID floor, registry names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data.builtin import DEBIAN_FASHION_DIR, read_idx
from ganforge.errors import GanforgeError
from ganforge.metrics import frechet_distance
from ganforge.metrics.digits_net import (
    FASHION_V1_SHA256,
    FASHION_VERSION,
    file_sha256,
    load_released_net,
    weights_path,
)
from ganforge.metrics.extractors import build_extractor, default_extractor_name

TEST_IMAGES = DEBIAN_FASHION_DIR / "t10k-images-idx3-ubyte.gz"
TEST_LABELS = DEBIAN_FASHION_DIR / "t10k-labels-idx1-ubyte.gz"
needs_fashion = pytest.mark.skipif(
    not (TEST_IMAGES.is_file() and TEST_LABELS.is_file()),
    reason=f"Fashion-MNIST is not installed in {DEBIAN_FASHION_DIR} (apt-get install dataset-fashion-mnist)",
)
pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def held_out() -> tuple[torch.Tensor, torch.Tensor]:
    """800 of the 10,000 test images (never seen in training), in a seeded random order, in [-1, 1]."""
    images = torch.from_numpy(read_idx(TEST_IMAGES).copy()).unsqueeze(1).float() / 127.5 - 1
    labels = torch.from_numpy(read_idx(TEST_LABELS).astype(np.int64))
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))[:800]
    return images[order], labels[order]


@pytest.fixture(scope="module")
def extractor():
    return build_extractor("fashion-v1")


def test_the_committed_file_is_the_released_fashion_v1():
    path = weights_path(FASHION_VERSION)
    assert path.is_file() and path.stat().st_size < 3_000_000
    assert file_sha256(path) == FASHION_V1_SHA256
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert state["classifier.weight"].shape == (10, 128)


def test_a_changed_file_is_refused_and_other_weights_load_by_path(tmp_path, monkeypatch):
    import ganforge.metrics.digits_net as digits_net

    copy = tmp_path / "fashion-v1.pt"
    copy.write_bytes(weights_path(FASHION_VERSION).read_bytes())
    assert not load_released_net(FASHION_VERSION, copy).training  # any path: loaded into the architecture
    monkeypatch.setitem(digits_net.RELEASED_SHA256, FASHION_VERSION, "0" * 64)
    with pytest.raises(GanforgeError, match="new version name"):
        load_released_net(FASHION_VERSION)
    with pytest.raises(GanforgeError, match="digits-v1"):
        load_released_net("fashion-v2")


@needs_fashion
def test_it_classifies_held_out_test_images(held_out, extractor):
    images, labels = held_out
    features, logits = extractor.extract(images[:400])
    assert features.shape == (400, 128) and logits.shape == (400, 10)
    assert (logits.argmax(1) == labels[:400]).float().mean() > 0.85


@needs_fashion
def test_real_versus_real_is_far_below_real_versus_noise(held_out, extractor):
    images, _ = held_out
    first, _ = extractor.extract(images[:400])
    second, _ = extractor.extract(images[400:])
    noise, _ = extractor.extract(torch.rand(400, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1)
    floor = frechet_distance(first, second)
    assert floor < 0.05 * frechet_distance(first, noise)


def test_the_registry_names_and_the_choice_by_data():
    assert build_extractor("fashion").name == "fashion-v1"
    assert build_extractor("fashion-v1").describe()["version"] == "fashion-v1"
    assert default_extractor_name((1, 28, 28), "fashion-mnist") == "fashion"
    assert default_extractor_name((1, 28, 28), "digits") == "digits"
    assert default_extractor_name((1, 28, 28)) == "digits"
    assert default_extractor_name((1, 32, 32), "fashion-mnist") == "inception"
    with pytest.raises(GanforgeError, match="fashion-v1"):
        build_extractor("fashion-v2")


@needs_fashion
def test_auto_evaluation_against_fashion_mnist_uses_fashion_v1(held_out):
    from ganforge.families.base import EvalRequest
    from ganforge.families.images.evaluation import evaluate_tensor

    images, _ = held_out
    results = evaluate_tensor(images[:200], "test images", "fashion-mnist", EvalRequest(metrics="fid"), 200)
    protocol = results["protocol"]
    assert protocol["extractor"]["name"] == "fashion-v1"
    assert protocol["real"]["dataset"] == "fashion-mnist" and protocol["real"]["of"] == 60000
    assert 0 < results["fid"] < 100


def test_the_weights_ship_as_package_data():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    assert '"metrics/weights/*.pt"' in pyproject.read_text()
