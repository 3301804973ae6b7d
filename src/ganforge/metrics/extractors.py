"""Feature extractors by name: the network whose features the metrics compare, and its protocol.

``digits`` (= ``digits-v1``, this project's committed digit CNN, offline), ``fashion`` (= ``fashion-v1``, the
same CNN trained on the Fashion-MNIST training split, offline), ``inception`` (the standard FID
Inception-v3, TensorFlow port; weights from the torch hub cache, ``--weights PATH`` or a download), or any
``nn.Module`` from Python through ``FeatureExtractor.from_module``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message

EXTRACTOR_DESCRIPTIONS = {
    "digits": "digits-v1: ganforge's digit CNN (128-d features, 10 classes), offline; default for 1x28x28 data",
    "fashion": "fashion-v1: the same CNN trained on the Fashion-MNIST training split, offline; default for "
               "1x28x28 fashion-mnist runs",
    "inception": "FID Inception-v3 (TensorFlow 2015-12-05 port, 2048-d pool features); needs its weights",
}


@dataclass
class FeatureExtractor:
    """A network returning features (and optionally class logits), with the facts that define the protocol."""

    name: str
    network: nn.Module
    features_key: str = "features"
    logits_key: str | None = "logits"
    protocol: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 250

    @classmethod
    def from_module(cls, module: nn.Module, name: str = "custom", batch_size: int = 250) -> FeatureExtractor:
        """Wrap any module that maps images in [-1, 1] to features [B, D] (or to a dict with "features")."""
        return cls(name, _DictOutput(module), protocol={"input": "float images in [-1, 1], as given"},
                   batch_size=batch_size)

    @torch.no_grad()
    def extract(self, images: Tensor, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor | None]:
        """Features [N, D] (float64, CPU) and logits [N, C] (or None) of images [N, C, H, W] in [-1, 1]."""
        self.network.to(device).eval()
        features, logits = [], []
        for part in images.split(self.batch_size):
            out = self.network(part.to(device))
            features.append(out[self.features_key].double().cpu())
            if self.logits_key and self.logits_key in out:
                logits.append(out[self.logits_key].double().cpu())
        return torch.cat(features), (torch.cat(logits) if logits else None)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, **self.protocol}


class _DictOutput(nn.Module):
    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        out = self.module(images)
        return out if isinstance(out, dict) else {"features": out.flatten(1)}


def _small_cnn(version: str, weights: str | None) -> FeatureExtractor:
    from pathlib import Path

    from ganforge.metrics.digits_net import FEATURE_DIM, INPUT_SIZE, load_released_net

    network = load_released_net(version, Path(weights) if weights else None)
    protocol = {
        "version": version,
        "feature_dim": FEATURE_DIM,
        "resize": f"bilinear with antialias to {INPUT_SIZE}x{INPUT_SIZE} (none when already that size)",
        "color": "RGB to gray by ITU-R 601 luminance",
    }
    return FeatureExtractor(version, network, protocol=protocol, batch_size=500)


def _digits(weights: str | None) -> FeatureExtractor:
    return _small_cnn("digits-v1", weights)


def _fashion(weights: str | None) -> FeatureExtractor:
    return _small_cnn("fashion-v1", weights)


def _inception(weights: str | None) -> FeatureExtractor:
    from ganforge.metrics.inception import load_fid_inception

    network = load_fid_inception(weights)
    protocol = {
        "version": "inception-v3-tf-2015-12-05",
        "feature_dim": 2048,
        "resize": "quantized to 8 bits, TensorFlow 1 ResizeBilinear to 299x299 (torch-fidelity's protocol)",
        "logits": "pool @ W (no bias, 1008 classes), as the original Inception Score code",
    }
    return FeatureExtractor("inception-v3", network, "pool", "logits_unbiased", protocol, batch_size=50)


_BUILDERS: dict[str, Callable[[str | None], FeatureExtractor]] = {
    "digits": _digits,
    "digits-v1": _digits,
    "fashion": _fashion,
    "fashion-v1": _fashion,
    "inception": _inception,
}


def build_extractor(name: str, weights: str | None = None) -> FeatureExtractor:
    """An extractor by name (see ``EXTRACTOR_DESCRIPTIONS``); ``weights`` overrides where its weights come from."""
    if name not in _BUILDERS:
        raise GanforgeError(unknown_name_message("feature extractor", name, list(_BUILDERS)))
    with torch.random.fork_rng(devices=[]):  # initializing before loading weights must not move the global RNG
        return _BUILDERS[name](weights)


# data sets with their own feature network (at 1x28x28); other 1x28x28 data get digits-v1
DATA_EXTRACTORS = {"fashion-mnist": "fashion"}


def default_extractor_name(image_shape: tuple[int, int, int], data_name: str | None = None) -> str:
    """For 28x28 grayscale images: ``fashion`` when the data is fashion-mnist, else ``digits``; for anything
    else ``inception``."""
    if tuple(image_shape) != (1, 28, 28):
        return "inception"
    return DATA_EXTRACTORS.get(data_name or "", "digits")
