"""Reference points for digits-v1 metrics: the real-vs-real floor, noise, blur, and optionally trained runs.

    python benchmarks/metric_baselines.py [RUN ...] [--n 2500]

Real images are split into two disjoint random halves of the embedded digits (2,500 each by default): one
half is the reference, the other (or noise, or a blurred copy, or a run's samples) is measured against it.
Prints a markdown table (FID, KID mean +- std, precision, recall) with the protocol.
"""

from __future__ import annotations

import argparse

import torch
import torchvision.transforms.v2.functional as TF

from ganforge import generate, load_generator
from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit
from ganforge.metrics.evaluate import FeatureSet, compute_metrics
from ganforge.metrics.extractors import build_extractor

METRICS = ["fid", "kid", "pr"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run folders to measure against the same reference half")
    parser.add_argument("--n", type=int, default=2500, help="images per side (at most 2,500)")
    args = parser.parse_args()
    n = min(args.n, 2500)

    data = build_dataset("digits")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    images = uint8_to_unit(data.images[order])
    reference, other = images[:n], images[2500 : 2500 + n]
    extractor = build_extractor("digits")
    real = FeatureSet(*extractor.extract(reference))

    candidates = {
        "real vs real (disjoint halves): the floor": other,
        "real, Gaussian blur sigma 1": TF.gaussian_blur(other, [7, 7], [1.0, 1.0]),
        "real + noise (std 0.5)": (other + 0.5 * torch.randn(other.shape, generator=torch.Generator().manual_seed(1)))
        .clamp(-1, 1),
        "uniform noise": torch.rand(other.shape, generator=torch.Generator().manual_seed(2)) * 2 - 1,
    }
    for run in args.runs:
        candidates[f"run {run} (EMA generator, seed 0)"] = generate(load_generator(run), n, seed=0)

    print(f"digits-v1 features; reference: {n} embedded digits (random half, seed 0); {n} images per row")
    print("| images | FID | KID | precision | recall |")
    print("|---|---|---|---|---|")
    for name, fake in candidates.items():
        scores = compute_metrics(real, FeatureSet(*extractor.extract(fake)), METRICS)
        kid = scores["kid"]
        print(f"| {name} | {scores['fid']:.2f} | {kid['mean']:.3f} +- {kid['std']:.3f} | "
              f"{scores['precision']:.3f} | {scores['recall']:.3f} |")


if __name__ == "__main__":
    main()
