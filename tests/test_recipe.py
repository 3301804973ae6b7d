"""The discriminator step's real+fake pass: one batch where that gives the same numbers, two passes otherwise."""

from __future__ import annotations

import pytest
import torch

from ganforge import load_config
from ganforge.nets import build_networks
from ganforge.recipes.gan import DiscriminatorPair

SHAPE = (1, 16, 16)
CONDITIONAL = ["model.g_cond=concat", "model.num_classes=10"]


def discriminator_of(*overrides: str) -> torch.nn.Module:
    config = load_config("default", overrides=["data.size=16", "model.z_dim=8", *overrides])
    torch.manual_seed(0)
    return build_networks(config.model, SHAPE)[1].train()


@pytest.mark.parametrize(("overrides", "one_pass"), [
    (["model.arch=mlp", "model.d_hidden=[32]"], True),
    (["model.arch=mlp", "model.d_hidden=[32]", *CONDITIONAL, "model.d_cond=projection"], True),
    (["model.arch=mlp", "model.d_hidden=[32]", "model.d_dropout=0.3"], False),  # dropout masks: other draws
    (["model.d_batchnorm=false", "model.d_width=8"], True),
    (["model.d_width=8"], False),  # BatchNorm: statistics per pass, as in the usual loop
    (["model.d_batchnorm=false", "model.d_width=8", "model.d_spectral_norm=true"], False),  # power iteration
    (["model.d_batchnorm=false", "model.d_width=8", "model.d_minibatch_std=true"], False),
])
def test_one_pass_only_where_it_gives_the_numbers_of_two(overrides, one_pass):
    pair = DiscriminatorPair(discriminator_of(*overrides))
    assert pair.one_pass == one_pass
    real, fake = torch.randn(6, *SHAPE), torch.randn(6, *SHAPE)
    labels = (torch.arange(6), torch.arange(6).flip(0)) if "model.num_classes=10" in overrides else (None, None)
    if one_pass:
        joint = pair(real, fake, *labels)
        apart = (pair.discriminator(real, labels[0]), pair.discriminator(fake, labels[1]))
        for a, b in zip(joint, apart, strict=True):
            assert torch.allclose(a, b, atol=1e-6)


def test_one_pass_with_class_logits_splits_both_outputs():
    pair = DiscriminatorPair(discriminator_of("model.arch=mlp", "model.d_hidden=[32]", *CONDITIONAL,
                                              "model.d_cond=acgan"))
    assert pair.one_pass
    real, fake = torch.randn(5, *SHAPE), torch.randn(5, *SHAPE)
    labels = torch.arange(5)
    (real_logits, real_classes), (fake_logits, fake_classes) = pair(real, fake, labels, labels, with_classes=True)
    expected_logits, expected_classes = pair.discriminator(fake, labels, with_classes=True)
    assert real_logits.shape == fake_logits.shape and real_classes.shape == (5, 10)
    assert torch.allclose(fake_logits, expected_logits, atol=1e-6)
    assert torch.allclose(fake_classes, expected_classes, atol=1e-6)
