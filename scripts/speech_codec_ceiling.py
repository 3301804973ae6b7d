"""The ceiling a spectrogram shape puts on spoken-digit accuracy: held-out real clips encoded to the SpecGAN
images of a codec, decoded back with Griffin-Lim and scored by spoken-digits-v1. A diagnostic for issue 14.

Usage: python scripts/speech_codec_ceiling.py N_FFT HOP N_MELS [N_FFT HOP N_MELS ...] [--power P] [--iters N]
    [--voice-f0 HZ]
(8 kHz, 8,192-sample clips, 32 Griffin-Lim iterations by default; --power: the decoder's magnitude power,
model.decode_power; --voice-f0: the voiced decoder at that pitch instead of Griffin-Lim, model.decoder voiced;
OMP_NUM_THREADS=1 on a shared machine)
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ganforge.families.speech.classifier import load_classifier
from ganforge.families.speech.datasets import fit_clip, load_corpus
from ganforge.families.speech.spectrogram import SpecCodec

RATE, SEGMENT = 8000, 8192


def ceiling(n_fft: int, hop: int, n_mels: int, power: float = 1.0, iters: int = 32, voice_f0: float = 0.0) -> float:
    """spoken-digits-v1 accuracy on held-out clips after encode -> decode with this codec."""
    corpus = load_corpus("spoken-digits", None, RATE, 1)
    train = torch.from_numpy(np.stack([fit_clip(corpus.clips[i], SEGMENT)
                                       for i in np.flatnonzero(~corpus.held_out)]))
    held = np.flatnonzero(corpus.held_out)
    audio = torch.from_numpy(np.stack([fit_clip(corpus.clips[i], SEGMENT) for i in held]))
    codec = SpecCodec(n_fft, hop, SEGMENT // hop, n_mels=n_mels, rate=RATE).fit(train)
    decoded = torch.cat([codec.decode(codec.encode(part), iters, i, power, voice_f0)
                         for i, part in enumerate(audio.split(64))])
    decoded = decoded / decoded.abs().amax(dim=1, keepdim=True).clamp(min=1e-4) * 0.9
    classifier = load_classifier(None)
    logits, _ = classifier.run(classifier.prepare(list(decoded), RATE))
    return float((logits.argmax(1) == torch.from_numpy(corpus.labels[held])).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shapes", nargs="+", type=int, help="N_FFT HOP N_MELS, repeated")
    parser.add_argument("--power", type=float, default=1.0)
    parser.add_argument("--iters", type=int, default=32)
    parser.add_argument("--voice-f0", type=float, default=0.0, help="decode with the voiced decoder at this pitch")
    args = parser.parse_args()
    torch.set_num_threads(1)
    values = args.shapes
    for n_fft, hop, n_mels in zip(values[::3], values[1::3], values[2::3], strict=True):
        image = f"{n_mels or n_fft // 2} x {SEGMENT // hop}"
        value = ceiling(n_fft, hop, n_mels, args.power, args.iters, args.voice_f0)
        print(f"n_fft={n_fft} hop={hop} n_mels={n_mels} ({image}), power {args.power:g}, {args.iters} iterations: "
              f"{value:.3f}"
              + (f" (voiced decoder at {args.voice_f0:g} Hz)" if args.voice_f0 else ""), flush=True)


if __name__ == "__main__":
    main()
