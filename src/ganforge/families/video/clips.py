"""``ClipSet``: a set of video clips in memory (uint8 frames, one label per clip, optional trajectories)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import Dataset


@dataclass
class ClipSet(Dataset):
    """Clips ``uint8 [N, T, C, H, W]`` with an int64 label per clip.

    Moving digits also keep how each clip was made: ``digits`` (int64 [N, K], the class of each digit),
    ``trajectories`` (float32 [N, T, K, 2], each digit's top-left corner (x, y) in pixels) and
    ``directions`` (int64 [N], the first digit's starting direction in 8 bins of 45 degrees)."""

    name: str
    clips: Tensor
    labels: Tensor
    class_names: list[str]
    digits: Tensor | None = None
    trajectories: Tensor | None = None
    directions: Tensor | None = None

    def __len__(self) -> int:
        return int(self.clips.shape[0])

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.clips[index], self.labels[index]

    def __getitems__(self, indices: list[int]) -> tuple[Tensor, Tensor]:
        picked = torch.as_tensor(indices, dtype=torch.long)
        return self.clips[picked], self.labels[picked]

    @property
    def clip_shape(self) -> tuple[int, int, int, int]:
        """(frames, channels, height, width)."""
        t, c, h, w = self.clips.shape[1:]
        return int(t), int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def collate_clips(batch: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
    """``__getitems__`` already returns a stacked (clips, labels) pair: nothing to do."""
    return batch
