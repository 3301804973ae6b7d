"""Are a spoken-digits run's spectrogram images the requested digit *before* Griffin-Lim? A diagnostic for
issue 14.

Trains a small digit classifier (the DigitNet of spoken-digits-v1) on the training voices' spectrogram images,
encoded with the first run's codec (cached in --cache), then reports its accuracy on the held-out voices' real
images and on each run's generated images (EMA and raw generator, balanced labels, seed 0). When generated
images score high here but low with `ganforge eval`, the audio path (decoding) loses the digit; when they score
low here too, the generator does not draw the requested digit.

Usage: python scripts/speech_mel_probe.py RUN [RUN ...] [--epochs 4] [--cache /tmp/melnet.pt] [--n 500]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.families.speech.classifier import DigitNet
from ganforge.families.speech.datasets import fit_clip, load_corpus
from ganforge.families.speech.model import load_speech_model
from ganforge.families.speech.spectrogram import SpecCodec
from ganforge.runs import load_run_config
from ganforge.training.checkpoint import load_checkpoint


def images_of(run: Path, held_out: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Real spectrogram images [N, 1, bins, frames] and labels of the training or held-out voices."""
    config = load_run_config(run)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    codec = SpecCodec.from_state(state["codec"])
    d = config.data
    corpus = load_corpus(d.name, d.root, d.sample_rate, 1, d.voices, d.takes)
    index = np.flatnonzero(corpus.held_out == held_out)
    audio = torch.from_numpy(np.stack([fit_clip(corpus.clips[i], d.segment) for i in index]))
    return codec.encode(audio), torch.from_numpy(corpus.labels[index])


def train_net(images: torch.Tensor, labels: torch.Tensor, epochs: int) -> DigitNet:
    """DigitNet trained with Adam (batch 64) on the images; a little time shift as augmentation."""
    torch.manual_seed(0)
    net = DigitNet(int(labels.max()) + 1)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        for batch in torch.randperm(len(images)).split(64):
            x = torch.roll(images[batch], int(torch.randint(-4, 5, ())), dims=3)
            loss = F.cross_entropy(net(x), labels[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


@torch.no_grad()
def accuracy(net: DigitNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((net(images).argmax(1) == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/speech-melnet.pt"))
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    first = args.runs[0]
    if args.cache.is_file():
        net = DigitNet()
        net.load_state_dict(torch.load(args.cache, weights_only=True))
        net.eval()
    else:
        net = train_net(*images_of(first, held_out=False), args.epochs)
        torch.save(net.state_dict(), args.cache)
    print(f"mel classifier on held-out real images: {accuracy(net, *images_of(first, held_out=True)):.3f}")
    for run in args.runs:
        config = load_run_config(run)
        state = load_checkpoint(run / "checkpoints" / "last.pt")
        scores = []
        for ema in (True, False):
            model = load_speech_model(config.model, state, torch.device("cpu"), ema)
            images, labels = model.spectrograms(args.n, 0)
            scores.append(f"{'EMA' if ema else 'raw'} {accuracy(net, images, labels):.3f}")
        print(f"{run}: generated images heard as the requested digit: {', '.join(scores)}", flush=True)


if __name__ == "__main__":
    main()
