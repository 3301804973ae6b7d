"""`ganforge eval` of a spoken-digits run with the project's digit classifier: accuracy on the requested digit,
an Inception-score-like score and a Frechet distance in the classifier's 128-d feature space against
held-out voices; with the real-vs-real floor and white noise as reference points."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, TrainingContext
from ganforge.families.speech.classifier import DigitClassifier, load_classifier
from ganforge.families.speech.config import SpeechConfig
from ganforge.families.speech.datasets import load_corpus
from ganforge.families.speech.model import SpeechModel
from ganforge.training.callbacks import EVALUATION_SEED, Evaluation

METRICS = {
    "digit_accuracy": "spoken digits: share of clips the classifier hears as the requested digit (higher is better)",
    "digit_is": "spoken digits: IS-like exp(E KL(p(y|x) || p(y))) of the digit classifier (higher is better, max 10)",
    "digit_fd": "spoken digits: Frechet distance of digit-classifier features to held-out voices (lower is better)",
}
SPLITS = 5
REFERENCE_CLIPS = 1000  # training clips whose classifier features are the FD reference during training


def score(classifier: DigitClassifier, audio: torch.Tensor, labels: torch.Tensor, reference: np.ndarray | None
          ) -> dict[str, float]:
    """Accuracy, IS-like score and (when ``reference`` features are given) the Frechet distance of ``audio``."""
    return score_outputs(*classifier.run(audio), labels, reference)


def score_outputs(logits: torch.Tensor, feats: torch.Tensor, labels: torch.Tensor, reference: np.ndarray | None
                  ) -> dict[str, float]:
    """``score`` from the classifier's logits and features, when they are needed for more than one report."""
    from ganforge.metrics.frechet import frechet_distance
    from ganforge.metrics.inception_score import inception_score

    out = {"digit_accuracy": float((logits.argmax(1) == labels).float().mean()),
           "digit_is": inception_score(logits, splits=max(1, min(SPLITS, len(logits) // 50)))[0]}
    if reference is not None:
        out["digit_fd"] = frechet_distance(reference, feats.numpy().astype(np.float64))
    return {k: round(v, 4) if math.isfinite(v) else None for k, v in out.items()}


def by_digit(classes: tuple[str, ...], predicted: torch.Tensor, labels: torch.Tensor) -> dict[str, dict[str, Any]]:
    """For each requested digit: the share heard as it, and the answer heard most often instead (failures are
    digit-specific: a run can say "one" for most of its "three"s while its other digits are right)."""
    out: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(classes):
        heard = predicted[labels == index]
        if len(heard) == 0:
            continue
        wrong = heard[heard != index]
        instead = classes[int(wrong.mode().values)] if len(wrong) else None
        out[name] = {"accuracy": round(float((heard == index).float().mean()), 4), "clips": len(heard),
                     "most_heard_instead": instead}
    return out


def decoder_name(model: SpeechModel) -> str:
    if model.voice_f0 > 0:
        return f"voiced decoder at {model.voice_f0:g} Hz"
    return f"Griffin-Lim {model.griffin_lim_iters} iterations"


def evaluate_digits(model: SpeechModel, config: SpeechConfig, request: EvalRequest, source: str) -> dict[str, Any]:
    classifier = load_classifier(request.weights or config.eval.classifier)
    if tuple(model.classes) != classifier.classes:
        raise GanforgeError(f"the digit classifier knows {', '.join(classifier.classes)}, but this run's classes "
                            f"are {', '.join(model.classes)}; `ganforge eval` scores spoken-digits runs")
    if request.metrics:
        unknown = [m for m in request.metrics.split(",") if m.strip() not in METRICS]
        if unknown:
            raise GanforgeError(f"unknown spoken-digits metric '{unknown[0]}'; known: {', '.join(METRICS)}")
    n = request.n or config.eval.n
    against = request.against or "spoken-digits"
    corpus = load_corpus(against, config.data.root, classifier.rate, 1, config.data.voices, config.data.takes)
    held = np.flatnonzero(corpus.held_out)
    if len(held) < 4:
        raise GanforgeError(f"{against} has too few held-out clips ({len(held)}) to compare with")
    real = classifier.prepare([corpus.clips[i] for i in held], classifier.rate)
    real_labels = torch.from_numpy(corpus.labels[held])
    _, real_feats = classifier.run(real)
    half = len(held) // 2
    order = torch.randperm(len(held), generator=torch.Generator().manual_seed(request.seed))
    first, second = order[:half], order[half:]
    fake_audio, fake_labels = model.generate(n, request.seed)
    fake = classifier.prepare(list(fake_audio), model.rate)
    noise = torch.randn(n, classifier.samples, generator=torch.Generator().manual_seed(request.seed)) * 0.3
    reference = real_feats.numpy().astype(np.float64)
    fake_logits, fake_feats = classifier.run(fake)
    results: dict[str, Any] = {
        "generated": score_outputs(fake_logits, fake_feats, fake_labels, reference),
        "real_vs_real": {**score(classifier, real[second], real_labels[second],
                                 real_feats[first].numpy().astype(np.float64))},
        "noise": score(classifier, noise, fake_labels, reference),
        "generated_by_digit": by_digit(classifier.classes, fake_logits.argmax(1), fake_labels),
    }
    results["protocol"] = {
        "classifier": classifier.version,
        "classifier_input": f"{classifier.rate} Hz, {classifier.samples} samples (centred), log-|STFT| "
                            f"n_fft={classifier.codec.n_fft} hop={classifier.codec.hop}",
        "source": f"{source} ({'EMA generator' if model.ema else 'generator'}, seed {request.seed}, noise x "
                  f"{model.truncation:g}, {decoder_name(model)}, magnitude power {model.decode_power:g})",
        "generated": n,
        "requested_labels": "balanced: 0, 1, ..., 9, 0, ...",
        "reference": f"{against} held-out voices ({len(held)} clips)",
        "real_vs_real": f"held-out clips split in two halves ({half} reference vs {len(held) - half})",
        "noise": f"{n} white-noise clips (std 0.3) labelled like the generated ones",
        "is_splits": f"{SPLITS} (1 below 250 clips, at least 50 clips per split)",
    }
    return results


def training_evaluation(context: TrainingContext) -> Evaluation | None:
    """Every ``eval.every`` steps: accuracy, IS-like score and FD (against training clips: the held-out voices
    stay for `ganforge eval`) of ``eval.during_n`` clips from the EMA generator and fixed noise, logged as
    ``eval_*``; keeps ``checkpoints/best.pt`` by ``eval.best``. A run's accuracy swings from one checkpoint to
    the next (a digit can be lost for a thousand steps and come back; docs/speech.md), so the last is not
    always the best. None (with a note) when the data's classes are not the classifier's digits."""
    config, data = context.config, context.data
    settings = config.eval
    with torch.random.fork_rng(devices=[]):  # building the network draws its initial weights: not from training's
        classifier = load_classifier(settings.classifier)
    if tuple(data.corpus.classes) != classifier.classes:
        print(f"note: no evaluation during training (eval.every): the digit classifier knows "
              f"{', '.join(classifier.classes)}, {config.data.name} has {', '.join(data.corpus.classes)}",
              file=sys.stderr)
        return None
    corpus = data.corpus
    training = np.flatnonzero(~corpus.held_out)
    picked = training[np.linspace(0, len(training) - 1, min(REFERENCE_CLIPS, len(training))).astype(int)]
    _, feats = classifier.run(classifier.prepare([corpus.clips[i] for i in picked], corpus.rate))
    reference = feats.numpy().astype(np.float64)

    def evaluate(generator: torch.nn.Module) -> dict[str, float]:
        model = SpeechModel(generator, data.codec, classifier.classes, config.data.sample_rate,
                            config.model.griffin_lim_iters, decode_power=config.model.decode_power,
                            voice_f0=config.model.decode_f0)
        audio, labels = model.generate(settings.during_n, EVALUATION_SEED)
        return score(classifier, classifier.prepare(list(audio), model.rate), labels, reference)

    return Evaluation(context.recipe.sampler, evaluate, settings.every, settings.best, context.run.best_checkpoint,
                      context.metrics_log, writer=context.writes,
                      lower_is_better=settings.best not in ("digit_accuracy", "digit_is"))


def format_report(results: dict[str, Any]) -> str:
    rows = [("generated", "generated"), ("real vs real", "real_vs_real"), ("noise", "noise")]
    lines = [f"{'':<14} {'accuracy':>9} {'IS':>8} {'FD':>10}"]
    for label, key in rows:
        r = results[key]
        cells = [_show(r.get(k)) for k in ("digit_accuracy", "digit_is", "digit_fd")]
        lines.append(f"{label:<14} {cells[0]:>9} {cells[1]:>8} {cells[2]:>10}")
    digits = results.get("generated_by_digit", {})
    if digits:
        lines.append("generated, by digit: " + ", ".join(
            f"{name} {d['accuracy']:.2f}" + (f" (as {d['most_heard_instead']})" if d["accuracy"] < 0.8 else "")
            for name, d in digits.items()))
    p = results["protocol"]
    lines.append(f"classifier {p['classifier']}; {p['generated']} generated clips vs {p['reference']}")
    return "\n".join(lines)


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
