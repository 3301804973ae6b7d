"""Train the ``digits-v1`` feature network on the embedded digits and write its weights.

    python scripts/train_digits_net.py --out src/ganforge/metrics/weights/digits-v1.pt

Deterministic for a seed on the CPU. 4,500 digits train it (with small random shifts and rotations, so
that it also reads slightly off-centre digits), 500 (50 per class) are held out to report accuracy.
The released file's sha256 is recorded in ``ganforge/metrics/digits_net.py``: a network trained
differently must get a new version name, never replace digits-v1.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import torch
import torch.nn.functional as F

from ganforge.data import build_dataset
from ganforge.metrics.digits_net import DigitsNet, file_sha256


def held_out_split(labels: torch.Tensor, per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    test = []
    for digit in range(10):
        members = (labels == digit).nonzero().view(-1)
        test.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    test_idx = torch.cat(test)
    mask = torch.ones(len(labels), dtype=torch.bool)
    mask[test_idx] = False
    return mask.nonzero().view(-1), test_idx


def jitter(images: torch.Tensor) -> torch.Tensor:
    """Random rotation (+-10 degrees) and shift (+-2 pixels) per image."""
    batch = images.shape[0]
    angle = (torch.rand(batch) * 2 - 1) * math.radians(10)
    shift = (torch.rand(batch, 2) * 2 - 1) * (2 / 14)
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = angle.cos(), -angle.sin()
    theta[:, 1, 0], theta[:, 1, 1] = angle.sin(), angle.cos()
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images + 1, grid, align_corners=False) - 1  # pad with background (-1)


def accuracy(net: DigitsNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    net.eval()
    with torch.no_grad():
        predicted = torch.cat([net(part)["logits"].argmax(1) for part in images.split(500)])
    return float((predicted == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("src/ganforge/metrics/weights/digits-v1.pt"))
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    data = build_dataset("digits")
    images, labels = data.images.float() / 127.5 - 1, data.labels
    train_idx, test_idx = held_out_split(labels, per_class=50, seed=args.seed)
    net = DigitsNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs)
    for epoch in range(args.epochs):
        net.train()
        for batch in train_idx[torch.randperm(len(train_idx))].split(64):
            loss = F.cross_entropy(net(jitter(images[batch]))["logits"], labels[batch], label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        schedule.step()
        print(f"epoch {epoch + 1}: held-out accuracy {accuracy(net, images[test_idx], labels[test_idx]):.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.out)
    print(f"wrote {args.out} (sha256 {file_sha256(args.out)})")


if __name__ == "__main__":
    main()
