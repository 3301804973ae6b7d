"""Train the text2image attribute classifier and write src/ganforge/families/text2image/weights/attributes-v1.pt
(64x64 pictures) or, with --size 32, attributes-32px-v1.pt (32x32 pictures, for 32x32 runs).

    OMP_NUM_THREADS=1 python scripts/text2image_attributes.py [--size 64] [--train 12000] [--epochs 5]

The pictures are rendered offline (shapes-captions' renderer, single shapes, every colour-shape combination
including the held-out ones); training data and test data use different seeds, and the test seed differs
from the one `ganforge eval` uses. Training adds light blur and noise so the classifier also reads the
softer pictures a generator makes. Prints the test accuracy per attribute; the weights are stored in
float16 (about 170 KB).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.transforms.v2 import functional as TF

from ganforge.families.text2image.classifier import (
    CLASSIFIER_VERSION,
    INPUT_SIZES,
    AttributeNet,
    classify,
    weights_path,
)
from ganforge.families.text2image.data import render_scenes
from ganforge.families.text2image.scenes import (
    ATTRIBUTE_VALUES,
    ATTRIBUTES,
    COLOURS,
    POSITIONS,
    SHAPES,
    SIZES,
    single_scene,
)

TRAIN_SEED, TEST_SEED = "attributes-train", "attributes-test"


def labelled_set(count: int, seed: str, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """(images in [-1, 1] [N, 3, size, size], labels [N, 4]) of random single shapes (all combinations)."""
    rng = random.Random(seed)
    picks = [(rng.choice(list(COLOURS)), rng.choice(SHAPES), rng.choice(SIZES), rng.choice(POSITIONS))
             for _ in range(count)]
    scenes = [single_scene(rng, *p) for p in picks]
    labels = torch.tensor([[ATTRIBUTE_VALUES[a].index(v) for a, v in zip(ATTRIBUTES, p, strict=True)]
                           for p in picks])
    return render_scenes(scenes, size).float().div(127.5).sub(1), labels


def soften(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random blur (half of the batch; sigma 1 pixel at 64x64, scaled with the size) and Gaussian noise, like
    a generator's output."""
    sigma = images.shape[-1] / 64
    blurred = TF.gaussian_blur(images, kernel_size=5 if sigma >= 1 else 3, sigma=sigma)
    pick = (torch.rand(images.shape[0], 1, 1, 1, generator=generator) < 0.5).float()
    out = pick * blurred + (1 - pick) * images
    return out + 0.05 * torch.rand(images.shape[0], 1, 1, 1, generator=generator) * torch.randn(out.shape,
                                                                                                 generator=generator)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", type=int, default=12000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, choices=INPUT_SIZES, help="picture side the classifier reads")
    parser.add_argument("--out", type=Path, default=None, help="default: the shipped weights file of --size")
    args = parser.parse_args()
    args.out = args.out or Path(weights_path(args.size))
    torch.manual_seed(0)
    start = time.time()
    x, y = labelled_set(args.train, TRAIN_SEED, args.size)
    xt, yt = labelled_set(args.test, TEST_SEED, args.size)
    print(f"rendered {len(x)} + {len(xt)} pictures in {time.time() - start:.0f} s")
    net = AttributeNet(args.size)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    steps = args.epochs * (len(x) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    noise = torch.Generator().manual_seed(1)
    for epoch in range(args.epochs):
        order = torch.randperm(len(x))
        for i in range(len(x) // 64):
            idx = order[i * 64:(i + 1) * 64]
            logits = net(soften(x[idx], noise))
            loss = sum(F.cross_entropy(logits[a], y[idx, k]) for k, a in enumerate(ATTRIBUTES))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        net.eval()
        pred = classify(net, xt)
        acc = {a: float((pred[a] == yt[:, k]).float().mean()) for k, a in enumerate(ATTRIBUTES)}
        net.train()
        print(f"epoch {epoch + 1}: loss {float(loss):.3f}  test accuracy "
              + "  ".join(f"{a} {v:.4f}" for a, v in acc.items()) + f"  ({time.time() - start:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() for k, v in net.state_dict().items()}
    torch.save({"version": CLASSIFIER_VERSION, "input_size": args.size, "model": state, "test_accuracy": acc},
               args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
