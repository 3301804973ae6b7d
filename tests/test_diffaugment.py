import pytest
import torch

from ganforge.data.diffaugment import cutout, diff_augment, time_shift, translation
from ganforge.errors import GanforgeError


def test_translation_moves_content_by_at_most_the_ratio():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    y = translation(x, ratio=0.125)  # up to 2 pixels
    assert y.shape == x.shape
    positions = (y[:, 0] == 1).nonzero()[:, 1:]
    assert len(positions) == 64  # the pixel never leaves a 16x16 image from the centre
    assert (positions - 8).abs().max() == 2
    assert len({tuple(p.tolist()) for p in positions}) > 10  # per-sample shifts
    assert torch.equal(y.sum(dim=(1, 2, 3)), torch.ones(64))


def test_time_shift_moves_content_sideways_only():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 5, 8] = 1.0  # a spectrogram's band 5 at frame 8
    positions = (time_shift(x)[:, 0] == 1).nonzero()[:, 1:]
    assert len(positions) == 64
    assert (positions[:, 0] == 5).all()  # the band (frequency) never moves
    assert (positions[:, 1] - 8).abs().max() == 2 and len(set(positions[:, 1].tolist())) == 5


def test_cutout_zeros_a_square_per_image():
    torch.manual_seed(0)
    x = torch.ones(32, 3, 16, 16)
    y = cutout(x, ratio=0.5)
    zeros = (y == 0).all(dim=1).sum(dim=(1, 2))
    assert zeros.max() == 64  # an 8x8 square when it lies fully inside
    assert zeros.min() >= 16  # partly outside at the borders, never empty
    assert not torch.equal(y[0], y[1]) or not torch.equal(y[1], y[2])


def test_policy_is_differentiable_and_follows_the_seed():
    x = torch.rand(8, 3, 12, 12, requires_grad=True)
    torch.manual_seed(3)
    a = diff_augment(x, ["color", "translation", "cutout"])
    torch.manual_seed(3)
    b = diff_augment(x, ["color", "translation", "cutout"])
    assert torch.equal(a, b)
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert diff_augment(x, []) is x


def test_unknown_op_lists_the_known_ones():
    with pytest.raises(GanforgeError, match="translation"):
        diff_augment(torch.zeros(1, 1, 4, 4), ["rotate90"])
