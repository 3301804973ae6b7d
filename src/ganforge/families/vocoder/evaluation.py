"""`ganforge eval` of a vocoder: copy synthesis of held-out voices, scored against the Griffin-Lim
reconstruction of the same mel spectrograms, plus the real-time factor of CPU inference."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest
from ganforge.families.speech import metrics
from ganforge.families.speech.audio import mel_griffin_lim
from ganforge.families.speech.datasets import load_corpus
from ganforge.families.vocoder.config import VocoderConfig
from ganforge.families.vocoder.model import Vocoder

METRICS = {
    "mel_l1": "log-mel L1 to the original (lower is better)",
    "stft": "multi-resolution STFT distance to the original (lower is better)",
    "stoi": "short-time objective intelligibility, pystoi (0-1, higher is better)",
    "pesq": "PESQ P.862 wide-band (16 kHz) or narrow-band (8 kHz), pesq package (higher is better)",
    "rtf": "real-time factor of CPU inference: seconds of audio per second of compute",
}
MAX_SECONDS = 6.0  # longer held-out clips are cut (PESQ time)


def held_out_clips(config: VocoderConfig, against: str | None, n: int, seed: int) -> tuple[list[np.ndarray], str]:
    """Up to ``n`` held-out clips (whole voices never trained on) of the run's data or ``against``."""
    name = against or config.data.name
    data = config.data
    corpus = load_corpus(name, data.root, data.sample_rate, config.model.hop * 4, data.voices, data.takes)
    indices = np.flatnonzero(corpus.held_out)
    if len(indices) == 0:
        raise GanforgeError(f"{name} has no held-out clips to evaluate on; use more files or voices")
    chosen = np.random.default_rng(seed).permutation(indices)[:n]
    limit = int(MAX_SECONDS * data.sample_rate)
    return [corpus.clips[i][:limit] for i in sorted(chosen)], f"{name} (held-out voices/files)"


def evaluate_vocoder(vocoder: Vocoder, config: VocoderConfig, request: EvalRequest, source: str) -> dict[str, Any]:
    wanted = (request.metrics or ",".join(METRICS)).split(",")
    unknown = [m for m in wanted if m.strip() not in METRICS]
    if unknown:
        raise GanforgeError(f"unknown vocoder metric '{unknown[0]}'; known: {', '.join(METRICS)}")
    wanted = [m.strip() for m in wanted]
    clips, reference = held_out_clips(config, request.against, request.n or config.eval.n, request.seed)
    rate, spec, hop = vocoder.rate, vocoder.mel, vocoder.mel.hop
    scores: dict[str, dict[str, list[float]]] = {"vocoder": {}, "griffin_lim": {}}
    compute, seconds = 0.0, 0.0
    for i, clip in enumerate(clips):
        clip = clip[: len(clip) // hop * hop]
        mel = spec(torch.from_numpy(clip))
        start = time.perf_counter()
        voc = vocoder(mel).cpu().numpy()
        compute += time.perf_counter() - start
        seconds += len(clip) / rate
        gl = mel_griffin_lim(mel[None], spec, config.eval.griffin_lim_iters, seed=request.seed + i)[0].numpy()
        for label, audio in (("vocoder", voc), ("griffin_lim", gl)):
            row = scores[label]
            if "mel_l1" in wanted:
                row.setdefault("mel_l1", []).append(metrics.mel_l1(clip, audio, spec))
            if "stft" in wanted:
                row.setdefault("stft", []).append(metrics.stft_distance(clip, audio))
            if "stoi" in wanted:
                row.setdefault("stoi", []).append(metrics.stoi(clip, audio, rate))
            if "pesq" in wanted:
                row.setdefault("pesq", []).append(metrics.pesq(clip, audio, rate))
    results: dict[str, Any] = {
        label: {name: _plain(metrics.mean(values)) for name, values in row.items()} for label, row in scores.items()
    }
    if "rtf" in wanted:
        results["real_time_factor"] = round(seconds / max(compute, 1e-9), 2)
    results["protocol"] = {
        "task": "copy synthesis: WAV -> log-mel -> vocoder -> WAV, compared with the original",
        "source": source,
        "reference": reference,
        "clips": len(clips),
        "seconds": round(seconds, 2),
        "sample_rate": rate,
        "mel": {"n_fft": spec.n_fft, "hop": hop, "n_mels": spec.n_mels},
        "baseline": f"Griffin-Lim ({config.eval.griffin_lim_iters} fast iterations, momentum 0.99) of the "
                    "mel pseudo-inverse",
        "pesq_mode": "wb" if rate == 16000 else "nb",
        "rtf_device": f"{vocoder.device} ({torch.get_num_threads()} torch thread(s)), batch 1, whole clips",
        "seed": request.seed,
    }
    return results


def _plain(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 4)


def format_report(results: dict[str, Any]) -> str:
    names = [m for m in ("mel_l1", "stft", "stoi", "pesq") if m in results.get("vocoder", {})]
    lines = [f"{'metric':<10} {'vocoder':>10} {'griffin-lim':>12}"]
    for name in names:
        v, g = results["vocoder"][name], results["griffin_lim"][name]
        lines.append(f"{name:<10} {_show(v):>10} {_show(g):>12}")
    if "real_time_factor" in results:
        lines.append(f"real-time factor {results['real_time_factor']}x ({results['protocol']['rtf_device']})")
    p = results["protocol"]
    lines.append(f"on {p['clips']} clips ({p['seconds']} s) of {p['reference']}, {p['sample_rate']} Hz")
    return "\n".join(lines)


def _show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"
