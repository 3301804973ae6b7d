"""The image data set protocol, the in-memory implementation, and resizing / channel helpers."""

from __future__ import annotations

import numbers

import torch
from torch.utils.data import Dataset, default_collate
from torchvision.transforms.v2 import functional as TF

from ganforge.errors import GanforgeError

_CHUNK = 4096  # images resized per call: bounds the temporary memory of a vectorized resize


class ImageDataset(Dataset):
    """Base class of all ganforge data sets: uint8 images [C, H, W] with an int label (0 when unlabeled)."""

    name: str = ""
    image_shape: tuple[int, int, int] = (0, 0, 0)
    num_classes: int = 0
    class_names: list[str] = []

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def __repr__(self) -> str:
        c, h, w = self.image_shape
        kind = type(self).__name__
        return f"{kind}({self.name!r}, {len(self)} images, {c}x{h}x{w}, {self.num_classes} classes)"


class TensorImageDataset(ImageDataset):
    """A data set held in memory as one uint8 tensor [N, C, H, W] and int64 labels [N]."""

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor, class_names: list[str]) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"labels must have shape ({images.shape[0]},), got {tuple(labels.shape)}")
        self.name = name
        self.images = images.contiguous()
        self.labels = labels.to(torch.int64).contiguous()
        self.class_names = list(class_names)
        self.num_classes = len(self.class_names)
        c, h, w = self.images.shape[1:]
        self.image_shape = (int(c), int(h), int(w))

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.images[i], int(self.labels[i])

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched fetch (used by DataLoader): uint8 [B, C, H, W] and int64 [B]."""
        idx = torch.as_tensor(indices, dtype=torch.int64)
        return self.images[idx], self.labels[idx]


def uint8_to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 images (any shape) -> float32 in [-1, 1]: the one conversion every image path uses."""
    return images.float().div_(127.5).sub_(1.0)


def collate_images(batch: tuple[torch.Tensor, torch.Tensor] | list) -> tuple[torch.Tensor, torch.Tensor]:
    """DataLoader ``collate_fn`` for any ImageDataset: passes a ``__getitems__`` batch through unchanged,
    stacks a list of (image, label) samples otherwise. Labels come back as an int64 tensor."""
    if isinstance(batch, tuple):
        return batch
    images, labels = default_collate(batch)
    return images, labels.to(torch.int64)


def check_size_channels(size: int | None, channels: int | None) -> None:
    """Raise GanforgeError when the requested size or channel count is not usable."""
    if size is not None and (isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1):
        raise GanforgeError(f"image size must be a positive integer, got {size!r}: e.g. --size 32")
    if channels is not None and channels not in (1, 3):
        raise GanforgeError(f"image channels must be 1 or 3, got {channels!r}")


def resize_square(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize the shorter side to ``size`` (antialiased), then center-crop to size x size.

    Works on one image [C, H, W] or a batch [N, C, H, W]; batches are processed in chunks."""
    if tuple(images.shape[-2:]) == (size, size):
        return images
    if images.dim() == 4 and images.shape[0] > _CHUNK:
        return torch.cat([resize_square(part, size) for part in images.split(_CHUNK)])
    out = TF.resize(images, [size], antialias=True)
    return TF.center_crop(out, [size, size])


def fit_images(images: torch.Tensor, size: int | None = None, channels: int | None = None) -> torch.Tensor:
    """Bring uint8 images [..., C, H, W] to ``channels`` (1 or 3; RGBA loses alpha) and a square ``size``.

    None keeps the native value. Gray -> RGB repeats the channel, RGB -> gray uses luminance."""
    if images.shape[-3] == 4:
        images = images[..., :3, :, :]
    if channels == 1 and images.shape[-3] == 3:
        images = TF.rgb_to_grayscale(images)
    if size is not None:
        images = resize_square(images, size)
    if channels == 3 and images.shape[-3] == 1:
        images = images.repeat_interleave(3, dim=-3)
    return images.contiguous()
