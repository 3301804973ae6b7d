"""Reference points for the offline feature networks: the real-vs-real floor, noise, blur, and trained runs.

    python benchmarks/metric_baselines.py [RUN ...] [--n 2500]                       # digits-v1
    python benchmarks/metric_baselines.py [RUN ...] --data fashion-mnist [--n 2500]  # fashion-v1

digits: the embedded 5,000 digits are split into two disjoint random halves (2,500 each by default): one half
is the reference, the other (or noise, or a blurred copy, or a run's samples) is measured against it.
fashion-mnist: the reference is a random subset of the 60,000 training images, the other real set a disjoint
random subset of the same size; one more row measures the held-out test split against the same reference.
Prints a markdown table (FID, KID mean +- std, precision, recall, the smallest and largest class share by
the network's classifier) with the protocol.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF

from ganforge import generate, load_generator
from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit
from ganforge.data.builtin import DEBIAN_FASHION_DIR, read_idx
from ganforge.metrics.evaluate import FeatureSet, compute_metrics
from ganforge.metrics.extractors import build_extractor

METRICS = ["fid", "kid", "pr"]
EXTRACTOR = {"digits": "digits", "fashion-mnist": "fashion"}


def real_sets(data_name: str, n: int) -> tuple[torch.Tensor, dict[str, torch.Tensor], str]:
    """The reference images, the other real images by row name, and a line describing them."""
    data = build_dataset(data_name)
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    if data_name == "digits":
        n = min(n, 2500)
        images = uint8_to_unit(data.images[order])
        return images[:n], {"real vs real (disjoint halves): the floor": images[2500 : 2500 + n]}, (
            f"reference: {n} embedded digits (random half, seed 0); {n} images per row")
    images = uint8_to_unit(data.images[order[: 2 * n]])
    test = torch.from_numpy(read_idx(DEBIAN_FASHION_DIR / "t10k-images-idx3-ubyte.gz").copy()).unsqueeze(1)
    test = uint8_to_unit(test[torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n]])
    others = {"real vs real (disjoint training subsets): the floor": images[n:],
              "held-out test split vs the training reference": test}
    return images[:n], others, (f"reference: {n} random training images (seed 0); the other training subset "
                                f"is disjoint; {n} images per row")


def class_shares(logits: torch.Tensor | None) -> str:
    if logits is None:
        return "-"
    shares = np.bincount(logits.argmax(1).numpy(), minlength=logits.shape[1]) / logits.shape[0]
    return f"{100 * shares.min():.1f}-{100 * shares.max():.1f}%"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run folders to measure against the same reference")
    parser.add_argument("--data", choices=sorted(EXTRACTOR), default="digits", help="real data and its network")
    parser.add_argument("--n", type=int, default=2500, help="images per side (at most 2,500 for digits)")
    args = parser.parse_args()

    reference, others, described = real_sets(args.data, args.n)
    n = reference.shape[0]
    extractor = build_extractor(EXTRACTOR[args.data])
    real = FeatureSet(*extractor.extract(reference))
    other = next(iter(others.values()))
    candidates = {
        **others,
        "real, Gaussian blur sigma 1": TF.gaussian_blur(other, [7, 7], [1.0, 1.0]),
        "real + noise (std 0.5)": (other + 0.5 * torch.randn(other.shape, generator=torch.Generator().manual_seed(1)))
        .clamp(-1, 1),
        "uniform noise": torch.rand(other.shape, generator=torch.Generator().manual_seed(2)) * 2 - 1,
    }
    for run in args.runs:
        candidates[f"run {run} (EMA generator, seed 0)"] = generate(load_generator(run), n, seed=0)

    print(f"{extractor.name} features; {described}")
    print(f"| images | FID | KID | precision | recall | class shares by {extractor.name} |")
    print("|---|---|---|---|---|---|")
    print(f"| the reference itself | 0 | - | - | - | {class_shares(real.logits)} |")
    for name, fake in candidates.items():
        features = FeatureSet(*extractor.extract(fake))
        scores = compute_metrics(real, features, METRICS)
        kid = scores["kid"]
        print(f"| {name} | {scores['fid']:.2f} | {kid['mean']:.3f} +- {kid['std']:.3f} | "
              f"{scores['precision']:.3f} | {scores['recall']:.3f} | {class_shares(features.logits)} |")


if __name__ == "__main__":
    main()
