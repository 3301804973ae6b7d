"""``digits-v1`` and ``fashion-v1``: one small CNN trained by this project, for offline metrics.

The FID Inception network needs a download and is slow on a CPU; for 28x28 grayscale images a classifier's
penultimate layer is the usual feature space (as LeNet-based FIDs for MNIST do). ``digits-v1`` is trained on
the embedded digits (``scripts/train_digits_net.py``), ``fashion-v1`` on the Fashion-MNIST training split
(``scripts/train_fashion_net.py``). The weights are committed (``weights/<version>.pt``) and checked against
``RELEASED_SHA256``: a network is never retrained silently; a changed network gets a new version name.

Input protocol: float images in [-1, 1], [B, 1 or 3, H, W]; RGB becomes gray by ITU-R 601 luminance; any
other size is resized to 28x28 with bilinear interpolation and antialiasing.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError

DIGITS_VERSION = "digits-v1"
DIGITS_V1_SHA256 = "1ce9ff0b4e6cbcc139a1ba1346575ec0f0bacb19e22fca1845cdab62afb32be0"
FASHION_VERSION = "fashion-v1"
FASHION_V1_SHA256 = "e6944082faccbc85740f40a8dff8b7ba5911c2c543cc58a80dc54602654032ad"
RELEASED_SHA256 = {DIGITS_VERSION: DIGITS_V1_SHA256, FASHION_VERSION: FASHION_V1_SHA256}
FEATURE_DIM = 128
INPUT_SIZE = 28


class DigitsNet(nn.Module):
    """Conv 32-32 / pool / conv 64-64 / pool / fc 128 (features) / fc 10 (logits)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURE_DIM), nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(FEATURE_DIM, 10)

    @staticmethod
    def preprocess(images: Tensor) -> Tensor:
        images = images.float()
        if images.shape[1] == 3:
            weights = torch.tensor([0.299, 0.587, 0.114], device=images.device).view(1, 3, 1, 1)
            images = (images * weights).sum(dim=1, keepdim=True)
        if images.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            images = F.interpolate(images, (INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True)
        return images

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        features = self.body(self.preprocess(images))
        return {"features": features, "logits": self.classifier(features)}


def weights_path(version: str) -> Path:
    """Where the committed weights of ``version`` (``digits-v1`` or ``fashion-v1``) are installed."""
    return Path(str(resources.files("ganforge.metrics").joinpath("weights", f"{version}.pt")))


def digits_weights_path() -> Path:
    return weights_path(DIGITS_VERSION)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_released_net(version: str, path: Path | None = None) -> DigitsNet:
    """A committed network (``digits-v1`` or ``fashion-v1``), in eval mode; ``path`` loads other weights into
    the same architecture. The installed file is refused when it is not the released one."""
    if version not in RELEASED_SHA256:
        raise GanforgeError(f"unknown network version {version!r}; use one of {', '.join(RELEASED_SHA256)}")
    path = path or weights_path(version)
    if not path.is_file():
        raise GanforgeError(f"the {version} weights are missing ({path}); reinstall ganforge")
    if path == weights_path(version) and file_sha256(path) != RELEASED_SHA256[version]:
        raise GanforgeError(
            f"{path} is not the released {version} network (sha256 differs); a retrained network "
            "needs a new version name"
        )
    net = DigitsNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()


def load_digits_net(path: Path | None = None) -> DigitsNet:
    """The committed ``digits-v1`` network, in eval mode. A file that is not the recorded one is refused."""
    return load_released_net(DIGITS_VERSION, path)
