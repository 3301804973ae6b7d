"""The discriminator step's real+fake pass: one batch where that gives the same numbers, two passes otherwise."""

from __future__ import annotations

import json

import pytest
import torch

from ganforge import load_config
from ganforge.nets import build_networks
from ganforge.recipes.gan import DiscriminatorPair

SHAPE = (1, 16, 16)
CONDITIONAL = ["model.g_cond=concat", "model.num_classes=10"]


def discriminator_of(*overrides: str) -> torch.nn.Module:
    config = load_config("dcgan", overrides=["data.size=16", "model.z_dim=8", *overrides])
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


def test_mode_seeking_ratio_and_its_pull_on_a_collapsed_generator():
    from ganforge.recipes.gan import mode_seeking_ratio

    noise = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    same = torch.ones(8, 1, 2, 2)
    assert float(mode_seeking_ratio(same, noise)) == 0.0  # every fake alike: no spread
    spread = torch.cat([torch.zeros(4, 1, 2, 2), torch.full((4, 1, 2, 2), 2.0)])
    expected = 2.0 / (noise[:4] - noise[4:]).abs().mean()
    assert float(mode_seeking_ratio(spread, noise)) == pytest.approx(float(expected))


def test_mode_seeking_pairs_labels_and_logs_the_spread(tmp_path, monkeypatch):
    from ganforge import train
    from ganforge.recipes.gan import GANRecipe

    seen = []
    original = GANRecipe.generator_step

    def recording(self, fake, fake_labels=None, noise=None):
        seen.append(fake_labels.clone())
        return original(self, fake, fake_labels, noise)

    monkeypatch.setattr(GANRecipe, "generator_step", recording)

    overrides = ["data.name=digits8", "data.batch_size=8", "data.clusters=3", "model.z_dim=8", "model.g_width=8",
                 "model.d_width=8", "train.steps=3", "train.log_every=1", "train.device=cpu",
                 "loss.mode_seeking=1.0"]
    run = train(load_config("selfcond", overrides=overrides), out=tmp_path / "ms", progress=False)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    spreads = [r["g_spread"] for r in records if "g_spread" in r]
    assert len(spreads) == 3 and all(s > 0 for s in spreads)
    assert len(seen) == 3 and all(torch.equal(labels[:4], labels[4:]) for labels in seen)
