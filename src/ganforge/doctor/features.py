"""The spaces the sample checks measure in: digits-v1 features (and its class logits) for digit data, small
gray thumbnails for any other images; plus the distances the checks use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

DIGIT_DATA = ("digits", "mnist")  # data sets the digits classifier knows (its classes are theirs)
THUMBNAIL = 16


@dataclass
class Embedder:
    """``features(images)`` -> [N, D]; ``classes(images)`` -> predicted class [N], when a classifier applies."""

    name: str
    features: Callable[[Tensor], Tensor]
    classes: Callable[[Tensor], Tensor] | None = None


def thumbnails(images: Tensor) -> Tensor:
    """Images [N, C, H, W] in [-1, 1] -> gray 16x16 thumbnails, flattened [N, 256]."""
    gray = images.float().mean(dim=1, keepdim=True)
    return F.adaptive_avg_pool2d(gray, THUMBNAIL).flatten(1)


def embedder_for(data_name: str) -> Embedder:
    """digits-v1 (features and classes) for digit data, thumbnails otherwise."""
    if data_name.split(":")[0] not in DIGIT_DATA:
        return Embedder(f"gray {THUMBNAIL}x{THUMBNAIL} thumbnails", thumbnails)
    from ganforge.metrics.digits_net import DIGITS_VERSION, load_digits_net

    net = load_digits_net()

    @torch.no_grad()
    def run(images: Tensor) -> dict[str, Tensor]:
        parts = [net(part.float()) for part in images.split(256)]
        return {k: torch.cat([p[k] for p in parts]) for k in ("features", "logits")}

    return Embedder(f"{DIGITS_VERSION} features", lambda x: run(x)["features"], lambda x: run(x)["logits"].argmax(1))


def mean_pairwise_distance(features: Tensor) -> float:
    """The mean Euclidean distance between two different rows (0 for fewer than two rows)."""
    n = features.shape[0]
    if n < 2:
        return 0.0
    distances = torch.cdist(features.double(), features.double())
    return float(distances.sum() / (n * (n - 1)))


def nearest_other(images: Tensor) -> Tensor:
    """For each image, the RMS pixel difference to the closest other image of the batch [N]."""
    flat = images.float().flatten(1)
    distances = torch.cdist(flat, flat) / flat.shape[1] ** 0.5
    distances.fill_diagonal_(float("inf"))
    return distances.min(dim=1).values


def frechet(real: Tensor, fake: Tensor) -> float:
    """The Frechet distance between Gaussians fitted to two feature sets."""
    from ganforge.metrics.frechet import frechet_distance

    return float(frechet_distance(real.double().numpy(), fake.double().numpy()))
