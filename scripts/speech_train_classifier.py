"""Train the spoken-digit classifier that `ganforge eval` uses on spoken-digits runs and save it (weights_only
loadable) as src/ganforge/families/speech/weights/spoken-digits-v1.pt.

It trains on the training voices of the spoken-digits corpus (espeak-ng, made offline) with random shifts,
gains and noise, and reports its accuracy on the held-out voices. Run from the project root:

    OMP_NUM_THREADS=1 python scripts/speech_train_classifier.py [--epochs 12] [--out FILE]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.families.speech.classifier import CLASSIFIER_VERSION, WEIGHTS, DigitClassifier, DigitNet
from ganforge.families.speech.datasets import fit_clip, load_corpus
from ganforge.families.speech.spectrogram import SpecCodec

RATE, SEGMENT, N_FFT, HOP = 8000, 8192, 256, 128


def augment(audio: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random circular shifts up to 0.15 s, gains of -12..+3 dB and faint white noise."""
    n = audio.shape[0]
    shifts = torch.randint(-int(0.15 * RATE), int(0.15 * RATE) + 1, (n,), generator=generator)
    shifted = torch.stack([torch.roll(a, int(s)) for a, s in zip(audio, shifts, strict=True)])
    gains = 10 ** (torch.empty(n, 1).uniform_(-12, 3, generator=generator) / 20)
    noise = torch.randn(shifted.shape, generator=generator) * torch.empty(n, 1).uniform_(0, 0.01, generator=generator)
    return shifted * gains + noise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--voices", type=int, default=0, help="first N espeak-ng voices (0: all 96)")
    parser.add_argument("--takes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    corpus = load_corpus("spoken-digits", None, RATE, 1, args.voices, args.takes)
    audio = torch.from_numpy(np.stack([fit_clip(c, SEGMENT) for c in corpus.clips]))
    labels = torch.from_numpy(corpus.labels)
    train, held = torch.from_numpy(~corpus.held_out), torch.from_numpy(corpus.held_out)
    codec = SpecCodec(N_FFT, HOP, SEGMENT // HOP).fit(audio[train])
    net = DigitNet(len(corpus.classes))
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    x_train, y_train = audio[train], labels[train]
    start = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=generator)
        for i in range(0, len(order), 64):
            batch = order[i : i + 64]
            loss = F.cross_entropy(net(codec.encode(augment(x_train[batch], generator))), y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        classifier = DigitClassifier(net, codec, RATE, corpus.classes, CLASSIFIER_VERSION)
        logits, _ = classifier.run(audio[held])
        accuracy = float((logits.argmax(1) == labels[held]).float().mean())
        print(f"epoch {epoch + 1}: loss {float(loss.detach()):.3f}, held-out voices accuracy {accuracy:.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
    info = {"heldout_accuracy": accuracy, "train_clips": int(train.sum()), "heldout_clips": int(held.sum()),
            "corpus": f"spoken-digits voices={args.voices or 96} takes={args.takes}", "epochs": args.epochs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(classifier.state(info), args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB), held-out accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
