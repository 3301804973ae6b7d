"""MLP generator and discriminator for 2D points; the discriminator can pack samples (PacGAN)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from ganforge.errors import GanforgeError


def mlp(inputs: int, width: int, layers: int, outputs: int, activation: Callable[[], nn.Module]) -> nn.Sequential:
    parts: list[nn.Module] = []
    for i in range(layers):
        parts += [nn.Linear(inputs if i == 0 else width, width), activation()]
    parts.append(nn.Linear(width, outputs))
    return nn.Sequential(*parts)


class PointGenerator(nn.Module):
    """``z [B, z_dim]`` -> points ``[B, 2]`` (unbounded: the plane, not [-1, 1])."""

    num_classes = 0

    def __init__(self, z_dim: int, width: int, layers: int) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.net = mlp(z_dim, width, layers, 2, nn.ReLU)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z)


class PackedDiscriminator(nn.Module):
    """Points ``[B, 2]`` -> logits ``[B / pack]``: each logit judges ``pack`` consecutive samples together
    (Lin et al. 2018, PacGAN), which lets D see a lack of diversity. ``pack=1`` is a plain discriminator."""

    def __init__(self, width: int, layers: int, pack: int = 1) -> None:
        super().__init__()
        self.pack = pack
        self.net = mlp(2 * pack, width, layers, 1, lambda: nn.LeakyReLU(0.2))

    def forward(self, points: Tensor, labels: Tensor | None = None) -> Tensor:
        if points.shape[0] % self.pack:
            raise GanforgeError(f"model.pack={self.pack} needs batches that are a multiple of it "
                                f"(got {points.shape[0]}); set data.batch_size to a multiple of {self.pack}")
        return self.net(points.reshape(-1, 2 * self.pack)).squeeze(1)
