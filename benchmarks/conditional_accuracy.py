"""How often the digits-v1 classifier reads the class a conditional run was asked for.

    python benchmarks/conditional_accuracy.py RUN [RUN ...] [--n 1000] [--seed 0]

For each class k, ``n`` images from ``generate(..., class_index=k)`` (what `ganforge sample RUN --class k`
draws) are classified by the committed digits-v1 network (99.4% on held-out real digits). Prints the
accuracy per class and overall.
"""

from __future__ import annotations

import argparse

import torch

from ganforge import generate, load_generator
from ganforge.metrics.digits_net import load_digits_net


@torch.no_grad()
def class_accuracy(run: str, n: int, seed: int) -> list[float]:
    generator = load_generator(run)
    classifier = load_digits_net()
    scores = []
    for k in range(generator.num_classes):
        images = generate(generator, n, seed + k, class_index=k)
        scores.append((classifier(images)["logits"].argmax(1) == k).float().mean().item())
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--n", type=int, default=1000, help="images per class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print("| run | " + " | ".join(str(k) for k in range(10)) + " | all |")
    print("|---" * 12 + "|")
    for run in args.runs:
        scores = class_accuracy(run, args.n, args.seed)
        cells = " | ".join(f"{100 * s:.1f}" for s in scores)
        print(f"| {run} | {cells} | {100 * sum(scores) / len(scores):.1f} |")


if __name__ == "__main__":
    main()
