"""A trained spoken-word run loaded for inference, and drawing clips from it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.families.speech.config import SpecganConfig
from ganforge.families.speech.nets import SpecDiscriminator, SpecGenerator
from ganforge.families.speech.outputs import AudioClips
from ganforge.families.speech.spectrogram import SpecCodec

NOISE_OFFSET = 0  # sample(seed) draws its noise from torch.Generator().manual_seed(seed + this)


def build_networks(model: SpecganConfig, frames: int, num_classes: int) -> tuple[SpecGenerator, SpecDiscriminator]:
    bins = model.n_mels or model.n_fft // 2
    return (SpecGenerator(model.z_dim, model.g_width, bins, frames, num_classes, model.g_cond, model.g_upsample,
                          model.g_min_channels),
            SpecDiscriminator(model.d_width, bins, frames, num_classes, model.d_cond, model.d_planes,
                              model.d_min_channels))


@dataclass
class SpeechModel:
    """The generator (EMA copy by default), the spectrogram codec, the class names and the sample rate."""

    generator: SpecGenerator
    codec: SpecCodec
    classes: tuple[str, ...]
    rate: int
    griffin_lim_iters: int
    source: Path | None = None
    ema: bool = True
    truncation: float = 1.0  # the sampling noise is scaled by this (the truncation trick)
    decode_power: float = 1.0  # the magnitude is raised to this power before Griffin-Lim
    voice_f0: float = 0.0  # above 0: the voiced decoder at this pitch instead of Griffin-Lim
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def labels(self, n: int, class_index: int | None) -> torch.Tensor | None:
        """All ``class_index``, or 0, 1, ..., K-1, 0, ... when None; None for an unconditional model."""
        k = self.generator.num_classes
        if class_index is not None:
            if not k:
                raise GanforgeError("--class needs a class-conditional run; this one was trained without labels")
            if not 0 <= class_index < k:
                names = ", ".join(f"{i}={c}" for i, c in enumerate(self.classes))
                raise GanforgeError(f"--class {class_index} is out of range; this run knows {k} classes ({names})")
            return torch.full((n,), class_index, dtype=torch.int64)
        return torch.arange(n) % k if k else None

    @torch.no_grad()
    def spectrograms(self, n: int, seed: int, class_index: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` spectrogram images [n, 1, bins, frames] and their labels (-1 when unconditional)."""
        labels = self.labels(n, class_index)
        noise = torch.randn(n, self.generator.z_dim, generator=torch.Generator().manual_seed(seed + NOISE_OFFSET))
        noise = noise * self.truncation
        images = self.generator(noise.to(self.device), None if labels is None else labels.to(self.device))
        return images.float().cpu(), labels if labels is not None else torch.full((n,), -1)

    @torch.no_grad()
    def generate(self, n: int, seed: int, class_index: int | None = None, chunk: int = 64
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` clips [n, T] (decoded audio, peak-normalized to 0.9) and their labels."""
        images, labels = self.spectrograms(n, seed, class_index)
        parts = [self.codec.decode(images[i : i + chunk], self.griffin_lim_iters, seed + i, self.decode_power,
                                   self.voice_f0)
                 for i in range(0, n, chunk)]
        audio = torch.cat(parts)
        peak = audio.abs().amax(dim=1, keepdim=True).clamp(min=1e-4)
        return audio / peak * 0.9, labels

    def clips(self, n: int, seed: int, class_index: int | None = None) -> AudioClips:
        audio, labels = self.generate(n, seed, class_index)
        names = [f"{i:04d}-{self.classes[y] if y >= 0 and self.classes else 'clip'}"
                 for i, y in enumerate(labels.tolist())]
        return AudioClips(list(audio.numpy()), names, self.rate)


def load_speech_model(model: SpecganConfig, state: dict[str, Any], device: torch.device, ema: bool,
                      source: Path | None = None) -> SpeechModel:
    codec = SpecCodec.from_state(state["codec"])
    classes = tuple(state["classes"])
    generator, _ = build_networks(model, codec.frames, len(classes))
    recipe = state["recipe"]
    use_ema = ema and recipe.get("ema") is not None
    generator.load_state_dict(recipe["ema"]["model"] if use_ema else recipe["generator"])
    return SpeechModel(generator.to(device).eval(), codec, classes, int(state["sample_rate"]),
                       model.griffin_lim_iters, source, use_ema, truncation=model.truncation,
                       decode_power=model.decode_power, voice_f0=model.decode_f0)
