"""``ganforge eval`` of a shapes-captions run: does the picture show what the words say?

The fixed prompt set names every (colour, shape, size, position): 6 x 4 x 2 x 9 = 432 prompts in the
canonical form "a small red circle at the top left", each drawn ``repeats`` times. The shipped attribute
classifier reads every generated picture; accuracy is reported per attribute, separately for the 20 seen
colour-shape combinations and the 4 held-out ones (this data set's analogue of R-precision). Reference
rows: the real rendered pictures of the same prompts (the classifier's own ceiling) and the same generator
with the prompts shuffled (what a model that ignores the words would score). FID uses the classifier's
96-d features, against the real pictures of the same prompts.
"""

from __future__ import annotations

import itertools
import random
import sys
from functools import lru_cache
from typing import Any

import torch
from torch import Tensor

from ganforge.families.base import TrainingContext
from ganforge.families.text2image.captions import canonical_caption
from ganforge.families.text2image.classifier import (
    FEATURE_DIM,
    classifier_features,
    classifier_label,
    classifier_size,
    classify,
    load_classifier,
)
from ganforge.families.text2image.data import SHAPES_VERSION, render_scenes
from ganforge.families.text2image.model import TextImageModel, draw
from ganforge.families.text2image.scenes import ATTRIBUTES, COLOURS, HELD_OUT, POSITIONS, SHAPES, SIZES, single_scene
from ganforge.families.text2image.words import encode_prompts
from ganforge.metrics.frechet import frechet_distance
from ganforge.training.callbacks import EVALUATION_SEED, Evaluation

EVAL_RENDER_SEED = "shapes-captions-eval"
ROWS = ("generated", "reference_real", "reference_shuffled")


@lru_cache(maxsize=4)  # rendering 864 pictures takes seconds; callers do not modify the tensors
def prompt_set(repeats: int, seed: str = EVAL_RENDER_SEED, size: int = 64) -> tuple[list[str], Tensor, Tensor, Tensor]:
    """(prompts, real images in [-1, 1] of ``size`` pixels, labels [N, 4], held-out mask [N]) of the evaluation
    prompts (the same scenes at every size)."""
    rng = random.Random(seed)
    combos = list(itertools.product(COLOURS, SHAPES, SIZES, POSITIONS))
    scenes = [single_scene(rng, *combo) for combo in combos for _ in range(repeats)]
    prompts = [canonical_caption(s.shapes[0]) for s in scenes]
    labels = torch.tensor([s.shapes[0].indices() for s in scenes])
    held = torch.tensor([(s.shapes[0].colour, s.shapes[0].shape) in HELD_OUT for s in scenes])
    images = render_scenes(scenes, size).float().div(127.5).sub(1)
    return prompts, images, labels, held


def accuracy(predicted: dict[str, torch.Tensor], labels: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """Share of pictures whose predicted attribute equals the asked one, per attribute and all four at once."""
    hits = torch.stack([predicted[name] == labels[:, k] for k, name in enumerate(ATTRIBUTES)], dim=1)[mask]
    out = {name: round(float(hits[:, k].float().mean()), 4) for k, name in enumerate(ATTRIBUTES)}
    out["all_four"] = round(float(hits.all(dim=1).float().mean()), 4)
    return out


def evaluate_prompts(model: TextImageModel, repeats: int, seed: int) -> dict[str, Any]:
    """Attribute accuracy (seen / held-out) and FID for generated, real and shuffled-caption pictures."""
    image_size = int(getattr(model.generator, "size", 64))
    size = classifier_size(image_size)
    prompts, real, labels, held = prompt_set(repeats, size=size)
    ids, lengths, _ = encode_prompts(prompts, model.vocab, model.max_words, warn=False)
    shuffle = torch.randperm(len(prompts), generator=torch.Generator().manual_seed(seed + 1))
    with model.lock:
        fake = draw(model.generator, model.encoder, ids, lengths, seed)
        shuffled = draw(model.generator, model.encoder, ids[shuffle], lengths[shuffle], seed)
    classifier = load_classifier(model.device, input_size=size)
    _, real_again, _, _ = prompt_set(repeats, EVAL_RENDER_SEED + "-second", size)
    real_features = classifier_features(classifier, real)
    results: dict[str, Any] = {}
    for row, images in zip(ROWS, (fake, real, shuffled), strict=True):
        predicted = classify(classifier, images)
        other = real_again if row == "reference_real" else images  # real vs real: a second rendering
        results[row] = {
            "seen": accuracy(predicted, labels, ~held),
            "held_out": accuracy(predicted, labels, held),
            "fid": round(frechet_distance(real_features, classifier_features(classifier, other)), 4),
        }
    results["protocol"] = {
        "prompts": len(set(prompts)), "seen_prompts": len(set(p for p, h in zip(prompts, held, strict=True) if not h)),
        "held_out_prompts": len(set(p for p, h in zip(prompts, held, strict=True) if h)),
        "images_per_prompt": repeats, "images": len(prompts), "seed": seed,
        "held_out_combinations": sorted(f"{c} {s}" for c, s in HELD_OUT),
        "classifier": f"{classifier_label(size)} (shipped weights)",
        "fid_features": f"{classifier_label(size)} penultimate layer ({FEATURE_DIM}-d)",
        "fid_reference": f"the {len(prompts)} real {size}x{size} renderings of the same prompts (shapes-captions "
                         f"v{SHAPES_VERSION}, seed '{EVAL_RENDER_SEED}'); reference_real compares a second rendering",
        "resize": f"none ({size}x{size} pictures, {size}x{size} classifier)" if image_size == size
                  else f"bilinear from {image_size}x{image_size} to {size}x{size} for the classifier",
        "prompt_form": "a {size} {colour} {shape} {position phrase}",
        "shuffled": "the same generator and noise with the prompts permuted; scored against the asked attributes",
    }
    return results


def training_evaluation(context: TrainingContext) -> Evaluation | None:
    """Every ``eval.every`` steps: attribute accuracy of one picture per seen-combination prompt (the EMA
    networks, fixed noise), logged as ``eval_*``; keeps ``checkpoints/best.pt`` by ``eval.best``. The held-out
    combinations stay out of the choice. A run's shape score moves by several points from one checkpoint to
    the next (docs/text2image.md), so the last is not always the best. None (with a note) for other data."""
    config, data = context.config, context.data
    if data.name != "shapes-captions":
        print(f"note: no evaluation during training (eval.every): it scores the shapes-captions prompts, and "
              f"{data.name} has no attribute classifier", file=sys.stderr)
        return None
    size = classifier_size(config.data.size)
    prompts, _, labels, held = prompt_set(1, size=size)
    seen = [p for p, h in zip(prompts, held.tolist(), strict=True) if not h]
    ids, lengths, _ = encode_prompts(seen, data.vocab, config.model.max_words, warn=False)
    with torch.random.fork_rng(devices=[]):  # building the network draws its initial weights: not from training's
        classifier = load_classifier(context.device, input_size=size)
    generator, encoder = context.recipe.sampler

    def evaluate(_: torch.nn.Module) -> dict[str, float]:
        was_training = encoder.training
        encoder.eval()
        with torch.no_grad():
            images = draw(generator, encoder, ids, lengths, EVALUATION_SEED)
            predicted = classify(classifier, images)
        encoder.train(was_training)
        return accuracy(predicted, labels[~held], torch.ones(len(seen), dtype=torch.bool))

    return Evaluation(generator, evaluate, config.eval.every, config.eval.best, context.run.best_checkpoint,
                      context.metrics_log, writer=context.writes, lower_is_better=False)


def format_results(results: dict[str, Any]) -> str:
    """The table of ``evaluate_prompts`` for a terminal."""
    header = f"{'':<20} {'split':<9} " + " ".join(f"{a:>9}" for a in (*ATTRIBUTES, "all_four")) + f" {'FID':>8}"
    lines = [header]
    for row in ROWS:
        for split in ("seen", "held_out"):
            scores = results[row][split]
            fid = f"{results[row]['fid']:>8.2f}" if split == "seen" else ""
            lines.append(f"{row:<20} {split:<9} " + " ".join(f"{scores[a]:>9.3f}" for a in (*ATTRIBUTES, "all_four"))
                         + f" {fid}")
    p = results["protocol"]
    lines.append(f"protocol: {p['images']} images ({p['prompts']} prompts x {p['images_per_prompt']}; "
                 f"{p['held_out_prompts']} held-out prompts: {', '.join(p['held_out_combinations'])}), "
                 f"seed {p['seed']}; "
                 f"classifier {p['classifier']}; FID on its {FEATURE_DIM}-d features vs the real renderings")
    return "\n".join(lines)
