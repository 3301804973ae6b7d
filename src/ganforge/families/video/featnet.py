"""``video-v1``: the small 3D-conv network whose features the video family's FVD uses.

FVD proper uses an I3D network trained on Kinetics; its weights cannot be downloaded here, and they know
nothing of digits. This project instead trains a small 3D-conv network on moving-digits clips to predict
the digit's class and its starting direction of motion (``scripts/video_featnet.py``), and ships the
weights (``weights/video-v1.pt``, checked against ``VIDEO_V1_SHA256``). A retrained network gets a new
version name, so numbers stay comparable. Our FVD is therefore comparable only with other ``video-v1``
numbers, never with published FVDs.

Input protocol: clips ``[B, T, C, H, W]`` in [-1, 1]; RGB -> gray (ITU-R 601); frames resized to 32x32
(bilinear, antialiased); time resampled to 16 frames (nearest).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.errors import GanforgeError

VIDEO_NET_VERSION = "video-v1"
# held-out accuracy of the released network: digit 0.827, direction 0.891 (1,000 clips)
VIDEO_V1_SHA256 = "e16943a54799403a332eed610222ef218658a6982d79ae1061734b41d294a8ea"
FEATURE_DIM = 128
INPUT_FRAMES = 16
INPUT_SIZE = 32
NUM_DIRECTIONS = 8


class VideoFeatureNet(nn.Module):
    """Conv3d 16 / 32 / 64 (each halving space; the last two halving time) -> mean -> fc 128 (features);
    heads: digit class (10) and starting direction (8)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv3d(1, 16, 3, stride=(1, 2, 2), padding=1), nn.ReLU(inplace=True),
            nn.Conv3d(16, 32, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv3d(32, 64, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv3d(64, 64, 3, stride=1, padding=1), nn.ReLU(inplace=True),
            nn.Flatten(), nn.Linear(64 * 4 * 4 * 4, FEATURE_DIM), nn.ReLU(inplace=True),
        )
        self.digit = nn.Linear(FEATURE_DIM, 10)
        self.direction = nn.Linear(FEATURE_DIM, NUM_DIRECTIONS)

    @staticmethod
    def preprocess(clips: Tensor) -> Tensor:
        """Clips [B, T, C, H, W] in [-1, 1] -> [B, 1, 16, 32, 32] by the input protocol."""
        clips = clips.float()
        b, t, c, h, w = clips.shape
        if c == 3:
            weights = torch.tensor([0.299, 0.587, 0.114], device=clips.device).view(1, 1, 3, 1, 1)
            clips = (clips * weights).sum(dim=2, keepdim=True)
        if t != INPUT_FRAMES:
            index = torch.linspace(0, t - 1, INPUT_FRAMES, device=clips.device).round().long()
            clips = clips[:, index]
        if (h, w) != (INPUT_SIZE, INPUT_SIZE):
            frames = F.interpolate(clips.flatten(0, 1), size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                                   antialias=True, align_corners=False)
            clips = frames.view(b, INPUT_FRAMES, 1, INPUT_SIZE, INPUT_SIZE)
        return clips.transpose(1, 2)

    def forward(self, clips: Tensor) -> dict[str, Tensor]:
        features = self.body(self.preprocess(clips))
        return {"features": features, "digit": self.digit(features), "direction": self.direction(features)}


def video_weights_path() -> Path:
    return Path(str(resources.files("ganforge.families.video").joinpath("weights", f"{VIDEO_NET_VERSION}.pt")))


def load_video_net(path: Path | None = None) -> VideoFeatureNet:
    """The shipped ``video-v1`` network in eval mode; a file that is not the released one is refused."""
    path = path or video_weights_path()
    if not path.is_file():
        raise GanforgeError(f"the {VIDEO_NET_VERSION} weights are missing ({path}); reinstall ganforge")
    if path == video_weights_path() and hashlib.sha256(path.read_bytes()).hexdigest() != VIDEO_V1_SHA256:
        raise GanforgeError(f"{path} is not the released {VIDEO_NET_VERSION} network (sha256 differs); a retrained "
                            "network needs a new version name")
    net = VideoFeatureNet()
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()
