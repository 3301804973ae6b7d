"""The spoken-digit classifier that scores spoken-digits runs (accuracy on the requested digit, an
Inception-score-like score and a Frechet distance in its feature space). It reads clips as normalized
log-magnitude spectrograms at its own rate and length; trained by scripts/speech_train_classifier.py on
the training voices of spoken-digits and shipped, versioned, as weights/spoken-digits-v1.pt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.families.speech.audio import resample
from ganforge.families.speech.datasets import fit_clip
from ganforge.families.speech.spectrogram import SpecCodec

CLASSIFIER_VERSION = "spoken-digits-v1"
WEIGHTS = Path(__file__).parent / "weights" / f"{CLASSIFIER_VERSION}.pt"
FEATURES = 128


class DigitNet(nn.Module):
    """Four conv blocks (conv, BatchNorm, ReLU, 2x2 max-pool), global average pooling, a 128-d feature layer."""

    def __init__(self, classes: int = 10, width: int = 16) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 1
        for out in (width, width * 2, width * 4, width * 4):
            layers += [nn.Conv2d(channels, out, 3, padding=1), nn.BatchNorm2d(out), nn.ReLU(), nn.MaxPool2d(2)]
            channels = out
        self.body = nn.Sequential(*layers)
        self.features = nn.Sequential(nn.Linear(channels, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, classes)

    def embed(self, x: Tensor) -> Tensor:
        return self.features(self.body(x).mean(dim=(2, 3)))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.embed(x))


@dataclass
class DigitClassifier:
    """The network with the codec, rate and clip length it reads."""

    net: DigitNet
    codec: SpecCodec
    rate: int
    classes: tuple[str, ...]
    version: str

    @property
    def samples(self) -> int:
        return self.codec.samples

    def prepare(self, clips: list[np.ndarray] | Tensor, rate: int) -> Tensor:
        """Clips at ``rate`` -> [N, T] at the classifier's rate and length (centred and padded, or cut)."""
        rows = [c.numpy() if isinstance(c, Tensor) else c for c in clips]
        return torch.from_numpy(np.stack([fit_clip(resample(c, rate, self.rate), self.samples) for c in rows]))

    @torch.no_grad()
    def run(self, audio: Tensor, chunk: int = 128) -> tuple[Tensor, Tensor]:
        """Logits [N, classes] and features [N, 128] of [N, T] audio at the classifier's rate."""
        self.net.eval()
        logits, feats = [], []
        for start in range(0, len(audio), chunk):
            h = self.net.embed(self.codec.encode(audio[start : start + chunk]))
            feats.append(h)
            logits.append(self.net.head(h))
        return torch.cat(logits), torch.cat(feats)

    def state(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"version": self.version, "net": self.net.state_dict(), "codec": self.codec.state(),
                "rate": self.rate, "classes": list(self.classes), **(extra or {})}


def load_classifier(path: str | Path | None = None) -> DigitClassifier:
    """The shipped classifier, or one saved by scripts/speech_train_classifier.py at ``path``."""
    file = Path(path) if path else WEIGHTS
    if not file.is_file():
        raise GanforgeError(f"no spoken-digit classifier at {file}; make one with "
                            "python scripts/speech_train_classifier.py --out FILE")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
        net = DigitNet(len(state["classes"]))
        net.load_state_dict(state["net"])
    except Exception as exc:
        raise GanforgeError(f"{file} is not a spoken-digit classifier ({type(exc).__name__})") from None
    return DigitClassifier(net.eval(), SpecCodec.from_state(state["codec"]), int(state["rate"]),
                           tuple(state["classes"]), str(state["version"]))
