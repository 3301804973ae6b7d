"""Does synthetic data help a classifier? Real vs classic augmentation vs GAN samples, from few real digits.

    python benchmarks/augmentation.py [--per-class 10 50 200] [--seeds 0 1 2] [--gan-steps 1500] [--quick]

Protocol:
- The embedded 5,000 digits are split once (seed 1234): 200 per class (2,000) form the held-out test set,
  never seen by a GAN or a classifier; the other 3,000 are the pool.
- For each n (real images per class) and seed, n per class are drawn from the pool. A conditional GAN
  (preset ``cond-dcgan`` with DiffAugment translation+cutout, the small-data setting) is trained on exactly
  that subset, written to a class-folder data set and read through ``folder:PATH``.
- The same small CNN is trained with the same number of steps in four ways: (a) real only, (b) real with
  classic augmentation (random rotation +-10 degrees, translation +-2 px, scale 0.9-1.1), (c) real plus
  500 GAN samples per class, (d) GAN samples only (Classification Accuracy Score, Ravuri & Vinyals 2019).
- Test accuracy on the held-out 2,000; mean and std over the seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.transforms import v2

from ganforge import generate, load_config, load_generator, save_images, train
from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit

TEST_PER_CLASS = 200
SPLIT_SEED = 1234
SYNTHETIC_PER_CLASS = 500
CONDITIONS = ("real", "real+classic", "real+gan", "gan only (CAS)")


def split_digits() -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(pool images, pool labels, test images, test labels); images float in [-1, 1]."""
    data = build_dataset("digits")
    images, labels = uint8_to_unit(data.images), data.labels
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    test = torch.cat([order[labels[order] == k][:TEST_PER_CLASS] for k in range(10)])
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    is_test[test] = True
    return images[~is_test], labels[~is_test], images[is_test], labels[is_test]


def draw_subset(images: Tensor, labels: Tensor, per_class: int, seed: int) -> tuple[Tensor, Tensor]:
    generator = torch.Generator().manual_seed(seed)
    picks = []
    for k in range(10):
        members = (labels == k).nonzero().view(-1)
        picks.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    index = torch.cat(picks)
    return images[index], labels[index]


def train_gan(images: Tensor, labels: Tensor, steps: int, seed: int, workdir: Path) -> Tensor:
    """Train the conditional GAN on exactly these images; return SYNTHETIC_PER_CLASS samples per class."""
    folder = workdir / "real"
    for k in range(10):
        save_images(images[labels == k], folder / str(k), prefix=str(k))
    config = load_config("cond-dcgan", overrides=[
        f"data.name=folder:{folder}", "data.diffaugment=[translation,cutout]", f"train.steps={steps}",
        f"train.seed={seed}", f"train.sample_every={steps}", f"train.checkpoint_every={steps}",
    ])
    run = train(config, out=workdir / "gan", progress=False)
    generator = load_generator(run)
    return torch.cat([generate(generator, SYNTHETIC_PER_CLASS, seed=1000 + k, class_index=k) for k in range(10)])


def classifier() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
    )


CLASSIC = v2.RandomAffine(degrees=10, translate=(2 / 28, 2 / 28), scale=(0.9, 1.1))


def train_classifier(images: Tensor, labels: Tensor, steps: int, seed: int, classic: bool) -> nn.Module:
    torch.manual_seed(seed)
    net = classifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        index = torch.randint(0, len(labels), (64,))
        batch = images[index]
        if classic:
            batch = torch.stack([CLASSIC(image) for image in batch])
        loss = F.cross_entropy(net(batch), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: nn.Module, images: Tensor, labels: Tensor) -> float:
    return (net(images).argmax(1) == labels).float().mean().item()


def run_cell(pool, test, per_class: int, seed: int, gan_steps: int, clf_steps: int) -> dict[str, float]:
    real_x, real_y = draw_subset(*pool, per_class, seed)
    with tempfile.TemporaryDirectory() as tmp:
        fake_x = train_gan(real_x, real_y, gan_steps, seed, Path(tmp))
    fake_y = torch.arange(10).repeat_interleave(SYNTHETIC_PER_CLASS)
    sets = {
        "real": (real_x, real_y, False),
        "real+classic": (real_x, real_y, True),
        "real+gan": (torch.cat([real_x, fake_x]), torch.cat([real_y, fake_y]), False),
        "gan only (CAS)": (fake_x, fake_y, False),
    }
    return {name: accuracy(train_classifier(x, y, clf_steps, seed, classic), *test)
            for name, (x, y, classic) in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--gan-steps", type=int, default=1500)
    parser.add_argument("--classifier-steps", type=int, default=500)
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 10 per class, 1 seed, 30 GAN steps")
    args = parser.parse_args()
    if args.quick:
        args.per_class, args.seeds, args.gan_steps, args.classifier_steps = [10], [0], 30, 30

    pool_x, pool_y, test_x, test_y = split_digits()
    results: dict[int, list[dict[str, float]]] = {}
    for n in args.per_class:
        for seed in args.seeds:
            start = time.perf_counter()
            cell = run_cell((pool_x, pool_y), (test_x, test_y), n, seed, args.gan_steps, args.classifier_steps)
            results.setdefault(n, []).append(cell)
            scores = ", ".join(f"{k} {v:.3f}" for k, v in cell.items())
            print(f"n={n} seed={seed}: {scores} ({time.perf_counter() - start:.0f} s)", flush=True)

    print(f"\ntest accuracy on {len(test_y)} held-out digits, mean +- std over seeds {args.seeds}; "
          f"GAN: cond-dcgan + DiffAugment, {args.gan_steps} steps; classifier: {args.classifier_steps} steps")
    print("| real images per class | " + " | ".join(CONDITIONS) + " |")
    print("|---" * (len(CONDITIONS) + 1) + "|")
    for n, cells in results.items():
        row = []
        for name in CONDITIONS:
            values = [c[name] for c in cells]
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            row.append(f"{100 * statistics.mean(values):.1f} +- {100 * std:.1f}")
        print(f"| {n} | " + " | ".join(row) + " |")
    if args.json:
        args.json.write_text(json.dumps({str(n): cells for n, cells in results.items()}, indent=2))


if __name__ == "__main__":
    main()
