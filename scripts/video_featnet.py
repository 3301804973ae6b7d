"""Train the ``video-v1`` feature network (the video family's FVD features) and write its weights.

    python scripts/video_featnet.py --out src/ganforge/families/video/weights/video-v1.pt

Deterministic for a seed on the CPU. It renders one-digit moving-digits clips (32x32, 16 frames; training
seed 1000, held-out seed 1001, neither used by training runs or evaluation references) and learns the
digit's class and its starting direction (8 bins). The released file's sha256 goes into
``VIDEO_V1_SHA256`` in ``ganforge/families/video/featnet.py``: a network trained differently must get a
new version name, never replace video-v1.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F

from ganforge.data.base import uint8_to_unit as to_unit
from ganforge.families.video.featnet import VideoFeatureNet
from ganforge.families.video.moving import moving_digits


def accuracy(net: VideoFeatureNet, clips: torch.Tensor, digits: torch.Tensor, directions: torch.Tensor
             ) -> tuple[float, float]:
    net.eval()
    with torch.no_grad():
        outs = [net(to_unit(part)) for part in clips.split(250)]
    digit = torch.cat([o["digit"].argmax(1) for o in outs])
    direction = torch.cat([o["direction"].argmax(1) for o in outs])
    return float((digit == digits).float().mean()), float((direction == directions).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("src/ganforge/families/video/weights/video-v1.pt"))
    parser.add_argument("--clips", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    train = moving_digits(args.clips, frames=16, size=32, digits=1, seed=1000)
    test = moving_digits(1000, frames=16, size=32, digits=1, seed=1001)
    net = VideoFeatureNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    batches_per_epoch = (args.clips + 63) // 64
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 2e-3, total_steps=args.epochs * batches_per_epoch)
    for epoch in range(args.epochs):
        net.train()
        for batch in torch.randperm(args.clips).split(64):
            out = net(to_unit(train.clips[batch]))
            loss = F.cross_entropy(out["digit"], train.labels[batch], label_smoothing=0.05) + \
                F.cross_entropy(out["direction"], train.directions[batch], label_smoothing=0.05)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        digit, direction = accuracy(net, test.clips, test.labels, test.directions)
        print(f"epoch {epoch + 1}: held-out digit accuracy {digit:.4f}, direction accuracy {direction:.4f}",
              flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), args.out)
    print(f"wrote {args.out} sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
