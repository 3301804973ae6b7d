"""Data sets by name, resizing, folders, offline behaviour and classic augmentation (all offline, fast)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from ganforge.data import (
    AUGMENT_OPS,
    DATASET_DESCRIPTIONS,
    DATASETS,
    augment_batch,
    build_dataset,
    builtin,
    collate_images,
    fit_images,
    native_shape,
    resize_square,
)
from ganforge.errors import GanforgeError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def digits():
    return build_dataset("digits")


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 idx file (gzip when the name ends in .gz), as in the MNIST distribution."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(payload)


def no_download(*args, **kwargs):
    raise URLError("network disabled in tests")


# ---- digits / digits8 --------------------------------------------------------------------------

def test_digits_is_the_embedded_5000(digits):
    assert len(digits) == 5000
    assert digits.image_shape == (1, 28, 28)
    assert digits.num_classes == 10 and digits.class_names == [str(d) for d in range(10)]
    image, label = digits[0]
    assert image.dtype == torch.uint8 and image.shape == (1, 28, 28)
    assert isinstance(label, int)
    assert digits.labels.bincount().tolist() == [500] * 10
    assert int(digits.images.max()) == 255 and int(digits.images.min()) == 0


def test_getitems_matches_getitem(digits):
    indices = [0, 17, 2500, 4999]
    images, labels = digits.__getitems__(indices)
    assert images.dtype == torch.uint8 and images.shape == (4, 1, 28, 28)
    assert labels.dtype == torch.int64
    for k, i in enumerate(indices):
        image, label = digits[i]
        assert torch.equal(images[k], image) and int(labels[k]) == label


def test_dataloader_batches_with_collate_images(digits):
    loader = DataLoader(digits, batch_size=64, shuffle=True, collate_fn=collate_images)
    images, labels = next(iter(loader))
    assert images.shape == (64, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (64,) and labels.dtype == torch.int64


def test_digits_resized_and_rgb():
    ds = build_dataset("digits", size=32, channels=3)
    assert ds.image_shape == (3, 32, 32)
    assert ds.images.shape == (5000, 3, 32, 32) and ds.images.dtype == torch.uint8
    assert torch.equal(ds.images[:, 0], ds.images[:, 2])  # gray repeated
    assert ds.images.float().mean() > 10  # not blank


def test_digits8():
    ds = build_dataset("digits8")
    assert len(ds) == 1797 and ds.image_shape == (1, 8, 8) and ds.num_classes == 10
    assert int(ds.labels.bincount().sum()) == 1797 and (ds.labels.bincount() > 170).all()
    assert int(ds.images.max()) == 255
    assert build_dataset("digits8", size=16).image_shape == (1, 16, 16)


def test_native_shapes_and_descriptions():
    assert native_shape("digits") == (1, 28, 28)
    assert native_shape("digits8") == (1, 8, 8)
    assert native_shape("cifar10") == (3, 32, 32)
    assert native_shape("celeba") == (3, 64, 64)
    assert set(DATASET_DESCRIPTIONS) == {*DATASETS.names(), "folder:PATH"}
    assert {"digits", "digits8", "mnist", "fashion-mnist", "cifar10", "celeba"} <= set(DATASETS.names())


# ---- resizing / channels -----------------------------------------------------------------------

def test_resize_square_center_crops_non_square():
    image = torch.zeros(1, 10, 30, dtype=torch.uint8)
    image[:, :, 10:20] = 255  # the center third of a wide image
    out = resize_square(image, 10)
    assert out.shape == (1, 10, 10) and bool((out == 255).all())
    batch = torch.zeros(3, 3, 20, 40, dtype=torch.uint8)
    assert resize_square(batch, 8).shape == (3, 3, 8, 8)


def test_channel_conversions():
    red = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    red[:, 0] = 255
    gray = fit_images(red, channels=1)
    assert gray.shape == (2, 1, 4, 4) and int(gray[0, 0, 0, 0]) in (76, 77)  # luminance 0.299 * 255
    rgba = torch.full((2, 4, 4, 4), 9, dtype=torch.uint8)
    assert fit_images(rgba).shape == (2, 3, 4, 4)


@pytest.mark.parametrize("size, channels", [(0, None), (-3, None), (2.5, None), (None, 2), (None, 4)])
def test_bad_size_or_channels(size, channels):
    with pytest.raises(GanforgeError):
        build_dataset("digits8", size=size, channels=channels)


# ---- fashion-mnist -----------------------------------------------------------------------------

@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_from_debian_files():
    ds = build_dataset("fashion-mnist")
    assert len(ds) == 60000 and ds.image_shape == (1, 28, 28) and ds.num_classes == 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"
    assert ds.labels.bincount().tolist() == [6000] * 10


def test_fashion_mnist_reads_gzip_idx(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 9]))
    monkeypatch.setattr(builtin, "DEBIAN_FASHION_DIR", tmp_path)
    ds = build_dataset("fashion-mnist", root=tmp_path / "unused")
    assert len(ds) == 5 and torch.equal(ds.images[:, 0], torch.from_numpy(images))
    assert ds.labels.tolist() == [0, 1, 2, 3, 9]


# ---- torchvision data sets, offline ------------------------------------------------------------

def fake_mnist(root: Path, n: int = 6) -> np.ndarray:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.random.default_rng(1).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    for split in ("train", "t10k"):
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n) % 10)
    return images


def test_mnist_loads_offline_through_torchvision(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_download)
    images = fake_mnist(tmp_path)
    ds = build_dataset("mnist", root=tmp_path)
    assert len(ds) == 6 and ds.image_shape == (1, 28, 28) and ds.num_classes == 10
    assert torch.equal(ds.images[:, 0], torch.from_numpy(images))
    assert ds.labels.tolist() == [0, 1, 2, 3, 4, 5]
    monkeypatch.setenv("GANFORGE_DATA", str(tmp_path))  # same files found through the env variable
    assert build_dataset("mnist", size=14).image_shape == (1, 14, 14)


def test_mnist_without_files_or_internet_names_the_folder(tmp_path, monkeypatch):
    import torchvision.datasets.mnist as tv_mnist

    monkeypatch.setattr(tv_mnist, "download_and_extract_archive", no_download)
    root = tmp_path / "empty"
    with pytest.raises(GanforgeError) as info:
        build_dataset("mnist", root=root)
    message = str(info.value)
    assert str(root / "MNIST" / "raw") in message and "--data digits" in message
    assert "\n" not in message
    monkeypatch.setenv("GANFORGE_DATA", str(tmp_path / "env"))
    with pytest.raises(GanforgeError, match="env"):
        build_dataset("mnist")


def test_cifar10_without_internet(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as tv_cifar

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", no_download)
    with pytest.raises(GanforgeError, match="could not download cifar10") as info:
        build_dataset("cifar10", root=tmp_path)
    assert str(tmp_path) in str(info.value)


def fake_celeba(root: Path, n: int = 3) -> None:
    base = root / "celeba"
    (base / "img_align_celeba").mkdir(parents=True)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:
        Image.new("RGB", (178, 218), (200, 100, 50)).save(base / "img_align_celeba" / name)
    rows = lambda values: "".join(f"{name} {values}\n" for name in names)  # noqa: E731
    (base / "list_eval_partition.txt").write_text(rows("0"))
    (base / "identity_CelebA.txt").write_text(rows("1"))
    (base / "list_bbox_celeba.txt").write_text(f"{n}\nimage_id x_1 y_1 width height\n" + rows("1 2 3 4"))
    (base / "list_landmarks_align_celeba.txt").write_text(f"{n}\nlx ly\n" + rows("5 6"))
    (base / "list_attr_celeba.txt").write_text(f"{n}\nSmiling Young\n" + rows("1 -1"))


def test_celeba_is_lazy_and_unlabeled(tmp_path, monkeypatch):
    from torchvision.datasets import CelebA

    monkeypatch.setattr(CelebA, "_check_integrity", lambda self: True)  # the real one checks md5 sums
    fake_celeba(tmp_path)
    ds = build_dataset("celeba", root=tmp_path)
    assert len(ds) == 3 and ds.image_shape == (3, 64, 64) and ds.num_classes == 0
    image, label = ds[1]
    assert image.shape == (3, 64, 64) and image.dtype == torch.uint8 and label == 0
    assert abs(int(image[0, 32, 32]) - 200) < 8  # JPEG colour survives
    assert not hasattr(ds, "__getitems__")
    small = build_dataset("celeba", size=32, channels=1, root=tmp_path)
    assert small[0][0].shape == (1, 32, 32)


def test_celeba_without_internet(tmp_path, monkeypatch):
    from torchvision.datasets import CelebA

    monkeypatch.setattr(CelebA, "download", no_download)
    with pytest.raises(GanforgeError, match="could not download celeba") as info:
        build_dataset("celeba", root=tmp_path)
    assert str(tmp_path / "celeba") in str(info.value)


# ---- folder:PATH -------------------------------------------------------------------------------

def test_folder_loads_resizes_and_skips_unreadable(tmp_path, capsys):
    Image.new("RGB", (40, 30), (255, 0, 0)).save(tmp_path / "a.png")
    Image.new("RGB", (50, 50), (0, 255, 0)).save(tmp_path / "b.JPG")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (20, 25), (0, 0, 255)).save(tmp_path / "sub" / "c.png")
    (tmp_path / "x.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")

    assert native_shape(f"folder:{tmp_path}") == (3, 30, 30)
    ds = build_dataset(f"folder:{tmp_path}", size=16)
    assert len(ds) == 3 and ds.image_shape == (3, 16, 16) and ds.images.dtype == torch.uint8
    assert ds.num_classes == 0 and ds.labels.tolist() == [0, 0, 0]  # top-level images: unlabeled
    colours = [ds[i][0].float().mean(dim=(1, 2)).argmax().item() for i in range(3)]
    assert colours == [0, 1, 2]  # sorted: a.png (red), b.JPG (green), sub/c.png (blue)
    err = capsys.readouterr().err
    assert "skipped 1 unreadable" in err and "x.png" in err and err.count("\n") == 1
    assert build_dataset(f"folder:{tmp_path}").image_shape == (3, 30, 30)


def test_folder_gray_and_channel_override(tmp_path):
    Image.new("L", (12, 12), 128).save(tmp_path / "g.png")
    assert native_shape(f"folder:{tmp_path}") == (1, 12, 12)
    assert build_dataset(f"folder:{tmp_path}", channels=3).image_shape == (3, 12, 12)


def test_folder_class_subfolders(tmp_path):
    for cls, count in (("dogs", 1), ("cats", 2)):
        (tmp_path / cls).mkdir()
        for i in range(count):
            Image.new("RGB", (10, 10), (i, 0, 0)).save(tmp_path / cls / f"{i}.png")
    ds = build_dataset(f"folder:{tmp_path}")
    assert ds.class_names == ["cats", "dogs"] and ds.num_classes == 2
    assert ds.labels.tolist() == [0, 0, 1]


def test_folder_missing_and_empty(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(GanforgeError, match="data folder not found") as info:
        build_dataset(f"folder:{missing}")
    assert str(missing) in str(info.value)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(GanforgeError, match="no readable images") as info:
        build_dataset(f"folder:{tmp_path}")
    assert str(tmp_path) in str(info.value) and ".png" in str(info.value)
    with pytest.raises(GanforgeError, match="no readable images"):
        native_shape(f"folder:{tmp_path}")


def test_unknown_name_lists_known():
    with pytest.raises(GanforgeError) as info:
        build_dataset("digitz")
    message = str(info.value)
    assert "digits" in message and "folder:PATH" in message and "cifar10" in message
    with pytest.raises(GanforgeError):
        native_shape("imagenet")


# ---- augmentation ------------------------------------------------------------------------------

def as_float(images: torch.Tensor) -> torch.Tensor:
    return images.float() / 127.5 - 1


def test_augment_keeps_shape_dtype_range_and_changes(digits):
    x = as_float(digits.images[:32])
    torch.manual_seed(0)
    out = augment_batch(x, AUGMENT_OPS)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= -1 and out.max() <= 1
    assert not torch.equal(out, x)
    changed = (out - x).abs().flatten(1).amax(1) > 0.1
    assert changed.float().mean() > 0.8  # per-sample parameters: nearly every sample moves


def test_augment_geometric_fills_background_with_minus_one():
    background = -torch.ones(8, 1, 16, 16)
    torch.manual_seed(1)
    out = augment_batch(background, ["rotate", "scale", "translate"])
    assert torch.allclose(out, background)
    white = torch.ones(8, 1, 16, 16)
    torch.manual_seed(1)
    moved = augment_batch(white, ["translate"])
    assert moved.min() < -0.9  # uncovered pixels become background (-1), not the border colour


def test_augment_flip_mirrors_some_samples_exactly():
    ramp = torch.linspace(-1, 1, 12).expand(32, 3, 12, 12).contiguous()  # left-right asymmetric
    torch.manual_seed(3)
    out = augment_batch(ramp, ["flip"])
    flipped = [torch.equal(o, r.flip(-1)) for o, r in zip(out, ramp, strict=True)]
    same = [torch.equal(o, r) for o, r in zip(out, ramp, strict=True)]
    assert all(f or s for f, s in zip(flipped, same, strict=True))
    assert 4 <= sum(flipped) <= 28 and sum(same) == 32 - sum(flipped)


def test_augment_is_deterministic_under_seed(digits):
    x = as_float(digits.images[:16])
    torch.manual_seed(7)
    a = augment_batch(x, ["flip", "rotate", "translate"])
    torch.manual_seed(7)
    b = augment_batch(x, ["flip", "rotate", "translate"])
    torch.manual_seed(8)
    c = augment_batch(x, ["flip", "rotate", "translate"])
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_augment_empty_and_unknown_ops(digits):
    x = as_float(digits.images[:4])
    assert augment_batch(x, []) is x
    with pytest.raises(GanforgeError) as info:
        augment_batch(x, ["flip", "cutout"])
    assert "cutout" in str(info.value) and "translate" in str(info.value)
