"""Your own networks: model.arch python (factories by import path) and keras (Keras 3 models, torch backend)."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
import torch
from train_helpers import assert_same_state, checkpoint_of

from ganforge import GanforgeError, load_config, resume, train
from ganforge.families import family_of
from ganforge.families.images.export import export_generator
from ganforge.nets import build_networks
from ganforge.recipes.gan import treats_samples_independently
from ganforge.runs import load_run

pytestmark = pytest.mark.usefixtures("single_thread")

NETS = '''
import math
import torch
from torch import nn

class G(nn.Module):
    def __init__(self, z_dim, image_shape, num_classes, width=16, tanh=True, flat=False, scale=1.0, **unused):
        super().__init__()
        self.shape, self.flat, self.scale = tuple(image_shape), flat, scale
        self.embed = nn.Embedding(num_classes, z_dim) if num_classes else None
        last = [nn.Tanh()] if tanh else []
        self.net = nn.Sequential(nn.Linear(z_dim, width), nn.BatchNorm1d(width), nn.ReLU(),
                                 nn.Linear(width, math.prod(self.shape)), *last)
    def forward(self, z, labels=None):
        if self.embed is not None:
            z = z * self.embed(labels)
        out = self.net(z) if self.scale == 1 else self.net(z) * self.scale
        return out if self.flat else out.view(-1, *self.shape)

class D(nn.Module):
    def __init__(self, z_dim, image_shape, num_classes, width=16, out=1, sigmoid=False, **unused):
        super().__init__()
        self.embed = nn.Embedding(num_classes, width) if num_classes else None
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(image_shape), width), nn.LeakyReLU(0.2))
        self.head = nn.Sequential(nn.Linear(width, out), *([nn.Sigmoid()] if sigmoid else []))
    def forward(self, x, labels=None):
        h = self.body(x)
        if self.embed is not None:
            h = h * self.embed(labels)
        return self.head(h)

def not_a_module(**kwargs):
    return 3

def broken(**kwargs):
    raise ValueError("width must be even")
'''

KERAS_NETS = '''
import keras
from keras import layers

def make_g(z_dim, image_shape, num_classes, width=8, **unused):
    c, h, _ = image_shape
    return keras.Sequential([keras.Input((z_dim,)), layers.Dense(h // 2 * h // 2 * width, use_bias=False),
                             layers.BatchNormalization(), layers.LeakyReLU(), layers.Reshape((h // 2, h // 2, width)),
                             layers.Conv2DTranspose(c, 3, strides=2, padding="same", activation="tanh")])

def make_d(z_dim, image_shape, num_classes, width=8, sigmoid=False):
    c, h, w = image_shape
    return keras.Sequential([keras.Input((h, w, c)), layers.Conv2D(width, 3, strides=2, padding="same"),
                             layers.LeakyReLU(), layers.Dropout(0.3), layers.Flatten(),
                             layers.Dense(1, activation="sigmoid" if sigmoid else None)])
'''

TINY = ["data.name=digits8", "data.batch_size=16", "train.steps=6", "train.log_every=2", "train.sample_every=3",
        "train.checkpoint_every=3", "train.grid_size=4", "train.device=cpu"]


@pytest.fixture(scope="module")
def nets_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("nets") / "mynets.py"
    path.write_text(textwrap.dedent(NETS))
    return path


def nets_config(arch: str, file: Path, g: str, d: str, *overrides: str):
    return load_config("default", overrides=[*TINY, f"model.arch={arch}", f"model.generator={file}:{g}",
                                             f"model.discriminator={file}:{d}", "model.z_dim=8", *overrides])


def python_config(nets_file: Path, *overrides: str, g: str = "G", d: str = "D"):
    return nets_config("python", nets_file, g, d, *overrides)


def trained_twice(cfg, tmp_path: Path) -> Path:
    """A 6-step run, checked equal to 3 steps + a resume to 6 (G, D, EMA, optimizers, RNG, data position)."""
    full = train(cfg, out=tmp_path / "full", steps=6)
    half = train(cfg, out=tmp_path / "half", steps=3)
    resume(half, steps=6, progress=False)
    assert_same_state(checkpoint_of(full), checkpoint_of(half))
    return full


def test_python_nets_train_sample_and_resume_exactly(nets_file, tmp_path):
    loaded = load_run(trained_twice(python_config(nets_file), tmp_path))
    assert loaded.model.generator.image_shape == (1, 8, 8)
    images = loaded.family.sample(loaded.model, _request(n=3))
    assert images.shape == (3, 1, 8, 8) and images.abs().max() <= 1


def test_conditional_python_nets_get_labels_from_the_data(nets_file, tmp_path, capsys):
    # the default preset self-conditions (data.clusters); a note says how to train on the data's own labels
    clustered = python_config(nets_file, "model.conditional=true", "train.steps=1")
    assert family_of(clustered).build_data(clustered).num_classes == 89
    assert "--set data.clusters=0 trains on the data's labels" in capsys.readouterr().err
    cfg = python_config(nets_file, "model.conditional=true", "train.steps=2", "data.clusters=0")
    run = train(cfg, out=tmp_path / "cond")
    loaded = load_run(run)
    assert loaded.config.model.num_classes == 10
    assert loaded.family.sample(loaded.model, _request(n=2, class_index=7)).shape == (2, 1, 8, 8)


def test_a_relative_file_path_is_recorded_absolute(nets_file, monkeypatch):
    monkeypatch.chdir(nets_file.parent)
    cfg = load_config("default", overrides=["model.arch=python", "model.generator=mynets.py:G",
                                            "model.discriminator=mynets.py:D"])
    assert cfg.model.generator == f"{nets_file}:G"


@pytest.mark.parametrize(("g", "d", "overrides", "needle"), [
    ("G", "D", ["model.kwargs={flat: true}"], "made a tensor of shape [4, 64]"),
    ("G", "D", ["model.kwargs={tanh: false, scale: 100}"], "images must be in [-1, 1]: end G with tanh"),
    ("G", "D", ["model.kwargs={out: 2}"], "returned shape [4, 2] for 4 images"),
    ("G", "D", ["model.kwargs={sigmoid: true}"], "returns probabilities"),
    ("G", "nowhere", [], "has no callable named 'nowhere'"),
    ("not_a_module", "D", [], "returned int, not a torch.nn.Module"),
    ("broken", "D", [], "ValueError: width must be even"),
])
def test_contract_violations_are_one_line_errors(nets_file, g, d, overrides, needle):
    cfg = python_config(nets_file, *overrides, g=g, d=d)
    with pytest.raises(GanforgeError) as info:
        build_networks(cfg.model, (1, 8, 8))
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_generator_without_a_bounded_last_operation_gets_a_warning(nets_file):
    with pytest.warns(UserWarning, match="does not end in tanh"):
        build_networks(python_config(nets_file, "model.kwargs={tanh: false}").model, (1, 8, 8))


def test_unimportable_factories_are_named(tmp_path):
    for spec, needle in [("no_such_pkg.mod:G", "cannot import no_such_pkg.mod"), ("nonsense", "is not 'package"),
                         (f"{tmp_path}/missing.py:G", "no file")]:
        cfg = load_config("default", overrides=["model.arch=python", f"model.generator={spec}",
                                                "model.discriminator=x:D"])
        with pytest.raises(GanforgeError, match="model.generator"):
            build_networks(cfg.model, (1, 8, 8))
        with pytest.raises(GanforgeError, match=needle):
            build_networks(cfg.model, (1, 8, 8))


def test_python_nets_with_batchnorm_keep_two_discriminator_passes(nets_file):
    _, d = build_networks(python_config(nets_file).model, (1, 8, 8))
    assert treats_samples_independently(d)  # the test D has no normalization: one pass is exact
    g, _ = build_networks(python_config(nets_file).model, (1, 8, 8))
    assert not treats_samples_independently(g)


# --- Keras ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> Path:
    os.environ.setdefault("KERAS_BACKEND", "torch")  # as ganforge does before its first Keras import
    pytest.importorskip("keras", reason="Keras 3 is an optional extra: pip install -e '.[keras]'")
    path = tmp_path_factory.mktemp("keras") / "knets.py"
    path.write_text(textwrap.dedent(KERAS_NETS))
    return path


def keras_config(keras_file: Path, *overrides: str):
    return nets_config("keras", keras_file, "make_g", "make_d", *overrides)


def test_keras_nets_train_resume_exactly_sample_and_export(keras_file, tmp_path):
    full = trained_twice(keras_config(keras_file), tmp_path)
    a = checkpoint_of(full)
    assert not torch.equal(a["recipe"]["generator"]["net.weights.0"], a["recipe"]["ema"]["model"]["net.weights.0"])
    loaded = load_run(full)
    images = loaded.family.sample(loaded.model, _request(n=2))
    assert images.shape == (2, 1, 8, 8)
    summary = export_generator(loaded.model, "keras", tmp_path / "g.keras")
    assert summary["max_abs_diff"] < 1e-5


def test_keras_discriminator_with_sigmoid_is_refused(keras_file):
    with pytest.raises(GanforgeError, match="returns probabilities"):
        build_networks(keras_config(keras_file, "model.kwargs={sigmoid: true}").model, (1, 8, 8))


def test_keras_nets_are_never_run_as_one_batch(keras_file):
    _, d = build_networks(keras_config(keras_file).model, (1, 8, 8))
    assert not treats_samples_independently(d)  # Keras layers are invisible to torch: assume batch-dependent


def test_a_non_torch_keras_backend_is_refused(monkeypatch):
    from ganforge.nets.keras_user import import_keras

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(GanforgeError, match="KERAS_BACKEND=jax"):
        import_keras()


def test_keras_export_of_a_torch_run_is_refused(nets_file, tmp_path):
    run = train(python_config(nets_file, "train.steps=1"), out=tmp_path / "py")
    with pytest.raises(GanforgeError, match="needs a run with model.arch keras"):
        export_generator(load_run(run).model, "keras", tmp_path / "g.keras")


def _request(n: int, class_index: int | None = None):
    from ganforge.families.base import SampleRequest

    return SampleRequest(n=n, seed=0, class_index=class_index)
