"""The guided filter of the Lab colorizer (``model.color_guide``): colors change only where lightness does."""

from __future__ import annotations

import pytest
import torch

from ganforge import GanforgeError, load_config
from ganforge.families.translation import FAMILY
from ganforge.families.translation.color import box_mean, guided_filter, rgb_to_lab
from ganforge.families.translation.data import build_pair_dataset
from ganforge.families.translation.family import build_generators
from ganforge.training.checkpoint import seed_everything

TINY = ["data.size=16", "model.g_width=8", "model.d_width=8", "model.color_scale=1", "train.device=cpu"]


def test_box_mean_averages_squares_cut_at_the_borders():
    x = torch.rand(1, 2, 9, 13)
    means = box_mean(x, 2)
    assert means.shape == x.shape
    assert torch.allclose(means[0, :, 4, 6], x[0, :, 2:7, 4:9].mean(dim=(1, 2)))
    assert torch.allclose(means[0, :, 0, 0], x[0, :, :3, :3].mean(dim=(1, 2)))  # a 3x3 corner, not zero-padded


def test_guided_filter_keeps_what_follows_the_guide_and_smooths_what_does_not():
    generator = torch.Generator().manual_seed(0)
    guide = torch.full((1, 1, 48, 64), 30.0)
    guide[..., 32:] = 70.0  # two flat halves with a sharp edge between them
    step = torch.where(guide > 50, 0.4, -0.2).expand(-1, 2, -1, -1)
    noisy = step + 0.1 * torch.randn(1, 2, 48, 64, generator=generator)
    filtered = guided_filter(noisy, guide, radius=6, eps=10.0)
    assert torch.allclose(guided_filter(torch.full_like(noisy, 0.3), guide, 6, 10.0), torch.tensor(0.3), atol=1e-5)
    assert (filtered - step).std() < 0.25 * (noisy - step).std()  # texture the guide lacks is removed...
    edge = slice(28, 36)  # ...but the color edge where the guide has one stays sharp, unlike a plain blur
    assert (filtered - step)[..., edge].abs().mean() < 0.3 * (box_mean(noisy, 6) - step)[..., edge].abs().mean()
    affine = (0.01 * guide - 0.5).expand(-1, 2, -1, -1)
    assert torch.allclose(guided_filter(affine, guide, 6, 1e-3), affine, atol=1e-3)


def colorizer(guide: int):
    config = load_config("pix2pix-colorize", overrides=[*TINY, f"model.color_guide={guide}"])
    seed_everything(0)
    network = build_generators(config.with_section("model", a_channels=1, b_channels=3))["AtoB"]
    with torch.no_grad():  # an untrained net predicts a, b of about 0: shake it to get colors
        for parameter in network.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    return network.eval()


def test_color_guide_takes_the_texture_out_of_the_output_colors_and_training_does_not_see_it():
    gray = torch.full((1, 1, 64, 64), -0.4)
    gray[..., 32:] = 0.5  # two flat halves
    gray = gray + 0.01 * torch.randn(1, 1, 64, 64, generator=torch.Generator().manual_seed(1))
    plain, guided = colorizer(0), colorizer(8)  # the same weights
    with torch.no_grad():
        assert torch.equal(plain.predict_ab(gray), guided.predict_ab(gray))  # what the recipe trains
        texture = {name: rgb_to_lab((net(gray) + 1) / 2)[:, 1:, 8:56, 4:28].std(dim=(-2, -1)).mean().item()
                   for name, net in (("plain", plain), ("guided", guided))}
    assert texture["plain"] > 1.0 and texture["guided"] < 0.3 * texture["plain"]


def test_color_guide_needs_lab():
    config = load_config("pix2pix-colorize", overrides=[*TINY, "model.color_space=rgb", "model.color_guide=4"])
    with pytest.raises(GanforgeError, match="color_guide"):
        FAMILY.fit_config(config, build_pair_dataset("colorize-photos", size=16))
