"""Tests of the networks: shapes, ranges, logits, size rules, configs, gradients, spectral norm."""

from __future__ import annotations

import pytest
import torch
from pydantic import TypeAdapter, ValidationError
from torch import nn
from torch.nn.utils import parametrize

from ganforge.errors import GanforgeError
from ganforge.nets import (
    MODEL_DESCRIPTIONS,
    DCGANConfig,
    KerasDCGANConfig,
    MLPConfig,
    ModelConfig,
    ResNetConfig,
    build_networks,
    model_config_class,
    supported_sizes,
)
from ganforge.nets.layers import conv_plan

# narrow widths keep the shape tests fast; default widths are checked in the parameter-count tests
SMALL = {
    "mlp": MLPConfig(z_dim=16, g_hidden=[32, 64], d_hidden=[64, 32]),
    "dcgan": DCGANConfig(z_dim=16, g_width=8, d_width=8),
    "resnet": ResNetConfig(z_dim=16, g_width=16, d_width=16),
    "keras-dcgan": KerasDCGANConfig(z_dim=16, g_proj_channels=16),
}
CASES = [
    (arch, size, channels)
    for arch in SMALL
    for size in (8, 28, 32, 64)
    for channels in (1, 3)
    if size in supported_sizes(arch)
]
WEIGHTED = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def linear_shapes(module: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def conv_channels(module: nn.Module, kind: type) -> list[tuple[int, int]]:
    return [(m.in_channels, m.out_channels) for m in module.modules() if type(m) is kind]


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def test_cases_cover_every_arch_and_size() -> None:
    # translation nets: test_translation; your own nets (python, keras): test_byo
    assert {arch for arch, _, _ in CASES} == set(MODEL_DESCRIPTIONS) - {"pix2pix", "cyclegan", "python", "keras"}
    assert {size for _, size, _ in CASES} == {8, 28, 32, 64}


@pytest.mark.parametrize("arch,size,channels", CASES)
def test_generator_shape_and_range(arch: str, size: int, channels: int) -> None:
    g, _ = build_networks(SMALL[arch], (channels, size, size))
    z = 10 * torch.randn(6, SMALL[arch].z_dim)  # large z pushes pre-tanh values far out
    x = g(z, torch.zeros(6, dtype=torch.long))
    assert x.shape == (6, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert x.std() > 0.01  # not a constant image
    assert g.z_dim == SMALL[arch].z_dim
    with torch.no_grad():  # blow up the last layer: the output must saturate at +-1, not pass 1
        [m for m in g.modules() if isinstance(m, WEIGHTED)][-1].weight.mul_(1000)
        x = g(z)
    assert x.abs().max() <= 1 and x.abs().max() > 0.99


@pytest.mark.parametrize("arch,size,channels", CASES)
def test_discriminator_gives_raw_logits(arch: str, size: int, channels: int) -> None:
    _, d = build_networks(SMALL[arch], (channels, size, size))
    x = torch.randn(16, channels, size, size)
    assert d(x, torch.zeros(16, dtype=torch.long)).shape == (16,)
    assert not any(isinstance(m, (nn.Sigmoid, nn.Tanh)) for m in d.modules())
    d.eval()  # deterministic (dropout off); shifting the head's bias must shift the output one for one
    with torch.no_grad():
        before = d(x)
        [m for m in d.modules() if isinstance(m, nn.Linear)][-1].bias -= 5.0
        after = d(x)
    assert (after < 0).all(), "D output looks squashed into [0, 1]"
    torch.testing.assert_close(after, before - 5.0)


@pytest.mark.parametrize("arch", list(SMALL))
def test_gradients_reach_every_generator_parameter(arch: str) -> None:
    g, d = build_networks(SMALL[arch], (3, 32, 32))
    d(g(torch.randn(8, SMALL[arch].z_dim))).mean().backward()
    for name, p in g.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"no gradient reaches G.{name}"
    assert all(p.grad is not None for p in d.parameters())


@pytest.mark.parametrize("arch", list(SMALL))
def test_generator_samples_one_image_in_eval_mode(arch: str) -> None:
    g, _ = build_networks(SMALL[arch], (1, 28, 28))
    g.eval()
    with torch.no_grad():
        assert g(torch.randn(1, SMALL[arch].z_dim, 1, 1)).shape == (1, 1, 28, 28)


# --- sizes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size,plan",
    [(8, (4, 1)), (28, (7, 2)), (32, (4, 3)), (64, (4, 4)), (24, (3, 3)), (48, (3, 4)), (256, (4, 6)),
     (30, None), (36, None), (9, None), (7, None), (2, None)],
)  # fmt: skip
def test_conv_plan(size: int, plan: tuple[int, int] | None) -> None:
    assert conv_plan(size) == plan


def test_supported_sizes() -> None:
    dcgan = supported_sizes("dcgan")
    assert {8, 28, 32, 64, 128, 256} <= set(dcgan)
    assert 30 not in dcgan and 36 not in dcgan and 9 not in dcgan
    assert supported_sizes("resnet") == dcgan
    assert supported_sizes("keras-dcgan") == list(range(8, 257, 4))
    assert supported_sizes("mlp", 8, 40) == list(range(8, 41))
    assert supported_sizes("dcgan", 20, 40) == [20, 24, 28, 32, 40]


@pytest.mark.parametrize("arch,size", [("dcgan", 30), ("resnet", 30), ("keras-dcgan", 30), ("dcgan", 36)])
def test_impossible_size_lists_working_sizes(arch: str, size: int) -> None:
    with pytest.raises(GanforgeError) as info:
        build_networks(model_config_class(arch)(), (3, size, size))
    message = str(info.value)
    assert "\n" not in message
    assert f"{arch} cannot make {size}x{size}" in message
    assert "28, 32" in message and "data.size" in message


@pytest.mark.parametrize("shape", [(3, 32, 28), (0, 32, 32)])
def test_bad_image_shapes_are_refused(shape: tuple[int, int, int]) -> None:
    with pytest.raises(GanforgeError):
        build_networks(DCGANConfig(), shape)


def test_mlp_takes_any_size() -> None:
    g, d = build_networks(SMALL["mlp"], (3, 30, 30))
    assert d(g(torch.randn(2, 16))).shape == (2,)


# --- configs -------------------------------------------------------------------------------------


def test_model_config_from_dict() -> None:
    adapter = TypeAdapter(ModelConfig)
    cfg = adapter.validate_python({"arch": "mlp", "g_hidden": [128]})
    assert isinstance(cfg, MLPConfig) and cfg.g_hidden == [128] and cfg.d_hidden == [512, 256]
    assert isinstance(adapter.validate_python({"arch": "keras-dcgan"}), KerasDCGANConfig)
    g, _ = build_networks(cfg, (1, 8, 8))
    assert linear_shapes(g) == [(100, 128), (128, 64)]
    with pytest.raises(ValidationError, match="extra"):
        adapter.validate_python({"arch": "mlp", "g_hiden": [128]})
    with pytest.raises(ValidationError):
        adapter.validate_python({"arch": "gpt"})


@pytest.mark.parametrize(
    "cls,bad",
    [
        (MLPConfig, {"z_dim": 0}),
        (MLPConfig, {"d_dropout": 1.0}),
        (MLPConfig, {"g_hidden": [0]}),
        (DCGANConfig, {"max_width": 0}),
        (ResNetConfig, {"g_width": -1}),
        (KerasDCGANConfig, {"d_dropout": -0.1}),
    ],
)
def test_config_constraints(cls: type, bad: dict) -> None:
    with pytest.raises(ValidationError):
        cls(**bad)


def test_model_config_class_and_descriptions() -> None:
    assert model_config_class("dcgan") is DCGANConfig
    assert model_config_class("keras-dcgan") is KerasDCGANConfig
    assert list(MODEL_DESCRIPTIONS) == ["mlp", "dcgan", "resnet", "keras-dcgan", "python", "keras"]
    assert all(text and "\n" not in text for text in MODEL_DESCRIPTIONS.values())
    with pytest.raises(GanforgeError, match="Known: mlp, dcgan, resnet, keras-dcgan, python, keras"):
        model_config_class("dcgna")
    with pytest.raises(GanforgeError):
        supported_sizes("nope")


# --- architectures as published ------------------------------------------------------------------


def test_mlp_article_shapes() -> None:
    g, d = build_networks(MLPConfig(z_dim=100, g_hidden=[128], d_hidden=[128]), (1, 28, 28))
    assert linear_shapes(g) == [(100, 128), (128, 784)]
    assert linear_shapes(d) == [(784, 128), (128, 1)]
    assert n_params(g) == 100 * 128 + 128 + 128 * 784 + 784
    assert n_params(d) == 784 * 128 + 128 + 128 + 1


def test_dcgan_channel_plan_at_64() -> None:
    g, d = build_networks(DCGANConfig(), (3, 64, 64))
    assert linear_shapes(g) == [(100, 512 * 4 * 4)]
    assert conv_channels(g, nn.ConvTranspose2d) == [(512, 256), (256, 128), (128, 64), (64, 3)]
    assert conv_channels(d, nn.Conv2d) == [(3, 64), (64, 128), (128, 256), (256, 512)]
    assert linear_shapes(d) == [(512 * 4 * 4, 1)]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 3  # none on the first stage


def test_dcgan_width_cap_and_init() -> None:
    g, d = build_networks(DCGANConfig(g_width=64, d_width=64, max_width=128), (1, 64, 64))
    assert conv_channels(g, nn.ConvTranspose2d) == [(128, 128), (128, 128), (128, 64), (64, 1)]
    assert conv_channels(d, nn.Conv2d) == [(1, 64), (64, 128), (128, 128), (128, 128)]
    weight = next(m.weight for m in g.modules() if isinstance(m, nn.ConvTranspose2d))
    assert 0.018 < weight.std().item() < 0.022


def test_dcgan_28_parameter_counts() -> None:
    g, d = build_networks(DCGANConfig(), (1, 28, 28))
    # G: Linear 100->128*7*7 (no bias), BN, ConvT 128->64, BN, ConvT 64->1 (+bias)
    assert n_params(g) == 100 * 6272 + 256 + 128 * 64 * 16 + 128 + 64 * 16 + 1
    # D: Conv 1->64 (+bias), Conv 64->128, BN, Linear 128*7*7 -> 1
    assert n_params(d) == 16 * 64 + 64 + 64 * 128 * 16 + 256 + 6272 + 1


def test_keras_dcgan_28_shapes() -> None:
    g, d = build_networks(KerasDCGANConfig(), (1, 28, 28))
    assert linear_shapes(g) == [(100, 7 * 7 * 128)]
    assert conv_channels(g, nn.ConvTranspose2d) == [(128, 128), (128, 64), (64, 1)]
    assert conv_channels(d, nn.Conv2d) == [(1, 64), (64, 128)]
    assert linear_shapes(d) == [(128 * 7 * 7, 1)]
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.3 for m in d.modules()) == 2
    plain = build_networks(KerasDCGANConfig(d_batchnorm=False, d_dropout=0.0), (1, 28, 28))[1]
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.Dropout)) for m in plain.modules())


def test_resnet_discriminator_is_spectrally_normalized() -> None:
    g, d = build_networks(SMALL["resnet"], (3, 32, 32))
    layers = [m for m in d.modules() if isinstance(m, WEIGHTED)]
    assert len(layers) == 4 * 2 + 3 + 1  # 2 convs per block, 3 shortcut convs, the linear head
    assert all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert not any(parametrize.is_parametrized(m) for m in g.modules())
    assert d.blocks(torch.randn(2, 3, 32, 32)).shape == (2, 16, 4, 4)  # global sum pooling follows


def test_dcgan_spectral_norm_switch() -> None:
    _, plain = build_networks(SMALL["dcgan"], (1, 28, 28))
    _, normed = build_networks(SMALL["dcgan"].model_copy(update={"d_spectral_norm": True}), (1, 28, 28))
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    assert all(parametrize.is_parametrized(m, "weight") for m in normed.modules() if isinstance(m, WEIGHTED))


def test_minibatch_std_sees_a_collapsed_batch():
    from ganforge.nets.layers import MinibatchStd

    layer = MinibatchStd(group_size=4)
    same = torch.randn(1, 3, 5, 5).repeat(8, 1, 1, 1)
    varied = torch.randn(8, 3, 5, 5)
    assert layer(same).shape == (8, 4, 5, 5)
    assert layer(same)[:, 3].max() < 1e-3 < 0.5 < layer(varied)[:, 3].min()
    assert torch.equal(layer(varied)[:, :3], varied)
    assert layer(torch.randn(6, 2, 3, 3)).shape == (6, 3, 3, 3)  # batch not divisible by 4: groups of 3


def test_dcgan_discriminator_with_minibatch_std():
    g, d = build_networks(DCGANConfig(d_minibatch_std=True, g_width=8, d_width=8), (1, 28, 28))
    logits = d(g(torch.randn(6, 100)))
    assert logits.shape == (6,)
    logits.sum().backward()
