"""The attribute classifier: the measuring instrument of ``shapes-captions``.

A small CNN reads a 64x64 picture of one shape and names its colour, shape, size and position (four
heads). It is trained by ``scripts/text2image_attributes.py`` on rendered pictures of every combination
(held-out ones included: it measures, it is not the model under test) and shipped as
``weights/attributes-v1.pt`` (float16, loaded with ``weights_only=True``). Its 96-d penultimate features are
also this data set's FID features.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.families.text2image.scenes import ATTRIBUTE_VALUES, ATTRIBUTES

CLASSIFIER_NAME = "text2image-attributes"
CLASSIFIER_VERSION = 1
WEIGHTS_FILE = f"attributes-v{CLASSIFIER_VERSION}.pt"
INPUT_SIZE = 64
FEATURE_DIM = 96


class AttributeNet(nn.Module):
    """Images [B, 3, 64, 64] in [-1, 1] -> logits per attribute (``forward``) or features (``features``)."""

    def __init__(self) -> None:
        super().__init__()
        widths = (3, 16, 32, 48, 32)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:], strict=False))
        self.fc = nn.Linear(widths[-1] * 16, FEATURE_DIM)
        self.heads = nn.ModuleDict({name: nn.Linear(FEATURE_DIM, len(ATTRIBUTE_VALUES[name])) for name in ATTRIBUTES})

    def features(self, images: Tensor) -> Tensor:
        if images.shape[-1] != INPUT_SIZE or images.shape[-2] != INPUT_SIZE:
            images = F.interpolate(images, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True,
                                   align_corners=False)
        h = images
        for conv in self.convs:
            h = F.max_pool2d(F.relu(conv(h)), 2)
        return F.relu(self.fc(h.flatten(1)))

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        features = self.features(images)
        return {name: head(features) for name, head in self.heads.items()}


def weights_path() -> str:
    return str(Path(__file__).parent / "weights" / WEIGHTS_FILE)


def load_classifier(device: torch.device | str = "cpu", path: str | None = None) -> AttributeNet:
    """The shipped classifier (or the weights at ``path``), in eval mode."""
    path = path or weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GanforgeError(f"the attribute classifier's weights are missing ({path}); train them with "
                            "python scripts/text2image_attributes.py") from None
    if state.get("version") != CLASSIFIER_VERSION:
        raise GanforgeError(f"{path} holds attribute classifier version {state.get('version')}, "
                            f"expected {CLASSIFIER_VERSION}")
    net = AttributeNet()
    net.load_state_dict({k: v.float() for k, v in state["model"].items()})
    return net.to(device).eval()


@torch.no_grad()
def classify(net: AttributeNet, images: Tensor, batch: int = 256) -> dict[str, Tensor]:
    """Predicted attribute indices [N] per attribute, for images in [-1, 1]."""
    device = next(net.parameters()).device
    out: dict[str, list[Tensor]] = {name: [] for name in ATTRIBUTES}
    for part in images.split(batch):
        logits = net(part.to(device).float())
        for name in ATTRIBUTES:
            out[name].append(logits[name].argmax(dim=1).cpu())
    return {name: torch.cat(parts) for name, parts in out.items()}


@torch.no_grad()
def classifier_features(net: AttributeNet, images: Tensor, batch: int = 256) -> Tensor:
    """Penultimate features [N, 96] (float64 on the CPU) for Frechet distances."""
    device = next(net.parameters()).device
    return torch.cat([net.features(part.to(device).float()).double().cpu() for part in images.split(batch)])
