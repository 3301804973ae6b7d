import math

import pytest
import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.losses import (
    LOSS_DESCRIPTIONS,
    bce_minimax_g_loss,
    bce_non_saturating_g_loss,
    build_loss,
    gradient_penalty,
    r1_penalty,
)


def test_bce_matches_the_textbook_formula_on_probabilities():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([0.5, -3.0])
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert torch.allclose(build_loss("bce").d_loss(real, fake), expected, atol=1e-6)
    assert torch.allclose(bce_minimax_g_loss(fake), torch.log(1 - d_fake).mean(), atol=1e-6)
    assert torch.allclose(bce_non_saturating_g_loss(fake), -torch.log(d_fake).mean(), atol=1e-6)


def test_bce_is_stable_on_extreme_logits():
    big = torch.tensor([80.0, -80.0])
    for variant in ("non-saturating", "minimax", "mse"):
        loss = build_loss("bce", variant)
        assert torch.isfinite(loss.d_loss(big, -big)) and torch.isfinite(loss.g_loss(big))


def test_minimax_saturates_where_non_saturating_does_not():
    # A confident discriminator (fake logit -10): minimax gives the generator almost no gradient.
    fake = torch.tensor([-10.0], requires_grad=True)
    (g_mm,) = torch.autograd.grad(bce_minimax_g_loss(fake), fake)
    (g_ns,) = torch.autograd.grad(bce_non_saturating_g_loss(fake), fake)
    assert g_mm.abs() < 1e-4 < 0.9 < g_ns.abs()


@pytest.mark.parametrize("name", list(LOSS_DESCRIPTIONS))
def test_d_loss_prefers_telling_real_from_fake(name):
    loss = build_loss(name)
    good = loss.d_loss(torch.full((8,), 3.0), torch.full((8,), -3.0))
    bad = loss.d_loss(torch.full((8,), -3.0), torch.full((8,), 3.0))
    assert good < bad
    assert loss.g_loss(torch.full((8,), 3.0)) < loss.g_loss(torch.full((8,), -3.0))


def test_hinge_and_lsgan_values():
    real, fake = torch.tensor([0.5, 2.0]), torch.tensor([-0.5, 0.0])
    assert math.isclose(build_loss("hinge").d_loss(real, fake).item(), (0.5 + 0) / 2 + (0.5 + 1) / 2)
    assert math.isclose(build_loss("lsgan").d_loss(real, fake).item(), 0.5 * ((0.25 + 1) / 2 + (0.25 + 0) / 2))


def test_loss_flags():
    assert build_loss("wgan-gp", gp_weight=5).gp_weight == 5
    assert build_loss("wgan", clip=0.02).weight_clip == 0.02
    assert build_loss("hinge", r1_gamma=1).r1_gamma == 1


def test_unknown_names_list_the_known_ones():
    with pytest.raises(GanforgeError, match="hinge"):
        build_loss("hing")
    with pytest.raises(GanforgeError, match="non-saturating"):
        build_loss("bce", "nonsat")


class Linear1(nn.Module):
    """D(x) = w . x: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, labels=None):
        return (x.flatten(1) * self.w).sum(1)


def test_gradient_penalty_of_a_linear_critic_is_known():
    w = torch.tensor([3.0, 4.0, 0.0, 0.0])  # |grad| = 5 -> penalty (5 - 1)^2 = 16
    d = Linear1(w)
    real, fake = torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2)
    gp = gradient_penalty(d, real, fake)
    assert torch.allclose(gp, torch.tensor(16.0))
    gp.backward()
    assert d.w.grad is not None and d.w.grad.abs().sum() > 0  # create_graph: the penalty trains D


def test_r1_penalty_of_a_linear_critic_is_known():
    d = Linear1(torch.tensor([1.0, 2.0, 2.0, 0.0]))  # |grad|^2 = 9
    real = torch.randn(5, 1, 2, 2, requires_grad=True)
    assert torch.allclose(r1_penalty(d(real), real), torch.tensor(9.0))
