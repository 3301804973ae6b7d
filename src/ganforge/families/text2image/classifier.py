"""The attribute classifier: the measuring instrument of ``shapes-captions``.

A small CNN reads a picture of one shape and names its colour, shape, size and position (four heads). It
is trained by ``scripts/text2image_attributes.py`` on rendered pictures of every combination (held-out ones
included: it measures, it is not the model under test) and shipped in two variants of the same network:
``weights/attributes-v1.pt`` reads 64x64 pictures (any other size is resized to 64x64) and
``weights/attributes-32px-v1.pt`` reads 32x32 ones (the same layers, one pooling fewer). Both are float16,
loaded with ``weights_only=True``. Their 96-d penultimate features are also this data set's FID features.
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
INPUT_SIZES = (64, 32)  # the shipped variants; other picture sizes are resized to 64x64
FEATURE_DIM = 96


def classifier_size(image_size: int) -> int:
    """The classifier variant that reads pictures of ``image_size``: 32 for 32x32 pictures, else 64."""
    return image_size if image_size in INPUT_SIZES else 64


def weights_file(input_size: int = 64) -> str:
    """``attributes-v1.pt`` (64x64) or ``attributes-32px-v1.pt``."""
    variant = "" if input_size == 64 else f"{input_size}px-"
    return f"attributes-{variant}v{CLASSIFIER_VERSION}.pt"


def classifier_label(input_size: int = 64) -> str:
    """The name, version and input size of a variant, as the evaluation protocol records it."""
    return f"{CLASSIFIER_NAME} v{CLASSIFIER_VERSION} ({input_size}x{input_size} input)"


class AttributeNet(nn.Module):
    """Images [B, 3, S, S] in [-1, 1] -> logits per attribute (``forward``) or features (``features``).

    Four 3x3 convolutions, each followed by a 2x max-pool while the map is larger than 4x4."""

    def __init__(self, input_size: int = 64) -> None:
        super().__init__()
        if input_size not in INPUT_SIZES:
            raise GanforgeError(f"the attribute classifier reads {' or '.join(map(str, INPUT_SIZES))} pixel "
                                f"pictures; got {input_size}")
        self.input_size = input_size
        widths = (3, 16, 32, 48, 32)
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1) for a, b in zip(widths, widths[1:], strict=False))
        self.fc = nn.Linear(widths[-1] * 16, FEATURE_DIM)
        self.heads = nn.ModuleDict({name: nn.Linear(FEATURE_DIM, len(ATTRIBUTE_VALUES[name])) for name in ATTRIBUTES})

    def features(self, images: Tensor) -> Tensor:
        size = self.input_size
        if images.shape[-1] != size or images.shape[-2] != size:
            images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        h = images
        for conv in self.convs:
            h = F.relu(conv(h))
            if h.shape[-1] > 4:
                h = F.max_pool2d(h, 2)
        return F.relu(self.fc(h.flatten(1)))

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        features = self.features(images)
        return {name: head(features) for name, head in self.heads.items()}


def weights_path(input_size: int = 64) -> str:
    return str(Path(__file__).parent / "weights" / weights_file(input_size))


def load_classifier(device: torch.device | str = "cpu", path: str | None = None, input_size: int = 64) -> AttributeNet:
    """The shipped classifier for ``input_size`` pictures (or the weights at ``path``), in eval mode."""
    path = path or weights_path(input_size)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GanforgeError(f"the attribute classifier's weights are missing ({path}); train them with "
                            f"python scripts/text2image_attributes.py --size {input_size}") from None
    if state.get("version") != CLASSIFIER_VERSION:
        raise GanforgeError(f"{path} holds attribute classifier version {state.get('version')}, "
                            f"expected {CLASSIFIER_VERSION}")
    net = AttributeNet(int(state.get("input_size", 64)))
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
