"""Train the ``fashion-v1`` feature network on the Fashion-MNIST training split and write its weights.

    OMP_NUM_THREADS=1 python scripts/train_fashion_net.py --out src/ganforge/metrics/weights/fashion-v1.pt

The same small CNN as ``digits-v1`` (``ganforge.metrics.digits_net.DigitsNet``: 4 convolutions, 128-d
features, 10 classes), trained on the 60,000 training images only (Debian's ``dataset-fashion-mnist``, read
through the ``fashion-mnist`` data set). The 10,000 test images never touch training: they give the accuracy
printed here and serve as the held-out real images of the reference points in docs/metrics.md.
Deterministic for a seed on the CPU with one thread (3 to 6 minutes an epoch on one busy core). The released
file's sha256 is recorded in ``ganforge/metrics/digits_net.py``: a network trained differently must get a
new version name, never replace fashion-v1. (torch.save names the archive's folder after the file, so compare
the sha256 of a file named ``fashion-v1.pt``; a rerun gave identical tensors and an identical file.)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from train_digits_net import accuracy  # scripts/ is on the path when this script runs

from ganforge.data import build_dataset
from ganforge.data.builtin import DEBIAN_FASHION_DIR, read_idx
from ganforge.errors import GanforgeError
from ganforge.metrics.digits_net import DigitsNet, file_sha256


def fashion_test_split() -> tuple[torch.Tensor, torch.Tensor]:
    """The 10,000 Fashion-MNIST test images (float, [-1, 1], [N, 1, 28, 28]) and their labels."""
    images_file = DEBIAN_FASHION_DIR / "t10k-images-idx3-ubyte.gz"
    labels_file = DEBIAN_FASHION_DIR / "t10k-labels-idx1-ubyte.gz"
    if not (images_file.is_file() and labels_file.is_file()):
        raise GanforgeError(f"Fashion-MNIST test files missing in {DEBIAN_FASHION_DIR}: apt-get install "
                            "dataset-fashion-mnist")
    images = torch.from_numpy(read_idx(images_file).copy()).unsqueeze(1).float() / 127.5 - 1
    return images, torch.from_numpy(read_idx(labels_file).astype("int64"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("src/ganforge/metrics/weights/fashion-v1.pt"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    data = build_dataset("fashion-mnist")
    images, labels = data.images.float() / 127.5 - 1, data.labels
    test_images, test_labels = fashion_test_split()
    net = DigitsNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    steps = args.epochs * -(-len(labels) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        for batch in torch.randperm(len(labels)).split(args.batch_size):
            loss = F.cross_entropy(net(images[batch])["logits"], labels[batch], label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}: test accuracy {accuracy(net, test_images, test_labels):.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.out)
    print(f"wrote {args.out} (sha256 {file_sha256(args.out)})")


if __name__ == "__main__":
    main()
