"""Evaluating image runs: ``ganforge eval`` on a run or a folder of images, and evaluation during training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, TrainingContext
from ganforge.families.images.generate import generate
from ganforge.metrics.evaluate import LOWER_IS_BETTER, evaluate_images, flatten_scores, parse_metrics, score_keys
from ganforge.metrics.extractors import build_extractor, default_extractor_name
from ganforge.parallel import gather_in_rank_order
from ganforge.training.callbacks import EVALUATION_SEED, Evaluation

DEFAULT_METRICS = "fid,kid,pr"


def evaluate_generator(generator: nn.Module, source: str, data_name: str, request: EvalRequest, n: int
                       ) -> dict[str, Any]:
    """Metrics of ``n`` images from ``generator`` against the reference data, with their protocol."""
    images = generate(generator, n, request.seed)
    return evaluate_tensor(images, source, request.against or data_name, request, n)


def evaluate_tensor(images: Tensor, source: str, against: str, request: EvalRequest, n: int) -> dict[str, Any]:
    metrics = parse_metrics(request.metrics or DEFAULT_METRICS)
    auto = request.extractor == "auto"
    name = default_extractor_name(tuple(images.shape[1:]), against) if auto else request.extractor
    extractor = build_extractor(name, request.weights)
    return evaluate_images(images, against, extractor, metrics, n, source, request.device)


def evaluate_folder(path: Path, request: EvalRequest, n: int) -> dict[str, Any]:
    """Metrics of up to ``n`` images of a folder (sorted order) against ``--against`` (digits by default)."""
    if not path.exists():
        raise GanforgeError(f"evaluation target not found: {path} (give a run folder or a folder of images)")
    data = build_dataset(f"folder:{path}")
    count = min(n, len(data))
    images = uint8_to_unit(torch.stack([data[i][0] for i in range(count)]))
    source = f"folder {path} (first {count} images in sorted order)"
    return evaluate_tensor(images, source, request.against or "digits", request, n)


def evaluation_callback(context: TrainingContext, network: nn.Module, every: int) -> Evaluation:
    """Every ``every`` steps: metrics of ``eval.n`` samples from fixed noise, logged as ``eval_*``; keeps
    ``checkpoints/best.pt`` by ``eval.best``. Under DDP every process embeds its share of the images."""
    config, world = context.config, context.world
    settings = config.eval
    metrics = parse_metrics(settings.metrics)
    if settings.best is not None and settings.best not in score_keys(metrics):
        raise GanforgeError(
            f"eval.best={settings.best} is not among the scores of eval.metrics={','.join(metrics)} "
            f"(they give: {', '.join(score_keys(metrics))})"
        )
    image_shape = tuple(context.data.image_shape)
    against = settings.against or config.data.name
    name = default_extractor_name(image_shape, against) if settings.extractor == "auto" else settings.extractor
    extractor = build_extractor(name, settings.weights)

    def gather(extracted: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor | None]:
        parts = gather_in_rank_order(extracted, world)  # each process extracted its share of the images
        logits = [p[1] for p in parts]
        return torch.cat([p[0] for p in parts]), None if logits[0] is None else torch.cat(logits)

    def evaluate(generator: nn.Module) -> dict[str, float]:
        images = generate(generator, settings.n, EVALUATION_SEED, share=(world.rank, world.size))
        results = evaluate_images(images, against, extractor, metrics, settings.n, device=context.device,
                                  gather=gather if world.distributed else None)
        return flatten_scores(results)

    lower_is_better = LOWER_IS_BETTER.get(settings.best or "", True)
    return Evaluation(network, evaluate, every, settings.best, context.run.best_checkpoint,
                      context.metrics_log, writer=context.writes, lower_is_better=lower_is_better)


def format_report(results: dict[str, Any]) -> str:
    """Metrics as aligned lines, then the protocol in words."""
    lines = []
    for key, value in results.items():
        if key != "protocol":
            shown = f"{value['mean']:.5g} +- {value['std']:.2g}" if isinstance(value, dict) else f"{value:.5g}"
            lines.append(f"{key:<10} {shown}")
    ext, real, fake = (results["protocol"][k] for k in ("extractor", "real", "fake"))
    lines.append(
        f"protocol: extractor {ext['name']} ({ext.get('feature_dim', '?')}-d features; "
        f"resize: {ext.get('resize', '-')}); real: {real['dataset']} {real['split']} split, {real['n']} of "
        f"{real['of']} images ({real['subset']}); fake: {fake['n']} images from {fake['source']}"
    )
    return "\n".join(lines)
