"""``digits-v1``: a small CNN trained by this project on the embedded digits, for offline metrics.

The FID Inception network needs a download and is slow on a CPU; for 28x28 grayscale digits a digit
classifier's penultimate layer is the usual feature space (as LeNet-based FIDs for MNIST do). The weights
are committed (``weights/digits-v1.pt``, made by ``scripts/train_digits_net.py``) and checked against
``DIGITS_V1_SHA256``: the network is never retrained silently; a changed network gets a new version name.

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


def digits_weights_path() -> Path:
    return Path(str(resources.files("ganforge.metrics").joinpath("weights", f"{DIGITS_VERSION}.pt")))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_digits_net(path: Path | None = None) -> DigitsNet:
    """The committed ``digits-v1`` network, in eval mode. A file that is not the recorded one is refused."""
    path = path or digits_weights_path()
    if not path.is_file():
        raise GanforgeError(f"the {DIGITS_VERSION} weights are missing ({path}); reinstall ganforge")
    if path == digits_weights_path() and file_sha256(path) != DIGITS_V1_SHA256:
        raise GanforgeError(
            f"{path} is not the released {DIGITS_VERSION} network (sha256 differs); a retrained network "
            "needs a new version name"
        )
    net = DigitsNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()
