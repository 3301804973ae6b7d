"""Image data sets by name (``build_dataset``), their registry, and classic batch augmentation.

Every data set returns uint8 images [C, H, W] and an int label; in-memory ones also implement
``__getitems__`` (batched fetch, use ``collate_images`` as the DataLoader collate_fn)."""

from ganforge.data.augment import AUGMENT_OPS, augment_batch
from ganforge.data.base import ImageDataset, TensorImageDataset, collate_images, fit_images, resize_square
from ganforge.data.builtin import data_root
from ganforge.data.catalog import DATASET_DESCRIPTIONS, DATASETS, DatasetSpec, build_dataset, native_shape

__all__ = [
    "AUGMENT_OPS",
    "DATASETS",
    "DATASET_DESCRIPTIONS",
    "DatasetSpec",
    "ImageDataset",
    "TensorImageDataset",
    "augment_batch",
    "build_dataset",
    "collate_images",
    "data_root",
    "fit_images",
    "native_shape",
    "resize_square",
]
