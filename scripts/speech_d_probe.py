"""Does a spoken-digits run's discriminator tell the digits apart? A diagnostic for issue 14.

For the held-out voices' real clips (encoded with the run's codec) it prints:
- projection accuracy: argmax over labels y of D(x, y) equals the true digit (projection / both heads);
- AC accuracy: the auxiliary classifier's argmax (acgan / both heads);
- the mean logit gap D(x, true) - mean_y D(x, y).
Chance is 0.10. Usage: python scripts/speech_d_probe.py RUN [RUN ...] (OMP_NUM_THREADS=1 on a shared machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from ganforge.families.speech.datasets import fit_clip, load_corpus
from ganforge.families.speech.model import build_networks
from ganforge.families.speech.spectrogram import SpecCodec
from ganforge.runs import load_run_config
from ganforge.training.checkpoint import load_checkpoint


@torch.no_grad()
def probe(run: Path) -> dict[str, float]:
    """Projection and AC accuracies of ``run``'s last discriminator on held-out real clips."""
    config = load_run_config(run)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    codec = SpecCodec.from_state(state["codec"])
    classes = len(state["classes"])
    _, disc = build_networks(config.model, codec.frames, classes)
    disc.load_state_dict(state["recipe"]["discriminator"])
    disc.eval()
    d = config.data
    corpus = load_corpus(d.name, d.root, d.sample_rate, 1, d.voices, d.takes)
    held = np.flatnonzero(corpus.held_out)
    audio = torch.from_numpy(np.stack([fit_clip(corpus.clips[i], d.segment) for i in held]))
    labels = torch.from_numpy(corpus.labels[held])
    images = codec.encode(audio)
    out: dict[str, float] = {"step": float(state.get("step", -1))}
    scores = torch.stack([disc(images, torch.full_like(labels, k)) for k in range(classes)], dim=1)  # [N, K]
    if config.model.d_cond in ("projection", "both"):
        out["projection_acc"] = float((scores.argmax(1) == labels).float().mean())
        true = scores.gather(1, labels[:, None])[:, 0]
        out["logit_gap"] = float((true - scores.mean(1)).mean())
    if config.model.d_cond in ("acgan", "both"):
        _, class_logits = disc(images, labels, with_classes=True)
        out["ac_acc"] = float((class_logits.argmax(1) == labels).float().mean())
    return out


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    for run in argv:
        print(run, {k: round(v, 3) for k, v in probe(Path(run)).items()}, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
