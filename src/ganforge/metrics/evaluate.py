"""Evaluate generated images against a reference data set. Every number comes with its protocol.

Reference features are cached per (data set, split, extractor, image size, sample count) under
``$GANFORGE_CACHE`` (default ``~/.cache/ganforge/stats``), so a second evaluation does not recompute them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit
from ganforge.errors import GanforgeError
from ganforge.metrics.class_shares import class_coverage
from ganforge.metrics.extractors import FeatureExtractor
from ganforge.metrics.frechet import frechet_distance
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kernel_inception_distance
from ganforge.metrics.manifold import density_coverage, precision_recall
from ganforge.registry import unknown_name_message
from ganforge.version import __version__

METRIC_DESCRIPTIONS = {
    "fid": "Frechet distance between Gaussian fits of real and fake features (lower is better)",
    "kid": "kernel (Inception) distance: unbiased polynomial-kernel MMD^2, mean and std over subsets (lower)",
    "is": "Inception Score from the extractor's class logits (higher is better)",
    "pr": "precision and recall of k-NN feature manifolds, Kynkaanniemi et al. 2019 (higher)",
    "dc": "density and coverage, Naeem et al. 2020 (higher)",
    "classes": "mode coverage: smallest and largest class share by the extractor's classifier, and KL(real||fake) "
               "of the shares (lower)",
}
LOWER_IS_BETTER = {"fid": True, "kid": True, "is": False, "precision": False, "recall": False,
                   "density": False, "coverage": False,
                   "class_share_min": False, "class_share_max": True, "class_kl": True}
KID_SUBSETS, KID_SUBSET_SIZE, PR_K, DC_K, IS_SPLITS = 100, 1000, 3, 5, 10
REFERENCE_SEED = 0


_SCORES = {"fid": ["fid"], "kid": ["kid"], "is": ["is"], "pr": ["precision", "recall"], "dc": ["density", "coverage"],
           "classes": ["class_share_min", "class_share_max", "class_kl"]}


def score_keys(metrics: list[str]) -> list[str]:
    """The score names the metrics produce: pr gives precision and recall, dc density and coverage."""
    return [key for metric in metrics for key in _SCORES[metric]]


def flatten_scores(results: dict[str, Any]) -> dict[str, float]:
    """``{"kid": {"mean": m, "std": s}}`` -> ``{"kid": m, "kid_std": s}``; the protocol is left out."""
    flat: dict[str, float] = {}
    for key, value in results.items():
        if key == "protocol":
            continue
        if isinstance(value, dict):
            flat[key], flat[f"{key}_std"] = value["mean"], value["std"]
        else:
            flat[key] = value
    return flat


def parse_metrics(text: str | list[str]) -> list[str]:
    names = [m.strip() for m in (text.split(",") if isinstance(text, str) else text) if m.strip()]
    for name in names:
        if name not in METRIC_DESCRIPTIONS:
            raise GanforgeError(unknown_name_message("metric", name, list(METRIC_DESCRIPTIONS)))
    if not names:
        raise GanforgeError(f"no metrics asked for; choose from {', '.join(METRIC_DESCRIPTIONS)}")
    return names


@dataclass
class FeatureSet:
    features: Tensor
    logits: Tensor | None


def cache_dir() -> Path:
    return Path(os.environ.get("GANFORGE_CACHE", Path.home() / ".cache" / "ganforge" / "stats"))


def _dataset_key(name: str) -> str:
    if not name.startswith("folder:"):
        return name
    folder = Path(name.split(":", 1)[1]).expanduser().resolve()
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    stamp = f"{folder}|{len(files)}|{max((p.stat().st_mtime_ns for p in files), default=0)}"
    return "folder-" + hashlib.sha256(stamp.encode()).hexdigest()[:16]


def reference_features(
    dataset: str, extractor: FeatureExtractor, n: int | None, device: torch.device | str = "cpu", use_cache: bool = True
) -> tuple[FeatureSet, dict[str, Any]]:
    """Features of (up to) ``n`` real images, a seeded random subset when the data set is larger; cached."""
    data = build_dataset(dataset)
    count = len(data) if n is None else min(n, len(data))
    shape = "x".join(map(str, data.image_shape))
    info = {"dataset": dataset, "split": "train", "n": count, "of": len(data), "image_shape": shape,
            "subset": "all" if count == len(data) else f"random subset, seed {REFERENCE_SEED}"}
    path = cache_dir() / f"{_dataset_key(dataset)}-train-{extractor.name}-{shape}-n{count}.pt"
    if use_cache and path.is_file():
        cached = torch.load(path, map_location="cpu", weights_only=True)
        return FeatureSet(cached["features"], cached.get("logits")), info
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(REFERENCE_SEED))[:count]
    images = uint8_to_unit(torch.stack([data[int(i)][0] for i in order]))
    features, logits = extractor.extract(images, device)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save({"features": features, "logits": logits}, tmp)
        os.replace(tmp, path)
    return FeatureSet(features, logits), info


def compute_metrics(real: FeatureSet, fake: FeatureSet, metrics: list[str]) -> dict[str, Any]:
    """The asked-for metrics on two feature sets."""
    results: dict[str, Any] = {}
    if "fid" in metrics:
        results["fid"] = frechet_distance(real.features, fake.features)
    if "kid" in metrics:
        mean, std = kernel_inception_distance(real.features, fake.features, KID_SUBSETS, KID_SUBSET_SIZE)
        results["kid"] = {"mean": mean, "std": std}
    if "is" in metrics:
        if fake.logits is None:
            raise GanforgeError("the Inception Score needs an extractor with class logits (digits or inception)")
        mean, std = inception_score(fake.logits, IS_SPLITS)
        results["is"] = {"mean": mean, "std": std}
    if "pr" in metrics:
        results["precision"], results["recall"] = precision_recall(real.features, fake.features, PR_K)
    if "dc" in metrics:
        results["density"], results["coverage"] = density_coverage(real.features, fake.features, DC_K)
    if "classes" in metrics:
        if real.logits is None or fake.logits is None:
            raise GanforgeError("the classes metric needs an extractor with class logits (e.g. digits or fashion)")
        results.update(class_coverage(real.logits, fake.logits))
    return results


def metric_protocol(metrics: list[str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "kid" in metrics:
        settings["kid"] = {"kernel": "(x.y/d + 1)^3", "subsets": KID_SUBSETS, "subset_size": KID_SUBSET_SIZE}
    if "is" in metrics:
        settings["is"] = {"splits": IS_SPLITS}
    if "pr" in metrics:
        settings["pr"] = {"k": PR_K}
    if "dc" in metrics:
        settings["dc"] = {"k": DC_K}
    return settings


def evaluate_images(
    fake_images: Tensor,
    against: str,
    extractor: FeatureExtractor,
    metrics: list[str],
    n_real: int | None = None,
    fake_source: str = "images",
    device: torch.device | str = "cpu",
    gather: Callable[[tuple[Tensor, Tensor | None]], tuple[Tensor, Tensor | None]] | None = None,
) -> dict[str, Any]:
    """Metrics of ``fake_images`` ([N, C, H, W] in [-1, 1]) against a data set, with the full protocol.

    ``gather`` (distributed evaluation) turns this process's (features, logits) into everyone's."""
    extracted = extractor.extract(fake_images, device)
    if gather is not None:
        extracted = gather(extracted)
    fake = FeatureSet(*extracted)
    real, real_info = reference_features(against, extractor, n_real, device)
    results = compute_metrics(real, fake, metrics)
    results["protocol"] = {
        "extractor": extractor.describe(),
        "real": real_info,
        "fake": {"n": int(fake.features.shape[0]), "source": fake_source,
                 "image_shape": "x".join(map(str, fake_images.shape[1:]))},
        "metrics": metric_protocol(metrics),
        "ganforge": __version__,
    }
    return results
