"""Drawing images from a trained generator: noise from a seed, class labels, and loading from a checkpoint."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.nets import build_networks


def generator_from_state(model_config: Any, state: dict[str, Any], device: torch.device, ema: bool = True
                         ) -> nn.Module:
    """The generator of a checkpoint (its EMA copy by default, when there is one), in eval mode."""
    generator, _ = build_networks(model_config, tuple(state["image_shape"]))
    recipe_state: dict[str, Any] = state["recipe"]
    use_ema = ema and recipe_state.get("ema") is not None
    generator.load_state_dict(recipe_state["ema"]["model"] if use_ema else recipe_state["generator"])
    generator.z_dim = model_config.z_dim
    if state.get("label_prior"):  # a self-conditioned run: its clusters' shares of the data
        generator.label_prior = torch.tensor(state["label_prior"], dtype=torch.float64)
    return generator.to(device).eval()


def balanced_labels(n: int, num_classes: int) -> Tensor | None:
    """``0, 1, ..., K-1, 0, 1, ...`` (``n`` labels), or None for an unconditional model (``K`` = 0)."""
    return torch.arange(n) % num_classes if num_classes else None


def labels_by_prior(n: int, prior: Tensor) -> Tensor:
    """``n`` labels with each class's count its share of ``n`` (largest remainders), in a fixed mixed order."""
    share = prior / prior.sum() * n
    counts = share.floor().long()
    counts[torch.argsort(share - counts, descending=True, stable=True)[: n - int(counts.sum())]] += 1
    labels = torch.repeat_interleave(torch.arange(len(prior)), counts)
    return labels[torch.randperm(n, generator=torch.Generator().manual_seed(0))]


def class_labels(generator: nn.Module, n: int, class_index: int | None) -> Tensor | None:
    """The labels ``generate`` uses: all ``class_index``, or balanced over the classes when it is None (by the
    classes' shares of the data for a self-conditioned generator, which has a ``label_prior``)."""
    num_classes = getattr(generator, "num_classes", 0)
    prior = getattr(generator, "label_prior", None)
    if class_index is None:
        return balanced_labels(n, num_classes) if prior is None else labels_by_prior(n, prior)
    if not num_classes:
        raise GanforgeError(
            "this run is unconditional, so it cannot make a chosen class; train a conditional one "
            "(e.g. `ganforge train cond-dcgan`)"
        )
    if not 0 <= class_index < num_classes:
        raise GanforgeError(f"class {class_index} is out of range: this model makes classes 0 to {num_classes - 1}")
    return torch.full((n,), class_index, dtype=torch.int64)


@torch.no_grad()
def generate(
    generator: nn.Module, n: int, seed: int = 0, batch_size: int = 256, class_index: int | None = None,
    share: tuple[int, int] = (0, 1),
) -> Tensor:
    """``n`` images in [-1, 1] from noise drawn with ``seed`` (same seed, same images), on the CPU.

    A class-conditional generator makes class ``class_index``, or all classes in turn when it is None.
    ``share=(k, K)`` makes only the k-th of K consecutive parts of those ``n`` images (distributed use).
    """
    if n <= 0:
        raise GanforgeError(f"the number of images must be positive, got {n}")
    labels = class_labels(generator, n, class_index)
    device = next(generator.parameters()).device
    noise = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    index, parts = share
    noise = noise.tensor_split(parts)[index]
    labels = None if labels is None else labels.tensor_split(parts)[index]
    label_parts = labels.split(batch_size) if labels is not None else [None] * len(noise.split(batch_size))
    chunks = [
        generator(part.to(device), None if y is None else y.to(device)).float().cpu()
        for part, y in zip(noise.split(batch_size), label_parts, strict=True)
    ]
    return torch.cat(chunks)


def slerp_noise(generator: nn.Module, seed_a: int, seed_b: int, ts: Tensor) -> Tensor:
    """Spherical interpolation between the noise of two seeds at the points ``ts`` in [0, 1]."""
    a = torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(seed_a))
    b = torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(seed_b))
    omega = torch.arccos((a / a.norm() * b / b.norm()).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        return a.repeat(len(ts), 1)
    return (torch.sin((1 - ts) * omega)[:, None] * a + torch.sin(ts * omega)[:, None] * b) / torch.sin(omega)
