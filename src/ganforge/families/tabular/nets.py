"""CTGAN's networks and the activations of generated rows.

The generator stacks residual layers (each concatenates its input to ``relu(bn(linear(x)))``) and ends in
linear heads with one output per column of the encoded matrix: raw values, turned into rows by an
activation (tanh for mode offsets, Gumbel-softmax for one-hots in training, a seeded draw at sampling).
The discriminator sees ``pac`` rows (and their conditions) at once as one input (PacGAN), through
linear + LeakyReLU + dropout layers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.tabular.transform import Span


class Residual(nn.Module):
    def __init__(self, width_in: int, width_out: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width_in, width_out)
        self.bn = nn.BatchNorm1d(width_out)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


Activation = Callable[[Tensor, int, Span], Tensor]
"""Turns one span's raw outputs (with the span's index and layout) into that span's part of a row."""


class TableGenerator(nn.Module):
    """(noise, condition) -> raw encoded row and the row itself, through an ``Activation``.

    With ``chained`` heads, each span's head also reads the activated spans before it (one Linear per span),
    so the levels drawn for later columns can depend on the levels drawn for earlier ones. One shared head
    (CTGAN's) makes every column's logits from the same hidden state only: the one-hots of a row are then
    drawn independently of each other, and values that go together in the table (fair's ``affairs`` and
    ``yrs_married``) are paired only as far as every softmax is sharp.
    """

    def __init__(self, z_dim: int, cond_dim: int, dims: Sequence[int], spans: Sequence[Span],
                 chained: bool = False) -> None:
        super().__init__()
        self.z_dim, self.cond_dim = z_dim, cond_dim
        self.spans, self.chained = list(spans), chained
        self.data_dim = sum(span.width for span in self.spans)
        layers: list[nn.Module] = []
        width = z_dim + cond_dim
        for out in dims:
            layers.append(Residual(width, out))
            width += out
        self.body = nn.Sequential(*layers)
        if chained:
            self.heads = nn.ModuleList(nn.Linear(width + span.start, span.width) for span in self.spans)
        else:
            self.head = nn.Linear(width, self.data_dim)

    def forward(self, z: Tensor, cond: Tensor, activation: Activation) -> tuple[Tensor, Tensor]:
        hidden = self.body(torch.cat([z, cond], dim=1))
        if not self.chained:
            raw = self.head(hidden)
            rows = [activation(raw[:, s.start: s.start + s.width], i, s) for i, s in enumerate(self.spans)]
            return raw, torch.cat(rows, dim=1)
        raws: list[Tensor] = []
        rows = []
        for i, (head, span) in enumerate(zip(self.heads, self.spans, strict=True)):
            raws.append(head(torch.cat([hidden, *rows], dim=1)))
            rows.append(activation(raws[-1], i, span))
        return torch.cat(raws, dim=1), torch.cat(rows, dim=1)


class PackedDiscriminator(nn.Module):
    """``pac`` rows (each with its condition) -> one raw critic value."""

    def __init__(self, input_dim: int, dims: Sequence[int], pac: int, dropout: float) -> None:
        super().__init__()
        self.pac = pac
        layers: list[nn.Module] = []
        width = input_dim * pac
        for out in dims:
            layers += [nn.Linear(width, out), nn.LeakyReLU(0.2), nn.Dropout(dropout)]
            width = out
        layers.append(nn.Linear(width, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, rows: Tensor) -> Tensor:
        return self.body(rows.reshape(-1, rows.shape[1] * self.pac))


def soft_activation(tau: float) -> Activation:
    """Training-time rows: tanh on offsets, Gumbel-softmax (temperature ``tau``) on each one-hot group."""

    def activation(piece: Tensor, index: int, span: Span) -> Tensor:
        return torch.tanh(piece) if span.kind == "tanh" else F.gumbel_softmax(piece, tau=tau)

    return activation


def hard_activation(generator: torch.Generator, forced: dict[int, int] | None = None) -> Activation:
    """Sampling-time rows: tanh on offsets, one level drawn from each softmax group (Gumbel-max with a
    seeded ``generator``, so the same seed gives the same rows). ``forced`` maps a span's index to the
    level every row gets there (``--where``); the draw is still made, so other spans' draws do not move."""

    def activation(piece: Tensor, index: int, span: Span) -> Tensor:
        if span.kind == "tanh":
            return torch.tanh(piece)
        uniform = torch.rand(piece.shape, generator=generator).clamp_(1e-10, 1 - 1e-10).to(piece.device)
        choice = (piece - torch.log(-torch.log(uniform))).argmax(1)
        if forced is not None and index in forced:
            choice = torch.full_like(choice, forced[index])
        return F.one_hot(choice, span.width).to(piece.dtype)

    return activation


def packed_gradient_penalty(critic: PackedDiscriminator, real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP on interpolates, one mixing weight per pack, norm over each pack's whole input."""
    pac = critic.pac
    weight = torch.rand(real.shape[0] // pac, 1, 1, device=real.device).expand(-1, pac, 1).reshape(-1, 1)
    mixed = (weight * real + (1 - weight) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    norms = grad.reshape(-1, pac * real.shape[1]).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


def cond_cross_entropy(raw: Tensor, cond_spans: Sequence[Span], column: Tensor, level: Tensor) -> Tensor:
    """Mean over rows of the cross-entropy of the conditioned column's generated logits vs its level."""
    if not cond_spans:
        return raw.new_zeros(())
    total = raw.new_zeros(raw.shape[0])
    for j, span in enumerate(cond_spans):
        logits = raw[:, span.start: span.start + span.width]
        picked = column == j
        loss = F.cross_entropy(logits, level.clamp(max=span.width - 1), reduction="none")
        total = total + loss * picked
    return total.mean()


class TargetClassifier(nn.Module):
    """Auxiliary classifier (as CTAB-GAN's): an encoded row with the target's spans zeroed -> logits of the
    target's one-hot (its level, or its mode for a numeric target)."""

    def __init__(self, data_dim: int, dims: Sequence[int], classes: int, hidden: Sequence[tuple[int, int]]) -> None:
        super().__init__()
        keep = torch.ones(data_dim)
        for start, width in hidden:
            keep[start: start + width] = 0.0
        self.register_buffer("keep", keep)
        layers: list[nn.Module] = []
        width = data_dim
        for out in dims:
            layers += [nn.Linear(width, out), nn.LeakyReLU(0.2)]
            width = out
        layers.append(nn.Linear(width, classes))
        self.body = nn.Sequential(*layers)

    def forward(self, rows: Tensor) -> Tensor:
        return self.body(rows * self.keep)
