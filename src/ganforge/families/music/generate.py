"""A trained music generator for inference: sampling binary rolls, and writing them as MIDI, WAV or PNG.

Sampling turns the generator's note probabilities into notes by ``model.binarize``: ``threshold`` (a note
where the probability exceeds ``model.threshold``) or ``bernoulli`` (a note with that probability, drawn
from the request's seed). With ``model.monophonic`` each track and step is one choice among the pitches and
a rest: ``threshold`` takes the most likely, ``bernoulli`` draws one. Several samples written to one
``.mid`` or ``.wav`` follow each other with a bar of silence between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.families.music.midi import midi_bytes
from ganforge.families.music.pianoroll import save_picture
from ganforge.families.music.rolls import Grid, notes_array, roll_to_notes
from ganforge.families.music.synth import describe_renderer, render_wav


@dataclass
class MusicModel:
    """A generator and what is needed to turn its rolls into music."""

    generator: torch.nn.Module
    device: torch.device
    grid: Grid
    lowest: int
    programs: list[int]
    track_names: list[str]
    tempo: float
    binarize: str = "threshold"
    threshold: float = 0.5
    monophonic: bool = False
    step: int = 0
    config: Any = None  # the run's MusicConfig (evaluation rebuilds its data from it)


@dataclass
class MusicSamples:
    """Binary rolls ``[n, tracks, steps, pitches]`` and how to play them."""

    rolls: np.ndarray
    grid: Grid
    lowest: int
    programs: list[int]
    track_names: list[str]
    tempo: float
    renderer: str = field(default="auto")

    def joined_notes(self) -> tuple[np.ndarray, int]:
        """All samples' notes one after the other (a bar of silence between) and the total steps."""
        gap = self.grid.steps + self.grid.steps_per_bar
        parts = []
        for i, roll in enumerate(self.rolls):
            notes = roll_to_notes(roll, self.lowest)
            notes[:, 2:] += i * gap
            parts.append(notes)
        joined = notes_array([tuple(r) for r in np.concatenate(parts)]) if parts else notes_array([])
        return joined, len(self.rolls) * gap - self.grid.steps_per_bar

    def midi(self, index: int | None = None) -> bytes:
        """One sample's MIDI file, or (``index`` None) all samples in one."""
        if index is None:
            notes, _ = self.joined_notes()
        else:
            notes = roll_to_notes(self.rolls[index], self.lowest)
        return midi_bytes(notes, self.rolls.shape[1], self.programs, self.tempo, self.grid.steps_per_beat,
                          self.track_names)

    def wav(self) -> tuple[bytes, str]:
        """All samples rendered to one WAV, and the renderer used."""
        notes, steps = self.joined_notes()
        return render_wav(notes, self.midi(), steps, self.tempo, self.grid.steps_per_beat, self.renderer)

    def seconds(self) -> float:
        _, steps = self.joined_notes()
        return steps * 60.0 / self.tempo / self.grid.steps_per_beat


@torch.no_grad()
def probabilities(generator: torch.nn.Module, n: int, seed: int, device: torch.device,
                  chunk: int = 256) -> torch.Tensor:
    """Note probabilities of ``n`` samples for ``seed`` (the noise comes from a generator of its own)."""
    noise = torch.randn(n, generator.noise_dim, generator=torch.Generator().manual_seed(seed))
    was_training = generator.training
    generator.eval()
    parts = [generator(noise[i:i + chunk].to(device)).float().cpu() for i in range(0, n, chunk)]
    generator.train(was_training)
    return torch.cat(parts)


def binarize(probs: torch.Tensor, mode: str, threshold: float, monophonic: bool, seed: int) -> np.ndarray:
    """Probabilities ``[n, tracks, steps, pitches]`` -> notes (see the module's docstring)."""
    if monophonic:  # a choice among the pitches and a rest, per track and step
        choices = torch.cat([probs, (1.0 - probs.sum(dim=-1, keepdim=True)).clamp_min(0.0)], dim=-1)
        if mode == "bernoulli":
            draws = torch.rand((*probs.shape[:-1], 1), generator=torch.Generator().manual_seed(seed + 1))
            picked = (choices.cumsum(dim=-1) < draws * choices.sum(dim=-1, keepdim=True)).sum(dim=-1)
        else:
            picked = choices.argmax(dim=-1)
        picked = picked.clamp_max(probs.shape[-1])
        return torch.nn.functional.one_hot(picked, probs.shape[-1] + 1)[..., :-1].bool().numpy()
    if mode == "bernoulli":
        draws = torch.rand(probs.shape, generator=torch.Generator().manual_seed(seed + 1))
        return (draws < probs).numpy()
    return (probs > threshold).numpy()


def sample_rolls(model: MusicModel, n: int, seed: int) -> np.ndarray:
    """``n`` binary rolls for ``seed`` (same seed, same rolls)."""
    probs = probabilities(model.generator, n, seed, model.device)
    return binarize(probs, model.binarize, model.threshold, model.monophonic, seed)


def write_samples(samples: MusicSamples, out: Path, kind: str) -> str:
    """Write by ``kind`` ("/", ".mid", ".midi", ".wav", ".png"); a one-line summary of what was written."""
    n = len(samples.rolls)
    if kind == "/":
        out.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (out / f"sample-{i + 1:03d}.mid").write_bytes(samples.midi(i))
        save_picture(samples.rolls, samples.lowest, samples.grid.steps_per_bar, out / "pianoroll.png")
        return f"wrote {n} MIDI files and pianoroll.png to {out}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == ".png":
        save_picture(samples.rolls, samples.lowest, samples.grid.steps_per_bar, out)
        return f"wrote the piano rolls of {n} samples to {out}"
    if kind in (".mid", ".midi"):
        out.write_bytes(samples.midi())
        return f"wrote {n} sample(s) ({samples.seconds():.1f} s at {samples.tempo:g} bpm) to {out}"
    audio, renderer = samples.wav()
    out.write_bytes(audio)
    return f"wrote {n} sample(s) ({samples.seconds():.1f} s) to {out}, rendered with {describe_renderer(renderer)}"
